//! A workspace its owner deletes: who may, how it is confirmed, and that it closes at once for
//! everyone and everything (sessions, pages, API tokens, sign-in), and for nobody else.

use app::api::account::{LoadInvitation, RequestPasswordReset};
use app::api::console::SetTenantStatus;
use app::api::team::{DeleteWorkspace, InviteMember};
use domain::Role;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::support::{error_of, eventually, session_cookie, TestApp};

async fn delete(
    app: &TestApp,
    host: &str,
    cookie: &str,
    slug: &str,
    password: &str,
) -> reqwest::Response {
    app.call::<DeleteWorkspace>(
        Some(host),
        &[("slug", slug), ("password", password)],
        Some(cookie),
        HeaderMap::new(),
    )
    .await
}

#[tokio::test]
async fn an_owner_deletes_the_workspace_and_it_closes_at_once_for_it_alone() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "owner@alpha.test", "alpha-password-1")
        .await;
    let bravo = app
        .register("bravo", "owner@bravo.test", "bravo-password-1")
        .await;
    let admin = app
        .add_member("alpha", "admin@alpha.test", Role::Admin, "admin-password-1")
        .await;
    let member = app
        .add_member(
            "alpha",
            "member@alpha.test",
            Role::Member,
            "member-password-1",
        )
        .await;
    let token = crate::api::token(&app, "alpha", &owner, "read").await;
    let api_status = || async {
        crate::api::get(&app, "alpha", "/products", &token)
            .await
            .status
    };
    let invited = app
        .call::<InviteMember>(
            Some("alpha"),
            &[("email", "new@alpha.test"), ("role", "MEMBER")],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(invited.status(), StatusCode::OK);
    let invitation = eventually(|| app.mail_to("new@alpha.test", "invited").pop()).await;
    let invitation = app
        .link_path(&invitation, "alpha", "/invite/")
        .trim_start_matches("/invite/")
        .to_owned();
    let load_invitation = || async {
        app.call::<LoadInvitation>(
            Some("alpha"),
            &[("token", invitation.as_str())],
            None,
            HeaderMap::new(),
        )
        .await
    };
    assert_eq!(load_invitation().await.status(), StatusCode::OK);
    assert_eq!(api_status().await, StatusCode::OK);

    // Not an owner, or not of this workspace: refused, and nothing changes.
    for (cookie, password) in [(&admin, "admin-password-1"), (&member, "member-password-1")] {
        let refused = delete(&app, "alpha", cookie, "alpha", password).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    }
    let foreign = delete(&app, "alpha", &bravo, "alpha", "bravo-password-1").await;
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let own = delete(&app, "bravo", &bravo, "alpha", "bravo-password-1").await;
    assert!(error_of(own).await.message_for("slug").is_some());
    // Confirmed wrongly: a message on the field.
    let wrong_slug = delete(&app, "alpha", &owner, "alpah", "alpha-password-1").await;
    let err = error_of(wrong_slug).await;
    assert!(
        err.message_for("slug").unwrap().contains("alpha"),
        "{err:?}"
    );
    let wrong_password = delete(&app, "alpha", &owner, "alpha", "not-my-password").await;
    assert!(error_of(wrong_password)
        .await
        .message_for("password")
        .is_some());
    assert!(app.signed_in("alpha", &owner).await);
    assert!(app.signed_in("alpha", &admin).await);

    let deleted = delete(&app, "alpha", &owner, " Alpha ", "alpha-password-1").await;
    assert_eq!(deleted.status(), StatusCode::OK);
    for cookie in [&owner, &admin, &member] {
        assert!(!app.signed_in("alpha", cookie).await, "everyone signed out");
    }
    let page = app.get(Some("alpha"), "/", None).await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("This workspace is scheduled for deletion"));
    let closed = crate::api::get(&app, "alpha", "/products", &token).await;
    assert_eq!(closed.status, StatusCode::FORBIDDEN);
    assert_eq!(closed.problem(), "workspace-suspended", "{}", closed.text);
    assert!(
        closed.body["detail"]
            .as_str()
            .unwrap()
            .contains("scheduled for deletion"),
        "{}",
        closed.text
    );
    let sign_in = app
        .sign_in("alpha", "owner@alpha.test", "alpha-password-1")
        .await;
    assert!(session_cookie(&sign_in).is_none(), "{}", sign_in.status());
    let again = delete(&app, "alpha", &owner, "alpha", "alpha-password-1").await;
    assert_ne!(again.status(), StatusCode::OK);
    assert_ne!(load_invitation().await.status(), StatusCode::OK);
    let reset = app
        .call::<RequestPasswordReset>(
            Some("alpha"),
            &[("email", "owner@alpha.test")],
            None,
            HeaderMap::new(),
        )
        .await;
    assert_ne!(reset.status(), StatusCode::OK);
    let notice = eventually(|| {
        let mail = app.mail_to(
            "owner@alpha.test",
            "Your Stockroom workspace is scheduled for deletion",
        );
        (!mail.is_empty()).then_some(mail)
    })
    .await;
    assert_eq!(notice.len(), 1);
    assert!(notice[0].contains("restore"), "{}", notice[0]);
    assert!(app
        .mail_to(
            "admin@alpha.test",
            "Your Stockroom workspace is scheduled for deletion"
        )
        .is_empty());

    // Nobody else notices.
    assert!(app.signed_in("bravo", &bravo).await);
    assert_eq!(
        app.get(Some("bravo"), "/", Some(&bravo)).await.status(),
        StatusCode::OK
    );

    // Support restores it from the console: everything works again, nothing was lost.
    let console = app
        .console_admin("root@platform.test", "console-password-1")
        .await;
    let restored = app
        .call::<SetTenantStatus>(
            Some("admin"),
            &[("slug", "alpha"), ("status", "active")],
            Some(&console),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(restored.status(), StatusCode::OK);
    let sign_in = app
        .sign_in("alpha", "owner@alpha.test", "alpha-password-1")
        .await;
    let owner = session_cookie(&sign_in).expect("the owner signs in again");
    assert!(app.signed_in("alpha", &owner).await);
    assert_eq!(load_invitation().await.status(), StatusCode::OK);
    assert_eq!(api_status().await, StatusCode::OK);
}

