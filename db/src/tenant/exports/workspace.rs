//! What a whole-workspace export reads: every table that has a `tenant_id`, found in the
//! catalog (so a table a later migration adds is exported without a change here), each row as
//! one JSON object, all of them from one snapshot so that the archive is the workspace as it
//! was at one moment (an order and its lines agree).
//!
//! Rows are JSON rather than CSV: a row keeps its types (numbers, booleans, NULL as opposed to
//! an empty string, nested JSON), and `jsonb_populate_record` reads it back into the same
//! table. What the schema marks `omit from export` (credentials, earlier exports) is left
//! out, and named in the manifest.

use domain::Role;
use sqlx::Row;

use crate::catalog::{self, TenantTable};
use crate::scope::{end_read, TenantTx};
use crate::{Db, RepoError, TenantScope};

/// One table as the export writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportTable {
    pub table: TenantTable,
    /// Columns left out of every row, as the schema's marks say.
    pub omitted_columns: Vec<(String, String)>,
    /// The workspace's rows in it, in the snapshot.
    pub rows: i64,
}

/// A table left out whole, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OmittedTable {
    pub table: TenantTable,
    pub why: String,
}

/// An open snapshot of one workspace's tables. Read a table by [`Self::start`], then
/// [`Self::fetch`] until it returns no rows; [`Self::close`] at the end.
pub struct WorkspaceSnapshot {
    tx: TenantTx,
    tables: Vec<ExportTable>,
    omitted: Vec<OmittedTable>,
    tenant: uuid::Uuid,
    reading: bool,
}

/// The cursor a table is read through; one at a time.
const CURSOR: &str = "workspace_export_rows";

impl WorkspaceSnapshot {
    /// Opens the snapshot, in the scope's own workspace only (the transaction is pinned to it
    /// and row-level security holds every table to it). The workspace's owners only: the
    /// archive holds every member's name and email and every order.
    pub async fn open(db: &Db, scope: &TenantScope) -> Result<Self, RepoError> {
        scope.require(Role::Owner)?;
        let tenant = scope.tenant_id().as_uuid();
        let mut tx = scope.begin_snapshot(db).await?;
        let omissions = catalog::omissions(&mut tx).await?;
        let mut tables = Vec::new();
        let mut omitted = Vec::new();
        for table in catalog::tenant_tables_in(&mut tx).await? {
            if let Some(why) = omissions.tables.get(&table) {
                omitted.push(OmittedTable {
                    table,
                    why: why.clone(),
                });
                continue;
            }
            let readable: bool = sqlx::query("SELECT has_table_privilege($1, 'SELECT')")
                .bind(table.quoted())
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            if !readable {
                omitted.push(OmittedTable {
                    table,
                    why: "the platform's own record, not the workspace's data".into(),
                });
                continue;
            }
            let rows: i64 = sqlx::query(&format!(
                "SELECT count(*) FROM {} WHERE tenant_id = $1",
                table.quoted()
            ))
            .bind(tenant)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            tables.push(ExportTable {
                omitted_columns: omissions.columns.get(&table).cloned().unwrap_or_default(),
                table,
                rows,
            });
        }
        Ok(Self {
            tx,
            tables,
            omitted,
            tenant,
            reading: false,
        })
    }

    /// The tables to write, children before the tables they reference (the purge's order;
    /// an import goes through them backwards).
    pub fn tables(&self) -> &[ExportTable] {
        &self.tables
    }

    pub fn omitted(&self) -> &[OmittedTable] {
        &self.omitted
    }

    /// The schema the rows follow: the newest migration this build applies.
    pub fn schema_version() -> i64 {
        crate::MIGRATOR
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or_default()
    }

    /// Starts reading the `index`th table of [`Self::tables`].
    pub async fn start(&mut self, index: usize) -> Result<(), RepoError> {
        self.stop_reading().await?;
        let table = self.tables.get(index).ok_or(RepoError::NotFound)?;
        // A cursor takes no parameters, so the workspace id is written into the statement: a
        // formatted UUID (hex digits and hyphens), as when the transaction pinned it. Column
        // names come from the catalog and are quoted as literals anyway.
        let omitted: Vec<String> = table
            .omitted_columns
            .iter()
            .map(|(column, _)| format!("'{}'", column.replace('\'', "''")))
            .collect();
        let without = if omitted.is_empty() {
            String::new()
        } else {
            format!(" - ARRAY[{}]::text[]", omitted.join(", "))
        };
        let statement = format!(
            "DECLARE {CURSOR} NO SCROLL CURSOR FOR
                 SELECT (to_jsonb(t){without})::text FROM {} t WHERE t.tenant_id = '{}'",
            table.table.quoted(),
            self.tenant
        );
        sqlx::query(&statement).execute(&mut *self.tx).await?;
        self.reading = true;
        Ok(())
    }

    /// The next `at_most` rows of the table being read, each a JSON object on one line;
    /// empty when the table is done.
    pub async fn fetch(&mut self, at_most: u32) -> Result<Vec<String>, RepoError> {
        if !self.reading {
            return Ok(Vec::new());
        }
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("FETCH FORWARD {at_most} FROM {CURSOR}"))
                .fetch_all(&mut *self.tx)
                .await?;
        if rows.is_empty() {
            self.stop_reading().await?;
        }
        Ok(rows)
    }

    async fn stop_reading(&mut self) -> Result<(), RepoError> {
        if std::mem::take(&mut self.reading) {
            sqlx::query(&format!("CLOSE {CURSOR}"))
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// Ends the snapshot (it only read).
    pub fn close(self) {
        end_read(self.tx);
    }
}
