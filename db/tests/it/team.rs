//! A workspace's team: members, invitations, roles, removal, ownership, passwords, and the
//! sessions those changes end.

use crate::common::{
    add_member, app_db, app_pool, delivered, exactly_one_winner, hashed, race, resend,
    session_alive, set_limit, sign_in, tenant_and_owner, tenant_tx,
};
use db::platform::auth::{self, TicketPurpose};
use db::platform::invitations::{self, InvitationState};
use db::platform::operator;
// The team's side of an invitation (send, resend, revoke, list); `invitations` above is the
// invitee's side (find and accept a link).
use db::tenant::invitations::{self as invites, InvitationLink};
use db::tenant::members;
use db::tenant::orders::{self, NewLine};
use db::tenant::products;
use db::{Db, Refusal, RepoError, Tenant, TenantScope};
use domain::{Email, LimitKind, PersonName, Role, TenantId, UserId};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

const DAY: i64 = 24 * 3600;

fn email(raw: &str) -> Email {
    Email::parse(raw).unwrap()
}

fn name(raw: &str) -> PersonName {
    PersonName::parse(raw).unwrap()
}

fn link(digest: &str) -> InvitationLink<'_> {
    InvitationLink {
        token_digest: digest,
        ttl_secs: DAY,
    }
}

/// A link that expired a minute ago.
fn expired_link(digest: &str) -> InvitationLink<'_> {
    InvitationLink {
        token_digest: digest,
        ttl_secs: -60,
    }
}

async fn scope_of(db: &Db, tenant: &Tenant, user: UserId) -> Option<TenantScope> {
    TenantScope::for_member(db, tenant, user).await.unwrap()
}

async fn role_of(db: &Db, tenant: &Tenant, user: UserId) -> Role {
    scope_of(db, tenant, user)
        .await
        .expect("an active member")
        .member()
        .role
}

async fn is_removed(pool: &PgPool, tenant: TenantId, user: UserId) -> bool {
    let mut tx = tenant_tx(pool, tenant).await;
    sqlx::query_scalar("SELECT removed_at IS NOT NULL FROM users WHERE id = $1")
        .bind(user.as_uuid())
        .fetch_one(&mut *tx)
        .await
        .unwrap()
}

async fn tickets_of(pool: &PgPool, tenant: TenantId, user: UserId) -> i64 {
    let mut tx = tenant_tx(pool, tenant).await;
    sqlx::query_scalar("SELECT count(*) FROM sign_in_tickets WHERE user_id = $1")
        .bind(user.as_uuid())
        .fetch_one(&mut *tx)
        .await
        .unwrap()
}

async fn owners(db: &Db, scope: &TenantScope) -> Vec<UserId> {
    members::list(db, scope)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.role == Role::Owner)
        .map(|m| m.user_id)
        .collect()
}

