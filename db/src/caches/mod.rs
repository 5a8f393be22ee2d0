//! What a server process keeps in memory so that a warm request makes no database round trip
//! before its own query: workspaces by slug, each workspace's caps, sessions, the member
//! each session signs in, and what each API token may do.
//!
//! Every change to what is kept announces itself with a `NOTIFY` on [`CHANNEL`], sent in the
//! transaction that makes it (PostgreSQL delivers it at commit, to every process listening),
//! and the process that made it forgets at once. A process keeps sessions only while it is
//! listening: when its listening connection drops, it forgets everything and reads through
//! until it listens again, so a notification it missed can never leave a revoked session in
//! use. Every entry also expires after a while, whatever it heard.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use domain::TenantId;
use time::OffsetDateTime;
use tower_sessions::session::Record;

use crate::cache::TtlCache;
use crate::tenant::plan::Cap;
use crate::{ApiAccess, Tenant, TenantScope};

mod notices;

use notices::is_probe;
pub(crate) use notices::{announce, member_changed, send_probe};
pub use notices::{Change, CHANNEL};

/// How long a session, a checked member or a checked token is kept, whatever this process
/// heard: a backstop.
const SESSION_TTL: Duration = Duration::from_secs(30);
const MEMBER_TTL: Duration = Duration::from_secs(10);
const MAX_ENTRIES: usize = 100_000;

#[derive(Clone)]
struct CachedSession {
    tenant: Option<TenantId>,
    record: Record,
}

/// A token found valid: what it may do, until it expires.
#[derive(Clone)]
struct CachedToken {
    access: ApiAccess,
    expires_at: Option<OffsetDateTime>,
}

pub(crate) struct Caches {
    tenants: TtlCache<String, Tenant>,
    caps: TtlCache<TenantId, Arc<Vec<Cap>>>,
    sessions: TtlCache<String, CachedSession>,
    members: TtlCache<String, TenantScope>,
    /// By the digest of the token's secret.
    api_tokens: TtlCache<String, CachedToken>,
    /// Whether this process hears every change now. Nothing is kept unless it does.
    listening: AtomicBool,
    /// Counts what this process heard. An entry read from the database is kept only if
    /// nothing was heard while it was being read: the change may concern it.
    epoch: AtomicU64,
    /// Session lookups answered from memory, and those that had to read the database.
    session_hits: AtomicU64,
    session_misses: AtomicU64,
    /// How often the listening connection was lost: an operator alerts on it, and a test
    /// knows from it that the process has noticed a cut.
    listener_losses: AtomicU64,
    /// Names this process's probes apart from every other process's (process ids repeat
    /// across hosts and containers).
    probe_prefix: String,
    probes_sent: AtomicU64,
    /// The highest of this process's probes its listener has heard back.
    probes_heard: tokio::sync::watch::Sender<u64>,
    /// Never sent on: dropped with the caches, which tells their listener to stop.
    alive: tokio::sync::watch::Sender<()>,
}

/// A notification this process sent itself after a change of its own: hearing it back means
/// the listener has heard everything committed before it, the change included.
pub(crate) struct Probe {
    payload: String,
    number: u64,
    heard: tokio::sync::watch::Receiver<u64>,
}

impl Probe {
    /// Whether, within `limit`, the listener heard this probe back or stopped listening (then
    /// it forgot everything, and there is nothing left to wait for).
    pub(crate) async fn heard_within(mut self, limit: Duration) -> bool {
        let number = self.number;
        let heard = self.heard.wait_for(|heard| *heard >= number);
        matches!(tokio::time::timeout(limit, heard).await, Ok(Ok(_)))
    }
}

/// The state of the caches when a read through them started.
#[derive(Clone, Copy)]
pub(crate) struct Epoch(u64);

