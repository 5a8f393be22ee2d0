//! A tenant's transaction, and the ways one is opened: where the workspace's data lives,
//! or (for its registry row) in the control database.

use std::ops::{Deref, DerefMut};

use domain::TenantId;
use sqlx::{PgConnection, Postgres, Transaction};
use tokio::sync::OwnedSemaphorePermit;

use crate::platform::tenants::Placement;
use crate::pool::Lease;
use crate::tenant::shares::Shares;
use crate::{Db, RepoError, Tenant};

/// A tenant's transaction. Holds the workspace's place in its share of the pool, if it took
/// one, for as long as the transaction lasts.
pub(crate) struct TenantTx {
    tx: Transaction<'static, Postgres>,
    /// For a workspace with a database of its own: keeps that database's pool open while the
    /// transaction holds one of its connections. Declared after `tx`, so dropped after it.
    lease: Option<Lease>,
    pub(super) place: Option<OwnedSemaphorePermit>,
    held: HeldConnection,
    /// For a workspace with a database of its own: the platform's side of a change (sessions
    /// ended, announcements heard by every process), in the control database, opened on
    /// first use by [`TenantTx::control`] and committed right after `tx`.
    control: Option<Transaction<'static, Postgres>>,
}

impl TenantTx {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.end(true).await
    }

    /// Ends the transaction at once, releasing its row locks now rather than when the dropped
    /// transaction's ROLLBACK goes out with the connection's next use.
    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        self.end(false).await
    }

    /// The workspace this transaction acts for.
    pub(crate) fn tenant_id(&self) -> TenantId {
        self.held.tenant
    }

    /// Whether it runs in a workspace's own database (not the control database).
    pub(crate) fn is_dedicated(&self) -> bool {
        self.lease.is_some()
    }

    /// Where the platform's records of this change go: sessions (ended with a member's
    /// removal, role or password change) and the `NOTIFY` every process listens for live in
    /// the control database. For a shared workspace that is this very transaction; for a
    /// dedicated one, a control transaction opened beside it and committed right after it.
    ///
    /// The workspace's change commits first: if the control side then fails, the member's
    /// sessions outlive the change, but each one is checked against the member in the
    /// workspace's own database whenever it is not held in memory (and memory keeps nothing
    /// longer than its short expiry), so a removed member is still refused; the other order
    /// could end sessions for a change that then rolled back, or announce it before it is
    /// visible, and a process would cache the old state.
    pub(crate) async fn control(&mut self, db: &Db) -> Result<&mut PgConnection, RepoError> {
        if !self.is_dedicated() {
            return Ok(&mut self.tx);
        }
        if self.control.is_none() {
            self.control = Some(
                db.begin_with(control_statement(db, self.held.tenant))
                    .await?,
            );
        }
        Ok(self.control.as_mut().expect("opened above"))
    }

    /// The pool's lease, the share's place and the held-time record go once the database has
    /// answered, not before.
    async fn end(self, commit: bool) -> Result<(), sqlx::Error> {
        let Self {
            tx,
            lease,
            place,
            held,
            control,
        } = self;
        let tenant = held.tenant;
        let ended = if commit {
            tx.commit().await
        } else {
            tx.rollback().await
        };
        drop((lease, place, held));
        let Some(control) = control else {
            return ended;
        };
        if ended.is_err() || !commit {
            return ended.and(control.rollback().await);
        }
        control.commit().await.inspect_err(|err| {
            tracing::error!(
                tenant = %tenant, error = %err,
                "a change committed in the workspace's database, but its sessions and \
                 announcements in the control database did not"
            );
        })
    }
}

/// Counts the time a transaction held its connection against its workspace (`load`).
struct HeldConnection {
    tenant: TenantId,
    since: std::time::Instant,
    load: std::sync::Arc<crate::load::TenantLoad>,
}

impl Drop for HeldConnection {
    fn drop(&mut self) {
        self.load.record_db_time(self.tenant, self.since.elapsed());
    }
}

impl Deref for TenantTx {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.tx
    }
}

impl DerefMut for TenantTx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}
/// A transaction in the workspace's own database (the shared one, or its dedicated one),
/// whose first statement pins `app.tenant_id` for its own lifetime only (`is_local = true`),
/// so a pooled connection never carries a tenant into the next request.
pub(crate) async fn begin_for_tenant(db: &Db, tenant: &Tenant) -> Result<TenantTx, RepoError> {
    begin_with_tenant(db, "", tenant.id(), tenant.placement(), &Shares::default()).await
}

