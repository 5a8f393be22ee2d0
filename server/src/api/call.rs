//! What an API handler starts from: the checked token's scope, its workspace and the
//! services, and the one place a repository error becomes a problem document.

use std::sync::Arc;

use app::ssr::call::{conflict_message, invalid_message, refusal_message};
use app::ssr::Services;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use db::{ApiAccess, Db, LineProblem, Refusal, RepoError, Tenant, TenantScope};

use super::problem::{ApiError, FieldProblem, Kind};

/// A call made with a valid token on its own workspace's host; put into the request by
/// [`super::auth::authenticate`], so holding one means both were checked.
#[derive(Clone)]
pub struct ApiCall {
    pub access: ApiAccess,
    pub tenant: Tenant,
    pub services: Services,
    pub request_id: String,
}

impl<S: Send + Sync> FromRequestParts<S> for ApiCall {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Arc<ApiCall>>()
            .map(|call| (**call).clone())
            .ok_or_else(|| {
                tracing::error!("an API handler ran without the token check");
                ApiError::internal("none")
            })
    }
}

impl ApiCall {
    pub fn db(&self) -> &Db {
        &self.services.db
    }

    pub fn scope(&self) -> &TenantScope {
        &self.access.scope
    }

    pub fn currency(&self) -> &domain::Currency {
        self.tenant.currency()
    }

    /// Awaits a repository call and turns its error into a problem.
    pub async fn run<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, RepoError>>,
    ) -> Result<T, ApiError> {
        match work.await {
            Ok(value) => Ok(value),
            Err(err) => Err(self.fail(err).await),
        }
    }

    /// The problem a repository error answers with. Internal detail is logged here, once,
    /// with the request id, the tenant and the token's prefix; the answer holds none of it.
    pub async fn fail(&self, err: RepoError) -> ApiError {
        let (request_id, tenant, token) = (&self.request_id, self.tenant.id(), &self.access.prefix);
        match err {
            RepoError::NotFound => ApiError::not_found(),
            RepoError::Forbidden => ApiError::new(
                Kind::Forbidden,
                "The token acts with its creator's role, which does not allow this.",
            ),
            RepoError::Conflict { field } => {
                ApiError::field(Kind::Validation, field, conflict_message(field))
            }
            RepoError::Invalid { field } => {
                ApiError::field(Kind::Validation, field, invalid_message(field))
            }
            RepoError::PlanRequired { feature, plans } => ApiError::new(
                Kind::PlanRequired,
                format!("{feature} is not included in this workspace's plan."),
            )
            .with_plans(plans),
            RepoError::LimitReached { limit, max, unit } => {
                let plans =
                    db::tenant::plan::plans_allowing_more(self.db(), self.scope(), limit, max)
                        .await
                        .unwrap_or_default();
                ApiError::new(
                    Kind::PlanLimit,
                    format!("This workspace's plan allows {max} {unit}, and they are all in use."),
                )
                .with_plans(plans)
            }
            RepoError::Refused(refusal) => refused(refusal),
            RepoError::BadInput(source) => {
                tracing::warn!(request_id = %request_id, tenant = %tenant, token = %token, error = %source, "input refused by the database");
                ApiError::new(
                    Kind::MalformedBody,
                    "Something in this request cannot be stored. Check for unusual characters.",
                )
            }
            RepoError::LockTimeout { at } => {
                tracing::warn!(request_id = %request_id, tenant = %tenant, token = %token, statement = %at, "lock wait timed out");
                unavailable()
            }
            RepoError::Unavailable(source) => {
                tracing::warn!(request_id = %request_id, tenant = %tenant, token = %token, error = %source, "database unavailable");
                unavailable()
            }
            RepoError::Moving => {
                tracing::info!(request_id = %request_id, tenant = %tenant, token = %token, "refused while the workspace moves between databases");
                unavailable()
            }
            RepoError::WritesFrozen if self.access.scope.is_read_only() => ApiError::new(
                Kind::ReadOnlyToken,
                "This token was created read-only. Create a read-write token to change anything.",
            ),
            RepoError::WritesFrozen => {
                tracing::info!(request_id = %request_id, tenant = %tenant, token = %token, "write refused: the workspace's writes are frozen for a move");
                app::AppError::Moving.into()
            }
            RepoError::Behind => {
                tracing::warn!(request_id = %request_id, tenant = %tenant, token = %token, "refused: the workspace's database lacks a migration (run `server migrate`)");
                unavailable()
            }
            RepoError::StatementTimeout { at } => {
                tracing::warn!(request_id = %request_id, tenant = %tenant, token = %token, statement = %at, "statement timed out");
                ApiError::new(Kind::Unavailable, app::AppError::TooSlow.to_string())
                    .with_retry_after(5)
            }
            RepoError::ShareUsedUp { places } => {
                tracing::warn!(request_id = %request_id, tenant = %tenant, token = %token, places, "connection share used up");
                unavailable()
            }
            RepoError::Delegated { what, detail } => {
                tracing::error!(request_id = %request_id, tenant = %tenant, token = %token, error = %detail, "{what}");
                ApiError::internal(request_id)
            }
            RepoError::Internal(source) => {
                tracing::error!(request_id = %request_id, tenant = %tenant, token = %token, error = %source, "repository error");
                ApiError::internal(request_id)
            }
        }
    }
}

pub fn unavailable() -> ApiError {
    ApiError::new(
        Kind::Unavailable,
        "The service is busy or restarting. Please try again in a moment.",
    )
}

/// Business rules in the API's terms: a stale edit is a conflict, order problems are
/// validation errors on the lines at fault, a forbidden workflow step is one on `status`.
fn refused(refusal: Refusal) -> ApiError {
    let message = refusal_message(&refusal);
    match refusal {
        Refusal::Stale => ApiError::new(
            Kind::StaleVersion,
            "The product changed after you read it (an order may have taken stock). Read it again and send its new version.",
        ),
        Refusal::Transition { .. } => ApiError::field(Kind::Validation, "status", message),
        Refusal::EmptyOrder | Refusal::TooManyLines | Refusal::TotalTooLarge => {
            ApiError::field(Kind::Validation, "lines", message)
        }
        Refusal::OrderLines(problems) => {
            ApiError::fields(Kind::Validation, problems.into_iter().map(line_problem).collect())
        }
        _ => ApiError::new(Kind::Forbidden, message),
    }
}

fn line_problem(problem: LineProblem) -> FieldProblem {
    // The repository counts lines from 1, as people read; a JSON path counts from 0.
    let at = |line: usize, member: &str| format!("lines[{}].{member}", line.saturating_sub(1));
    let (field, message) = match problem {
        LineProblem::UnknownProduct { line } => (
            at(line, "product_id"),
            "There is no such product in this workspace.".to_owned(),
        ),
        LineProblem::Archived { line, name } => (
            at(line, "product_id"),
            format!("{name} is archived and cannot be ordered."),
        ),
        LineProblem::OutOfStock { line, name, left } => (
            at(line, "quantity"),
            format!("Not enough {name} in stock: {left} left."),
        ),
        LineProblem::Duplicate { line, first_line } => (
            at(line, "product_id"),
            format!(
                "This product is already on lines[{}].",
                first_line.saturating_sub(1)
            ),
        ),
    };
    FieldProblem { field, message }
}
