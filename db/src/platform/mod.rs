//! The deliberately unscoped operations: what runs before a tenant or a member is known.
//! Each one is small and says plainly which tenant data, if any, it can reach.

pub mod auth;
pub mod console;
pub mod demo;
pub mod directory;
pub(crate) mod doorbells;
pub mod generator;
pub mod invitations;
pub mod lifecycle;
pub mod moves;
pub mod operator;
pub mod provision;
pub mod purge;
pub mod rate_limits;
pub mod registration;
pub mod sessions;
pub mod tenants;
pub mod throttle;