/// [`begin_for_tenant`] for work that carries only its workspace's id (a job row, the
/// console): the registry says where the workspace lives.
pub(crate) async fn begin_for_tenant_id(
    db: &Db,
    tenant_id: TenantId,
) -> Result<TenantTx, RepoError> {
    let tenant = crate::platform::tenants::find_by_id(db, tenant_id)
        .await?
        .ok_or(RepoError::NotFound)?;
    begin_for_tenant(db, &tenant).await
}

/// A transaction in the control database pinned to `tenant_id`, for work on the workspace's
/// registry row and the platform's records of it (the console, the lifecycle), never on its
/// data: it does not check where the workspace's data lives, so it works for every workspace.
pub(crate) async fn begin_in_control(db: &Db, tenant_id: TenantId) -> Result<TenantTx, RepoError> {
    let tx = db.begin_with(control_statement(db, tenant_id)).await?;
    Ok(TenantTx::new(db, tx, None, tenant_id))
}

fn control_statement(db: &Db, tenant_id: TenantId) -> String {
    format!(
        "BEGIN; SELECT set_config('app.tenant_id', '{tenant_id}', true), {}",
        db.lock_timeout_setting()
    )
}

/// The transaction's settings, the check of where the workspace lives and its `BEGIN` travel
/// in one message, so they cost no round trip of their own. The id is a formatted UUID (hex
/// digits and hyphens only) and the timeouts numbers, never text from a request, so all are
/// safe inside the statement. `mode` is a `SET TRANSACTION …; ` (or nothing).
///
/// `app_enter_tenant` (see its migration) refuses a workspace whose data does not live in this
/// database now, and takes the workspace's shared lock that a move waits on. It runs *before*
/// `BEGIN`, in the implicit transaction the statements of one message share, which `BEGIN`
/// then turns into the real one (its lock and settings included): when it refuses, that
/// implicit transaction ends with the message and the connection goes back to the pool clean.
/// After a `BEGIN`, a refusal would leave the connection inside an aborted transaction that
/// sqlx (0.8.6) does not know it opened, and the next request on it would fail.
pub(super) async fn begin_with_tenant(
    db: &Db,
    mode: &'static str,
    tenant_id: TenantId,
    placement: &Placement,
    shares: &Shares,
) -> Result<TenantTx, RepoError> {
    let statement_timeout = shares
        .statement_timeout
        .map(|t| {
            format!(
                ", set_config('statement_timeout', '{}', true)",
                t.as_millis()
            )
        })
        .unwrap_or_default();
    let statement = format!(
        "{mode}SELECT set_config('app.tenant_id', '{tenant_id}', true), {}{statement_timeout}; \
         SELECT app_enter_tenant('{tenant_id}'); BEGIN",
        db.lock_timeout_setting()
    );
    let (tx, lease) = db.begin_at(placement, statement).await?;
    Ok(TenantTx::new(db, tx, lease, tenant_id))
}

impl TenantTx {
    fn new(
        db: &Db,
        tx: Transaction<'static, Postgres>,
        lease: Option<Lease>,
        tenant: TenantId,
    ) -> Self {
        TenantTx {
            tx,
            lease,
            place: None,
            held: HeldConnection {
                tenant,
                since: std::time::Instant::now(),
                load: db.load_handle(),
            },
            control: None,
        }
    }
}

/// Ends a transaction that only read. Dropping it rolls it back, and sqlx sends that
/// ROLLBACK with the check it makes when the connection returns to the pool, so a read waits
/// for one round trip fewer than with a COMMIT (which would change nothing anyway).
pub(crate) fn end_read(tx: TenantTx) {
    drop(tx);
}

/// Pins the tenant inside a transaction that did not start acting for it (registration,
/// which creates the tenant first).
pub(crate) async fn set_tenant(
    conn: &mut PgConnection,
    tenant_id: TenantId,
) -> Result<(), RepoError> {
    sqlx::query!(
        "SELECT set_config('app.tenant_id', $1, true) AS \"tenant!\"",
        tenant_id.to_string()
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}
