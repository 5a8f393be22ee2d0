//! Tenant-owned aggregates. Every function takes the [`crate::TenantScope`] first and runs
//! inside its transaction.
pub mod api_tokens;
pub mod customers;
pub mod dashboard;
pub mod exports;
pub mod idempotency;
pub mod imports;
pub mod invitations;
pub mod members;
pub mod orders;
pub mod plan;
pub mod products;
pub mod shares;

/// The page size the screens and the API ask for unless told otherwise. The product, order
/// and customer lists' first such page, unfiltered, has a statement planned once (see
/// [`products::list`]), which fetches one row more to learn whether another page follows.
pub const DEFAULT_PAGE: i64 = 25;
// Those statements' `LIMIT 26` is this plus one, written out: SQL checked at compile time
// cannot take it from a constant.
const _: () = assert!(
    DEFAULT_PAGE == 25,
    "update LIMIT 26 in the products, orders and customers lists"
);
