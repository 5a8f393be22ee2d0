use std::sync::Arc;
use std::time::Duration;

use db::platform::console::ConsoleScope;
use db::{Db, Tenant, TenantScope};
use domain::{TenantId, UserId};
use serde::{Deserialize, Serialize};

use super::passwords::PasswordHasher;

/// What every handler may use, put into each request by the server: a handle, cloned into
/// every request's context, so one clone is one reference count (the parts behind it hold
/// some twenty more, which the profile of the product list showed at about 3% of the
/// server's CPU when each request cloned and dropped them all).
#[derive(Clone)]
pub struct Services(Arc<ServiceParts>);

impl Services {
    pub fn new(parts: ServiceParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for Services {
    type Target = ServiceParts;
    fn deref(&self) -> &ServiceParts {
        &self.0
    }
}

/// What [`Services`] hands out.
pub struct ServiceParts {
    pub db: Db,
    pub passwords: PasswordHasher,
    pub mailer: super::mail::Mailer,
    pub settings: Arc<SiteSettings>,
    /// Wakes the export worker when a job is queued.
    pub exports: super::exports::ExportQueue,
    /// Wakes the import worker when an import is queued.
    pub imports: super::imports::ImportQueue,
    /// What makes workspaces' own databases from this process, if the deployer lets it
    /// (owner URLs in its settings): the console's action, and registrations when new
    /// workspaces are placed by default.
    pub provisioner: Option<Arc<db::platform::provision::Provisioner>>,
    /// The cluster every new workspace gets a database of its own on (`None`: shared).
    pub new_workspaces: Option<String>,
}

/// After a change that keeps its own session (the member's role or name changed under it),
/// the next request must check the member again: the session gets a new id, and the old
/// one's end is announced to every process (`db::caches`), which forget what they kept of it.
pub async fn renew_session(
    session: &tower_sessions::Session,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await
}

/// The few runtime settings the pages need.
#[derive(Debug, Clone)]
pub struct SiteSettings {
    /// The host (and port) tenants live under, e.g. `localhost:3000`.
    pub base_domain: String,
    /// `http` or `https`, as the browser sees the site.
    pub scheme: String,
    pub session_absolute_timeout: Duration,
    pub session_idle_timeout: Duration,
    pub limits: PublicLimits,
    /// How long an invitation link works.
    pub invitation_ttl: Duration,
    /// How long a password reset link works.
    pub password_reset_ttl: Duration,
    /// How long a workspace its owner deleted is kept (and can be restored) before its erasure.
    pub deletion_grace: Duration,
    /// Development only: the public site lists the mail outbox at `/dev/outbox`.
    pub show_outbox: bool,
}

/// Hourly limits on what anyone may do without signing in.
#[derive(Debug, Clone, Copy)]
pub struct PublicLimits {
    pub registrations_per_address: i64,
    pub lookups_per_address: i64,
    pub lookups_per_email: i64,
    pub sign_in_failures_per_account: i64,
    pub sign_in_failures_per_address: i64,
    /// Failures allowed from one known device (which the account's count does not hold back).
    pub sign_in_failures_per_device: i64,
    pub sign_in_window_secs: i64,
    /// Invitation and password-reset links followed per address per hour.
    pub link_attempts_per_address: i64,
}

impl SiteSettings {
    pub fn public_url(&self) -> String {
        format!("{}://{}", self.scheme, self.base_domain)
    }

    pub fn workspace_url(&self, slug: &str) -> String {
        format!("{}://{}.{}", self.scheme, slug, self.base_domain)
    }

    pub fn console_url(&self) -> String {
        format!("{}://admin.{}", self.scheme, self.base_domain)
    }
}

/// Which part of the product a Host names.
#[derive(Debug, Clone)]
pub enum Site {
    Public,
    Console,
    Workspace(Tenant),
    UnknownWorkspace,
    SuspendedWorkspace(Tenant),
}

/// What the session remembers about who is signed in. The tenant is stored with the user so a
/// session can never be read as belonging to another workspace.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SignedIn {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    /// Unix seconds; the absolute session timeout counts from here.
    pub since: i64,
}

/// The session store indexes this entry to find a member's sessions (see `db`).
pub const AUTH_SESSION_KEY: &str = db::platform::sessions::SIGNED_IN_KEY;

/// What the session remembers about a console admin. A separate key from [`SignedIn`]: a
/// console session is never a tenant session, and the other way round.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConsoleSignedIn {
    pub admin_id: domain::AdminId,
    /// Unix seconds; the absolute session timeout counts from here.
    pub since: i64,
}

pub const CONSOLE_SESSION_KEY: &str = "console";

/// Everything the middleware learnt about a request. It sits in the request's extensions
/// behind an `Arc`, so a server function reaches it without copying it (see [`super::Call`]).
pub struct RequestContext {
    pub request_id: String,
    /// The peer's IP address, for throttling.
    pub client_address: String,
    pub site: Site,
    /// Present only when a member of this Host's tenant is signed in.
    pub scope: Option<TenantScope>,
    /// Present only on the console's host, when a console admin is signed in.
    pub console: Option<ConsoleScope>,
}

pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Signs `user_id` of `tenant` in on this browser: a new session id first (an id planted
/// before sign-in is worth nothing after it), then who is signed in and since when.
pub async fn start_member_session(
    session: &tower_sessions::Session,
    tenant: &Tenant,
    user_id: UserId,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session
        .insert(
            AUTH_SESSION_KEY,
            SignedIn {
                tenant_id: tenant.id(),
                user_id,
                since: now_unix(),
            },
        )
        .await
}
