//! The database's own guarantees, checked as the application role: RLS on every tenant table,
//! no way around it, and no tenant left on a pooled connection.

use crate::common::{app_pool, workspace};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn without_a_tenant_the_app_role_sees_no_tenant_rows(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let pool = app_pool(&owner, 2).await;
    let db = db::Db::from_pool(pool.clone());
    workspace(&db, "alpha", "a@a.test").await;
    workspace(&db, "bravo", "b@b.test").await;

    let unscoped: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        unscoped, 0,
        "a query that forgot its tenant must see nothing"
    );

    let alpha = tenant_id(&pool, "alpha").await;
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(alpha.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let emails: Vec<String> = sqlx::query_scalar("SELECT email FROM users")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(
        emails,
        vec!["a@a.test".to_owned()],
        "even without a WHERE, only this tenant's rows"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_app_role_cannot_write_into_another_tenant(_: PgPoolOptions, owner: PgConnectOptions) {
    let pool = app_pool(&owner, 2).await;
    let db = db::Db::from_pool(pool.clone());
    workspace(&db, "alpha", "a@a.test").await;
    workspace(&db, "bravo", "b@b.test").await;
    let alpha = tenant_id(&pool, "alpha").await;
    let bravo = tenant_id(&pool, "bravo").await;

    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(alpha.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let insert = sqlx::query(
        "INSERT INTO users (tenant_id, id, email, name, password_hash, role) VALUES ($1, gen_random_uuid(), 'x@x.test', 'X', 'h', 'OWNER')",
    )
    .bind(bravo)
    .execute(&mut *tx)
    .await;
    let err = insert.expect_err("WITH CHECK refuses a row for another tenant");
    assert!(err.to_string().contains("row-level security"), "{err}");
    drop(tx);

    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(alpha.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let updated = sqlx::query("UPDATE users SET name = 'hijacked' WHERE tenant_id = $1")
        .bind(bravo)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(updated.rows_affected(), 0);
    let touched = sqlx::query("UPDATE users SET name = name")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(
        touched.rows_affected(),
        1,
        "only alpha's own row is reachable"
    );
    // Members are removed by a timestamp; the app role may not delete them at all.
    let delete = sqlx::query("DELETE FROM users").execute(&mut *tx).await;
    let err = delete.expect_err("no DELETE on users for the app role");
    assert!(err.to_string().contains("permission denied"), "{err}");
}

/// The functions that read across tenants run as roles of their own, so a caller that sets
/// the custom settings the old policies were gated on opens nothing.
#[sqlx::test(migrator = "db::MIGRATOR")]
async fn preset_settings_open_no_tenant_rows(_: PgPoolOptions, owner: PgConnectOptions) {
    let pool = app_pool(&owner, 2).await;
    let db = db::Db::from_pool(pool.clone());
    workspace(&db, "alpha", "a@a.test").await;
    let mut tx = pool.begin().await.unwrap();
    for setting in ["app.directory_lookup", "app.job_claim", "app.usage_counts"] {
        sqlx::query("SELECT set_config($1, 'on', true)")
            .bind(setting)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(users, 0);
    // The functions themselves still answer, and only what they should.
    let found: Vec<(String, String)> =
        sqlx::query_as("SELECT slug, name FROM workspaces_for_email('A@A.TEST')")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    assert_eq!(found.len(), 1);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_reused_pooled_connection_carries_no_tenant(_: PgPoolOptions, owner: PgConnectOptions) {
    // One connection, so the second request necessarily gets the first one's connection.
    let pool = app_pool(&owner, 1).await;
    let db = db::Db::from_pool(pool.clone());
    let (alpha, alpha_owner) = workspace(&db, "alpha", "a@a.test").await;
    let (bravo, _) = workspace(&db, "bravo", "b@b.test").await;

    let scope = db::TenantScope::for_member(&db, &alpha, alpha_owner)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        db::tenant::members::list(&db, &scope).await.unwrap().len(),
        1
    );

    let leftover: Option<String> =
        sqlx::query_scalar("SELECT nullif(current_setting('app.tenant_id', true), '')")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        leftover, None,
        "the tenant setting ended with its transaction"
    );
    let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(visible, 0);

    // Tenant B's request right after sees B and nothing of A.
    let email = domain::Email::parse("a@a.test").unwrap();
    assert!(db::platform::auth::find_credentials(&db, &bravo, &email)
        .await
        .unwrap()
        .is_none());
}

/// Fails when a new table or constraint forgets the tenancy rules of ARCHITECTURE.md.
#[sqlx::test(migrator = "db::MIGRATOR")]
async fn catalog_every_tenant_table_is_isolated(pool: PgPool) {
    assert_catalog_isolated(&pool).await;
}

/// The same rules in a workspace's own database: same migrations, same roles, same forced
/// row-level security (what a move back to the shared database relies on, too).
#[cfg(feature = "testing")]
#[tokio::test]
async fn catalog_of_a_dedicated_database_is_isolated_too() {
    let test = db::testing::fresh_database().await;
    let (bravo, _) = crate::common::workspace(&test.db, "bravo", "owner@bravo.test").await;
    let database = test.place_dedicated(bravo.id().as_uuid()).await;
    let owner: sqlx::postgres::PgConnectOptions = test.owner_url().parse().unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(owner.database(&database))
        .await
        .unwrap();
    assert_catalog_isolated(&pool).await;
    pool.close().await;
}

async fn assert_catalog_isolated(pool: &PgPool) {
    let pool = pool.clone();
    let tenant_tables: Vec<(String, bool, bool)> = sqlx::query_as(
        "SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
          WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public'
          ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let names: Vec<&str> = tenant_tables
        .iter()
        .map(|(name, _, _)| name.as_str())
        .collect();
    // Pinned, so a new tenant table is a deliberate addition here too (and a table that lost
    // its tenant_id column shows up as a difference).
    assert_eq!(
        names,
        vec![
            "api_idempotency",
            "api_tokens",
            "customers",
            "export_jobs",
            "invitations",
            "known_devices",
            "limit_locks",
            "member_directory",
            "order_counters",
            "order_events",
            "order_lines",
            "orders",
            "product_import_rows",
            "product_imports",
            "products",
            "sign_in_failures",
            "sign_in_tickets",
            "tenant_feature_overrides",
            "tenant_limit_overrides",
            "users"
        ]
    );

    let mut problems = Vec::new();
    // Every SECURITY DEFINER function runs as a role of its own: one that cannot log in, owns
    // no table and no other function, and that the app role cannot become. Those roles are
    // the only ones a policy may open rows to beyond the current tenant.
    let definers: Vec<(String, String, bool, i64, i64, bool)> = sqlx::query_as(
        "SELECT p.proname::text, r.rolname::text, r.rolcanlogin,
                (SELECT count(*) FROM pg_proc o WHERE o.proowner = r.oid),
                (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid),
                pg_has_role('stockroom_app', r.oid, 'MEMBER')
           FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace
           JOIN pg_roles r ON r.oid = p.proowner
          WHERE n.nspname = 'public' AND p.prosecdef
          ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut function_roles = Vec::new();
    for (function, role, can_log_in, functions, tables, app_member) in definers {
        if can_log_in || functions != 1 || tables != 0 || app_member {
            problems.push(format!(
                "definer function {function} runs as {role}: login={can_log_in}, owns {functions} functions and {tables} tables, app role a member={app_member}"
            ));
        } else {
            function_roles.push(role);
        }
    }
    for (table, enabled, forced) in &tenant_tables {
        if !enabled || !forced {
            problems.push(format!("{table}: RLS enabled={enabled} forced={forced}"));
        }
        let policies: Vec<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT qual, with_check FROM pg_policies WHERE schemaname = 'public' AND tablename = $1",
        )
        .bind(table)
        .fetch_all(&pool)
        .await
        .unwrap();
        // Permissive policies are OR-ed: any policy not tied to the current tenant must be
        // for exactly one function role (see `function_roles`), or it opens rows to whoever
        // it names. A policy gated on a setting instead would open rows to any caller that
        // set it first.
        let loose: Vec<(String, Vec<String>)> = sqlx::query_as(
            "SELECT policyname::text, roles::text[] FROM pg_policies
              WHERE schemaname = 'public' AND tablename = $1 AND permissive = 'PERMISSIVE'
                AND (qual IS NULL OR qual NOT LIKE '%app_current_tenant%')",
        )
        .bind(table)
        .fetch_all(&pool)
        .await
        .unwrap();
        for (policy, roles) in loose {
            if !matches!(roles.as_slice(), [role] if function_roles.contains(role)) {
                problems.push(format!(
                    "{table}: policy {policy} for {roles:?} opens rows beyond the tenant, not to one function role"
                ));
            }
        }
        let guarded = policies.iter().any(|(using, check)| {
            using
                .as_deref()
                .is_some_and(|u| u.contains("app_current_tenant"))
                && check
                    .as_deref()
                    .is_some_and(|c| c.contains("app_current_tenant"))
        });
        if !guarded {
            problems.push(format!(
                "{table}: no policy with USING and WITH CHECK on the current tenant"
            ));
        }

        // Every unique constraint, primary key and foreign key must include tenant_id. A
        // foreign key to platform reference data (a table with no tenant_id, such as the
        // feature catalogue) cannot reach another tenant and is the one exception.
        let constraints: Vec<(String, String, bool)> = sqlx::query_as(
            "SELECT con.conname::text, con.contype::text,
                    EXISTS (SELECT 1 FROM unnest(con.conkey) k
                              JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k
                             WHERE a.attname = 'tenant_id')
               FROM pg_constraint con
              WHERE con.conrelid = ('public.' || $1)::regclass AND con.contype IN ('p', 'u', 'f')
                AND NOT (con.contype = 'f' AND NOT EXISTS (
                        SELECT 1 FROM pg_attribute r
                         WHERE r.attrelid = con.confrelid AND r.attname = 'tenant_id'
                           AND NOT r.attisdropped))",
        )
        .bind(table)
        .fetch_all(&pool)
        .await
        .unwrap();
        for (name, kind, has_tenant) in constraints {
            if !has_tenant {
                problems.push(format!(
                    "{table}: constraint {name} ({kind}) leaves out tenant_id"
                ));
            }
        }

        // Every index leads with tenant_id, so reads stay per-tenant as tables grow.
        let indexes: Vec<(String, String)> = sqlx::query_as(
            "SELECT i.relname::text, a.attname::text
               FROM pg_index x
               JOIN pg_class i ON i.oid = x.indexrelid
               JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
              WHERE x.indrelid = ('public.' || $1)::regclass",
        )
        .bind(table)
        .fetch_all(&pool)
        .await
        .unwrap();
        for (index, first) in indexes {
            if first != "tenant_id" {
                problems.push(format!(
                    "{table}: index {index} leads with {first}, not tenant_id"
                ));
            }
        }
    }

    let role: (bool, bool, bool) = sqlx::query_as(
        "SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = 'stockroom_app'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    if role != (false, false, false) {
        problems.push(format!(
            "stockroom_app: superuser/bypassrls/createrole = {role:?}"
        ));
    }
    let owned: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
          WHERE r.rolname = 'stockroom_app'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    if !owned.is_empty() {
        problems.push(format!("stockroom_app owns {owned:?}"));
    }
    assert!(
        problems.is_empty(),
        "tenancy rules broken:\n{}",
        problems.join("\n")
    );
}

async fn tenant_id(pool: &PgPool, slug: &str) -> uuid::Uuid {
    sqlx::query("SELECT id FROM tenants WHERE slug = $1")
        .bind(slug)
        .fetch_one(pool)
        .await
        .unwrap()
        .get("id")
}
