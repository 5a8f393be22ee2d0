use std::ops::{Deref, DerefMut};

use domain::{Email, Role, TenantId, UserId};
use sqlx::{PgConnection, Postgres, Transaction};
use tokio::sync::OwnedSemaphorePermit;

use crate::tenant::shares::Shares;
use crate::{Db, RepoError, Tenant};

/// Proof that a request acts for one tenant on behalf of one of its members.
///
/// Its fields are private and the only constructor checks the member against the database
/// inside that tenant's transaction, so holding a scope means both checks passed. Every
/// tenant repository function takes one first.
#[derive(Debug, Clone)]
pub struct TenantScope {
    tenant_id: TenantId,
    member: Member,
    /// Read with the member, so the scope's transactions need nothing more to keep to them.
    shares: Shares,
}

/// The signed-in person, as the tenant knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: UserId,
    pub email: Email,
    pub name: String,
    pub role: Role,
}

impl TenantScope {
    /// Builds the scope for `user_id` in `tenant`, or `None` when that user is not (or no
    /// longer) a member: a session naming a deleted or foreign user gets nothing.
    pub async fn for_member(
        db: &Db,
        tenant: &Tenant,
        user_id: UserId,
    ) -> Result<Option<Self>, RepoError> {
        let mut tx = begin_for_tenant(db, tenant.id()).await?;
        let row = sqlx::query!(
            r#"SELECT id, email, name, role FROM users WHERE tenant_id = $1 AND id = $2 AND removed_at IS NULL"#,
            tenant.id().as_uuid(),
            user_id.as_uuid()
        )
        .fetch_optional(&mut *tx)
        .await?;
        let caps = crate::tenant::plan::caps(db, &mut tx, tenant.id()).await?;
        end_read(tx);
        let Some(row) = row else { return Ok(None) };
        let member = Member {
            user_id: UserId::from_uuid(row.id),
            email: Email::parse(&row.email).map_err(|_| RepoError::corrupt("users.email"))?,
            name: row.name,
            role: row
                .role
                .parse()
                .map_err(|_| RepoError::corrupt("users.role"))?,
        };
        Ok(Some(Self {
            tenant_id: tenant.id(),
            member,
            shares: Shares::from_caps(&caps),
        }))
    }

    /// [`Self::for_member`] for the member a session signs in, remembered for that session
    /// for as long as this process hears of every change that could concern it (`caches`):
    /// every change to a membership ends or renews the sessions it concerns.
    pub async fn for_session(
        db: &Db,
        tenant: &Tenant,
        user_id: UserId,
        session: &tower_sessions::session::Id,
    ) -> Result<Option<Self>, RepoError> {
        let key = crate::platform::sessions::key(session);
        let remembered = db
            .caches
            .member(&key)
            .filter(|scope| scope.tenant_id == tenant.id() && scope.member.user_id == user_id);
        if let Some(scope) = remembered {
            return Ok(Some(scope));
        }
        let epoch = db.caches.epoch();
        let found = Self::for_member(db, tenant, user_id).await?;
        if let Some(scope) = &found {
            db.caches.keep_member(epoch, key, scope);
        }
        Ok(found)
    }

    pub fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }

    pub fn member(&self) -> &Member {
        &self.member
    }

    pub fn shares(&self) -> Shares {
        self.shares
    }

    /// Refuses unless the member's role is at least `role`. Checked here, under the server
    /// functions, so a hidden button is never the only thing standing in the way.
    pub fn require(&self, role: Role) -> Result<(), RepoError> {
        if self.member.role.at_least(role) {
            Ok(())
        } else {
            Err(RepoError::Forbidden)
        }
    }

    /// Opens this scope's transaction. Repository functions run every statement inside it.
    pub(crate) async fn begin(&self, db: &Db) -> Result<TenantTx, RepoError> {
        self.begin_shared(db, "BEGIN").await
    }

    /// A read-only transaction whose statements all see one snapshot, for reads made of
    /// several queries that must agree with each other.
    pub(crate) async fn begin_snapshot(&self, db: &Db) -> Result<TenantTx, RepoError> {
        self.begin_shared(db, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
    }

    /// A member's transactions keep to the workspace's shares: a place in its part of the
    /// pool is taken before a connection is asked for, and its statement timeout travels in
    /// the first message with the tenant.
    async fn begin_shared(&self, db: &Db, begin: &'static str) -> Result<TenantTx, RepoError> {
        let place = match self.shares.connections_percent {
            Some(percent) => db.share_place(self.tenant_id, percent).await?,
            None => None,
        };
        let mut tx = begin_with_tenant(db, begin, self.tenant_id, &self.shares).await?;
        tx.place = place;
        Ok(tx)
    }
}

/// A tenant's transaction. Holds the workspace's place in its share of the pool, if it took
/// one, for as long as the transaction lasts.
pub(crate) struct TenantTx {
    tx: Transaction<'static, Postgres>,
    place: Option<OwnedSemaphorePermit>,
    held: HeldConnection,
}

impl TenantTx {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        let Self { tx, place, held } = self;
        let committed = tx.commit().await;
        drop(place);
        drop(held);
        committed
    }

    /// Ends the transaction at once, releasing its row locks now rather than when the dropped
    /// transaction's ROLLBACK goes out with the connection's next use.
    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        let Self { tx, place, held } = self;
        let rolled_back = tx.rollback().await;
        drop(place);
        drop(held);
        rolled_back
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

/// A transaction whose first statement pins `app.tenant_id` for its own lifetime only
/// (`is_local = true`), so a pooled connection never carries a tenant into the next request.
pub(crate) async fn begin_for_tenant(db: &Db, tenant_id: TenantId) -> Result<TenantTx, RepoError> {
    begin_with_tenant(db, "BEGIN", tenant_id, &Shares::default()).await
}

/// `BEGIN` and the `set_config`s travel in one message, so pinning the tenant (and the lock
/// and statement timeouts) costs no round trip of its own. The id is a formatted UUID (hex
/// digits and hyphens only) and the timeout a number, never text from a request, so both
/// are safe inside the statement.
async fn begin_with_tenant(
    db: &Db,
    begin: &'static str,
    tenant_id: TenantId,
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
        "{begin}; SELECT set_config('app.tenant_id', '{tenant_id}', true), {}{statement_timeout}",
        db.lock_timeout_setting()
    );
    let tx = db.begin_with(statement).await?;
    Ok(TenantTx {
        tx,
        place: None,
        held: HeldConnection {
            tenant: tenant_id,
            since: std::time::Instant::now(),
            load: db.load_handle(),
        },
    })
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
