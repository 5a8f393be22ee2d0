//! How a handle hears of changes and forgets what they concern (see [`crate::caches`]).

use std::time::Duration;

use sqlx::postgres::PgConnectOptions;

use super::Db;

/// How long a change that ends someone's access waits for the process to hear it back.
const ECHO_WAIT: Duration = Duration::from_millis(500);

impl Db {
    /// Forgets, in this process, what `changes` concern (the process that makes a change
    /// hears of it at once; the others when its notification arrives). For a change that
    /// ends someone's access, [`Db::forget_everywhere`].
    pub(crate) fn forget(&self, changes: &[crate::Change]) {
        for change in changes {
            self.caches.apply(change);
        }
    }

    /// Forgets, in this process, what `changes` concern, and answers only once this process's
    /// own listener has heard them back: it sends itself a probe after them and waits for it.
    /// PostgreSQL signals every listening process when a notification commits and delivers
    /// in commit order, so by then the others have, as a rule, been sent the changes too, and
    /// a request sent after this answer finds them told. A rule, not a guarantee: a process
    /// slower to read its connection than this one still lags (`bench/run nodes` counts the
    /// trials its very next request was refused in). Waits at most [`ECHO_WAIT`] for the echo,
    /// after a pool connection to send the probe on; not at all when this process is not
    /// listening. The changes are committed whatever happens here.
    pub(crate) async fn forget_everywhere(&self, changes: &[crate::Change]) {
        self.forget(changes);
        if changes.is_empty() {
            return;
        }
        let Some(probe) = self.caches.probe() else {
            return;
        };
        let sent = async {
            let mut conn = self.platform().await?;
            crate::caches::send_probe(&mut conn, &probe).await?;
            conn.done().await
        };
        if let Err(err) = sent.await {
            tracing::warn!(error = %err, "could not probe the cache listener after a change");
        } else if !probe.heard_within(ECHO_WAIT).await {
            tracing::warn!(wait = ?ECHO_WAIT, "the cache listener did not hear back after a change");
        }
    }

    /// Starts listening for changes on `options`, so this handle keeps what it reads in memory
    /// as a server does (tests use it on handles made with [`Db::from_pool`]).
    pub fn listen(&self, options: PgConnectOptions) {
        crate::listener::start(options, &self.caches);
    }

    /// Whether this process is listening for changes now (and so keeps anything in memory).
    pub fn is_listening(&self) -> bool {
        self.caches.is_listening()
    }

    /// How many times this process lost its listening connection (and forgot everything).
    pub fn cache_listener_losses(&self) -> u64 {
        self.caches.listener_losses()
    }
}
