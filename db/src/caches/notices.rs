//! What the processes tell each other on [`CHANNEL`]: the changes to what they keep, and the
//! probes a process sends itself to learn it has heard everything committed before them.

use domain::{TenantId, UserId};

use super::Probe;

/// The channel every process listens on.
pub const CHANNEL: &str = "stockroom_cache";

/// What changed, as a notification names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A session was saved or deleted; its key is the digest it is stored under.
    Session(String),
    /// A workspace's registry row, plan or overrides changed; its sessions may have ended.
    Tenant(TenantId),
    /// An API token was revoked; its key is the digest of its secret.
    ApiToken(String),
    /// A member's role changed or they left: the tokens they made act with their role.
    Member(UserId),
}

impl Change {
    pub fn payload(&self) -> String {
        match self {
            Change::Session(key) => format!("s:{key}"),
            Change::Tenant(id) => format!("t:{id}"),
            Change::ApiToken(digest) => format!("k:{digest}"),
            Change::Member(id) => format!("m:{id}"),
        }
    }

    /// `None` for a payload this build does not know: the caller forgets everything.
    pub fn parse(payload: &str) -> Option<Self> {
        let digest = |key: &str| key.len() == 64 && key.chars().all(|c| c.is_ascii_hexdigit());
        let id = |id: &str| uuid::Uuid::parse_str(id).ok();
        match payload.split_once(':')? {
            ("s", key) if digest(key) => Some(Change::Session(key.to_owned())),
            ("k", key) if digest(key) => Some(Change::ApiToken(key.to_owned())),
            ("t", tenant) => id(tenant).map(|id| Change::Tenant(TenantId::from_uuid(id))),
            ("m", user) => id(user).map(|id| Change::Member(UserId::from_uuid(id))),
            _ => None,
        }
    }
}

/// Whether `payload` is some process's probe (`p:<32 hex digits>:<number>`).
pub(super) fn is_probe(payload: &str) -> bool {
    let Some((from, number)) = payload
        .strip_prefix("p:")
        .and_then(|rest| rest.split_once(':'))
    else {
        return false;
    };
    from.len() == 32 && from.chars().all(|c| c.is_ascii_hexdigit()) && number.parse::<u64>().is_ok()
}

/// Announces `change` to every process, this one included, when the caller's transaction
/// commits (and not at all if it rolls back).
pub(crate) async fn announce(
    conn: &mut sqlx::PgConnection,
    change: &Change,
) -> Result<(), sqlx::Error> {
    notify(conn, &change.payload()).await
}

/// Sends `probe` to every listening process; only the one that made it takes note.
pub(crate) async fn send_probe(
    conn: &mut sqlx::PgConnection,
    probe: &Probe,
) -> Result<(), sqlx::Error> {
    notify(conn, &probe.payload).await
}

async fn notify(conn: &mut sqlx::PgConnection, payload: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_notify($1, $2) AS \"sent!\"", CHANNEL, payload)
        .fetch_one(conn)
        .await?;
    Ok(())
}

/// Announces that `user`'s role changed or that they left, in the caller's transaction: the
/// tokens they made act with their role, so every process forgets them. The caller forgets
/// the returned change itself once it has committed.
pub(crate) async fn member_changed(
    conn: &mut sqlx::PgConnection,
    user: UserId,
) -> Result<Change, sqlx::Error> {
    let change = Change::Member(user);
    announce(conn, &change).await?;
    Ok(change)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_junk_is_refused() {
        let key = "a".repeat(64);
        let tenant = TenantId::from_uuid(uuid::Uuid::from_u128(5));
        let user = UserId::from_uuid(uuid::Uuid::from_u128(6));
        for change in [
            Change::Session(key.clone()),
            Change::Tenant(tenant),
            Change::ApiToken(key),
            Change::Member(user),
        ] {
            assert_eq!(Change::parse(&change.payload()), Some(change));
        }
        for junk in [
            "",
            "s:",
            "s:short",
            "t:not-a-uuid",
            "x:1",
            "nonsense",
            "s:zz",
            "k:short",
            "m:not-a-uuid",
        ] {
            assert_eq!(Change::parse(junk), None, "{junk}");
        }
    }
}
