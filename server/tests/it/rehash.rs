//! Hashes made with older password settings are replaced at the next sign-in, for members
//! and console accounts alike, without signing anyone out.

use app::ssr::passwords::{HashCost, PasswordHasher};
use axum::http::HeaderMap;
use domain::{Email, Password, PersonName, Role};

use crate::support::{session_cookie, test_hasher, TestApp};

/// Settings the test server no longer uses.
fn older_hasher() -> PasswordHasher {
    PasswordHasher::new(
        HashCost {
            memory_kib: 2048,
            iterations: 2,
            parallelism: 1,
        },
        1,
    )
    .unwrap()
}

async fn older_hash(password: &str) -> String {
    older_hasher()
        .hash(&Password::new_choice(password).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_members_old_hash_is_replaced_when_they_sign_in() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let tenant = app.tenant("alpha").await;
    let email = Email::parse("mia@alpha.test").unwrap();
    let old = older_hash("mia-password-1").await;
    db::platform::operator::add_member(
        &app.database.db,
        &tenant,
        &email,
        &PersonName::parse("Mia").unwrap(),
        Role::Member,
        &old,
    )
    .await
    .unwrap();
    let stored = || async {
        db::platform::auth::find_credentials(&app.database.db, &tenant, &email)
            .await
            .unwrap()
            .unwrap()
            .password_hash
    };
    assert!(test_hasher().needs_rehash(&stored().await));

    let refused = app
        .sign_in("alpha", "mia@alpha.test", "mia-password-2")
        .await;
    assert!(session_cookie(&refused).is_none());
    assert_eq!(stored().await, old, "a wrong password replaces nothing");

    let first = session_cookie(
        &app.sign_in("alpha", "mia@alpha.test", "mia-password-1")
            .await,
    )
    .expect("the old hash still signs in");
    let replaced = stored().await;
    assert_ne!(replaced, old);
    assert!(!test_hasher().needs_rehash(&replaced));

    let second = session_cookie(
        &app.sign_in("alpha", "mia@alpha.test", "mia-password-1")
            .await,
    )
    .expect("the new hash signs in");
    assert_eq!(stored().await, replaced, "a current hash is not replaced");
    assert!(app.signed_in("alpha", &first).await);
    assert!(app.signed_in("alpha", &second).await);
    assert!(app.signed_in("alpha", &owner).await);
}

#[tokio::test]
async fn a_console_accounts_old_hash_is_replaced_when_it_signs_in() {
    let app = TestApp::spawn().await;
    let email = Email::parse("root@platform.test").unwrap();
    let old = older_hash("console-password-1").await;
    db::platform::console::create_admin(
        &app.database.db,
        &email,
        &PersonName::parse("Root").unwrap(),
        &old,
    )
    .await
    .unwrap();
    let stored = || async {
        db::platform::console::find_admin_credentials(&app.database.db, &email)
            .await
            .unwrap()
            .unwrap()
            .password_hash
    };
    let response = app
        .call::<app::api::console::ConsoleSignIn>(
            Some("admin"),
            &[
                ("email", "root@platform.test"),
                ("password", "console-password-1"),
            ],
            None,
            HeaderMap::new(),
        )
        .await;
    assert!(session_cookie(&response).is_some());
    let replaced = stored().await;
    assert_ne!(replaced, old);
    assert!(!test_hasher().needs_rehash(&replaced));
    assert!(test_hasher()
        .verify(
            &Password::attempt("console-password-1").unwrap(),
            Some(&replaced)
        )
        .await
        .unwrap());
}