impl Caches {
    pub(crate) fn new(tenant_ttl: Duration) -> Self {
        Self {
            tenants: TtlCache::new(tenant_ttl, MAX_ENTRIES),
            caps: TtlCache::new(tenant_ttl, MAX_ENTRIES),
            sessions: TtlCache::new(SESSION_TTL, MAX_ENTRIES),
            members: TtlCache::new(MEMBER_TTL, MAX_ENTRIES),
            api_tokens: TtlCache::new(MEMBER_TTL, MAX_ENTRIES),
            listening: AtomicBool::new(false),
            epoch: AtomicU64::new(0),
            session_hits: AtomicU64::new(0),
            session_misses: AtomicU64::new(0),
            listener_losses: AtomicU64::new(0),
            probe_prefix: format!("p:{}:", uuid::Uuid::new_v4().simple()),
            probes_sent: AtomicU64::new(0),
            probes_heard: tokio::sync::watch::Sender::new(0),
            alive: tokio::sync::watch::Sender::new(()),
        }
    }

    /// Closes when these caches are dropped.
    pub(crate) fn alive(&self) -> tokio::sync::watch::Receiver<()> {
        self.alive.subscribe()
    }

    /// A new probe to send, or `None` while this process is not listening (it would never
    /// hear it back).
    pub(crate) fn probe(&self) -> Option<Probe> {
        if !self.is_listening() {
            return None;
        }
        let number = self.probes_sent.fetch_add(1, Ordering::AcqRel) + 1;
        Some(Probe {
            payload: format!("{}{number}", self.probe_prefix),
            number,
            // Subscribed before the probe is sent, so hearing it cannot be missed.
            heard: self.probes_heard.subscribe(),
        })
    }

    /// Takes in one notification as the listener heard it: a change is forgotten, this
    /// process's own probe is marked heard, another process's probe is none of its business,
    /// and a payload this build cannot read forgets everything.
    pub(crate) fn hear(&self, payload: &str) {
        if let Some(number) = payload.strip_prefix(self.probe_prefix.as_str()) {
            if let Ok(number) = number.parse::<u64>() {
                self.probes_heard.send_if_modified(|heard| {
                    let later = number > *heard;
                    *heard = (*heard).max(number);
                    later
                });
                return;
            }
        }
        if is_probe(payload) {
            return;
        }
        match Change::parse(payload) {
            Some(change) => self.apply(&change),
            None => {
                tracing::warn!(
                    payload,
                    "unreadable cache notification; forgetting everything"
                );
                self.clear();
            }
        }
    }

    /// Session lookups since start: (answered from memory, read from the database).
    pub(crate) fn session_counts(&self) -> (u64, u64) {
        (
            self.session_hits.load(Ordering::Relaxed),
            self.session_misses.load(Ordering::Relaxed),
        )
    }

    pub(crate) fn epoch(&self) -> Epoch {
        Epoch(self.epoch.load(Ordering::Acquire))
    }

    fn unchanged_since(&self, epoch: Epoch) -> bool {
        self.epoch.load(Ordering::Acquire) == epoch.0
    }

    pub(crate) fn listener_losses(&self) -> u64 {
        self.listener_losses.load(Ordering::Relaxed)
    }

