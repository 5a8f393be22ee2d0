//! Team members through the whole stack: invitations by mail, roles, removal, password reset
//! and change. Each rule is tried over HTTP, and across workspaces.

use crate::support::{error_of, eventually, session_cookie, TestApp};
use app::api::account::{
    AcceptInvitation, ChangePassword, CheckResetLink, InvitationView, LoadInvitation,
    RequestPasswordReset, ResetPassword,
};
use app::api::team::{
    ChangeMemberRole, InviteMember, LoadTeam, RemoveMember, ResendInvitation, RevokeInvitation,
    TeamView, TransferOwnership,
};
use app::api::LoadSite;
use app::{AppError, SiteInfo};
use domain::Role;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

async fn team(app: &TestApp, slug: &str, cookie: &str) -> TeamView {
    let response = app
        .call::<LoadTeam>(Some(slug), &[], Some(cookie), HeaderMap::new())
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn site(app: &TestApp, slug: &str, cookie: &str) -> SiteInfo {
    app.call::<LoadSite>(Some(slug), &[], Some(cookie), HeaderMap::new())
        .await
        .json()
        .await
        .unwrap()
}

async fn invite(app: &TestApp, slug: &str, cookie: &str, email: &str, role: &str) -> StatusCode {
    app.call::<InviteMember>(
        Some(slug),
        &[("email", email), ("role", role)],
        Some(cookie),
        HeaderMap::new(),
    )
    .await
    .status()
}

/// The token of the newest invitation mailed to `email` on `slug`.
async fn invitation_token(app: &TestApp, slug: &str, email: &str) -> String {
    let body = eventually(|| app.mail_to(email, "invited").pop()).await;
    app.link_path(&body, slug, "/invite/")
        .trim_start_matches("/invite/")
        .to_owned()
}

async fn accept(
    app: &TestApp,
    slug: &str,
    token: &str,
    name: &str,
    password: &str,
) -> reqwest::Response {
    app.call::<AcceptInvitation>(
        Some(slug),
        &[("token", token), ("name", name), ("password", password)],
        None,
        HeaderMap::new(),
    )
    .await
}

fn member<'a>(team: &'a TeamView, email: &str) -> &'a app::api::team::MemberRow {
    team.members
        .iter()
        .find(|m| m.email == email)
        .unwrap_or_else(|| panic!("{email} is in the team: {team:?}"))
}

#[tokio::test]
async fn an_invitation_is_mailed_accepted_once_and_signs_the_member_in() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;

    assert_eq!(
        invite(&app, "alpha", &owner, "Ivy@Alpha.test", "MEMBER").await,
        StatusCode::OK
    );
    let token = invitation_token(&app, "alpha", "ivy@alpha.test").await;
    let pending = team(&app, "alpha", &owner).await;
    assert_eq!(pending.invitations.len(), 1);
    assert_eq!(pending.invitations[0].email, "ivy@alpha.test");

    let shown: InvitationView = app
        .call::<LoadInvitation>(Some("alpha"), &[("token", &token)], None, HeaderMap::new())
        .await
        .json()
        .await
        .unwrap();
    assert!(
        matches!(&shown, InvitationView::Open { email, role: Role::Member, .. } if email == "ivy@alpha.test"),
        "{shown:?}"
    );

    // Bad input first: nothing is written and the invitation stays open.
    let bad = accept(&app, "alpha", &token, "", "short").await;
    match error_of(bad).await {
        AppError::Validation { fields } => {
            let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
            assert_eq!(names, ["name", "password"]);
        }
        other => panic!("expected field errors, got {other:?}"),
    }

    let accepted = accept(&app, "alpha", &token, "Ivy Invited", "ivy-password-1").await;
    let ivy = session_cookie(&accepted).expect("accepting signs the member in");
    let me = site(&app, "alpha", &ivy).await.viewer.unwrap();
    assert_eq!(
        (me.email.as_str(), me.role),
        ("ivy@alpha.test", Role::Member)
    );
    let now = team(&app, "alpha", &owner).await;
    assert!(now.invitations.is_empty());
    assert_eq!(member(&now, "ivy@alpha.test").role, Role::Member);

    // Single use: the same link is spent.
    let again = accept(&app, "alpha", &token, "Eve", "eve-password-1").await;
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    let shown: InvitationView = app
        .call::<LoadInvitation>(Some("alpha"), &[("token", &token)], None, HeaderMap::new())
        .await
        .json()
        .await
        .unwrap();
    assert!(matches!(shown, InvitationView::Unusable { .. }));
    // And the new member signs in with the password they chose.
    assert!(session_cookie(
        &app.sign_in("alpha", "ivy@alpha.test", "ivy-password-1")
            .await
    )
    .is_some());
}

