//! The whole-stack tests, built as one test binary. Every file directly under `tests/` would
//! be a binary of its own, and each links the whole stack (the server, the app, leptos, axum,
//! sqlx); one binary compiles and links that once, which is what keeps `cargo test` bearable
//! on two cores.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod api;
mod console;
mod customers;
mod fair_share;
mod hardening;
mod hostile;
mod imports;
mod lifecycle;
mod mail;
mod moves;
mod nodes;
mod operator;
mod picker;
mod placed_tenancy;
mod provision;
mod rehash;
mod rendering;
mod shutdown;
mod support;
mod team;
mod tenancy;
mod workspace_export;
