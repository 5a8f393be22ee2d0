//! The process's ear on [`crate::caches::CHANNEL`]: every change another process (or this one)
//! commits reaches the caches here. While the connection is down the caches keep no session;
//! a quiet connection is pinged, so one that died without a word is noticed too.

use std::sync::{Arc, Weak};
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

/// Listens on a thread of its own until the caches are dropped. Not a task on the server's
/// runtime: there, hearing a change (or the loss of the connection) could wait in a busy
/// worker's queue while a request it concerns is served from memory; a thread of its own is
/// woken by the kernel as soon as PostgreSQL's message arrives.
pub(crate) fn start(options: PgConnectOptions, caches: &Arc<Caches>) {
    let mut alive = caches.alive();
    let caches = Arc::downgrade(caches);
    let spawned = std::thread::Builder::new()
        .name("cache-listener".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(err) => {
                    tracing::error!(error = %err, "no runtime for the cache listener; nothing is kept in memory");
                    return;
                }
            };
            runtime.block_on(async move {
                tokio::select! {
                    () = listen(options, caches) => {}
                    _dropped = alive.changed() => {}
                }
            });
        });
    if let Err(err) = spawned {
        tracing::error!(error = %err, "no thread for the cache listener; nothing is kept in memory");
    }
}

/// Runs until the caches are gone (then [`start`] stops it).
async fn listen(options: PgConnectOptions, caches: Weak<Caches>) {
    let options = options.application_name(&format!("{LISTENER_NAME}-{}", std::process::id()));
    let mut backoff = Duration::from_millis(100);
    loop {
        let Err(err) = hear(&options, &caches).await;
        let Some(caches) = caches.upgrade() else {
            return;
        };
        let was_listening = caches.is_listening();
        caches.set_listening(false);
        drop(caches);
        tracing::warn!(error = %err, "cache listener lost; reading through until it is back");
        if was_listening {
            // A fresh failure, retried promptly.
            backoff = Duration::from_millis(100);
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Listens until the connection fails.
async fn hear(
    options: &PgConnectOptions,
    caches: &Weak<Caches>,
) -> Result<std::convert::Infallible, sqlx::Error> {
    // Held only while used, so dropping the caches ends the listener.
    let caches = || caches.upgrade().ok_or(sqlx::Error::PoolClosed);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options.clone());
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen(CHANNEL).await?;
    caches()?.set_listening(true);
    loop {
        match tokio::time::timeout(PING_AFTER, listener.try_recv()).await {
            Ok(Ok(Some(notification))) => caches()?.hear(notification.payload()),
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
