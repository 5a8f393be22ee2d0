//! A move's way into its two ends, and the steps up to the copy's verification.

use domain::TenantId;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

use super::{copy, Ends, Location, OpenMove};
use crate::platform::console::commit_announced;
use crate::platform::provision::copy::{pinned, workspace_tables, REGISTRY_TABLES};
use crate::platform::provision::{create_database, wait_for_transactions, Destination};
use crate::scope::{begin_in_control, TenantTx};
use crate::{Db, MigrationLimits, Refusal, RepoError};

/// The versions of the migrations a database has applied.
pub(super) async fn applied_migrations(conn: &mut PgConnection) -> Result<Vec<i64>, RepoError> {
    Ok(
        sqlx::query_scalar!(r#"SELECT applied_migrations() AS "applied!""#)
            .fetch_one(conn)
            .await?,
    )
}

/// The first workspace table (the registry's own left aside) that holds a row of the
/// workspace pinned on `conn`.
pub(super) async fn rows_left_in(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<Option<String>, RepoError> {
    for table in moved_tables(conn).await? {
        let found: bool = sqlx::query_scalar(&format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE tenant_id = $1)",
            table.quoted()
        ))
        .bind(tenant.as_uuid())
        .fetch_one(&mut *conn)
        .await?;
        if found {
            return Ok(Some(table.qualified()));
        }
    }
    Ok(None)
}

/// The tables whose rows a move carries: the workspace's, less those the registry keeps
/// (overrides, the directory), in the catalog's order (children first).
pub(super) async fn moved_tables(
    conn: &mut PgConnection,
) -> Result<Vec<crate::catalog::TenantTable>, RepoError> {
    Ok(workspace_tables(conn)
        .await?
        .into_iter()
        .filter(|t| !(t.schema == "public" && REGISTRY_TABLES.contains(&t.name.as_str())))
        .collect())
}

