//! Tenant-owned aggregates. Every function takes the [`crate::TenantScope`] first and runs
//! inside its transaction.
pub mod members;