    pub(crate) fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    pub(crate) fn session(&self, key: &str) -> Option<Record> {
        let found = self
            .is_listening()
            .then(|| self.sessions.get(&key.to_owned()))
            .flatten()
            .filter(|cached| cached.record.expiry_date > time::OffsetDateTime::now_utc())
            .map(|cached| cached.record);
        let counter = if found.is_some() {
            &self.session_hits
        } else {
            &self.session_misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    pub(crate) fn keep_session(
        &self,
        epoch: Epoch,
        key: String,
        tenant: Option<TenantId>,
        record: &Record,
    ) {
        if self.may_keep(epoch) {
            let record = record.clone();
            self.sessions.insert(key, CachedSession { tenant, record });
        }
    }

    /// Whether what a read that started at `epoch` found may be kept.
    fn may_keep(&self, epoch: Epoch) -> bool {
        self.is_listening() && self.unchanged_since(epoch)
    }

    pub(crate) fn tenant(&self, slug: &str) -> Option<Tenant> {
        self.is_listening()
            .then(|| self.tenants.get(&slug.to_owned()))
            .flatten()
    }

    pub(crate) fn keep_tenant(&self, epoch: Epoch, slug: String, tenant: &Tenant) {
        if self.may_keep(epoch) {
            self.tenants.insert(slug, tenant.clone());
        }
    }

    pub(crate) fn caps(&self, tenant: TenantId) -> Option<Arc<Vec<Cap>>> {
        self.is_listening()
            .then(|| self.caps.get(&tenant))
            .flatten()
    }

    pub(crate) fn keep_caps(&self, epoch: Epoch, tenant: TenantId, caps: &Arc<Vec<Cap>>) {
        if self.may_keep(epoch) {
            self.caps.insert(tenant, caps.clone());
        }
    }

    pub(crate) fn member(&self, key: &str) -> Option<TenantScope> {
        self.is_listening()
            .then(|| self.members.get(&key.to_owned()))
            .flatten()
    }

    pub(crate) fn keep_member(&self, epoch: Epoch, key: String, scope: &TenantScope) {
        if self.may_keep(epoch) {
            self.members.insert(key, scope.clone());
        }
    }

    /// What the token whose secret digests to `digest` may do in `tenant`, if it was found
    /// valid there lately and has not expired since.
    pub(crate) fn api_token(&self, digest: &str, tenant: TenantId) -> Option<ApiAccess> {
        if !self.is_listening() {
            return None;
        }
        let cached = self.api_tokens.get(&digest.to_owned())?;
        let live = cached
            .expires_at
            .is_none_or(|at| at > OffsetDateTime::now_utc());
        (live && cached.access.scope.tenant_id() == tenant).then_some(cached.access)
    }

    pub(crate) fn keep_api_token(
        &self,
        epoch: Epoch,
        digest: String,
        access: &ApiAccess,
        expires_at: Option<OffsetDateTime>,
    ) {
        if self.may_keep(epoch) {
            let access = access.clone();
            self.api_tokens
                .insert(digest, CachedToken { access, expires_at });
        }
    }

    /// Forgets what `change` concerns.
    pub(crate) fn apply(&self, change: &Change) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        match change {
            Change::Session(key) => {
                self.sessions.forget(key);
                self.members.forget(key);
            }
            Change::Tenant(id) => {
                let id = *id;
                self.tenants.forget_where(|_, tenant| tenant.id() == id);
                self.caps.forget(&id);
                self.sessions.forget_where(|_, s| s.tenant == Some(id));
                self.members
                    .forget_where(|_, scope| scope.tenant_id() == id);
                self.api_tokens
                    .forget_where(|_, token| token.access.scope.tenant_id() == id);
            }
            Change::ApiToken(digest) => self.api_tokens.forget(digest),
            Change::Member(id) => {
                let id = *id;
                self.api_tokens
                    .forget_where(|_, token| token.access.scope.member().user_id == id);
            }
        }
    }

    /// Forgets everything: after a notification this build cannot read, or a gap in hearing.
    pub(crate) fn clear(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.tenants.clear();
        self.caps.clear();
        self.sessions.clear();
        self.members.clear();
        self.api_tokens.clear();
    }

    /// Starts (or stops) keeping sessions; either way, what was kept before is forgotten:
    /// nothing is known about what happened while this process was not listening.
    pub(crate) fn set_listening(&self, listening: bool) {
        if listening {
            // Probes sent before were on a lost connection (their waits ended when it was
            // lost). Marked before listening starts, so a probe made from now on is not
            // counted as heard before it is sent.
            self.probes_heard
                .send_replace(self.probes_sent.load(Ordering::Acquire));
        }
        let was_listening = self.listening.swap(listening, Ordering::AcqRel);
        self.clear();
        if was_listening && !listening {
            self.listener_losses.fetch_add(1, Ordering::Relaxed);
        }
        if !listening {
            // Probes sent on the lost connection will not come back: waiting for them ends
            // here, as for any probe of a process that is not listening.
            self.probes_heard.send_replace(u64::MAX);
        }
    }
}

#[cfg(test)]
mod tests;
