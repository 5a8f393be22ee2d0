//! The vocabulary the server functions share: page size and keyset cursors, plan usage, and
//! how a moment is written on screen.

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::AppError;

/// Bytes for a reader in the largest unit that keeps them at 1 or more: one decimal below 10,
/// whole units above, which is all an estimate is worth.
pub fn approx_size(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes.max(0) as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    match unit {
        0 => format!("{value:.0} B"),
        _ if value < 10.0 => format!("{value:.1} {}", UNITS[unit]),
        _ => format!("{value:.0} {}", UNITS[unit]),
    }
}

/// Rows per page in every list.
pub const PAGE_SIZE: i64 = 25;
// The lists' usual first pages are planned once only at this size.
#[cfg(feature = "ssr")]
const _: () = assert!(PAGE_SIZE == db::tenant::DEFAULT_PAGE);

/// A plan limit and how much of it is used, e.g. "8 / 10 members".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageView {
    pub used: i64,
    /// `None`: unlimited.
    pub max: Option<i64>,
    pub unit: String,
}

impl UsageView {
    /// "8 / 10 members", or "8 members" when unlimited.
    pub fn label(&self) -> String {
        match self.max {
            Some(max) => format!("{} / {} {}", self.used, max, self.unit),
            None => format!("{} {}", self.used, self.unit),
        }
    }

    pub fn is_full(&self) -> bool {
        self.max.is_some_and(|max| self.used >= max)
    }
}

#[cfg(feature = "ssr")]
pub(crate) fn usage_of(usage: &db::tenant::plan::LimitUsage) -> UsageView {
    UsageView {
        used: usage.used,
        max: usage.max,
        unit: usage.unit.clone(),
    }
}

/// A moment as every screen writes it: "2026-11-23 14:05 UTC".
#[cfg(feature = "ssr")]
pub(crate) fn when(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// Opaque keyset cursor: the last row's creation time (nanoseconds) and id.
#[cfg(feature = "ssr")]
pub(crate) fn encode_cursor(created_at: time::OffsetDateTime, id: uuid::Uuid) -> String {
    format!("{}_{}", created_at.unix_timestamp_nanos(), id.simple())
}

/// The inverse of [`encode_cursor`]. A moment outside the years 1–9999 never came from us
/// (and would not fit PostgreSQL's range), so it does not decode.
#[cfg(feature = "ssr")]
pub(crate) fn decode_cursor(cursor: &str) -> Option<(time::OffsetDateTime, uuid::Uuid)> {
    let (nanos, id) = cursor.split_once('_')?;
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(nanos.parse().ok()?).ok()?;
    if !(1..=9999).contains(&at.year()) {
        return None;
    }
    Some((at, uuid::Uuid::parse_str(id).ok()?))
}

/// Where a list page starts, as a server function receives it: blank is the first page; a
/// cursor that does not decode was not made by us and finds nothing.
#[cfg(feature = "ssr")]
pub(crate) fn page_after(
    after: Option<&str>,
) -> Result<Option<(time::OffsetDateTime, uuid::Uuid)>, AppError> {
    after
        .filter(|c| !c.is_empty())
        .map(|c| decode_cursor(c).ok_or(AppError::NotFound))
        .transpose()
}

/// A search box's text: blank is no filter; junk is refused on the box's own field.
#[cfg(feature = "ssr")]
pub(crate) fn search(
    field: &str,
    typed: Option<&str>,
) -> Result<Option<domain::SearchText>, AppError> {
    domain::SearchText::parse(typed.unwrap_or_default())
        .map_err(|e| AppError::field(field, e.to_string()))
}

/// The cursor of the page after `rows`, when there is one.
#[cfg(feature = "ssr")]
pub(crate) fn next_cursor<T>(
    has_more: bool,
    rows: &[T],
    key: impl Fn(&T) -> (time::OffsetDateTime, uuid::Uuid),
) -> Option<String> {
    has_more
        .then(|| {
            rows.last().map(|row| {
                let (at, id) = key(row);
                encode_cursor(at, id)
            })
        })
        .flatten()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_what_we_never_made() {
        let at = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let id = uuid::Uuid::from_u128(7);
        assert_eq!(decode_cursor(&encode_cursor(at, id)), Some((at, id)));
        assert_eq!(decode_cursor("garbage"), None);
        // Year -5000: the time crate reads it, PostgreSQL could not store it.
        let ancient = time::OffsetDateTime::from_unix_timestamp(-220_000_000_000).unwrap();
        assert_eq!(decode_cursor(&encode_cursor(ancient, id)), None);
    }

    #[test]
    fn sizes_read_in_the_largest_whole_unit() {
        assert_eq!(approx_size(0), "0 B");
        assert_eq!(approx_size(-5), "0 B");
        assert_eq!(approx_size(999), "999 B");
        assert_eq!(approx_size(1_000), "1.0 KB");
        assert_eq!(approx_size(493_762), "494 KB");
        assert_eq!(approx_size(4_937_620), "4.9 MB");
        assert_eq!(approx_size(12_000_000_000_000_000), "12000 TB");
    }
}
