//! The process's ear on [`crate::caches::CHANNEL`]: every change another process (or this one)
//! commits reaches the caches here. While the connection is down the caches keep no session;
//! a quiet connection is pinged, so one that died without a word is noticed too.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};

use crate::caches::{Caches, CHANNEL};

/// The listening connection's `application_name` starts with this and ends with the
/// process id, so an operator (or a test) can find one process's connection.
pub const LISTENER_NAME: &str = "stockroom-cache-listener";
/// After this long without a notification the connection is asked to prove it is alive.
const PING_AFTER: Duration = Duration::from_secs(5);
const PING_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Runs for as long as the process does.
pub(crate) async fn listen(options: PgConnectOptions, caches: Arc<Caches>) {
    let options = options.application_name(&format!("{LISTENER_NAME}-{}", std::process::id()));
    let mut backoff = Duration::from_millis(100);
    loop {
        let Err(err) = hear(&options, &caches).await;
        tracing::warn!(error = %err, "cache listener lost; reading through until it is back");
        if caches.is_listening() {
            // It had been listening: a fresh failure, retried promptly.
            backoff = Duration::from_millis(100);
        }
        caches.set_listening(false);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Listens until the connection fails.
async fn hear(
    options: &PgConnectOptions,
    caches: &Caches,
) -> Result<std::convert::Infallible, sqlx::Error> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options.clone());
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen(CHANNEL).await?;
    caches.set_listening(true);
    loop {
        match tokio::time::timeout(PING_AFTER, listener.try_recv()).await {
            Ok(Ok(Some(notification))) => caches.hear(notification.payload()),
            // The connection dropped. sqlx would listen again on the next call, but until that
            // has happened nothing may be kept, so this is handled like any other failure.
            Ok(Ok(None)) => return Err(sqlx::Error::Protocol("listening connection lost".into())),
            Ok(Err(err)) => return Err(err),
            Err(_quiet) => {
                let ping = sqlx::query("SELECT 1").execute(&mut listener);
                match tokio::time::timeout(PING_TIMEOUT, ping).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(err)) => return Err(err),
                    Err(_) => return Err(sqlx::Error::PoolTimedOut),
                }
            }
        }
    }
}