/// "Purge now" in the console: only for a closed workspace and with a reason, audited; the
/// purge job erases it on its next run, and the console then shows the verification.
#[tokio::test]
async fn the_console_purges_a_closed_workspace_now_and_shows_the_verification() {
    use app::api::console::{LoadAudit, LoadTenant, RequestTenantPurge, TenantDetailView};

    let app = TestApp::spawn().await;
    app.register("alpha", "owner@alpha.test", "alpha-password-1")
        .await;
    let bravo = app
        .register("bravo", "owner@bravo.test", "bravo-password-1")
        .await;
    let console = app
        .console_admin("root@platform.test", "console-password-1")
        .await;
    let purge_now = |reason: &'static str| {
        let console = console.clone();
        let app = &app;
        async move {
            app.call::<RequestTenantPurge>(
                Some("admin"),
                &[("slug", "alpha"), ("reason", reason)],
                Some(&console),
                HeaderMap::new(),
            )
            .await
        }
    };

    // Active: refused, and nothing changes.
    let refused = purge_now("left us").await;
    assert_eq!(
        error_of(refused).await,
        app::AppError::field(
            "purge",
            "Only a closed workspace is purged: suspend it first."
        )
    );
    assert_eq!(
        app.tenant("alpha").await.status(),
        domain::TenantStatus::Active
    );

    app.call::<SetTenantStatus>(
        Some("admin"),
        &[("slug", "alpha"), ("status", "suspended")],
        Some(&console),
        HeaderMap::new(),
    )
    .await;
    // No reason: refused on its field.
    let refused = purge_now("   ").await;
    assert!(matches!(
        error_of(refused).await,
        app::AppError::Validation { fields } if fields[0].field == "reason"
    ));
    assert_eq!(
        app.tenant("alpha").await.status(),
        domain::TenantStatus::Suspended
    );

    assert_eq!(
        purge_now("asked by its owner by phone").await.status(),
        StatusCode::OK
    );
    // Still suspended (reactivating would cancel it), and due now.
    assert_eq!(
        app.tenant("alpha").await.status(),
        domain::TenantStatus::Suspended
    );
    let due = db::platform::lifecycle::due_for_purge(&app.database.db)
        .await
        .unwrap();
    assert_eq!(
        due.iter().map(|t| t.slug().as_str()).collect::<Vec<_>>(),
        ["alpha"]
    );
    let audit = app
        .call::<LoadAudit>(
            Some("admin"),
            &[("tenant", "alpha"), ("action", "request_purge")],
            Some(&console),
            HeaderMap::new(),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains("asked by its owner by phone"), "{audit}");
    // Asked twice: the second is a no-op the audit log still records, not an error.
    assert_eq!(purge_now("again").await.status(), StatusCode::OK);

    // Reactivating a suspended workspace cancels its purge.
    app.register("charlie", "owner@charlie.test", "charlie-password-1")
        .await;
    for (status, reason) in [("suspended", None), ("active", Some("changed our mind"))] {
        if let Some(reason) = reason {
            let asked = app
                .call::<RequestTenantPurge>(
                    Some("admin"),
                    &[("slug", "charlie"), ("reason", reason)],
                    Some(&console),
                    HeaderMap::new(),
                )
                .await;
            assert_eq!(asked.status(), StatusCode::OK);
        }
        app.call::<SetTenantStatus>(
            Some("admin"),
            &[("slug", "charlie"), ("status", status)],
            Some(&console),
            HeaderMap::new(),
        )
        .await;
    }
    assert_eq!(
        app.tenant("charlie").await.status(),
        domain::TenantStatus::Active
    );

    let out = crate::support::tenant_command(&app.database, &["purge-due"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("alpha: verified"), "{stdout}");

    // Its registry row keeps a placeholder slug; the console finds it by its status.
    let list = app
        .call::<app::api::console::ListTenants>(
            Some("admin"),
            &[("status", "purged")],
            Some(&console),
            HeaderMap::new(),
        )
        .await
        .json::<app::api::console::TenantListView>()
        .await
        .unwrap();
    assert_eq!(list.tenants.len(), 1);
    let detail: TenantDetailView = app
        .call::<LoadTenant>(
            Some("admin"),
            &[("slug", &list.tenants[0].slug)],
            Some(&console),
            HeaderMap::new(),
        )
        .await
        .json()
        .await
        .unwrap();
    let purge = detail.last_purge.expect("the purge's outcome is shown");
    assert!(purge.verified && purge.remaining.is_empty(), "{purge:?}");
    assert!(purge.rows_removed > 0);
    // Once erased, "purge now" is refused; bravo never noticed.
    let again = app
        .call::<RequestTenantPurge>(
            Some("admin"),
            &[("slug", &list.tenants[0].slug), ("reason", "again")],
            Some(&console),
            HeaderMap::new(),
        )
        .await;
    assert_ne!(again.status(), StatusCode::OK);
    assert!(app.signed_in("bravo", &bravo).await);
}
