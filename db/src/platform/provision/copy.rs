//! Steps 5 and 6 of provisioning: the copy of the workspace's rows into its database, and
//! the switch that makes it the workspace's home.

use domain::TenantId;
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

use crate::catalog::{tenant_tables_in, TenantTable};
use crate::platform::console::{audit, commit_announced, lock_tenant, Actor, PlanCopy};
use crate::scope::begin_in_control;
use crate::{Db, RepoError};

/// Tables that carry a `tenant_id` but are the platform's, kept in the control database: the
/// overrides (copied to the workspace's database too: its limits read them there; the console
/// changes them, see `console::home_copy`) and the member directory ("find my workspace").
pub(crate) const REGISTRY_TABLES: [&str; 3] = [
    "tenant_feature_overrides",
    "tenant_limit_overrides",
    "member_directory",
];

/// Connects as the owner to the workspace's database, in a transaction pinned to it: the
/// tables' forced row-level security holds the owner to this one workspace too.
pub(crate) async fn pinned(
    home: &PgConnectOptions,
    tenant_id: TenantId,
) -> Result<PgConnection, RepoError> {
    let mut conn = home.connect().await?;
    sqlx::query("BEGIN").execute(&mut conn).await?;
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(tenant_id.to_string())
        .execute(&mut conn)
        .await?;
    Ok(conn)
}

/// The workspace's tables: a `tenant_id` and forced row-level security (the sessions table
/// has a `tenant_id` too, but it is the platform's), in the catalog's order (children first).
pub(crate) async fn workspace_tables(
    conn: &mut PgConnection,
) -> Result<Vec<TenantTable>, RepoError> {
    let forced: Vec<(String, String)> = sqlx::query_as(
        "SELECT n.nspname::text, c.relname::text FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relforcerowsecurity",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(tenant_tables_in(conn)
        .await?
        .into_iter()
        .filter(|t| forced.contains(&(t.schema.clone(), t.name.clone())))
        .collect())
}

/// The columns a copy carries, in the table's order: all but the generated ones, which the
/// destination computes again from the others.
pub(crate) async fn copied_columns(
    conn: &mut PgConnection,
    table: &TenantTable,
) -> Result<String, RepoError> {
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(attname) FROM pg_attribute
          WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped
            AND attgenerated = '' ORDER BY attnum",
    )
    .bind(table.quoted())
    .fetch_all(conn)
    .await?;
    Ok(columns.join(", "))
}

/// Writes the workspace's registry row, read on `registry` (the control database), into
/// its own database on `dest` (which holds no row of it any more): it anchors the tables'
/// foreign keys, names this database as the workspace's home, and is not frozen.
pub(crate) async fn place_registry_row(
    registry: &mut PgConnection,
    dest: &mut PgConnection,
    tenant_id: TenantId,
    cluster: &str,
) -> Result<(), RepoError> {
    let tenant = tenant_id.as_uuid();
    let row: String = sqlx::query_scalar("SELECT to_jsonb(t)::text FROM tenants t WHERE id = $1")
        .bind(tenant)
        .fetch_one(&mut *registry)
        .await?;
    sqlx::query("DELETE FROM tenants WHERE id = $1")
        .bind(tenant)
        .execute(&mut *dest)
        .await?;
    sqlx::query(
        "INSERT INTO tenants SELECT * FROM jsonb_populate_record(NULL::tenants, $1::jsonb)",
    )
    .bind(&row)
    .execute(&mut *dest)
    .await?;
    sqlx::query(
        "UPDATE tenants SET placement_cluster = $2, placement_database = current_database(),
                            placement_state = 'ready', writes_frozen_since = NULL
          WHERE id = $1",
    )
    .bind(tenant)
    .bind(cluster)
    .execute(&mut *dest)
    .await?;
    Ok(())
}

