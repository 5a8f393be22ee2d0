//! Keyset cursors of the API's lists: the last row's creation time and id, bound to the
//! workspace and the list they came from, so a cursor that was edited, or taken from another
//! workspace or another list, is refused with a clear problem instead of paging somewhere
//! odd. (It could never show another workspace's rows: every query is scoped anyway.)

use domain::TenantId;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::problem::{ApiError, Kind};

/// Which list a cursor pages through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Products,
    Orders,
}

impl List {
    fn name(self) -> &'static str {
        match self {
            List::Products => "products",
            List::Orders => "orders",
        }
    }
}

fn seal(tenant: TenantId, list: List, body: &str) -> String {
    let digest = Sha256::digest(format!("{tenant}/{}/{body}", list.name()).as_bytes());
    hex::encode(&digest[..8])
}

pub fn encode(tenant: TenantId, list: List, created_at: OffsetDateTime, id: Uuid) -> String {
    let body = format!("{}.{}", created_at.unix_timestamp_nanos(), id.simple());
    let seal = seal(tenant, list, &body);
    format!("{body}.{seal}")
}

/// The position a cursor names, or a problem on the `cursor` parameter.
pub fn decode(
    tenant: TenantId,
    list: List,
    cursor: &str,
) -> Result<(OffsetDateTime, Uuid), ApiError> {
    let refuse = || {
        ApiError::field(
            Kind::InvalidParameter,
            "cursor",
            "This cursor was not issued by this list in this workspace. Start again from the first page.",
        )
    };
    let (body, given) = cursor.rsplit_once('.').ok_or_else(refuse)?;
    if seal(tenant, list, body) != given {
        return Err(refuse());
    }
    let (nanos, id) = body.split_once('.').ok_or_else(refuse)?;
    let at = nanos
        .parse::<i128>()
        .ok()
        .and_then(|n| OffsetDateTime::from_unix_timestamp_nanos(n).ok())
        .filter(|at| (1..=9999).contains(&at.year()))
        .ok_or_else(refuse)?;
    let id = Uuid::parse_str(id).map_err(|_| refuse())?;
    Ok((at, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_only_work_in_their_own_workspace_and_list() {
        let alpha = TenantId::from_uuid(Uuid::from_u128(1));
        let bravo = TenantId::from_uuid(Uuid::from_u128(2));
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let id = Uuid::from_u128(99);
        let cursor = encode(alpha, List::Products, at, id);
        assert_eq!(decode(alpha, List::Products, &cursor).unwrap(), (at, id));
        assert!(decode(bravo, List::Products, &cursor).is_err());
        assert!(decode(alpha, List::Orders, &cursor).is_err());
        let tampered = cursor.replacen('1', "2", 1);
        let err = decode(alpha, List::Products, &tampered).unwrap_err();
        assert_eq!(err.problem.errors[0].field, "cursor");
        assert!(decode(alpha, List::Products, "").is_err());
    }
}
