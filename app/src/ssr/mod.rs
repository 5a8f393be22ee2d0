//! Server-only plumbing shared by the server functions: how a request's site, session and
//! scope are reached, and how repository errors become [`crate::AppError`]s.

pub mod bundles;
pub mod call;
pub mod chunks;
pub mod context;
pub mod cookies;
pub mod exports;
pub mod handoff;
pub mod imports;
pub mod mail;
pub mod passwords;
pub mod security;
pub mod tokens;

pub use call::{Call, ConsoleCall, MemberCall};
pub use context::{
    ConsoleSignedIn, RequestContext, ServiceParts, Services, SignedIn, Site, AUTH_SESSION_KEY,
    CONSOLE_SESSION_KEY,
};
