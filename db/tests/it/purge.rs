//! Erasing a suspended workspace: every row of it, from every table the catalog shows with a
//! `tenant_id` (one made by this test's own statements included), and nothing of anyone else.

use db::platform::{console, demo, purge};
use domain::{Role, TenantId, TenantStatus};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};

use crate::common::{add_member, app_db, console_scope, workspace};

/// Every tenant table's rows of `tenant`, as one digest per table (None: no row), read as the
/// owner role with the tenant pinned, through the catalog of this test rather than the module's.
async fn fingerprint(owner: &PgPool, tenant: TenantId) -> Vec<(String, i64, Option<String>)> {
    let mut tx = owner.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relnamespace::regnamespace::text, c.relname::text
           FROM pg_class c
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
          WHERE c.relkind = 'r' AND c.relnamespace::regnamespace::text IN ('public', 'tower_sessions')
          ORDER BY 1, 2",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    let mut out = Vec::new();
    for (schema, table) in tables {
        let row = sqlx::query(&format!(
            "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text))
               FROM {schema}.{table} t WHERE tenant_id = $1"
        ))
        .bind(tenant.as_uuid())
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        out.push((format!("{schema}.{table}"), row.get(0), row.get(1)));
    }
    out
}

fn rows(fingerprint: &[(String, i64, Option<String>)]) -> i64 {
    fingerprint.iter().map(|(_, n, _)| n).sum()
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_suspended_workspace_is_erased_from_every_tenant_table_and_no_one_else(
    options: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let owner_pool = options.connect_with(owner.clone()).await.unwrap();
    let owner_db = db::Db::from_pool(owner_pool.clone());
    let mut tenants = Vec::new();
    for slug in ["alpha", "bravo"] {
        let (tenant, owner_id) = workspace(&db, slug, &format!("owner@{slug}.test")).await;
        let member = add_member(&db, &tenant, &format!("member@{slug}.test"), Role::Member).await;
        demo::seed(&db, &tenant, owner_id, member.member().user_id)
            .await
            .unwrap();
        tenants.push(tenant);
    }
    let (alpha, bravo) = (&tenants[0], &tenants[1]);
    // A tenant table that only this test creates, referencing products (so its rows must go
    // before theirs), under the same rules as the others.
    for statement in [
        "CREATE TABLE test_product_notes (
             tenant_id uuid NOT NULL REFERENCES tenants (id),
             id uuid NOT NULL DEFAULT gen_random_uuid(),
             product_id uuid NOT NULL,
             body text NOT NULL,
             PRIMARY KEY (tenant_id, id),
             FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id))",
        "ALTER TABLE test_product_notes ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE test_product_notes FORCE ROW LEVEL SECURITY",
        "CREATE POLICY tenant_isolation ON test_product_notes
             USING (tenant_id = (SELECT app_current_tenant()))
             WITH CHECK (tenant_id = (SELECT app_current_tenant()))",
    ] {
        sqlx::query(statement).execute(&owner_pool).await.unwrap();
    }
    for tenant in &tenants {
        let mut tx = owner_pool.begin().await.unwrap();
        sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
            .bind(tenant.id().to_string())
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO test_product_notes (tenant_id, product_id, body)
             SELECT tenant_id, id, 'note on ' || name FROM products WHERE tenant_id = $1",
        )
        .bind(tenant.id().as_uuid())
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    // The password-reset throttle keys its rows by "<workspace id>:<email>".
    for tenant in &tenants {
        sqlx::query("INSERT INTO rate_limit_events (bucket, key) VALUES ('reset-email', $1)")
            .bind(format!("{}:owner@x.test", tenant.id()))
            .execute(&owner_pool)
            .await
            .unwrap();
    }
    let throttle_keys = |tenant: TenantId| {
        let owner_pool = owner_pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM rate_limit_events WHERE key LIKE $1 || ':%'",
            )
            .bind(tenant.to_string())
            .fetch_one(&owner_pool)
            .await
            .unwrap()
        }
    };
    let tables = db::catalog::tenant_tables(&owner_db).await.unwrap();
    let position = |name: &str| tables.iter().position(|t| t.qualified() == name).unwrap();
    assert!(position("public.test_product_notes") < position("public.products"));
    assert!(position("public.order_lines") < position("public.orders"));

    let alpha_before = fingerprint(&owner_pool, alpha.id()).await;
    let bravo_before = fingerprint(&owner_pool, bravo.id()).await;
    assert!(
        alpha_before
            .iter()
            .any(|(t, n, _)| t == "public.test_product_notes" && *n > 0),
        "{alpha_before:?}"
    );

    // An active workspace is refused, and keeps every row.
    let refused = purge::remove_rows(&owner_db, alpha, None).await;
    assert!(
        matches!(refused, Err(db::RepoError::Conflict { field: "status" })),
        "{refused:?}"
    );
    assert_eq!(fingerprint(&owner_pool, alpha.id()).await, alpha_before);

    console::set_status(
        &db,
        &console_scope(&db).await,
        alpha.id(),
        TenantStatus::Suspended,
    )
    .await
    .unwrap();
    let alpha = db::platform::tenants::find_by_id(&db, alpha.id())
        .await
        .unwrap()
        .unwrap();

    // Stopped after three batches (a kill), then run again: it finishes.
    let (_, finished) = purge::remove_rows(&owner_db, &alpha, Some(3))
        .await
        .unwrap();
    assert!(!finished);
    assert!(!purge::remaining_rows(&owner_db, alpha.id())
        .await
        .unwrap()
        .is_empty());
    let report = purge::purge(&owner_db, &alpha, "test", "asked to leave")
        .await
        .unwrap();
    assert!(report.verified(), "{report:?}");
    let alpha_after = fingerprint(&owner_pool, alpha.id()).await;
    assert_eq!(rows(&alpha_after), 0, "{alpha_after:?}");
    assert_eq!(throttle_keys(alpha.id()).await, 0);
    assert_eq!(throttle_keys(bravo.id()).await, 1);
    assert_eq!(fingerprint(&owner_pool, bravo.id()).await, bravo_before);
    assert!(rows(&bravo_before) > 0);

    // The scan names a table where a row of the workspace turns up again.
    let mut tx = owner_pool.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(alpha.id().to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO customers (tenant_id, id, name, email) VALUES ($1, gen_random_uuid(), 'Back', 'back@x.test')",
    )
    .bind(alpha.id().as_uuid())
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        purge::remaining_rows(&owner_db, alpha.id()).await.unwrap(),
        [("public.customers".to_string(), 1)]
    );

    // The audit log keeps the workspace's id and slug, and the outcome.
    let entry: (String, serde_json::Value, serde_json::Value) = sqlx::query_as(
        "SELECT action, before, after FROM console_audit WHERE target_tenant_id = $1 AND action = 'purge'",
    )
    .bind(alpha.id().as_uuid())
    .fetch_one(&owner_pool)
    .await
    .unwrap();
    assert_eq!(entry.1["slug"], "alpha");
    assert_eq!(entry.2["verified"], true);
    assert_eq!(
        entry.2["rows_removed"].as_i64().unwrap(),
        rows(&alpha_before) + 1,
        "every tenant table's rows and the throttle's key"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn an_owner_deletes_the_workspace_the_console_restores_it_and_the_purge_frees_its_address(
    options: PgPoolOptions,
    owner: PgConnectOptions,
) {
    use std::time::Duration;

    use db::platform::lifecycle;

    let db = app_db(&owner).await;
    let owner_pool = options.connect_with(owner.clone()).await.unwrap();
    let owner_db = db::Db::from_pool(owner_pool.clone());
    let (alpha, owner_id) = workspace(&db, "alpha", "owner@alpha.test").await;
    let owner_scope = db::TenantScope::for_member(&db, &alpha, owner_id)
        .await
        .unwrap()
        .unwrap();
    let admin = add_member(&db, &alpha, "admin@alpha.test", Role::Admin).await;
    let member = add_member(&db, &alpha, "member@alpha.test", Role::Member).await;
    let (bravo, _) = workspace(&db, "bravo", "owner@bravo.test").await;
    let status = |slug: &'static str| {
        let db = db.clone();
        async move {
            db::platform::tenants::find_by_slug(&db, &domain::Slug::parse(slug).unwrap())
                .await
                .unwrap()
                .map(|t| t.status())
        }
    };

    for scope in [&admin, &member] {
        let refused = lifecycle::schedule_deletion(&db, scope, Duration::from_secs(3600)).await;
        assert!(
            matches!(refused, Err(db::RepoError::Forbidden)),
            "{refused:?}"
        );
    }
    assert_eq!(status("alpha").await, Some(TenantStatus::Active));

    let scheduled = lifecycle::schedule_deletion(&db, &owner_scope, Duration::from_secs(86_400))
        .await
        .unwrap();
    assert_eq!(
        scheduled
            .owners
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>(),
        ["owner@alpha.test"]
    );
    let in_a_day = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    assert!((scheduled.delete_after - in_a_day).abs() < time::Duration::minutes(1));
    assert_eq!(status("alpha").await, Some(TenantStatus::Deleting));
    assert_eq!(status("bravo").await, Some(TenantStatus::Active));
    // The console lists the workspaces pending deletion, with their date.
    let console = console_scope(&db).await;
    let pending =
        console::list_tenants(&db, &console, None, Some(TenantStatus::Deleting), None, 50)
            .await
            .unwrap();
    assert_eq!(
        pending
            .tenants
            .iter()
            .map(|t| (t.slug.as_str(), t.delete_after))
            .collect::<Vec<_>>(),
        [("alpha", Some(scheduled.delete_after))]
    );
    // A second request, and a purge before the date, find nothing to do.
    let again = lifecycle::schedule_deletion(&db, &owner_scope, Duration::ZERO).await;
    assert!(
        matches!(again, Err(db::RepoError::Conflict { field: "status" })),
        "{again:?}"
    );
    assert!(lifecycle::due_for_purge(&db).await.unwrap().is_empty());

    // The console cannot suspend it instead (that would cancel the date), but can restore it.
    let suspend = console::set_status(&db, &console, alpha.id(), TenantStatus::Suspended).await;
    assert!(
        matches!(suspend, Err(db::RepoError::Conflict { .. })),
        "{suspend:?}"
    );
    console::set_status(&db, &console, alpha.id(), TenantStatus::Active)
        .await
        .unwrap();
    assert_eq!(status("alpha").await, Some(TenantStatus::Active));
    let detail = console::tenant_detail(&db, &console, &domain::Slug::parse("alpha").unwrap())
        .await
        .unwrap();
    assert_eq!(detail.overview.delete_after, None);

    // Deleted again with no grace: due at once. Restored after the purge job listed it, the
    // purge finds it active on the row itself and deletes nothing.
    lifecycle::schedule_deletion(&db, &owner_scope, Duration::ZERO)
        .await
        .unwrap();
    let due = lifecycle::due_for_purge(&db).await.unwrap();
    assert_eq!(due.iter().map(|t| t.id()).collect::<Vec<_>>(), [alpha.id()]);
    console::set_status(&db, &console, alpha.id(), TenantStatus::Active)
        .await
        .unwrap();
    let stale = purge::purge(&owner_db, &due[0], "test", "grace period over").await;
    assert!(
        matches!(stale, Err(db::RepoError::Conflict { field: "status" })),
        "{stale:?}"
    );
    assert!(db::TenantScope::for_member(&db, &alpha, owner_id)
        .await
        .unwrap()
        .is_some());

    // Once a purge has begun, nothing brings the workspace back; run again, it finishes, and
    // its address is free again.
    lifecycle::schedule_deletion(&db, &owner_scope, Duration::ZERO)
        .await
        .unwrap();
    let due = lifecycle::due_for_purge(&db).await.unwrap();
    let (_, finished) = purge::remove_rows(&owner_db, &due[0], Some(1))
        .await
        .unwrap();
    assert!(!finished);
    let late = console::set_status(&db, &console, alpha.id(), TenantStatus::Active).await;
    assert!(
        matches!(late, Err(db::RepoError::Conflict { .. })),
        "{late:?}"
    );
    let report = purge::purge(&owner_db, &due[0], "test", "grace period over")
        .await
        .unwrap();
    assert!(report.verified(), "{report:?}");
    assert_eq!(status("alpha").await, None);
    assert!(lifecycle::due_for_purge(&db).await.unwrap().is_empty());
    let restore = console::set_status(&db, &console, alpha.id(), TenantStatus::Active).await;
    assert!(
        matches!(restore, Err(db::RepoError::Conflict { .. })),
        "{restore:?}"
    );
    // Nor can the console write anything for it again (rows no purge would find).
    let plan = console::change_plan(
        &db,
        console::Actor::Console(&console),
        alpha.id(),
        &domain::PlanCode::new("PRO"),
    )
    .await;
    assert!(
        matches!(plan, Err(db::RepoError::Conflict { .. })),
        "{plan:?}"
    );
    workspace(&db, "alpha", "someone@else.test").await;
    assert_eq!(status("bravo").await, Some(TenantStatus::Active));
    // A purged workspace's placeholder address is taken for good.
    let placeholder = db::platform::registration::register(
        &db,
        db::platform::registration::NewWorkspace {
            name: &domain::WorkspaceName::parse("Squatter").unwrap(),
            slug: &domain::Slug::parse("purged-0123456789abcdef").unwrap(),
            owner_name: &domain::PersonName::parse("Someone").unwrap(),
            owner_email: &domain::Email::parse("someone@squat.test").unwrap(),
            owner_password_hash: "hash",
            welcome_ticket_digest: None,
        },
    )
    .await;
    assert!(
        matches!(placeholder, Err(db::RepoError::Conflict { field: "slug" })),
        "{placeholder:?}"
    );

    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM console_audit WHERE target_tenant_id = $1 ORDER BY at",
    )
    .bind(alpha.id().as_uuid())
    .fetch_all(&owner_pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "schedule_deletion",
            "restore",
            "schedule_deletion",
            "restore",
            "schedule_deletion",
            "purge"
        ]
    );
    let _ = bravo;
}
