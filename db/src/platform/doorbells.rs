//! Where the background workers find the jobs of workspaces with a database of their own.
//!
//! The workers claim from the queue of the database they run against (`claim_export_job`,
//! `claim_import_job`); a dedicated workspace's jobs wait in its own database. Queuing one
//! marks the workspace's registry row (`exports_waiting_since` / `imports_waiting_since`), in
//! the control transaction beside the queuing one; after their own queue, the workers look in
//! the marked workspaces' databases, oldest mark first, and clear a mark once that queue has
//! nothing waiting or running. A mark is cleared only if nobody marked it again since it was
//! read, so a job queued while a worker looked is never left unseen.

use domain::TenantId;
use time::OffsetDateTime;

use crate::scope::TenantTx;
use crate::{Db, RepoError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Queue {
    Exports,
    Imports,
}

/// How many marked workspaces one claim looks at, at most.
const LOOK_AT: i64 = 8;

/// Marks `tx`'s workspace as having `queue` work in its own database; nothing for a shared
/// workspace, whose jobs are in the workers' own queue.
pub(crate) async fn ring(tx: &mut TenantTx, db: &Db, queue: Queue) -> Result<(), RepoError> {
    if !tx.is_dedicated() {
        return Ok(());
    }
    let tenant = tx.tenant_id().as_uuid();
    // The time the statement runs, not the transaction's start: a mark must move past any a
    // worker read before this job was visible.
    let conn = tx.control(db).await?;
    match queue {
        Queue::Exports => {
            sqlx::query!(
                "UPDATE tenants SET exports_waiting_since = clock_timestamp() WHERE id = $1",
                tenant
            )
            .execute(conn)
            .await?
        }
        Queue::Imports => {
            sqlx::query!(
                "UPDATE tenants SET imports_waiting_since = clock_timestamp() WHERE id = $1",
                tenant
            )
            .execute(conn)
            .await?
        }
    };
    Ok(())
}

/// The marked workspaces, oldest mark first, with the mark as read.
pub(crate) async fn marked(
    db: &Db,
    queue: Queue,
) -> Result<Vec<(TenantId, OffsetDateTime)>, RepoError> {
    let mut conn = db.platform().await?;
    let rows: Vec<(uuid::Uuid, OffsetDateTime)> = match queue {
        Queue::Exports => sqlx::query!(
            r#"SELECT id, exports_waiting_since AS "since!" FROM tenants
                WHERE exports_waiting_since IS NOT NULL
                ORDER BY exports_waiting_since LIMIT $1"#,
            LOOK_AT
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.since))
        .collect(),
        Queue::Imports => sqlx::query!(
            r#"SELECT id, imports_waiting_since AS "since!" FROM tenants
                WHERE imports_waiting_since IS NOT NULL
                ORDER BY imports_waiting_since LIMIT $1"#,
            LOOK_AT
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.since))
        .collect(),
    };
    drop(conn);
    Ok(rows
        .into_iter()
        .map(|(id, since)| (TenantId::from_uuid(id), since))
        .collect())
}

/// Clears `tenant`'s mark if it is still the one read (`seen`).
pub(crate) async fn clear(
    db: &Db,
    queue: Queue,
    tenant: TenantId,
    seen: OffsetDateTime,
) -> Result<(), RepoError> {
    let mut conn = db.platform().await?;
    match queue {
        Queue::Exports => {
            sqlx::query!(
                "UPDATE tenants SET exports_waiting_since = NULL
              WHERE id = $1 AND exports_waiting_since <= $2",
                tenant.as_uuid(),
                seen
            )
            .execute(&mut *conn)
            .await?
        }
        Queue::Imports => {
            sqlx::query!(
                "UPDATE tenants SET imports_waiting_since = NULL
              WHERE id = $1 AND imports_waiting_since <= $2",
                tenant.as_uuid(),
                seen
            )
            .execute(&mut *conn)
            .await?
        }
    };
    conn.done().await?;
    Ok(())
}

/// What a look in one marked workspace's database found.
enum Looked {
    Claimed(uuid::Uuid),
    /// A job is running there (and its worker is alive): the mark stays.
    Busy,
    Idle,
}