/// Sets or lifts the freeze on the registry row, in the caller's control transaction.
pub(super) async fn freeze_registry(
    conn: &mut PgConnection,
    tenant: TenantId,
    frozen: bool,
) -> Result<(), RepoError> {
    sqlx::query!(
        "UPDATE tenants
            SET writes_frozen_since = CASE WHEN $2 THEN coalesce(writes_frozen_since, clock_timestamp()) END
          WHERE id = $1",
        tenant.as_uuid(),
        frozen
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A transaction on one end of a move, pinned to the workspace.
pub(super) enum EndTx {
    /// The control database (the shared one), through the owner role's pool.
    Control(Box<TenantTx>),
    /// A workspace database, on a connection of its own as its cluster's owner role.
    Own(PgConnection),
}

impl EndTx {
    pub(super) fn conn(&mut self) -> &mut PgConnection {
        match self {
            EndTx::Control(tx) => tx.as_mut(),
            EndTx::Own(conn) => conn,
        }
    }

    pub(super) async fn commit(self) -> Result<(), RepoError> {
        match self {
            EndTx::Control(tx) => tx.commit().await?,
            EndTx::Own(mut conn) => {
                sqlx::query("COMMIT").execute(&mut conn).await?;
                conn.close().await?;
            }
        }
        Ok(())
    }

    /// Ends it without keeping anything.
    pub(super) async fn close(self) -> Result<(), RepoError> {
        match self {
            EndTx::Control(tx) => tx.rollback().await?,
            EndTx::Own(conn) => conn.close().await?,
        }
        Ok(())
    }
}

impl Ends<'_> {
    pub(super) fn cluster(&self, name: &str) -> Result<&Destination, RepoError> {
        self.clusters
            .get(name)
            .ok_or(RepoError::Invalid { field: "cluster" })
    }

    pub(super) fn options(&self, at: &Location) -> Result<Option<PgConnectOptions>, RepoError> {
        Ok(match at {
            Location::Shared => None,
            Location::Dedicated { cluster, database } => {
                Some(self.cluster(cluster)?.owner_in(database))
            }
        })
    }

    pub(super) async fn open(&self, at: &Location) -> Result<EndTx, RepoError> {
        Ok(match self.options(at)? {
            None => EndTx::Control(Box::new(begin_in_control(self.db, self.tenant).await?)),
            Some(options) => EndTx::Own(pinned(&options, self.tenant).await?),
        })
    }

    /// Freezes (or unfreezes) the workspace's writes where it is served from. The registry
    /// row says it too, for a dedicated source: that is what the console shows.
    pub(super) async fn freeze(&self, source: &Location, frozen: bool) -> Result<(), RepoError> {
        if let Location::Dedicated { .. } = source {
            let mut own = self.open(source).await?;
            freeze_registry(own.conn(), self.tenant, frozen).await?;
            own.commit().await?;
        }
        let mut tx = begin_in_control(self.db, self.tenant).await?;
        freeze_registry(&mut tx, self.tenant, frozen).await?;
        commit_announced(self.db, tx, self.tenant).await
    }

    /// Waits for the workspace's transactions at `source` that began before the freeze (the
    /// move lock, which `app_enter_tenant` takes shared).
    pub(super) async fn drain(&self, source: &Location) -> Result<(), RepoError> {
        let mut tx = self.open(source).await?;
        wait_for_transactions(tx.conn(), self.tenant).await?;
        tx.close().await
    }

    /// A destination database of its own is created (kept, if a stopped run made it) and
    /// migrated; then both ends must have applied the same migrations.
    pub(super) async fn prepare(&self, open: &OpenMove) -> Result<(), RepoError> {
        if let Location::Dedicated { cluster, database } = &open.to {
            let to = self.cluster(cluster)?;
            create_database(to, database).await?;
            Db::migrate_at(
                &crate::MIGRATOR,
                to.owner_in(database),
                MigrationLimits::default(),
            )
            .await
            .map_err(|err| RepoError::Delegated {
                what: "migrating the destination database",
                detail: err.to_string(),
            })?;
        }
        let mut source = self.open(&open.from).await?;
        let mut dest = self.open(&open.to).await?;
        let same =
            applied_migrations(source.conn()).await? == applied_migrations(dest.conn()).await?;
        source.close().await?;
        dest.close().await?;
        if same {
            Ok(())
        } else {
            Err(RepoError::Refused(Refusal::SchemaDiffers))
        }
    }

    /// Replaces whatever the destination holds of the workspace with the source's rows, in
    /// one transaction. A database of its own gets the registry row too (its rows' foreign
    /// keys need it), naming that database.
    pub(super) async fn copy(&self, open: &OpenMove) -> Result<Vec<(String, u64)>, RepoError> {
        let mut source = self.open(&open.from).await?;
        let mut dest = self.open(&open.to).await?;
        let tables = moved_tables(dest.conn()).await?;
        if let Location::Dedicated { cluster, .. } = &open.to {
            // Its own database: whatever of it is there (the registry's copies included,
            // which the switch writes again) goes, then the registry row anchors the rest.
            let everything = workspace_tables(dest.conn()).await?;
            copy::empty(dest.conn(), self.tenant, &everything).await?;
            copy::registry_row(self.db, dest.conn(), self.tenant, cluster).await?;
        } else {
            copy::empty(dest.conn(), self.tenant, &tables).await?;
        }
        let copied = copy::copy_tables(source.conn(), dest.conn(), self.tenant, &tables).await?;
        dest.commit().await?;
        source.close().await?;
        Ok(copied)
    }

    /// `Err(table)` names the first table whose rows differ between the two ends.
    pub(super) async fn verify(&self, open: &OpenMove) -> Result<Result<(), String>, RepoError> {
        let mut source = self.open(&open.from).await?;
        let mut dest = self.open(&open.to).await?;
        let tables = moved_tables(dest.conn()).await?;
        let mut outcome = Ok(());
        for table in tables.iter().rev() {
            let there = copy::checksum(source.conn(), self.tenant, table).await?;
            let here = copy::checksum(dest.conn(), self.tenant, table).await?;
            if there != here {
                tracing::warn!(
                    tenant = %self.tenant, table = %table.qualified(),
                    source = ?there, destination = ?here,
                    "a move's copy differs from its source"
                );
                outcome = Err(table.qualified());
                break;
            }
        }
        source.close().await?;
        dest.close().await?;
        Ok(outcome)
    }

    /// Whether the destination can hold a copy: a database of its own exists.
    pub(super) async fn destination_exists(&self, to: &Location) -> Result<bool, RepoError> {
        match to {
            Location::Shared => Ok(true),
            Location::Dedicated { cluster, database } => {
                self.cluster(cluster)?.database_exists(database).await
            }
        }
    }
}