/// Step 5. Rows travel as JSON, table by table: a new workspace's are few (its members).
pub(super) async fn copy_rows(
    db: &Db,
    tenant_id: TenantId,
    home: &PgConnectOptions,
    cluster: &str,
) -> Result<u64, RepoError> {
    let tenant = tenant_id.as_uuid();
    let mut source = begin_in_control(db, tenant_id).await?;
    let tables = workspace_tables(&mut source).await?;
    let mut dest = pinned(home, tenant_id).await?;
    for table in &tables {
        sqlx::query(&format!(
            "DELETE FROM {} WHERE tenant_id = $1",
            table.quoted()
        ))
        .bind(tenant)
        .execute(&mut dest)
        .await?;
    }
    place_registry_row(&mut source, &mut dest, tenant_id, cluster).await?;
    let mut copied = 0;
    for table in tables.iter().rev() {
        let rows: String = sqlx::query_scalar(&format!(
            "SELECT coalesce(jsonb_agg(to_jsonb(t)), '[]')::text FROM {} t WHERE t.tenant_id = $1",
            table.quoted()
        ))
        .bind(tenant)
        .fetch_one(&mut *source)
        .await?;
        let columns = copied_columns(&mut dest, table).await?;
        copied += sqlx::query(&format!(
            "INSERT INTO {t} ({columns}) OVERRIDING SYSTEM VALUE
             SELECT {columns} FROM jsonb_populate_recordset(NULL::{t}, $1::jsonb)",
            t = table.quoted()
        ))
        .bind(&rows)
        .execute(&mut dest)
        .await?
        .rows_affected();
    }
    sqlx::query("COMMIT").execute(&mut dest).await?;
    dest.close().await?;
    crate::scope::end_read(source);
    Ok(copied)
}

/// Step 6.
pub(super) async fn switch(
    db: &Db,
    tenant_id: TenantId,
    home: &PgConnectOptions,
    cluster: &str,
    database: &str,
    actor: Actor<'_>,
) -> Result<(), RepoError> {
    let tenant = tenant_id.as_uuid();
    let mut tx = begin_in_control(db, tenant_id).await?;
    // Console changes take this lock too: none lands between the copy below and the switch.
    lock_tenant(&mut tx, tenant_id).await?.refuse_if_erased()?;
    let still = sqlx::query_scalar!(
        r#"SELECT placement_cluster = $2 AND placement_database = $3
                  AND placement_state = 'provisioning' AS "still!"
             FROM tenants WHERE id = $1"#,
        tenant,
        cluster,
        database
    )
    .fetch_one(&mut *tx)
    .await?;
    if !still {
        return Err(RepoError::Conflict { field: "placement" });
    }
    let mut dest = pinned(home, tenant_id).await?;
    PlanCopy::read(&mut tx, tenant)
        .await?
        .write(&mut dest, tenant)
        .await?;
    sqlx::query("COMMIT").execute(&mut dest).await?;
    dest.close().await?;

    // Its members leave `users` here: "find my workspace" finds them in the directory.
    sqlx::query!(
        "INSERT INTO member_directory (tenant_id, user_id, email)
         SELECT tenant_id, id, email FROM users WHERE tenant_id = $1 AND removed_at IS NULL
         ON CONFLICT (tenant_id, user_id) DO UPDATE SET email = EXCLUDED.email",
        tenant
    )
    .execute(&mut *tx)
    .await?;
    let mut removed = 0;
    for table in workspace_tables(&mut tx).await? {
        if table.schema == "public" && REGISTRY_TABLES.contains(&table.name.as_str()) {
            continue;
        }
        removed += sqlx::query(&format!(
            "DELETE FROM {} WHERE tenant_id = $1",
            table.quoted()
        ))
        .bind(tenant)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    sqlx::query!(
        "UPDATE tenants SET placement_state = 'ready' WHERE id = $1",
        tenant
    )
    .execute(&mut *tx)
    .await?;
    audit(
        &mut tx,
        actor,
        "provision",
        Some(tenant_id),
        json!({ "placement": "shared" }),
        json!({ "placement": { "cluster": cluster, "database": database }, "rows_moved": removed }),
    )
    .await?;
    commit_announced(db, tx, tenant_id).await
}