#[tokio::test]
async fn an_invitation_works_only_on_its_own_workspace() {
    let app = TestApp::spawn().await;
    let a_owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let b_owner = app
        .register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    invite(&app, "alpha", &a_owner, "ivy@mail.test", "ADMIN").await;
    let token = invitation_token(&app, "alpha", "ivy@mail.test").await;

    // Alpha's link on bravo's host: the same answer as a link that never existed.
    let shown: InvitationView = app
        .call::<LoadInvitation>(Some("bravo"), &[("token", &token)], None, HeaderMap::new())
        .await
        .json()
        .await
        .unwrap();
    let InvitationView::Unusable { reason } = shown else {
        panic!("alpha's invitation is not usable on bravo");
    };
    assert!(
        !reason.contains("alpha") && !reason.contains("ivy"),
        "{reason}"
    );
    let taken = accept(&app, "bravo", &token, "Ivy", "ivy-password-1").await;
    assert_eq!(taken.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie(&taken).is_none());
    let bravo = team(&app, "bravo", &b_owner).await;
    assert_eq!(bravo.members.len(), 1, "nobody joined bravo");

    // Alpha's owner cannot invite into bravo, nor act on bravo's team.
    let response = app
        .call::<InviteMember>(
            Some("bravo"),
            &[("email", "x@x.test"), ("role", "ADMIN")],
            Some(&a_owner),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let bob_id = bravo.members[0].id.clone();
    for response in [
        app.call::<RemoveMember>(
            Some("alpha"),
            &[("id", &bob_id)],
            Some(&a_owner),
            HeaderMap::new(),
        )
        .await,
        app.call::<ChangeMemberRole>(
            Some("alpha"),
            &[("id", &bob_id), ("role", "MEMBER")],
            Some(&a_owner),
            HeaderMap::new(),
        )
        .await,
    ] {
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    let bravo = team(&app, "bravo", &b_owner).await;
    assert_eq!(bravo.members[0].role, Role::Owner);

    // Alpha's pending invitation cannot be revoked or resent from bravo.
    let alpha_invitation = team(&app, "alpha", &a_owner).await.invitations[0]
        .id
        .clone();
    for response in [
        app.call::<RevokeInvitation>(
            Some("bravo"),
            &[("id", &alpha_invitation)],
            Some(&b_owner),
            HeaderMap::new(),
        )
        .await,
        app.call::<ResendInvitation>(
            Some("bravo"),
            &[("id", &alpha_invitation)],
            Some(&b_owner),
            HeaderMap::new(),
        )
        .await,
    ] {
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(team(&app, "alpha", &a_owner).await.invitations.len(), 1);
}

#[tokio::test]
async fn bad_or_duplicate_invitations_are_refused_and_write_nothing() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;

    let bad = app
        .call::<InviteMember>(
            Some("alpha"),
            &[("email", "not-an-email"), ("role", "KING")],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    let err = error_of(bad).await;
    assert!(err.message_for("email").is_some(), "{err:?}");
    assert!(err.message_for("role").is_some(), "{err:?}");

    let existing = app
        .call::<InviteMember>(
            Some("alpha"),
            &[("email", "ann@alpha.test"), ("role", "MEMBER")],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    assert!(error_of(existing)
        .await
        .message_for("email")
        .unwrap()
        .contains("already a member"));

    assert_eq!(
        invite(&app, "alpha", &owner, "ivy@alpha.test", "MEMBER").await,
        StatusCode::OK
    );
    let twice = app
        .call::<InviteMember>(
            Some("alpha"),
            &[("email", "ivy@alpha.test"), ("role", "ADMIN")],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    assert!(error_of(twice).await.message_for("email").is_some());
    let view = team(&app, "alpha", &owner).await;
    assert_eq!(view.invitations.len(), 1, "{view:?}");
    assert_eq!(view.invitations[0].role, Role::Member);
    assert_eq!(app.mail_to("ivy@alpha.test", "invited").len(), 1);
}

#[tokio::test]
async fn resending_replaces_the_link_and_revoking_kills_it() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    invite(&app, "alpha", &owner, "ivy@alpha.test", "MEMBER").await;
    let first = invitation_token(&app, "alpha", "ivy@alpha.test").await;
    let id = team(&app, "alpha", &owner).await.invitations[0].id.clone();

    let resent = app
        .call::<ResendInvitation>(
            Some("alpha"),
            &[("id", &id)],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(resent.status(), StatusCode::OK);
    let second = eventually(|| {
        let mails = app.mail_to("ivy@alpha.test", "invited");
        (mails.len() == 2).then(|| mails[1].clone())
    })
    .await;
    let second = app
        .link_path(&second, "alpha", "/invite/")
        .trim_start_matches("/invite/")
        .to_owned();
    assert_ne!(first, second);
    assert_eq!(
        accept(&app, "alpha", &first, "Ivy", "ivy-password-1")
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "the old link stopped working"
    );

    let revoked = app
        .call::<RevokeInvitation>(
            Some("alpha"),
            &[("id", &id)],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let refused = accept(&app, "alpha", &second, "Ivy", "ivy-password-1").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(team(&app, "alpha", &owner)
        .await
        .members
        .iter()
        .all(|m| m.email != "ivy@alpha.test"));
}

#[tokio::test]
async fn roles_are_enforced_on_the_server_whatever_the_request_says() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let admin = app
        .add_member("alpha", "ada@alpha.test", Role::Admin, "admin-password-1")
        .await;
    let plain = app
        .add_member("alpha", "mo@alpha.test", Role::Member, "member-password-1")
        .await;
    let view = team(&app, "alpha", &owner).await;
    let ann = member(&view, "ann@alpha.test").id.clone();
    let ada = member(&view, "ada@alpha.test").id.clone();
    let mo = member(&view, "mo@alpha.test").id.clone();

    // A member sees no team page and can do nothing to it.
    assert_eq!(
        app.call::<LoadTeam>(Some("alpha"), &[], Some(&plain), HeaderMap::new())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        invite(&app, "alpha", &plain, "x@alpha.test", "MEMBER").await,
        StatusCode::FORBIDDEN
    );
    let escalate = app
        .call::<ChangeMemberRole>(
            Some("alpha"),
            &[("id", &mo), ("role", "OWNER")],
            Some(&plain),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(escalate.status(), StatusCode::FORBIDDEN);

    // An admin cannot make owners, touch the owner, or promote themselves.
    assert_eq!(
        invite(&app, "alpha", &admin, "x@alpha.test", "OWNER").await,
        StatusCode::FORBIDDEN
    );
    for (id, role) in [(&ann, "MEMBER"), (&mo, "OWNER"), (&ada, "OWNER")] {
        let response = app
            .call::<ChangeMemberRole>(
                Some("alpha"),
                &[("id", id), ("role", role)],
                Some(&admin),
                HeaderMap::new(),
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{id} -> {role}");
    }
    let remove_owner = app
        .call::<RemoveMember>(
            Some("alpha"),
            &[("id", &ann)],
            Some(&admin),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(remove_owner.status(), StatusCode::FORBIDDEN);
    let transfer = app
        .call::<TransferOwnership>(
            Some("alpha"),
            &[("id", &ada)],
            Some(&admin),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(transfer.status(), StatusCode::FORBIDDEN);

    // The only owner cannot step down through the team page.
    let demote_self = app
        .call::<ChangeMemberRole>(
            Some("alpha"),
            &[("id", &ann), ("role", "ADMIN")],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(demote_self.status(), StatusCode::FORBIDDEN);

    // An admin may promote a member to admin.
    let promote = app
        .call::<ChangeMemberRole>(
            Some("alpha"),
            &[("id", &mo), ("role", "ADMIN")],
            Some(&admin),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(promote.status(), StatusCode::OK);

    let view = team(&app, "alpha", &owner).await;
    assert_eq!(member(&view, "ann@alpha.test").role, Role::Owner);
    assert_eq!(member(&view, "ada@alpha.test").role, Role::Admin);
    assert_eq!(member(&view, "mo@alpha.test").role, Role::Admin);
    assert!(app.mail_to("x@alpha.test", "invited").is_empty());
}

#[tokio::test]
async fn removing_or_changing_a_member_ends_their_sessions_at_once() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let mo = app
        .add_member("alpha", "mo@alpha.test", Role::Admin, "member-password-1")
        .await;
    let mo_elsewhere = session_cookie(
        &app.sign_in("alpha", "mo@alpha.test", "member-password-1")
            .await,
    )
    .unwrap();
    assert!(app.signed_in("alpha", &mo).await);
    let mo_id = member(&team(&app, "alpha", &owner).await, "mo@alpha.test")
        .id
        .clone();

    let demote = app
        .call::<ChangeMemberRole>(
            Some("alpha"),
            &[("id", &mo_id), ("role", "MEMBER")],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(demote.status(), StatusCode::OK);
    assert!(
        !app.signed_in("alpha", &mo).await,
        "role change signs them out"
    );
    assert!(!app.signed_in("alpha", &mo_elsewhere).await, "everywhere");
    assert!(app.signed_in("alpha", &owner).await, "the owner stays");

    let mo = session_cookie(
        &app.sign_in("alpha", "mo@alpha.test", "member-password-1")
            .await,
    )
    .unwrap();
    let me = site(&app, "alpha", &mo).await.viewer.unwrap();
    assert_eq!(me.role, Role::Member);

    let remove = app
        .call::<RemoveMember>(
            Some("alpha"),
            &[("id", &mo_id)],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(remove.status(), StatusCode::OK);
    assert!(!app.signed_in("alpha", &mo).await, "removal signs them out");
    let page = app.get(Some("alpha"), "/products", Some(&mo)).await;
    let body = page.text().await.unwrap();
    assert!(
        !body.contains("Added Member"),
        "no page shows them signed in"
    );
    let again = app
        .sign_in("alpha", "mo@alpha.test", "member-password-1")
        .await;
    assert!(
        session_cookie(&again).is_none(),
        "and they cannot sign in again"
    );
    assert!(team(&app, "alpha", &owner)
        .await
        .members
        .iter()
        .all(|m| m.email != "mo@alpha.test"));

    // Invited again, the same person comes back with a fresh password.
    invite(&app, "alpha", &owner, "mo@alpha.test", "MEMBER").await;
    let token = invitation_token(&app, "alpha", "mo@alpha.test").await;
    let back = accept(&app, "alpha", &token, "Mo Again", "member-password-2").await;
    assert!(session_cookie(&back).is_some());
    assert_eq!(
        member(&team(&app, "alpha", &owner).await, "mo@alpha.test").name,
        "Mo Again"
    );
}

#[tokio::test]
async fn ownership_moves_in_one_step_and_the_last_owner_stays() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let ada = app
        .add_member("alpha", "ada@alpha.test", Role::Admin, "admin-password-1")
        .await;
    let view = team(&app, "alpha", &owner).await;
    let ada_id = member(&view, "ada@alpha.test").id.clone();
    let ann_id = member(&view, "ann@alpha.test").id.clone();

    let transfer = app
        .call::<TransferOwnership>(
            Some("alpha"),
            &[("id", &ada_id)],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(transfer.status(), StatusCode::OK);
    // The session carries on under a new id: no server process holds the old owner's role
    // for it any more.
    let moved = session_cookie(&transfer).expect("the session gets a new id");
    assert!(!app.signed_in("alpha", &owner).await, "the old id is dead");
    let owner = moved;
    assert!(
        app.signed_in("alpha", &owner).await,
        "the one who transferred stays signed in"
    );
    assert_eq!(
        site(&app, "alpha", &owner).await.viewer.unwrap().role,
        Role::Admin,
        "and is an admin from the very next request"
    );
    assert!(
        !app.signed_in("alpha", &ada).await,
        "the new owner's old sessions end"
    );
    let view = team(&app, "alpha", &owner).await;
    assert_eq!(member(&view, "ada@alpha.test").role, Role::Owner);
    assert_eq!(member(&view, "ann@alpha.test").role, Role::Admin);

    // Ada, now the only owner, cannot be removed or demoted by anyone.
    let ada = session_cookie(
        &app.sign_in("alpha", "ada@alpha.test", "admin-password-1")
            .await,
    )
    .unwrap();
    let removal = app
        .call::<RemoveMember>(
            Some("alpha"),
            &[("id", &ada_id)],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(removal.status(), StatusCode::FORBIDDEN);
    let back = app
        .call::<ChangeMemberRole>(
            Some("alpha"),
            &[("id", &ann_id), ("role", "OWNER")],
            Some(&ada),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(
        back.status(),
        StatusCode::OK,
        "an owner may make another owner"
    );
    let down = app
        .call::<ChangeMemberRole>(
            Some("alpha"),
            &[("id", &ada_id), ("role", "MEMBER")],
            Some(&ada),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(down.status(), StatusCode::FORBIDDEN, "not on yourself");
}

#[tokio::test]
async fn a_password_reset_is_mailed_works_once_and_ends_other_sessions() {
    let app = TestApp::spawn().await;
    let old_session = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.register("bravo", "ann@alpha.test", "bravo-password-1")
        .await;

    // The same answer whether or not the address has an account.
    for email in ["ann@alpha.test", "nobody@alpha.test"] {
        let response = app
            .call::<RequestPasswordReset>(
                Some("alpha"),
                &[("email", email)],
                None,
                HeaderMap::new(),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let body = eventually(|| app.mail_to("ann@alpha.test", "Reset").pop()).await;
    assert!(app.mail_to("nobody@alpha.test", "Reset").is_empty());
    let token = app
        .link_path(&body, "alpha", "/reset/")
        .trim_start_matches("/reset/")
        .to_owned();

    let valid = |slug: &'static str| {
        let token = token.clone();
        let app = &app;
        async move {
            app.call::<CheckResetLink>(Some(slug), &[("token", &token)], None, HeaderMap::new())
                .await
                .json::<bool>()
                .await
                .unwrap()
        }
    };
    assert!(valid("alpha").await);
    assert!(!valid("bravo").await, "alpha's link means nothing on bravo");
    let on_bravo = app
        .call::<ResetPassword>(
            Some("bravo"),
            &[("token", &token), ("password", "stolen-password-1")],
            None,
            HeaderMap::new(),
        )
        .await;
    assert_eq!(on_bravo.status(), StatusCode::FORBIDDEN);

    let short = app
        .call::<ResetPassword>(
            Some("alpha"),
            &[("token", &token), ("password", "short")],
            None,
            HeaderMap::new(),
        )
        .await;
    assert!(error_of(short).await.message_for("password").is_some());
    assert!(
        valid("alpha").await,
        "a refused password does not spend the link"
    );

    let reset = app
        .call::<ResetPassword>(
            Some("alpha"),
            &[("token", &token), ("password", "alpha-password-2")],
            None,
            HeaderMap::new(),
        )
        .await;
    let fresh = session_cookie(&reset).expect("reset signs this browser in");
    assert!(app.signed_in("alpha", &fresh).await);
    assert!(
        !app.signed_in("alpha", &old_session).await,
        "every older session ends"
    );
    assert!(!valid("alpha").await, "single use");
    assert!(session_cookie(
        &app.sign_in("alpha", "ann@alpha.test", "alpha-password-1")
            .await
    )
    .is_none());
    assert!(session_cookie(
        &app.sign_in("alpha", "ann@alpha.test", "alpha-password-2")
            .await
    )
    .is_some());
    assert!(
        session_cookie(
            &app.sign_in("bravo", "ann@alpha.test", "bravo-password-1")
                .await
        )
        .is_some(),
        "the same email in bravo keeps its own password"
    );
}

#[tokio::test]
async fn changing_your_password_keeps_this_session_and_ends_the_others() {
    let app = TestApp::spawn().await;
    let here = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let there = session_cookie(
        &app.sign_in("alpha", "ann@alpha.test", "alpha-password-1")
            .await,
    )
    .unwrap();

    let wrong = app
        .call::<ChangePassword>(
            Some("alpha"),
            &[
                ("current", "not-my-password"),
                ("new_password", "alpha-password-2"),
            ],
            Some(&here),
            HeaderMap::new(),
        )
        .await;
    assert!(error_of(wrong).await.message_for("current").is_some());
    assert!(
        app.signed_in("alpha", &there).await,
        "a refused change ends nothing"
    );

    let changed = app
        .call::<ChangePassword>(
            Some("alpha"),
            &[
                ("current", "alpha-password-1"),
                ("new_password", "alpha-password-2"),
            ],
            Some(&here),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert!(app.signed_in("alpha", &here).await);
    assert!(!app.signed_in("alpha", &there).await);
    let renamed = app
        .call::<app::api::account::UpdateProfile>(
            Some("alpha"),
            &[("name", "Ann Renamed")],
            Some(&here),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let here = session_cookie(&renamed).expect("the session gets a new id");
    assert_eq!(
        site(&app, "alpha", &here).await.viewer.unwrap().name,
        "Ann Renamed",
        "the new name shows on the very next request"
    );
    assert!(session_cookie(
        &app.sign_in("alpha", "ann@alpha.test", "alpha-password-2")
            .await
    )
    .is_some());
}

#[tokio::test]
async fn the_member_limit_counts_open_invitations() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    // FREE allows 5 members; the owner is one.
    for n in 1..=4 {
        assert_eq!(
            invite(&app, "alpha", &owner, &format!("p{n}@alpha.test"), "MEMBER").await,
            StatusCode::OK
        );
    }
    let view = team(&app, "alpha", &owner).await;
    let usage = view.usage.unwrap();
    assert_eq!((usage.used, usage.max), (5, Some(5)));
    let over = app
        .call::<InviteMember>(
            Some("alpha"),
            &[("email", "p5@alpha.test"), ("role", "MEMBER")],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(over.status(), StatusCode::FORBIDDEN);
    assert!(matches!(
        error_of(over).await,
        AppError::LimitReached { .. }
    ));
    assert!(app.mail_to("p5@alpha.test", "invited").is_empty());

    let first = team(&app, "alpha", &owner).await.invitations[0].id.clone();
    app.call::<RevokeInvitation>(
        Some("alpha"),
        &[("id", &first)],
        Some(&owner),
        HeaderMap::new(),
    )
    .await;
    assert_eq!(
        invite(&app, "alpha", &owner, "p5@alpha.test", "MEMBER").await,
        StatusCode::OK
    );
}
