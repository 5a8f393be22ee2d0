//! The caches' rules on their own, without a database.

use super::*;

fn record() -> Record {
    Record {
        id: tower_sessions::session::Id::default(),
        data: Default::default(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    }
}

#[test]
fn sessions_are_kept_only_while_listening_and_not_across_a_change() {
    let caches = Caches::new(Duration::from_secs(60));
    let key = "b".repeat(64);
    caches.keep_session(caches.epoch(), key.clone(), None, &record());
    assert!(
        caches.session(&key).is_none(),
        "not listening: nothing kept"
    );

    caches.set_listening(true);
    caches.keep_session(caches.epoch(), key.clone(), None, &record());
    assert!(caches.session(&key).is_some());

    // A change heard while a read was under way: what the read found is not kept.
    let before = caches.epoch();
    caches.apply(&Change::Session(key.clone()));
    assert!(caches.session(&key).is_none());
    caches.keep_session(before, key.clone(), None, &record());
    assert!(caches.session(&key).is_none());

    // A gap in listening forgets everything.
    caches.keep_session(caches.epoch(), key.clone(), None, &record());
    assert_eq!(caches.listener_losses(), 0);
    caches.set_listening(false);
    // A failed attempt to listen again is not another loss.
    caches.set_listening(false);
    assert_eq!(caches.listener_losses(), 1);
    caches.set_listening(true);
    assert!(caches.session(&key).is_none());
}

#[tokio::test]
async fn a_probe_is_heard_back_by_its_own_process_only() {
    let (mine, theirs) = (
        Caches::new(Duration::from_secs(60)),
        Caches::new(Duration::from_secs(60)),
    );
    assert!(mine.probe().is_none(), "not listening: nothing to wait for");
    mine.set_listening(true);
    theirs.set_listening(true);
    let key = "c".repeat(64);
    theirs.keep_session(theirs.epoch(), key.clone(), None, &record());

    let probe = mine.probe().expect("listening");
    let payload = probe.payload.clone();
    assert!(is_probe(&payload), "{payload}");
    let later = mine.probe().expect("listening");
    mine.hear(&payload);
    assert!(probe.heard_within(Duration::from_millis(1)).await);
    assert!(
        !later.heard_within(Duration::from_millis(20)).await,
        "a later probe is not heard by hearing an earlier one"
    );

    // Another process's probe neither marks anything heard nor forgets anything.
    let before = theirs.epoch();
    theirs.hear(&payload);
    assert!(theirs.unchanged_since(before));
    assert!(theirs.session(&key).is_some());
    // A malformed one is junk: everything is forgotten.
    theirs.hear("p:not-a-process:1");
    assert!(theirs.session(&key).is_none());
}

#[tokio::test]
async fn losing_the_listener_ends_the_wait_for_a_probe() {
    let caches = Caches::new(Duration::from_secs(60));
    caches.set_listening(true);
    let probe = caches.probe().expect("listening");
    caches.set_listening(false);
    assert!(probe.heard_within(Duration::from_millis(1)).await);
    caches.set_listening(true);
    let next = caches.probe().expect("listening again");
    assert!(!next.heard_within(Duration::from_millis(20)).await);
}

#[test]
fn a_tenant_change_forgets_its_sessions_only() {
    let caches = Caches::new(Duration::from_secs(60));
    caches.set_listening(true);
    let (a, b) = (
        TenantId::from_uuid(uuid::Uuid::from_u128(1)),
        TenantId::from_uuid(uuid::Uuid::from_u128(2)),
    );
    let (ka, kb) = ("1".repeat(64), "2".repeat(64));
    caches.keep_session(caches.epoch(), ka.clone(), Some(a), &record());
    caches.keep_session(caches.epoch(), kb.clone(), Some(b), &record());
    caches.apply(&Change::Tenant(a));
    assert!(caches.session(&ka).is_none());
    assert!(caches.session(&kb).is_some());
}
