//! What a server function starts from. [`Call::open`] reaches the request's context and the
//! services once; [`MemberCall`] and [`ConsoleCall`] add the check of who is signed in. A
//! repository error becomes the person's error here, and only here, logged once with the
//! request id and the tenant.

use std::future::Future;
use std::sync::Arc;

use db::platform::console::ConsoleScope;
use db::{Db, LineProblem, Refusal, RepoError, Tenant, TenantScope};
use domain::{Currency, Role};
use leptos::prelude::with_context;

use super::context::{RequestContext, Services, Site, SiteSettings};
use crate::{AppError, FieldError};

/// The request a server function serves: who asks, on which site, with which services.
pub struct Call {
    ctx: Arc<RequestContext>,
    services: Services,
}

impl Call {
    /// The current request's context. Only fails when called outside a request (a bug).
    pub fn open() -> Result<Self, AppError> {
        with_context::<http::request::Parts, _>(|parts| {
            Some(Self {
                ctx: parts.extensions.get::<Arc<RequestContext>>()?.clone(),
                services: parts.extensions.get::<Services>()?.clone(),
            })
        })
        .flatten()
        .ok_or_else(|| {
            tracing::error!("server function called outside a request with our context");
            AppError::Internal {
                request_id: "none".into(),
            }
        })
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    pub fn db(&self) -> &Db {
        &self.services.db
    }

    pub fn settings(&self) -> &SiteSettings {
        &self.services.settings
    }

    pub fn request_id(&self) -> &str {
        &self.ctx.request_id
    }

    /// The client's address, for per-address limits.
    pub fn client_address(&self) -> &str {
        &self.ctx.client_address
    }

    pub fn site(&self) -> &Site {
        &self.ctx.site
    }

    /// The console admin signed in on this host, if any (for the header).
    pub fn console_admin_name(&self) -> Option<String> {
        self.ctx.console.as_ref().map(|c| c.name().to_owned())
    }

    /// The session of this browser (present on every site).
    pub fn session(&self) -> Result<tower_sessions::Session, AppError> {
        with_context::<http::request::Parts, _>(|parts| {
            parts.extensions.get::<tower_sessions::Session>().cloned()
        })
        .flatten()
        .ok_or_else(|| self.internal("session", "the session layer is missing"))
    }

    /// Refuses unless this request is on the public site (registration, "find my workspace").
    pub fn require_public(&self) -> Result<(), AppError> {
        match self.ctx.site {
            Site::Public => Ok(()),
            _ => Err(AppError::NotFound),
        }
    }

    /// The active workspace this Host names, for the few calls made before sign-in.
    pub fn workspace(&self) -> Result<&Tenant, AppError> {
        match &self.ctx.site {
            Site::Workspace(tenant) => Ok(tenant),
            _ => Err(AppError::NotFound),
        }
    }

    /// Awaits a repository call and turns its error into the person's.
    pub async fn run<T>(
        &self,
        work: impl Future<Output = Result<T, RepoError>>,
    ) -> Result<T, AppError> {
        work.await.map_err(|err| self.fail(err))
    }

    /// Maps a repository failure to what the person sees, logging the detail once, here.
    pub fn fail(&self, err: RepoError) -> AppError {
        match err {
            RepoError::NotFound => AppError::NotFound,
            RepoError::Forbidden => AppError::Forbidden,
            RepoError::Conflict { field } => AppError::field(field, conflict_message(field)),
            RepoError::Invalid { field } => AppError::field(field, invalid_message(field)),
            RepoError::PlanRequired { feature, plans } => AppError::PlanRequired { feature, plans },
            RepoError::LimitReached { max, unit, .. } => AppError::LimitReached {
                message: format!(
                    "Your plan allows {max} {unit}, and this workspace has reached that limit."
                ),
            },
            RepoError::Refused(Refusal::OrderLines(problems)) => order_lines_error(problems, |n| n),
            RepoError::Refused(refusal) => AppError::Refused {
                message: refusal_message(&refusal),
            },
            RepoError::Delegated { what, detail } => self.internal(what, detail),
            RepoError::BadInput(source) => {
                tracing::warn!(request_id = %self.ctx.request_id, tenant = %self.tenant_label(), error = %source, "input refused by the database");
                AppError::BadInput
            }
            RepoError::LockTimeout { at } => {
                tracing::warn!(request_id = %self.ctx.request_id, tenant = %self.tenant_label(), statement = %at, "lock wait timed out");
                AppError::Unavailable
            }
            RepoError::StatementTimeout { at } => {
                tracing::warn!(request_id = %self.ctx.request_id, tenant = %self.tenant_label(), statement = %at, "statement timed out");
                AppError::TooSlow
            }
            RepoError::ShareUsedUp { places } => {
                tracing::warn!(request_id = %self.ctx.request_id, tenant = %self.tenant_label(), places, "connection share used up");
                AppError::Unavailable
            }
            RepoError::Unavailable(source) => {
                tracing::warn!(request_id = %self.ctx.request_id, tenant = %self.tenant_label(), error = %source, "database unavailable");
                AppError::Unavailable
            }
            RepoError::Moving => {
                tracing::info!(request_id = %self.ctx.request_id, tenant = %self.tenant_label(), "refused while the workspace moves between databases");
                AppError::Moving
            }
            // A member's transactions are never read-only but for a freeze.
            RepoError::WritesFrozen => {
                tracing::info!(request_id = %self.ctx.request_id, tenant = %self.tenant_label(), "write refused: the workspace's writes are frozen for a move");
                AppError::Moving
            }
            RepoError::Behind => {
                tracing::warn!(request_id = %self.ctx.request_id, tenant = %self.tenant_label(), "refused: the workspace's database lacks a migration (run `server migrate`)");
                AppError::Unavailable
            }
            RepoError::Internal(source) => {
                tracing::error!(request_id = %self.ctx.request_id, tenant = %self.tenant_label(), error = %source, "repository error");
                AppError::Internal {
                    request_id: self.ctx.request_id.clone(),
                }
            }
        }
    }

    /// A failure outside the repository (hashing, mail, the session store): logged with its
    /// detail, shown as a reference only.
    pub fn internal(&self, what: &str, detail: impl std::fmt::Display) -> AppError {
        tracing::error!(request_id = %self.ctx.request_id, tenant = %self.tenant_label(), error = %detail, "{what}");
        AppError::Internal {
            request_id: self.ctx.request_id.clone(),
        }
    }

    fn tenant_label(&self) -> String {
        match &self.ctx.site {
            Site::Workspace(t) | Site::SuspendedWorkspace(t) => t.id().to_string(),
            _ => "-".to_owned(),
        }
    }

    /// The signed-in member of this Host's workspace, or the error a person should see.
    pub fn member(self) -> Result<MemberCall, AppError> {
        match (&self.ctx.site, &self.ctx.scope) {
            (Site::Workspace(tenant), Some(scope)) => Ok(MemberCall {
                tenant: tenant.clone(),
                scope: scope.clone(),
                call: self,
            }),
            (Site::Workspace(_), None) => Err(AppError::Unauthenticated),
            _ => Err(AppError::NotFound),
        }
    }

    /// The signed-in console admin; on any other host there is nothing here.
    pub fn console(self) -> Result<ConsoleCall, AppError> {
        match (&self.ctx.site, &self.ctx.console) {
            (Site::Console, Some(scope)) => Ok(ConsoleCall {
                scope: scope.clone(),
                call: self,
            }),
            (Site::Console, None) => Err(AppError::Unauthenticated),
            _ => Err(AppError::NotFound),
        }
    }
}

/// A call made by a signed-in member of the Host's workspace: the tenant-side twin of
/// [`ConsoleCall`]. Holding one means both the workspace and the member were checked.
pub struct MemberCall {
    call: Call,
    scope: TenantScope,
    tenant: Tenant,
}

impl MemberCall {
    pub fn open() -> Result<Self, AppError> {
        Call::open()?.member()
    }