/// After the workers' own queue: claims the oldest job waiting (or left by a dead worker) in a
/// marked workspace's own database, and clears the marks of those with nothing left. One
/// workspace's database being down or moving holds up nobody else's jobs.
pub(crate) async fn claim_elsewhere(
    db: &Db,
    queue: Queue,
    stale_after_secs: f64,
) -> Result<Option<(TenantId, uuid::Uuid)>, RepoError> {
    for (tenant, seen) in marked(db, queue).await? {
        match look_in(db, queue, tenant, stale_after_secs).await {
            Ok(Looked::Claimed(id)) => return Ok(Some((tenant, id))),
            // To the back of the line, so that workspaces with long jobs, or databases that do
            // not answer, cannot keep the others' jobs from being looked at.
            Ok(Looked::Busy) => ring_again(db, queue, tenant, seen).await?,
            Ok(Looked::Idle) => clear(db, queue, tenant, seen).await?,
            Err(err) => {
                tracing::warn!(tenant = %tenant, queue = ?queue, error = %err, "could not look for jobs in the workspace's own database");
                ring_again(db, queue, tenant, seen).await?;
            }
        }
    }
    Ok(None)
}

/// Moves `tenant`'s mark to now, if it is still the one read.
async fn ring_again(
    db: &Db,
    queue: Queue,
    tenant: TenantId,
    seen: OffsetDateTime,
) -> Result<(), RepoError> {
    let mut conn = db.platform().await?;
    match queue {
        Queue::Exports => {
            sqlx::query!(
                "UPDATE tenants SET exports_waiting_since = clock_timestamp()
              WHERE id = $1 AND exports_waiting_since = $2",
                tenant.as_uuid(),
                seen
            )
            .execute(&mut *conn)
            .await?
        }
        Queue::Imports => {
            sqlx::query!(
                "UPDATE tenants SET imports_waiting_since = clock_timestamp()
              WHERE id = $1 AND imports_waiting_since = $2",
                tenant.as_uuid(),
                seen
            )
            .execute(&mut *conn)
            .await?
        }
    };
    conn.done().await?;
    Ok(())
}

async fn look_in(
    db: &Db,
    queue: Queue,
    tenant: TenantId,
    stale_after_secs: f64,
) -> Result<Looked, RepoError> {
    let found = crate::platform::tenants::find_by_id(db, tenant).await?;
    // Only a database of its own: anywhere else the claim would read across workspaces (the
    // control database's queue is the workers' own), and one gone has nothing to look for.
    let Some(found) = found.filter(|t| t.placement().dedicated().is_some()) else {
        return Ok(Looked::Idle);
    };
    let mut tx = crate::scope::begin_for_tenant(db, &found).await?;
    // Its database holds only its own jobs: the claim reads no other workspace's.
    let claimed = match queue {
        Queue::Exports => {
            sqlx::query_scalar!(
                r#"SELECT id AS "id!" FROM claim_export_job($1)"#,
                stale_after_secs
            )
            .fetch_optional(&mut *tx)
            .await?
        }
        Queue::Imports => {
            sqlx::query_scalar!(
                r#"SELECT id AS "id!" FROM claim_import_job($1)"#,
                stale_after_secs
            )
            .fetch_optional(&mut *tx)
            .await?
        }
    };
    if let Some(id) = claimed {
        tx.commit().await?;
        return Ok(Looked::Claimed(id));
    }
    let busy = match queue {
        Queue::Exports => {
            sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM export_jobs
                WHERE tenant_id = $1 AND status IN ('queued', 'running')) AS "busy!""#,
                tenant.as_uuid()
            )
            .fetch_one(&mut *tx)
            .await?
        }
        Queue::Imports => {
            sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM product_imports
                WHERE tenant_id = $1 AND status IN ('queued', 'running')) AS "busy!""#,
                tenant.as_uuid()
            )
            .fetch_one(&mut *tx)
            .await?
        }
    };
    crate::scope::end_read(tx);
    Ok(if busy { Looked::Busy } else { Looked::Idle })
}
