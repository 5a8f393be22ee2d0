//! The vocabulary both halves of the app share. Every type here parses its input once, at the
//! edge, so code that holds one never re-checks it. Nothing here may depend on a server-only
//! crate: this crate is compiled to wasm too.

mod email;
mod ids;
mod name;
mod password;
mod role;
mod slug;
mod tenant;

pub use email::{Email, EmailError};
pub use ids::{TenantId, UserId};
pub use name::{PersonName, PersonNameError, WorkspaceName, WorkspaceNameError};
pub use password::{Password, PasswordError, MIN_PASSWORD_CHARS};
pub use role::{Role, RoleParseError};
pub use slug::{Slug, SlugError};
pub use tenant::{PlanCode, TenantStatus};
