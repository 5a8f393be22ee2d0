//! What the catalog tells the export and the purge: the marks that keep credentials out of a
//! whole-workspace export are on every column that looks like one.

use db::tenant::exports::WorkspaceSnapshot;
use domain::Role;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::common::{add_member, app_db, workspace};

/// A column of a tenant table whose name says it holds a credential, in a table not left out
/// whole, must carry the `omit from export:` mark; a later migration that adds one without it
/// fails here rather than shipping it in every owner's archive.
#[sqlx::test(migrator = "db::MIGRATOR")]
async fn every_credential_column_of_a_tenant_table_is_left_out_of_exports(
    options: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let pool = options.connect_with(owner).await.unwrap();
    let unmarked: Vec<String> = sqlx::query_scalar(
        "SELECT c.relnamespace::regnamespace::text || '.' || c.relname || '.' || a.attname
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid
          WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
            AND EXISTS (SELECT 1 FROM pg_attribute t
                         WHERE t.attrelid = c.oid AND t.attname = 'tenant_id' AND NOT t.attisdropped)
            AND a.attname ~ '(password|digest|secret|token$|session|cookie)'
            AND NOT starts_with(coalesce(col_description(c.oid, a.attnum), ''), 'omit from export:')
            AND NOT starts_with(coalesce(obj_description(c.oid, 'pg_class'), ''), 'omit from export:')
          ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        unmarked.is_empty(),
        "mark these `omit from export: <why>` in their migration: {unmarked:?}"
    );
}

/// The snapshot opens for an owner only, leaves out what is marked, and holds only its own
/// workspace's rows.
#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_workspace_snapshot_is_its_owners_and_holds_its_rows_only(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (alpha, alpha_owner) = workspace(&db, "alpha", "owner@alpha.test").await;
    workspace(&db, "bravo", "owner@bravo.test").await;
    let admin = add_member(&db, &alpha, "admin@alpha.test", Role::Admin).await;
    assert!(matches!(
        WorkspaceSnapshot::open(&db, &admin).await,
        Err(db::RepoError::Forbidden)
    ));
    let owner_scope = db::TenantScope::for_member(&db, &alpha, alpha_owner)
        .await
        .unwrap()
        .unwrap();
    let mut snapshot = WorkspaceSnapshot::open(&db, &owner_scope).await.unwrap();
    assert!(snapshot
        .omitted()
        .iter()
        .any(|t| t.table.qualified() == "tower_sessions.session"));
    let users = snapshot
        .tables()
        .iter()
        .position(|t| t.table.qualified() == "public.users")
        .unwrap();
    assert_eq!(snapshot.tables()[users].rows, 2);
    assert!(snapshot.tables()[users]
        .omitted_columns
        .iter()
        .any(|(column, _)| column == "password_hash"));
    snapshot.start(users).await.unwrap();
    let rows = snapshot.fetch(1).await.unwrap();
    assert_eq!(rows.len(), 1, "at most what was asked for");
    let mut all = rows;
    loop {
        let more = snapshot.fetch(1000).await.unwrap();
        if more.is_empty() {
            break;
        }
        all.extend(more);
    }
    assert_eq!(all.len(), 2);
    for row in &all {
        assert!(row.contains(&alpha.id().to_string()), "{row}");
        assert!(
            !row.contains("password_hash") && !row.contains("hash-of-"),
            "{row}"
        );
        assert!(!row.contains("bravo"), "{row}");
    }
    snapshot.close();
}
