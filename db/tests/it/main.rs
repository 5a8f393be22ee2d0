//! The repository tests, built as one test binary. Every file directly under `tests/` would be
//! a binary of its own, and each links the whole stack (sqlx, tokio, the db crate); one binary
//! compiles and links that once, which is what keeps `cargo test` bearable on two cores.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod api_tokens;
mod catalog;
mod common;
mod customers;
mod databases;
mod demo;
mod first_pages;
mod imports;
#[cfg(feature = "testing")]
mod moves;
mod orders_and_products;
// Needs `db::testing` (the feature `./dev test` turns on through the server's dev-dependency).
#[cfg(feature = "testing")]
mod placements;
#[cfg(feature = "testing")]
mod placements_jobs;
#[cfg(feature = "testing")]
mod placements_platform;
mod plans;
mod platform;
#[cfg(feature = "testing")]
mod provisioning;
mod purge;
mod rls;
mod shares;
mod team;
