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
