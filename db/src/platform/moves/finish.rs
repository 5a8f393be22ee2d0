//! The end of a move: given up before its switch, switched, its source removed.

use std::time::Duration;

use serde_json::json;

use super::ends::{freeze_registry, moved_tables};
use super::{copy, Ends, Location, OpenMove};
use crate::platform::console::{audit, commit_announced, lock_tenant, Actor, PlanCopy};
use crate::scope::begin_in_control;
use crate::RepoError;

impl Ends<'_> {
    /// Gives up a move before its switch (a copy that differs, schemas that do not match):
    /// the source serves writes again and the move is recorded as failed, naming `why`,
    /// then the copy is discarded. In that order: a stop before the record leaves the move
    /// open (the next run freezes again and compares again), and one after it leaves a copy
    /// the next move to that place takes back (`start`).
    pub(super) async fn abandon(
        &self,
        open: &OpenMove,
        why: String,
        detail: serde_json::Value,
        actor: Actor<'_>,
    ) -> Result<(), RepoError> {
        if let Location::Dedicated { .. } = open.from {
            let mut own = self.open(&open.from).await?;
            freeze_registry(own.conn(), self.tenant, false).await?;
            own.commit().await?;
        }
        let mut tx = begin_in_control(self.db, self.tenant).await?;
        lock_tenant(&mut tx, self.tenant).await?;
        freeze_registry(&mut tx, self.tenant, false).await?;
        sqlx::query!(
            "UPDATE workspace_moves SET state = 'failed', finished_at = clock_timestamp(),
                    failure = $2
              WHERE id = $1",
            open.id,
            why
        )
        .execute(&mut *tx)
        .await?;
        let mut attempted =
            json!({ "placement": open.from.as_json(), "attempted": open.to.as_json() });
        if let (Some(into), serde_json::Value::Object(detail)) = (attempted.as_object_mut(), detail)
        {
            into.extend(detail);
        }
        audit(
            &mut tx,
            actor,
            "move_failed",
            Some(self.tenant),
            json!({ "placement": open.from.as_json() }),
            attempted,
        )
        .await?;
        commit_announced(self.db, tx, self.tenant).await?;
        self.discard(&open.to).await?;
        Ok(())
    }

    /// Removes what a move put (or left) at `at`, which the registry does not name: the
    /// database of its own, or the workspace's rows in the shared database.
    pub(super) async fn discard(&self, at: &Location) -> Result<u64, RepoError> {
        match at {
            Location::Dedicated { cluster, database } => {
                self.cluster(cluster)?.drop_database(database).await?;
                Ok(0)
            }
            Location::Shared => {
                let mut tx = self.open(at).await?;
                let tables = moved_tables(tx.conn()).await?;
                let removed = copy::empty(tx.conn(), self.tenant, &tables).await?;
                tx.commit().await?;
                Ok(removed)
            }
        }
    }

    pub(super) async fn switch(
        &self,
        open: &OpenMove,
        hold: Duration,
        actor: Actor<'_>,
    ) -> Result<(), RepoError> {
        let tenant = self.tenant.as_uuid();
        let mut tx = begin_in_control(self.db, self.tenant).await?;
        // Console changes take this lock too: none lands between the plan copied below and
        // the switch.
        lock_tenant(&mut tx, self.tenant)
            .await?
            .refuse_if_erased()?;
        let row = sqlx::query!(
            r#"SELECT state, rows_moved,
                      EXTRACT(EPOCH FROM clock_timestamp() - started_at)::float8 AS "seconds!"
                 FROM workspace_moves WHERE id = $1 FOR UPDATE"#,
            open.id
        )
        .fetch_one(&mut *tx)
        .await?;
        if row.state != "verifying" {
            return Err(RepoError::Conflict { field: "state" });
        }
        match &open.to {
            Location::Dedicated { .. } => {
                let mut dest = self.open(&open.to).await?;
                PlanCopy::read(&mut tx, tenant)
                    .await?
                    .write(dest.conn(), tenant)
                    .await?;
                dest.commit().await?;
                // Its members leave the control database's `users` (if they were there):
                // "find my workspace" finds them in the directory.
                if open.from == Location::Shared {
                    sqlx::query!(
                        "INSERT INTO member_directory (tenant_id, user_id, email)
                         SELECT tenant_id, id, email FROM users
                          WHERE tenant_id = $1 AND removed_at IS NULL
                         ON CONFLICT (tenant_id, user_id) DO UPDATE SET email = EXCLUDED.email",
                        tenant
                    )
                    .execute(&mut *tx)
                    .await?;
                }
            }
            // Back in the control database's `users`, where the directory reads them.
            Location::Shared => {
                sqlx::query!("DELETE FROM member_directory WHERE tenant_id = $1", tenant)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        // Jobs queued (or cut short by the freeze) travelled with the rows: a database of
        // its own is marked for the workers to look in (a mark that finds nothing is
        // cleared), as queuing one there would.
        sqlx::query!(
            "UPDATE tenants SET placement_cluster = $2, placement_database = $3,
                    placement_state = CASE WHEN $2::text IS NULL THEN NULL ELSE 'ready' END,
                    writes_frozen_since = NULL,
                    exports_waiting_since = CASE WHEN $2::text IS NULL THEN NULL ELSE clock_timestamp() END,
                    imports_waiting_since = CASE WHEN $2::text IS NULL THEN NULL ELSE clock_timestamp() END
              WHERE id = $1",
            tenant,
            open.to.cluster(),
            open.to.database()
        )
        .execute(&mut *tx)
        .await?;
        let hold_secs = hold.as_secs_f64();
        sqlx::query!(
            "UPDATE workspace_moves SET state = 'switched', switched_at = clock_timestamp(),
                    hold_until = clock_timestamp() + make_interval(secs => $2)
              WHERE id = $1",
            open.id,
            hold_secs
        )
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "move",
            Some(self.tenant),
            json!({ "placement": open.from.as_json() }),
            json!({
                "placement": open.to.as_json(),
                "rows_moved": row.rows_moved,
                "duration_ms": (row.seconds * 1000.0).round() as i64,
            }),
        )
        .await?;
        commit_announced(self.db, tx, self.tenant).await
    }

    /// A dedicated source's own row says the workspace left: a process that has not heard of
    /// the switch is refused there instead of reading what is no longer kept up to date.
    pub(super) async fn leave(&self, source: &Location) -> Result<(), RepoError> {
        let Location::Dedicated { cluster, database } = source else {
            return Ok(());
        };
        // Already dropped by a cleaning that stopped before it was recorded.
        if !self.cluster(cluster)?.database_exists(database).await? {
            return Ok(());
        }
        let mut own = self.open(source).await?;
        sqlx::query!(
            "UPDATE tenants SET placement_state = 'left' WHERE id = $1",
            self.tenant.as_uuid()
        )
        .execute(own.conn())
        .await?;
        own.commit().await
    }

    /// Removes the source once the hold is over. `true` when it is gone.
    pub(super) async fn clean_if_due(&self, open: &OpenMove) -> Result<bool, RepoError> {
        let due = sqlx::query_scalar!(
            r#"SELECT hold_until <= clock_timestamp() AS "due!" FROM workspace_moves WHERE id = $1"#,
            open.id
        )
        .fetch_one(&mut *self.db.platform().await?)
        .await?;
        if !due {
            return Ok(false);
        }
        self.discard(&open.from).await?;
        sqlx::query!(
            "UPDATE workspace_moves SET state = 'cleaned', finished_at = clock_timestamp()
              WHERE id = $1",
            open.id
        )
        .execute(&mut *self.db.platform().await?)
        .await?;
        Ok(true)
    }
}
