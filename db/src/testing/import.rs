//! Reading a workspace's rows back from a whole-workspace export, for the tests that prove an
//! archive holds the workspace: not a product feature. Everything here runs as the owner role
//! with the workspace pinned, so the tables' policies hold it to that workspace.

use sqlx::{ConnectOptions, Connection, PgConnection};

use super::TestDatabase;

impl TestDatabase {
    /// An owner connection inside a transaction pinned to `tenant`.
    async fn owner_pinned(&self, tenant: uuid::Uuid) -> PgConnection {
        let mut conn = self.owner.connect().await.expect("owner connects");
        super::begin_pinned(&mut conn, tenant).await;
        conn
    }

    /// Runs statements as the owner role, for a test that adds a table of its own the way a
    /// later migration would.
    pub async fn run_as_owner(&self, statements: &[&str]) {
        let mut conn = self.owner.connect().await.expect("owner connects");
        for statement in statements {
            sqlx::query(statement)
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        conn.close().await.ok();
    }

    /// The registry row an import starts from (this database holds no workspace yet).
    pub async fn import_workspace(&self, id: uuid::Uuid, slug: &str, name: &str) {
        let mut conn = self.owner.connect().await.expect("owner connects");
        sqlx::query("INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(slug)
            .bind(name)
            .execute(&mut conn)
            .await
            .expect("workspace registered");
        conn.close().await.ok();
    }

    /// Writes exported rows (one JSON object each) into `table` (`schema.name`), in one
    /// statement so that rows referencing rows of the same table arrive together. The columns
    /// an export leaves out may not be NOT NULL here: this scratch database is the import's.
    pub async fn import_rows(
        &self,
        tenant: uuid::Uuid,
        table: &str,
        omitted: &[String],
        rows: &[String],
    ) {
        let mut conn = self.owner_pinned(tenant).await;
        for column in omitted {
            sqlx::query(&format!(
                "ALTER TABLE {table} ALTER COLUMN \"{column}\" DROP NOT NULL"
            ))
            .execute(&mut conn)
            .await
            .expect("omitted column made nullable");
        }
        // Generated columns are computed again from the others.
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT quote_ident(attname) FROM pg_attribute
              WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped
                AND attgenerated = '' ORDER BY attnum",
        )
        .bind(table)
        .fetch_all(&mut conn)
        .await
        .expect("columns listed");
        let columns = columns.join(", ");
        sqlx::query(&format!(
            "INSERT INTO {table} ({columns})
             SELECT {columns} FROM jsonb_populate_recordset(NULL::{table}, $1::jsonb)"
        ))
        .bind(format!("[{}]", rows.join(",")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("rows of {table} imported: {e}"));
        sqlx::query("COMMIT")
            .execute(&mut conn)
            .await
            .expect("commit");
        conn.close().await.ok();
    }

    /// A workspace's rows of `table` as an export writes them (one JSON object each, without
    /// the `omitted` columns), in no particular order.
    pub async fn table_rows(
        &self,
        tenant: uuid::Uuid,
        table: &str,
        omitted: &[String],
    ) -> Vec<String> {
        let mut conn = self.owner_pinned(tenant).await;
        let rows = sqlx::query_scalar(&format!(
            "SELECT (to_jsonb(t) - $2::text[])::text FROM {table} t WHERE t.tenant_id = $1"
        ))
        .bind(tenant)
        .bind(omitted)
        .fetch_all(&mut conn)
        .await
        .expect("rows read");
        conn.close().await.ok();
        rows
    }

    /// Makes every finished export of the workspace expired, as time would.
    pub async fn expire_exports(&self, tenant: uuid::Uuid) {
        let mut conn = self.owner_pinned(tenant).await;
        sqlx::query(
            "UPDATE export_jobs SET expires_at = now() - interval '1 second'
              WHERE tenant_id = $1 AND status = 'done'",
        )
        .bind(tenant)
        .execute(&mut conn)
        .await
        .expect("exports expired");
        sqlx::query("COMMIT")
            .execute(&mut conn)
            .await
            .expect("commit");
        conn.close().await.ok();
    }
}