    pub fn scope(&self) -> &TenantScope {
        &self.scope
    }

    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    pub fn currency(&self) -> &Currency {
        self.tenant.currency()
    }

    pub fn role(&self) -> Role {
        self.scope.member().role
    }

    /// Refuses unless the member's role is at least `role`. The repository checks again; this
    /// is for answers that must not even start the work.
    pub fn require(&self, role: Role) -> Result<(), AppError> {
        if self.role().at_least(role) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

impl std::ops::Deref for MemberCall {
    type Target = Call;
    fn deref(&self) -> &Call {
        &self.call
    }
}

/// A call made by a signed-in platform console admin on the console's host.
pub struct ConsoleCall {
    call: Call,
    scope: ConsoleScope,
}

impl ConsoleCall {
    pub fn open() -> Result<Self, AppError> {
        Call::open()?.console()
    }

    pub fn scope(&self) -> &ConsoleScope {
        &self.scope
    }
}

impl std::ops::Deref for ConsoleCall {
    type Target = Call;
    fn deref(&self) -> &Call {
        &self.call
    }
}

/// Each line's problem as a field error on that line. `form_line` maps the repository's line
/// number (of the lines sent) to the line the person sees on the form.
pub fn order_lines_error(
    problems: Vec<LineProblem>,
    form_line: impl Fn(usize) -> usize,
) -> AppError {
    let fields = problems
        .into_iter()
        .map(|problem| {
            let (line, message) = match problem {
                LineProblem::UnknownProduct { line } => {
                    (line, "This product does not exist.".to_owned())
                }
                LineProblem::Archived { line, name } => {
                    (line, format!("{name} is archived and cannot be ordered."))
                }
                LineProblem::OutOfStock { line, name, left } => {
                    (line, format!("Not enough {name} in stock: {left} left."))
                }
                LineProblem::Duplicate { line, first_line } => (
                    line,
                    format!("This product is already on line {}.", form_line(first_line)),
                ),
            };
            FieldError {
                field: crate::api::orders::line_field(form_line(line)),
                message,
            }
        })
        .collect();
    AppError::Validation { fields }
}

pub(crate) fn bounds_message(min: i64, max: Option<i64>) -> String {
    match max {
        Some(max) => format!("Enter a whole number from {min} to {max}, or \"unlimited\"."),
        None => format!("Enter a whole number of {min} or more, or \"unlimited\"."),
    }
}

pub fn invalid_message(field: &str) -> &'static str {
    match field {
        "plan" => "There is no such plan.",
        "feature" => "There is no such feature.",
        "limit" => "There is no such limit.",
        "cluster" => "There is no such cluster on this server.",
        _ => "This value is not valid.",
    }
}

pub fn refusal_message(refusal: &Refusal) -> String {
    match refusal {
        Refusal::LastOwner => {
            "A workspace needs at least one owner. Make someone else an owner first.".into()
        }
        Refusal::OwnersOnly => "Only an owner can give, change or take away the owner role.".into(),
        Refusal::AlreadyMember => ALREADY_MEMBER.into(),
        Refusal::InvitationClosed => {
            "This invitation can no longer be used: it was accepted, withdrawn, or has expired."
                .into()
        }
        Refusal::NotOnYourself => "You can't do that to your own account.".into(),
        Refusal::TooManyPendingExports => {
            "Several exports are still running. Please wait for them to finish.".into()
        }
        Refusal::ArchiveUnderWay => {
            "An export of the whole workspace is already under way: it appears below when it is ready.".into()
        }
        Refusal::DedicatedDatabase => {
            "This workspace has a database of its own, which this action does not reach yet.".into()
        }
        Refusal::HoldsData => {
            "This workspace already holds products, orders or customers: it can only be moved, not provisioned.".into()
        }
        Refusal::DatabaseExists { database } => format!(
            "The cluster already has a database named {database}, which is not this workspace's: nothing was changed."
        ),
        Refusal::PlacementUnderWay => {
            "Another provisioning, move or purge of this workspace is running. Try again when it has finished.".into()
        }
        Refusal::MoveUnderWay { to } => format!(
            "A move of this workspace to {to} is under way, or keeps its old copy for a while: run that move again to finish it."
        ),
        Refusal::NotActive => {
            "This workspace is suspended or closed: reactivate it before moving it.".into()
        }
        Refusal::AlreadyThere { place } => {
            format!("This workspace already lives in {place}: nothing to move.")
        }
        Refusal::SchemaDiffers => {
            "The two databases are not on the same schema version: run `server migrate` first. Nothing was changed.".into()
        }
        Refusal::DestinationHoldsRows { table } => format!(
            "The destination already holds rows of this workspace (in {table}), which no move under way put there: nothing was written."
        ),
        Refusal::CopyDiffers { table } => format!(
            "The copy of {table} did not match its source: the move was abandoned, the copy discarded, and the workspace is served from where it was."
        ),
        Refusal::PlacedElsewhere { cluster } => format!(
            "This workspace is already placed, or being provisioned, on the cluster \"{cluster}\"."
        ),
        Refusal::ExportExpired => {
            "This export has expired. Please ask for a new one.".into()
        }
        Refusal::Stale => STALE.into(),
        Refusal::EmptyOrder => "Add at least one product.".into(),
        Refusal::ImportHasErrors => {
            "Some lines of this file have errors, so nothing was imported. Correct them and upload the file again.".into()
        }
        Refusal::TooManyLines => format!(
            "An order can have at most {} lines.",
            db::tenant::orders::MAX_LINES
        ),
        Refusal::TotalTooLarge => {
            "This order's total is too large. Split it into smaller orders.".into()
        }
        Refusal::Transition { from, to } => format!(
            "A {} order cannot become {}.",
            from.label().to_lowercase(),
            to.label().to_lowercase()
        ),
        Refusal::OrderLines(_) => "Some lines of this order cannot be served.".into(),
        Refusal::OutOfBounds { min, max } => bounds_message(*min, *max),
    }
}

pub const ALREADY_MEMBER: &str = "This person is already a member of this workspace.";

const STALE: &str = "This product changed after you opened it (an order may have taken stock). Reload the page to see the current figures, then make your change again.";

pub fn conflict_message(field: &str) -> &'static str {
    match field {
        "slug" => "This address is already taken. Please pick another one.",
        "email" => "This email address is already in use here (or already invited: resend that invitation instead).",
        "sku" => "Another product in this workspace already has this SKU.",
        "customer_email" => "Another customer already has this email address: choose them instead.",
        "status" => "This workspace is no longer active.",
        "purge" => "Only a closed workspace is purged: suspend it first.",
        _ => "This value is already in use.",
    }
}