// ------------------------------------------------------------------------------ members --

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn list_shows_active_members_owners_first_and_leaves_out_removed_ones(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let member = add_member(&db, &tenant, "aaron@alpha.test", Role::Member).await;
    let admin = add_member(&db, &tenant, "zed@alpha.test", Role::Admin).await;
    let leaver = add_member(&db, &tenant, "leaver@alpha.test", Role::Member).await;
    let (bravo, _) = tenant_and_owner(&db, "bravo").await;
    add_member(&db, &bravo, "x@bravo.test", Role::Member).await;

    members::remove(&db, &ann, leaver.member().user_id)
        .await
        .unwrap();

    let listed = members::list(&db, &ann).await.unwrap();
    let order: Vec<(UserId, Role)> = listed.iter().map(|m| (m.user_id, m.role)).collect();
    assert_eq!(
        order,
        vec![
            (ann.member().user_id, Role::Owner),
            (admin.member().user_id, Role::Admin),
            (member.member().user_id, Role::Member),
        ],
        "owners first, then admins, then members; removed and foreign people are not listed"
    );
    assert_eq!(listed[2].email.as_str(), "aaron@alpha.test");
    // Any member may see the team.
    assert_eq!(members::list(&db, &member).await.unwrap().len(), 3);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn only_admins_invite_and_only_owners_invite_owners(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let admin = add_member(&db, &tenant, "admin@alpha.test", Role::Admin).await;
    let member = add_member(&db, &tenant, "member@alpha.test", Role::Member).await;

    let err = invites::invite(
        &db,
        &member,
        &email("a@x.test"),
        Role::Member,
        link("d1"),
        delivered(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, RepoError::Forbidden), "{err:?}");

    let err = invites::invite(
        &db,
        &admin,
        &email("b@x.test"),
        Role::Owner,
        link("d2"),
        delivered(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::OwnersOnly)),
        "{err:?}"
    );
    assert!(
        invitations::find(&db, &tenant, "d2")
            .await
            .unwrap()
            .is_none(),
        "a refused invitation is not written"
    );

    invites::invite(
        &db,
        &admin,
        &email("c@x.test"),
        Role::Admin,
        link("d3"),
        delivered(),
    )
    .await
    .unwrap();
    invites::invite(
        &db,
        &ann,
        &email("d@x.test"),
        Role::Owner,
        link("d4"),
        delivered(),
    )
    .await
    .unwrap();

    let open = invites::open_invitations(&db, &ann).await.unwrap();
    let mut invited: Vec<(&str, Role, &str)> = open
        .iter()
        .map(|i| (i.email.as_str(), i.role, i.invited_by.as_str()))
        .collect();
    invited.sort();
    assert_eq!(
        invited,
        vec![
            ("c@x.test", Role::Admin, "Name of admin@alpha.test"),
            ("d@x.test", Role::Owner, "Owner"),
        ]
    );
    let err = invites::open_invitations(&db, &member).await.unwrap_err();
    assert!(matches!(err, RepoError::Forbidden), "{err:?}");
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn inviting_an_active_member_is_refused_but_a_removed_one_can_be_invited_back(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let bo = add_member(&db, &tenant, "bo@alpha.test", Role::Member).await;

    let err = invites::invite(
        &db,
        &ann,
        &email("bo@alpha.test"),
        Role::Admin,
        link("d1"),
        delivered(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::AlreadyMember)),
        "{err:?}"
    );
    // The same mailbox in another workspace is no member of this one.
    let (_, other) = tenant_and_owner(&db, "bravo").await;
    invites::invite(
        &db,
        &other,
        &email("bo@alpha.test"),
        Role::Member,
        link("d1"),
        delivered(),
    )
    .await
    .unwrap();

    members::remove(&db, &ann, bo.member().user_id)
        .await
        .unwrap();
    invites::invite(
        &db,
        &ann,
        &email("bo@alpha.test"),
        Role::Member,
        link("d2"),
        delivered(),
    )
    .await
    .unwrap();
    assert_eq!(
        invitations::find(&db, &tenant, "d2")
            .await
            .unwrap()
            .unwrap()
            .state,
        InvitationState::Open
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_second_open_invitation_for_one_email_is_a_conflict_on_email(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let first = invites::invite(
        &db,
        &ann,
        &email("new@x.test"),
        Role::Member,
        link("d1"),
        delivered(),
    )
    .await
    .unwrap();
    let err = invites::invite(
        &db,
        &ann,
        &email("new@x.test"),
        Role::Admin,
        link("d2"),
        delivered(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, RepoError::Conflict { field: "email" }),
        "{err:?}"
    );
    assert!(invitations::find(&db, &tenant, "d2")
        .await
        .unwrap()
        .is_none());

    // Once the first is revoked, the address may be invited again.
    invites::revoke_invitation(&db, &ann, first).await.unwrap();
    invites::invite(
        &db,
        &ann,
        &email("new@x.test"),
        Role::Admin,
        link("d3"),
        delivered(),
    )
    .await
    .unwrap();
    let open = invites::open_invitations(&db, &ann).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].role, Role::Admin);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn open_invitations_count_against_the_member_limit(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    set_limit(&db, tenant.id(), LimitKind::Members, 2).await;

    invites::invite(
        &db,
        &ann,
        &email("one@x.test"),
        Role::Member,
        link("d1"),
        delivered(),
    )
    .await
    .unwrap();
    let err = invites::invite(
        &db,
        &ann,
        &email("two@x.test"),
        Role::Member,
        link("d2"),
        delivered(),
    )
    .await
    .unwrap_err();
    match err {
        RepoError::LimitReached { limit, max, unit } => {
            assert_eq!(
                (limit, max, unit.as_str()),
                (LimitKind::Members, 2, "members")
            );
        }
        other => panic!("expected LimitReached, got {other:?}"),
    }
    assert!(invitations::find(&db, &tenant, "d2")
        .await
        .unwrap()
        .is_none());
    // Even when full, inviting someone already invited says so rather than "limit reached".
    let err = invites::invite(
        &db,
        &ann,
        &email("one@x.test"),
        Role::Admin,
        link("d1b"),
        delivered(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, RepoError::Conflict { field: "email" }),
        "{err:?}"
    );

    // Accepting takes no further place: the invitation already held it.
    invitations::accept(&db, &tenant, "d1", &name("One"), hashed("h"))
        .await
        .unwrap();
    let err = invites::invite(
        &db,
        &ann,
        &email("two@x.test"),
        Role::Member,
        link("d2"),
        delivered(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, RepoError::LimitReached { .. }), "{err:?}");

    // An expired invitation holds no place; resending it takes one again.
    set_limit(&db, tenant.id(), LimitKind::Members, 3).await;
    let stale = invites::invite(
        &db,
        &ann,
        &email("stale@x.test"),
        Role::Member,
        expired_link("d3"),
        delivered(),
    )
    .await
    .unwrap();
    invites::invite(
        &db,
        &ann,
        &email("three@x.test"),
        Role::Member,
        link("d4"),
        delivered(),
    )
    .await
    .unwrap();
    let err = resend(&db, &ann, stale, link("d5")).await.unwrap_err();
    assert!(matches!(err, RepoError::LimitReached { .. }), "{err:?}");
    assert_eq!(
        invitations::find(&db, &tenant, "d3")
            .await
            .unwrap()
            .unwrap()
            .state,
        InvitationState::Expired,
        "a refused resend changes nothing"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn resending_replaces_the_link_and_renews_the_expiry(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let id = invites::invite(
        &db,
        &ann,
        &email("new@x.test"),
        Role::Admin,
        expired_link("old"),
        delivered(),
    )
    .await
    .unwrap();
    assert_eq!(
        invitations::find(&db, &tenant, "old")
            .await
            .unwrap()
            .unwrap()
            .state,
        InvitationState::Expired
    );

    let (to, role) = resend(&db, &ann, id, link("new")).await.unwrap();
    assert_eq!((to.as_str(), role), ("new@x.test", Role::Admin));
    assert!(
        invitations::find(&db, &tenant, "old")
            .await
            .unwrap()
            .is_none(),
        "the old link stops working"
    );
    let renewed = invitations::find(&db, &tenant, "new")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renewed.state, InvitationState::Open);
    assert!(renewed.expires_at > time::OffsetDateTime::now_utc());
    let err = invitations::accept(&db, &tenant, "old", &name("New"), hashed("h"))
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");

    // A closed invitation cannot be resent; an unknown or foreign one is not found.
    invites::revoke_invitation(&db, &ann, id).await.unwrap();
    let err = resend(&db, &ann, id, link("newer")).await.unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::InvitationClosed)),
        "{err:?}"
    );
    let (bravo, other) = tenant_and_owner(&db, "bravo").await;
    let foreign = invites::invite(
        &db,
        &other,
        &email("b@x.test"),
        Role::Member,
        link("b1"),
        delivered(),
    )
    .await
    .unwrap();
    let err = resend(&db, &ann, foreign, link("steal")).await.unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
    assert!(invitations::find(&db, &bravo, "b1")
        .await
        .unwrap()
        .is_some());
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn revoking_closes_the_invitation_and_admins_cannot_touch_owner_invitations(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let admin = add_member(&db, &tenant, "admin@alpha.test", Role::Admin).await;
    let member = add_member(&db, &tenant, "member@alpha.test", Role::Member).await;
    let for_owner = invites::invite(
        &db,
        &ann,
        &email("o@x.test"),
        Role::Owner,
        link("o1"),
        delivered(),
    )
    .await
    .unwrap();
    let for_member = invites::invite(
        &db,
        &ann,
        &email("m@x.test"),
        Role::Member,
        link("m1"),
        delivered(),
    )
    .await
    .unwrap();

    let err = invites::revoke_invitation(&db, &admin, for_owner)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::OwnersOnly)),
        "{err:?}"
    );
    let err = resend(&db, &admin, for_owner, link("o2"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::OwnersOnly)),
        "{err:?}"
    );
    let err = invites::revoke_invitation(&db, &member, for_member)
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::Forbidden), "{err:?}");

    invites::revoke_invitation(&db, &admin, for_member)
        .await
        .unwrap();
    assert_eq!(
        invitations::find(&db, &tenant, "m1")
            .await
            .unwrap()
            .unwrap()
            .state,
        InvitationState::Revoked
    );
    let err = invites::revoke_invitation(&db, &admin, for_member)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::InvitationClosed)),
        "{err:?}"
    );
    invites::invite(
        &db,
        &ann,
        &email("late@x.test"),
        Role::Member,
        expired_link("late"),
        delivered(),
    )
    .await
    .unwrap();
    let listed: Vec<String> = invites::open_invitations(&db, &ann)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.email.as_str().to_owned())
        .collect();
    assert_eq!(
        listed,
        vec!["late@x.test".to_owned(), "o@x.test".to_owned()],
        "newest first; an expired invitation is still listed (it can be resent)"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn change_role_refuses_yourself_and_keeps_the_owner_role_with_owners(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let admin = add_member(&db, &tenant, "admin@alpha.test", Role::Admin).await;
    let member = add_member(&db, &tenant, "member@alpha.test", Role::Member).await;
    let ann_id = ann.member().user_id;
    let member_id = member.member().user_id;

    let err = members::change_role(&db, &admin, admin.member().user_id, Role::Member)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::NotOnYourself)),
        "{err:?}"
    );
    let err = members::change_role(&db, &admin, ann_id, Role::Admin)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::OwnersOnly)),
        "an admin cannot demote an owner: {err:?}"
    );
    let err = members::change_role(&db, &admin, member_id, Role::Owner)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::OwnersOnly)),
        "an admin cannot make an owner: {err:?}"
    );
    let err = members::change_role(&db, &member, admin.member().user_id, Role::Member)
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::Forbidden), "{err:?}");
    assert_eq!(role_of(&db, &tenant, ann_id).await, Role::Owner);
    assert_eq!(role_of(&db, &tenant, member_id).await, Role::Member);

    members::change_role(&db, &admin, member_id, Role::Admin)
        .await
        .unwrap();
    assert_eq!(role_of(&db, &tenant, member_id).await, Role::Admin);
    members::change_role(&db, &ann, member_id, Role::Owner)
        .await
        .unwrap();
    assert_eq!(role_of(&db, &tenant, member_id).await, Role::Owner);

    // Another workspace's member is not found.
    let (_, other) = tenant_and_owner(&db, "bravo").await;
    let err = members::change_role(&db, &ann, other.member().user_id, Role::Member)
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn an_owner_demoted_mid_request_cannot_take_the_last_owner_away(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let bo = add_member(&db, &tenant, "bo@alpha.test", Role::Owner).await;
    let ann_id = ann.member().user_id;

    // Bo's scope was built while Bo was still an owner (a request in flight when Ann acted):
    // the owners locked in Bo's transaction no longer include Bo, so Bo's owner power is gone.
    members::change_role(&db, &ann, bo.member().user_id, Role::Admin)
        .await
        .unwrap();
    let err = members::change_role(&db, &bo, ann_id, Role::Admin)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::OwnersOnly)),
        "{err:?}"
    );
    let err = members::remove(&db, &bo, ann_id).await.unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::OwnersOnly)),
        "{err:?}"
    );
    let err = members::change_role(&db, &bo, bo.member().user_id, Role::Owner)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::NotOnYourself)),
        "{err:?}"
    );
    assert_eq!(owners(&db, &ann).await, vec![ann_id]);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn two_owners_demoting_each_other_at_once_leave_one_owner(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = Db::from_pool(app_pool(&owner, 4).await);
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let bo = add_member(&db, &tenant, "bo@alpha.test", Role::Owner).await;
    for _ in 0..5 {
        // Ann demotes Bo while Bo demotes Ann.
        let results = race(2, |i| {
            let (by, target) = if i == 0 {
                (ann.clone(), bo.member().user_id)
            } else {
                (bo.clone(), ann.member().user_id)
            };
            let db = db.clone();
            async move { members::change_role(&db, &by, target, Role::Admin).await }
        })
        .await;
        // The loser finds itself demoted under the owner locks (or, had it still been an
        // owner, the last one): never both demoted.
        assert!(
            exactly_one_winner(&results).into_iter().any(|e| matches!(
                e,
                RepoError::Refused(Refusal::OwnersOnly | Refusal::LastOwner)
            )),
            "{results:?}"
        );
        let left = owners(&db, &ann).await;
        assert_eq!(left.len(), 1);
        // Make both owners again for the next round.
        let survivor = TenantScope::for_member(&db, &tenant, left[0])
            .await
            .unwrap()
            .unwrap();
        let other = if left[0] == ann.member().user_id {
            bo.member().user_id
        } else {
            ann.member().user_id
        };
        members::change_role(&db, &survivor, other, Role::Owner)
            .await
            .unwrap();
    }
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn changing_a_role_ends_only_the_targets_sessions(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = app_db(&owner).await;
    let store = db.session_store();
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let bo = add_member(&db, &tenant, "bo@alpha.test", Role::Member).await;
    let cy = add_member(&db, &tenant, "cy@alpha.test", Role::Member).await;
    let (_, other) = tenant_and_owner(&db, "bravo").await;
    let bo_id = bo.member().user_id;

    let ann_session = sign_in(&store, tenant.id(), ann.member().user_id).await;
    let bo_phone = sign_in(&store, tenant.id(), bo_id).await;
    let bo_laptop = sign_in(&store, tenant.id(), bo_id).await;
    let cy_session = sign_in(&store, tenant.id(), cy.member().user_id).await;
    // A row naming Bo's id under another tenant is not Bo's session in this one.
    let foreign = sign_in(&store, other.tenant_id(), bo_id).await;

    // Setting the role a member already has changes nothing and signs nobody out.
    members::change_role(&db, &ann, bo_id, Role::Member)
        .await
        .unwrap();
    assert!(session_alive(&store, &bo_phone).await);

    members::change_role(&db, &ann, bo_id, Role::Admin)
        .await
        .unwrap();
    assert!(!session_alive(&store, &bo_phone).await);
    assert!(!session_alive(&store, &bo_laptop).await);
    assert!(session_alive(&store, &ann_session).await);
    assert!(session_alive(&store, &cy_session).await);
    assert!(session_alive(&store, &foreign).await);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn removing_a_member_keeps_their_row_and_ends_every_way_in(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let pool = app_pool(&owner, 4).await;
    let db = Db::from_pool(pool.clone());
    let store = db.session_store();
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let bo = add_member(&db, &tenant, "bo@alpha.test", Role::Admin).await;
    let bo_id = bo.member().user_id;

    // Bo placed an order before leaving; it must still name Bo afterwards.
    let product = products::create(&db, &ann, &crate::common::product("MUG", 500, 5))
        .await
        .unwrap();
    let order = orders::create(
        &db,
        &bo,
        None,
        &[NewLine {
            product_id: product,
            quantity: 1,
        }],
    )
    .await
    .unwrap();
    auth::issue_ticket(&db, &tenant, bo_id, TicketPurpose::Welcome, "welcome", 600)
        .await
        .unwrap();
    auth::issue_password_reset(&db, &tenant, &email("bo@alpha.test"), "reset", 600)
        .await
        .unwrap()
        .unwrap();
    let bo_session = sign_in(&store, tenant.id(), bo_id).await;
    let ann_session = sign_in(&store, tenant.id(), ann.member().user_id).await;
    assert_eq!(tickets_of(&pool, tenant.id(), bo_id).await, 2);

    let err = members::remove(&db, &ann, ann.member().user_id)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::NotOnYourself)),
        "{err:?}"
    );
    let err = members::remove(&db, &bo, ann.member().user_id)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::OwnersOnly)),
        "an admin cannot remove an owner: {err:?}"
    );

    members::remove(&db, &ann, bo_id).await.unwrap();

    assert!(is_removed(&pool, tenant.id(), bo_id).await, "soft delete");
    assert!(scope_of(&db, &tenant, bo_id).await.is_none());
    assert!(
        auth::find_credentials(&db, &tenant, &email("bo@alpha.test"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(tickets_of(&pool, tenant.id(), bo_id).await, 0);
    assert!(
        !auth::ticket_is_valid(&db, &tenant, TicketPurpose::PasswordReset, "reset")
            .await
            .unwrap()
    );
    assert!(!session_alive(&store, &bo_session).await);
    assert!(session_alive(&store, &ann_session).await);
    assert_eq!(
        orders::get(&db, &ann, order)
            .await
            .unwrap()
            .summary
            .created_by,
        "Name of bo@alpha.test"
    );
    assert!(!members::list(&db, &ann)
        .await
        .unwrap()
        .iter()
        .any(|m| m.user_id == bo_id));

    // Removing twice: the member is no longer there to remove, nor to give a role.
    let err = members::remove(&db, &ann, bo_id).await.unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
    let err = members::change_role(&db, &ann, bo_id, Role::Admin)
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");

    // Another workspace's member cannot be removed from here.
    let (bravo, other) = tenant_and_owner(&db, "bravo").await;
    let theirs = add_member(&db, &bravo, "them@bravo.test", Role::Member).await;
    let err = members::remove(&db, &ann, theirs.member().user_id)
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
    assert!(scope_of(&db, &bravo, theirs.member().user_id)
        .await
        .is_some());
    let foreign_invitation = invites::invite(
        &db,
        &other,
        &email("x@bravo.test"),
        Role::Member,
        link("x"),
        delivered(),
    )
    .await
    .unwrap();
    let err = invites::revoke_invitation(&db, &ann, foreign_invitation)
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
    assert_eq!(
        invitations::find(&db, &bravo, "x")
            .await
            .unwrap()
            .unwrap()
            .state,
        InvitationState::Open
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn transferring_ownership_swaps_roles_and_keeps_only_the_callers_session(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let store = db.session_store();
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let bo = add_member(&db, &tenant, "bo@alpha.test", Role::Member).await;
    let cy = add_member(&db, &tenant, "cy@alpha.test", Role::Member).await;
    let (ann_id, bo_id) = (ann.member().user_id, bo.member().user_id);

    let here = sign_in(&store, tenant.id(), ann_id).await;
    let elsewhere = sign_in(&store, tenant.id(), ann_id).await;
    let bo_session = sign_in(&store, tenant.id(), bo_id).await;
    let cy_session = sign_in(&store, tenant.id(), cy.member().user_id).await;

    members::transfer_ownership(&db, &ann, bo_id, Some(&here))
        .await
        .unwrap();

    assert_eq!(role_of(&db, &tenant, bo_id).await, Role::Owner);
    assert_eq!(role_of(&db, &tenant, ann_id).await, Role::Admin);
    assert!(
        session_alive(&store, &here).await,
        "the caller stays signed in"
    );
    assert!(!session_alive(&store, &elsewhere).await);
    assert!(!session_alive(&store, &bo_session).await);
    assert!(session_alive(&store, &cy_session).await);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn only_an_owner_transfers_ownership_and_only_to_another_active_member(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let admin = add_member(&db, &tenant, "admin@alpha.test", Role::Admin).await;
    let gone = add_member(&db, &tenant, "gone@alpha.test", Role::Member).await;
    members::remove(&db, &ann, gone.member().user_id)
        .await
        .unwrap();
    let (_, other) = tenant_and_owner(&db, "bravo").await;
    let ann_id = ann.member().user_id;

    let err = members::transfer_ownership(&db, &admin, ann_id, None)
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::Forbidden), "{err:?}");
    let err = members::transfer_ownership(&db, &ann, ann_id, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::NotOnYourself)),
        "{err:?}"
    );
    let err = members::transfer_ownership(&db, &ann, gone.member().user_id, None)
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
    let err = members::transfer_ownership(&db, &ann, other.member().user_id, None)
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
    assert_eq!(owners(&db, &ann).await, vec![ann_id], "nothing changed");
    assert_eq!(
        role_of(&db, &tenant, admin.member().user_id).await,
        Role::Admin
    );

    // A scope built before its owner handed the role on cannot hand it on again.
    members::transfer_ownership(&db, &ann, admin.member().user_id, None)
        .await
        .unwrap();
    let err = members::transfer_ownership(&db, &ann, admin.member().user_id, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::OwnersOnly)),
        "{err:?}"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn rename_self_changes_only_the_callers_name(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let bo = add_member(&db, &tenant, "bo@alpha.test", Role::Member).await;

    members::rename_self(&db, &bo, &name("Bo Renamed"))
        .await
        .unwrap();
    let names: Vec<(UserId, String)> = members::list(&db, &ann)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.user_id, m.name))
        .collect();
    assert_eq!(
        names,
        vec![
            (ann.member().user_id, "Owner".to_owned()),
            (bo.member().user_id, "Bo Renamed".to_owned()),
        ]
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn setting_your_password_keeps_this_session_and_voids_reset_links(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let store = db.session_store();
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let bo = add_member(&db, &tenant, "bo@alpha.test", Role::Member).await;
    let ann_id = ann.member().user_id;
    assert_eq!(
        members::own_password_hash(&db, &ann).await.unwrap(),
        "hash-of-alpha"
    );

    auth::issue_password_reset(&db, &tenant, &email("owner@alpha.test"), "reset", 600)
        .await
        .unwrap()
        .unwrap();
    auth::issue_ticket(&db, &tenant, ann_id, TicketPurpose::Welcome, "welcome", 600)
        .await
        .unwrap();
    let here = sign_in(&store, tenant.id(), ann_id).await;
    let elsewhere = sign_in(&store, tenant.id(), ann_id).await;
    let bo_session = sign_in(&store, tenant.id(), bo.member().user_id).await;

    members::set_own_password(&db, &ann, "new-hash", Some(&here))
        .await
        .unwrap();

    assert_eq!(
        members::own_password_hash(&db, &ann).await.unwrap(),
        "new-hash"
    );
    assert_eq!(
        members::own_password_hash(&db, &bo).await.unwrap(),
        "hash-of-bo@alpha.test"
    );
    assert!(session_alive(&store, &here).await);
    assert!(!session_alive(&store, &elsewhere).await);
    assert!(session_alive(&store, &bo_session).await);
    assert!(
        !auth::ticket_is_valid(&db, &tenant, TicketPurpose::PasswordReset, "reset")
            .await
            .unwrap(),
        "a reset link sent before the change stops working"
    );
    assert!(
        auth::ticket_is_valid(&db, &tenant, TicketPurpose::Welcome, "welcome")
            .await
            .unwrap(),
        "only reset links are voided"
    );

    // A removed member's scope (from a request in flight) has no password left to read.
    members::remove(&db, &ann, bo.member().user_id)
        .await
        .unwrap();
    let err = members::own_password_hash(&db, &bo).await.unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
}

// -------------------------------------------------------------------------- invitations --

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn find_reports_each_invitation_state_on_its_own_workspace_only(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let (bravo, _) = tenant_and_owner(&db, "bravo").await;
    invites::invite(
        &db,
        &ann,
        &email("open@x.test"),
        Role::Admin,
        link("open"),
        delivered(),
    )
    .await
    .unwrap();
    invites::invite(
        &db,
        &ann,
        &email("late@x.test"),
        Role::Member,
        expired_link("late"),
        delivered(),
    )
    .await
    .unwrap();
    invites::invite(
        &db,
        &ann,
        &email("used@x.test"),
        Role::Member,
        link("used"),
        delivered(),
    )
    .await
    .unwrap();
    invitations::accept(&db, &tenant, "used", &name("Used"), hashed("h"))
        .await
        .unwrap();
    let revoked = invites::invite(
        &db,
        &ann,
        &email("gone@x.test"),
        Role::Member,
        link("gone"),
        delivered(),
    )
    .await
    .unwrap();
    invites::revoke_invitation(&db, &ann, revoked)
        .await
        .unwrap();

    let open = invitations::find(&db, &tenant, "open")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            open.email.as_str(),
            open.role,
            open.invited_by.as_str(),
            open.state
        ),
        ("open@x.test", Role::Admin, "Owner", InvitationState::Open)
    );
    for (digest, state) in [
        ("late", InvitationState::Expired),
        ("used", InvitationState::Accepted),
        ("gone", InvitationState::Revoked),
    ] {
        let found = invitations::find(&db, &tenant, digest)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.state, state, "{digest}");
    }
    assert!(invitations::find(&db, &tenant, "never")
        .await
        .unwrap()
        .is_none());
    assert!(
        invitations::find(&db, &bravo, "open")
            .await
            .unwrap()
            .is_none(),
        "another workspace's link looks like one that never existed"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn accepting_creates_a_member_with_the_invited_email_and_role_once(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    invites::invite(
        &db,
        &ann,
        &email("new@x.test"),
        Role::Admin,
        link("d1"),
        delivered(),
    )
    .await
    .unwrap();

    let user = invitations::accept(&db, &tenant, "d1", &name("Newcomer"), hashed("new-hash"))
        .await
        .unwrap();
    let scope = scope_of(&db, &tenant, user).await.expect("a member now");
    assert_eq!(scope.member().email.as_str(), "new@x.test");
    assert_eq!(scope.member().role, Role::Admin);
    assert_eq!(scope.member().name, "Newcomer");
    let creds = auth::find_credentials(&db, &tenant, &email("new@x.test"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (creds.user_id, creds.password_hash.as_str()),
        (user, "new-hash")
    );
    assert!(invites::open_invitations(&db, &ann)
        .await
        .unwrap()
        .is_empty());

    let err = invitations::accept(&db, &tenant, "d1", &name("Again"), hashed("h"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::InvitationClosed)),
        "{err:?}"
    );
    assert_eq!(members::list(&db, &ann).await.unwrap().len(), 2);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn accepting_brings_a_removed_member_back_under_the_same_account(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let pool = app_pool(&owner, 4).await;
    let db = Db::from_pool(pool.clone());
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let bo = add_member(&db, &tenant, "bo@alpha.test", Role::Admin).await;
    let bo_id = bo.member().user_id;
    members::remove(&db, &ann, bo_id).await.unwrap();

    invites::invite(
        &db,
        &ann,
        &email("bo@alpha.test"),
        Role::Member,
        link("back"),
        delivered(),
    )
    .await
    .unwrap();
    let user = invitations::accept(&db, &tenant, "back", &name("Bo Again"), hashed("bo-new"))
        .await
        .unwrap();

    assert_eq!(user, bo_id, "the same account comes back");
    assert!(!is_removed(&pool, tenant.id(), bo_id).await);
    let scope = scope_of(&db, &tenant, bo_id).await.unwrap();
    assert_eq!(scope.member().role, Role::Member, "with the invited role");
    assert_eq!(scope.member().name, "Bo Again");
    assert_eq!(
        members::own_password_hash(&db, &scope).await.unwrap(),
        "bo-new"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn accept_refuses_closed_unknown_and_foreign_links(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let (bravo, _) = tenant_and_owner(&db, "bravo").await;
    invites::invite(
        &db,
        &ann,
        &email("late@x.test"),
        Role::Member,
        expired_link("late"),
        delivered(),
    )
    .await
    .unwrap();
    let revoked = invites::invite(
        &db,
        &ann,
        &email("gone@x.test"),
        Role::Member,
        link("gone"),
        delivered(),
    )
    .await
    .unwrap();
    invites::revoke_invitation(&db, &ann, revoked)
        .await
        .unwrap();
    invites::invite(
        &db,
        &ann,
        &email("open@x.test"),
        Role::Member,
        link("open"),
        delivered(),
    )
    .await
    .unwrap();

    for digest in ["late", "gone"] {
        let err = invitations::accept(&db, &tenant, digest, &name("X"), hashed("h"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, RepoError::Refused(Refusal::InvitationClosed)),
            "{digest}: {err:?}"
        );
    }
    let err = invitations::accept(&db, &tenant, "never", &name("X"), hashed("h"))
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
    let err = invitations::accept(&db, &bravo, "open", &name("X"), hashed("h"))
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
    assert_eq!(
        invitations::find(&db, &tenant, "open")
            .await
            .unwrap()
            .unwrap()
            .state,
        InvitationState::Open,
        "a foreign attempt leaves the invitation open"
    );
    assert_eq!(members::list(&db, &ann).await.unwrap().len(), 1);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn accept_refuses_an_email_that_is_already_an_active_member(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    invites::invite(
        &db,
        &ann,
        &email("bo@x.test"),
        Role::Admin,
        link("d1"),
        delivered(),
    )
    .await
    .unwrap();
    // Bo joined another way meanwhile.
    let bo = operator::add_member(
        &db,
        &tenant,
        &email("bo@x.test"),
        &name("Bo"),
        Role::Member,
        "bo-hash",
    )
    .await
    .unwrap();

    let err = invitations::accept(&db, &tenant, "d1", &name("Bo Two"), hashed("other"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::AlreadyMember)),
        "{err:?}"
    );
    let scope = scope_of(&db, &tenant, bo).await.unwrap();
    assert_eq!(
        (scope.member().role, scope.member().name.as_str()),
        (Role::Member, "Bo")
    );
    assert_eq!(
        invitations::find(&db, &tenant, "d1")
            .await
            .unwrap()
            .unwrap()
            .state,
        InvitationState::Open
    );
}

// ---------------------------------------------------------------------- password resets --

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_reset_link_is_issued_only_for_an_active_member(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let (bravo, _) = tenant_and_owner(&db, "bravo").await;
    let bo = add_member(&db, &tenant, "bo@alpha.test", Role::Member).await;
    members::remove(&db, &ann, bo.member().user_id)
        .await
        .unwrap();

    assert_eq!(
        auth::issue_password_reset(&db, &tenant, &email("nobody@alpha.test"), "x1", 600)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        auth::issue_password_reset(&db, &tenant, &email("bo@alpha.test"), "x2", 600)
            .await
            .unwrap(),
        None,
        "a removed member gets no reset link"
    );
    assert_eq!(
        auth::issue_password_reset(&db, &tenant, &email("owner@alpha.test"), "ok", 600)
            .await
            .unwrap()
            .as_deref(),
        Some("Owner")
    );
    assert!(
        auth::ticket_is_valid(&db, &tenant, TicketPurpose::PasswordReset, "ok")
            .await
            .unwrap()
    );
    for (tenant, purpose, digest) in [
        (&tenant, TicketPurpose::Welcome, "ok"),
        (&bravo, TicketPurpose::PasswordReset, "ok"),
        (&tenant, TicketPurpose::PasswordReset, "x1"),
        (&tenant, TicketPurpose::PasswordReset, "x2"),
    ] {
        assert!(
            !auth::ticket_is_valid(&db, tenant, purpose, digest)
                .await
                .unwrap(),
            "{purpose:?} {digest} on {}",
            tenant.slug().as_str()
        );
    }

    auth::issue_password_reset(&db, &tenant, &email("owner@alpha.test"), "late", -1)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !auth::ticket_is_valid(&db, &tenant, TicketPurpose::PasswordReset, "late")
            .await
            .unwrap()
    );
    assert_eq!(
        auth::reset_password(&db, &tenant, "late", hashed("h"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        members::own_password_hash(&db, &ann).await.unwrap(),
        "hash-of-alpha",
        "an expired link changes nothing"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_reset_works_once_and_ends_every_session_of_that_member(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let store = db.session_store();
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let bo = add_member(&db, &tenant, "bo@alpha.test", Role::Member).await;
    let ann_id = ann.member().user_id;
    let owner_email = email("owner@alpha.test");
    auth::issue_password_reset(&db, &tenant, &owner_email, "first", 600)
        .await
        .unwrap();
    auth::issue_password_reset(&db, &tenant, &owner_email, "second", 600)
        .await
        .unwrap();
    let s1 = sign_in(&store, tenant.id(), ann_id).await;
    let s2 = sign_in(&store, tenant.id(), ann_id).await;
    let bo_session = sign_in(&store, tenant.id(), bo.member().user_id).await;

    assert_eq!(
        auth::reset_password(&db, &tenant, "first", hashed("reset-hash"))
            .await
            .unwrap(),
        Some(ann_id)
    );
    let creds = auth::find_credentials(&db, &tenant, &owner_email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(creds.password_hash, "reset-hash");
    assert!(!session_alive(&store, &s1).await);
    assert!(!session_alive(&store, &s2).await);
    assert!(session_alive(&store, &bo_session).await);

    assert_eq!(
        auth::reset_password(&db, &tenant, "first", hashed("again"))
            .await
            .unwrap(),
        None,
        "single use"
    );
    assert_eq!(
        auth::reset_password(&db, &tenant, "second", hashed("again"))
            .await
            .unwrap(),
        None,
        "the member's other reset links died with the reset"
    );
    assert_eq!(
        auth::find_credentials(&db, &tenant, &owner_email)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "reset-hash"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_reset_link_does_nothing_on_another_workspace(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = app_db(&owner).await;
    let store = db.session_store();
    let (alpha, ann) = tenant_and_owner(&db, "alpha").await;
    let (bravo, _) = tenant_and_owner(&db, "bravo").await;
    auth::issue_password_reset(&db, &alpha, &email("owner@alpha.test"), "digest", 600)
        .await
        .unwrap()
        .unwrap();
    let session = sign_in(&store, alpha.id(), ann.member().user_id).await;

    assert_eq!(
        auth::reset_password(&db, &bravo, "digest", hashed("evil"))
            .await
            .unwrap(),
        None
    );
    assert!(session_alive(&store, &session).await);
    assert_eq!(
        members::own_password_hash(&db, &ann).await.unwrap(),
        "hash-of-alpha"
    );
    assert!(
        auth::ticket_is_valid(&db, &alpha, TicketPurpose::PasswordReset, "digest")
            .await
            .unwrap(),
        "the foreign attempt did not spend the link"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn credentials_are_not_found_for_a_removed_member(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let bo = add_member(&db, &tenant, "bo@alpha.test", Role::Member).await;
    let bo_email = email("bo@alpha.test");
    assert_eq!(
        auth::find_credentials(&db, &tenant, &bo_email)
            .await
            .unwrap()
            .unwrap()
            .user_id,
        bo.member().user_id
    );
    members::remove(&db, &ann, bo.member().user_id)
        .await
        .unwrap();
    assert!(auth::find_credentials(&db, &tenant, &bo_email)
        .await
        .unwrap()
        .is_none());
}

// ---------------------------------------------------------------------- session store --

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_session_store_indexes_the_signed_in_member(_: PgPoolOptions, owner: PgConnectOptions) {
    use std::collections::HashMap;
    use tower_sessions::session::{Id, Record};
    use tower_sessions::session_store::SessionStore;

    let pool = app_pool(&owner, 4).await;
    let db = Db::from_pool(pool.clone());
    let store = db.session_store();
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let ann_id = ann.member().user_id;
    let columns = |id: Id| {
        let pool = pool.clone();
        async move {
            let key = sha_hex(&id.to_string());
            sqlx::query_as::<_, (Option<uuid::Uuid>, Option<uuid::Uuid>)>(
                "SELECT tenant_id, user_id FROM tower_sessions.session WHERE id = $1",
            )
            .bind(key)
            .fetch_optional(&pool)
            .await
            .unwrap()
        }
    };

    // An anonymous session names nobody.
    let mut record = Record {
        id: Id::default(),
        data: HashMap::from([("csrf".to_owned(), serde_json::json!("abc"))]),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    };
    store.create(&mut record).await.unwrap();
    assert_eq!(columns(record.id).await, Some((None, None)));
    assert_eq!(
        store.load(&record.id).await.unwrap().as_ref(),
        Some(&record)
    );

    // Signing in writes the member into the row.
    record.data.insert(
        db::platform::sessions::SIGNED_IN_KEY.to_owned(),
        serde_json::json!({ "tenant_id": tenant.id(), "user_id": ann_id, "since": 1 }),
    );
    store.save(&record).await.unwrap();
    assert_eq!(
        columns(record.id).await,
        Some((Some(tenant.id().as_uuid()), Some(ann_id.as_uuid())))
    );
    assert_eq!(
        store.load(&record.id).await.unwrap().as_ref(),
        Some(&record)
    );

    // Signing out clears it again.
    record.data.remove(db::platform::sessions::SIGNED_IN_KEY);
    store.save(&record).await.unwrap();
    assert_eq!(columns(record.id).await, Some((None, None)));

    // A deleted session is not written back to life by a late save.
    store.delete(&record.id).await.unwrap();
    store.save(&record).await.unwrap();
    assert!(store.load(&record.id).await.unwrap().is_none());
    assert_eq!(columns(record.id).await, None);

    // A record created signed in is indexed from the start; rows are keyed by a digest.
    let signed_in = sign_in(&store, tenant.id(), ann_id).await;
    assert_eq!(
        columns(signed_in).await,
        Some((Some(tenant.id().as_uuid()), Some(ann_id.as_uuid())))
    );
    let raw_ids: i64 =
        sqlx::query_scalar("SELECT count(*) FROM tower_sessions.session WHERE id = $1")
            .bind(signed_in.to_string())
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(raw_ids, 0, "the cookie value itself is never stored");

    // An expired session does not load.
    let mut old = Record {
        id: Id::default(),
        data: HashMap::new(),
        expiry_date: time::OffsetDateTime::now_utc() - time::Duration::minutes(1),
    };
    store.create(&mut old).await.unwrap();
    assert!(store.load(&old.id).await.unwrap().is_none());
}

fn sha_hex(input: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(input.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn racing_invitations_cannot_take_the_last_member_slot_twice(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = Db::from_pool(app_pool(&owner, 12).await);
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    set_limit(&db, tenant.id(), LimitKind::Members, 3).await;
    invites::invite(
        &db,
        &ann,
        &email("first@x.test"),
        Role::Member,
        link("first"),
        delivered(),
    )
    .await
    .unwrap();

    let outcomes = race(10, |n| {
        let (db, ann) = (db.clone(), ann.clone());
        async move {
            let to = email(&format!("racer{n}@x.test"));
            let digest = format!("racer{n}");
            invites::invite(&db, &ann, &to, Role::Member, link(&digest), delivered()).await
        }
    })
    .await;
    assert!(exactly_one_winner(&outcomes)
        .into_iter()
        .all(|e| matches!(e, RepoError::LimitReached { .. })));
    assert_eq!(invites::open_invitations(&db, &ann).await.unwrap().len(), 2);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn racing_acceptances_of_one_link_make_one_member(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = Db::from_pool(app_pool(&owner, 8).await);
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    invites::invite(
        &db,
        &ann,
        &email("new@x.test"),
        Role::Member,
        link("once"),
        delivered(),
    )
    .await
    .unwrap();

    let outcomes = race(6, |n| {
        let (db, tenant) = (db.clone(), tenant.clone());
        let racer = name(&format!("Racer {n}"));
        async move { invitations::accept(&db, &tenant, "once", &racer, hashed("h")).await }
    })
    .await;
    assert!(exactly_one_winner(&outcomes)
        .into_iter()
        .all(|e| matches!(e, RepoError::Refused(Refusal::InvitationClosed))));
    assert_eq!(members::list(&db, &ann).await.unwrap().len(), 2);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn find_my_workspace_leaves_out_workspaces_that_removed_the_person(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (alpha, ann) = tenant_and_owner(&db, "alpha").await;
    let (bravo, _) = tenant_and_owner(&db, "bravo").await;
    let bo_alpha = add_member(&db, &alpha, "bo@mail.test", Role::Member).await;
    add_member(&db, &bravo, "bo@mail.test", Role::Member).await;
    let slugs = |db: Db| async move {
        db::platform::directory::workspaces_for_email(&db, &email("bo@mail.test"))
            .await
            .unwrap()
            .into_iter()
            .map(|w| w.slug.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(slugs(db.clone()).await, vec!["alpha", "bravo"]);
    members::remove(&db, &ann, bo_alpha.member().user_id)
        .await
        .unwrap();
    assert_eq!(slugs(db.clone()).await, vec!["bravo"]);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn invitations_lose_the_power_their_sender_lost(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    set_limit(&db, tenant.id(), LimitKind::Members, 20).await;
    let bo = add_member(&db, &tenant, "bo@alpha.test", Role::Owner).await;
    let cy = add_member(&db, &tenant, "cy@alpha.test", Role::Admin).await;
    invites::invite(
        &db,
        &bo,
        &email("o@x.test"),
        Role::Owner,
        link("bo-owner"),
        delivered(),
    )
    .await
    .unwrap();
    invites::invite(
        &db,
        &bo,
        &email("a@x.test"),
        Role::Admin,
        link("bo-admin"),
        delivered(),
    )
    .await
    .unwrap();
    invites::invite(
        &db,
        &cy,
        &email("m@x.test"),
        Role::Member,
        link("cy-member"),
        delivered(),
    )
    .await
    .unwrap();

    // Bo, demoted to admin, can no longer have sent an owner's invitation; the admin one stays.
    members::change_role(&db, &ann, bo.member().user_id, Role::Admin)
        .await
        .unwrap();
    let state = |digest: &'static str| {
        let (db, tenant) = (db.clone(), tenant.clone());
        async move {
            invitations::find(&db, &tenant, digest)
                .await
                .unwrap()
                .unwrap()
                .state
        }
    };
    assert_eq!(
        state("bo-owner").await,
        invitations::InvitationState::Revoked
    );
    assert_eq!(state("bo-admin").await, invitations::InvitationState::Open);
    let err = invitations::accept(&db, &tenant, "bo-owner", &name("Sneaky"), hashed("h"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::InvitationClosed)),
        "{err:?}"
    );

    // Cy, removed, leaves no invitation behind.
    members::remove(&db, &ann, cy.member().user_id)
        .await
        .unwrap();
    assert_eq!(
        state("cy-member").await,
        invitations::InvitationState::Revoked
    );

    // And an owner demoted while a request was in flight cannot invite an owner from it.
    let dee = add_member(&db, &tenant, "dee@alpha.test", Role::Owner).await;
    members::change_role(&db, &ann, dee.member().user_id, Role::Member)
        .await
        .unwrap();
    let err = invites::invite(
        &db,
        &dee,
        &email("o2@x.test"),
        Role::Owner,
        link("dee-owner"),
        delivered(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::OwnersOnly)),
        "{err:?}"
    );
}

/// Hashing that must not happen: a dead link is refused before the hash is asked for.
async fn never_hashed() -> Result<String, std::convert::Infallible> {
    panic!("a password was hashed for a link that does not work")
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn dead_links_are_refused_before_any_password_is_hashed(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    invites::invite(
        &db,
        &ann,
        &email("late@x.test"),
        Role::Member,
        expired_link("late"),
        delivered(),
    )
    .await
    .unwrap();
    let unknown = invitations::accept(&db, &tenant, "bogus", &name("X"), never_hashed())
        .await
        .unwrap_err();
    assert!(matches!(unknown, RepoError::NotFound), "{unknown:?}");
    let expired = invitations::accept(&db, &tenant, "late", &name("X"), never_hashed())
        .await
        .unwrap_err();
    assert!(
        matches!(expired, RepoError::Refused(Refusal::InvitationClosed)),
        "{expired:?}"
    );
    let reset = auth::reset_password(&db, &tenant, "bogus", never_hashed()).await;
    assert_eq!(reset.unwrap(), None);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn an_invitation_whose_mail_fails_is_not_kept(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let failed = invites::invite(
        &db,
        &ann,
        &email("new@x.test"),
        Role::Member,
        link("d1"),
        async { Err::<(), _>("SMTP said no") },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&failed, RepoError::Delegated { detail, .. } if detail == "SMTP said no"),
        "{failed:?}"
    );
    assert!(invitations::find(&db, &tenant, "d1")
        .await
        .unwrap()
        .is_none());
    assert!(invites::open_invitations(&db, &ann)
        .await
        .unwrap()
        .is_empty());
    // Nothing holds the address: the retry is a fresh invitation, not "already invited".
    invites::invite(
        &db,
        &ann,
        &email("new@x.test"),
        Role::Member,
        link("d2"),
        delivered(),
    )
    .await
    .unwrap();

    // A resend whose mail fails keeps the link that was already sent.
    let id = invites::open_invitations(&db, &ann).await.unwrap()[0].id;
    let failed = invites::resend_invitation(&db, &ann, id, link("d3"), |_, _| async {
        Err::<(), _>("SMTP said no")
    })
    .await
    .unwrap_err();
    assert!(matches!(failed, RepoError::Delegated { .. }), "{failed:?}");
    assert!(invitations::find(&db, &tenant, "d2")
        .await
        .unwrap()
        .is_some());
    assert!(invitations::find(&db, &tenant, "d3")
        .await
        .unwrap()
        .is_none());
}
