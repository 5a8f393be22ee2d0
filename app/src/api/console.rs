//! The platform console on `admin.<base>`: console accounts sign in here (never tenant
//! members), list and inspect tenants, change plans and overrides, suspend and reactivate,
//! and read the audit log. Every function refuses unless a console admin is signed in on the
//! console's own host.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRow {
    pub slug: String,
    pub name: String,
    pub plan: String,
    pub suspended: bool,
    pub members: i64,
    pub products: i64,
    pub orders_this_month: i64,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantListView {
    pub tenants: Vec<TenantRow>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureSetting {
    pub code: String,
    pub name: String,
    pub enabled: bool,
    /// "on", "off", or "plan" (no override).
    pub setting: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitSetting {
    pub code: String,
    pub name: String,
    pub used: i64,
    /// The limit in force: "100" or "unlimited".
    pub effective: String,
    /// The override as the form shows it: "" (follow the plan), "unlimited" or a number.
    pub setting: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantDetailView {
    pub tenant: TenantRow,
    pub workspace_url: String,
    pub plan_code: String,
    pub plans: Vec<Choice>,
    pub features: Vec<FeatureSetting>,
    pub limits: Vec<LimitSetting>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub tenant: Option<String>,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    pub entries: Vec<AuditRow>,
    pub next: Option<String>,
    pub actions: Vec<String>,
}

#[cfg(feature = "ssr")]
fn row_of(t: db::platform::console::TenantOverview) -> TenantRow {
    TenantRow {
        slug: t.slug,
        name: t.name,
        plan: t.plan_name,
        suspended: t.status == domain::TenantStatus::Suspended,
        members: t.members,
        products: t.products,
        orders_this_month: t.orders_this_month,
        created_at: super::orders::when(t.created_at),
    }
}

#[cfg(feature = "ssr")]
struct Console {
    ctx: crate::ssr::RequestContext,
    db: db::Db,
    scope: db::platform::console::ConsoleScope,
}

#[cfg(feature = "ssr")]
impl Console {
    /// The request's console context: refuses on any other host, and without a console
    /// sign-in.
    fn open() -> Result<Self, AppError> {
        let ctx = crate::ssr::context::request_context()?;
        let scope = ctx.require_console()?.clone();
        Ok(Self {
            ctx,
            db: crate::ssr::context::services()?.db,
            scope,
        })
    }

    async fn tenant_id(&self, slug: &str) -> Result<domain::TenantId, AppError> {
        let slug = domain::Slug::parse(slug).map_err(|_| AppError::NotFound)?;
        db::platform::tenants::find_by_slug(&self.db, &slug)
            .await
            .map_err(|e| self.ctx.repo_error(e))?
            .map(|t| t.id())
            .ok_or(AppError::NotFound)
    }
}

/// Console sign-in, with the same rules as a workspace's: one generic message, throttled per
/// account and per address, a new session id, and a session that only the console accepts.
#[server]
pub async fn console_sign_in(email: String, password: String) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{now_unix, request_context, services, session};
            use crate::ssr::{ConsoleSignedIn, Site, CONSOLE_SESSION_KEY};
            use db::platform::console::{find_admin_credentials, record_admin_sign_in};
            use db::platform::rate_limits::{allow, take_back, Limit};

            const GENERIC: &str = "That email and password don't match a console account.";
            let ctx = request_context()?;
            if !matches!(ctx.site, Site::Console) {
                return Err(AppError::NotFound);
            }
            let services = services()?;
            let email = domain::Email::parse(&email)
                .map_err(|e| AppError::field("email", e.to_string()))?;
            let password = domain::Password::attempt(&password)
                .map_err(|_| AppError::field("password", GENERIC))?;
            let limits = services.settings.limits;
            let window = Limit {
                max: limits.sign_in_failures_per_account,
                window_secs: limits.sign_in_window_secs,
            };
            let per_address = Limit {
                max: limits.sign_in_failures_per_address,
                window_secs: limits.sign_in_window_secs,
            };
            let account_ok = allow(&services.db, "console-sign-in", email.as_str(), window)
                .await
                .map_err(|e| ctx.repo_error(e))?;
            let address_ok = account_ok
                && allow(&services.db, "console-sign-in-address", &ctx.client_address, per_address)
                    .await
                    .map_err(|e| ctx.repo_error(e))?;
            if !account_ok || !address_ok {
                tracing::warn!(request_id = %ctx.request_id, "console sign-in throttled");
                return Err(AppError::RateLimited {
                    message: format!(
                        "Too many failed sign-in attempts. Please wait {} minutes and try again.",
                        (limits.sign_in_window_secs / 60).max(1)
                    ),
                });
            }
            let credentials = find_admin_credentials(&services.db, &email)
                .await
                .map_err(|e| ctx.repo_error(e))?;
            let ok = services
                .passwords
                .verify(&password, credentials.as_ref().map(|c| c.password_hash.as_str()))
                .await
                .map_err(|e| ctx.internal("password check", e))?;
            let Some(credentials) = credentials.filter(|_| ok) else {
                return Err(AppError::Refused { message: GENERIC.into() });
            };
            // Only failures count against the limits: a success takes its attempts back.
            take_back(&services.db, "console-sign-in", email.as_str())
                .await
                .map_err(|e| ctx.repo_error(e))?;
            take_back(&services.db, "console-sign-in-address", &ctx.client_address)
                .await
                .map_err(|e| ctx.repo_error(e))?;
            record_admin_sign_in(&services.db, credentials.admin_id)
                .await
                .map_err(|e| ctx.repo_error(e))?;
            let session = session()?;
            session
                .cycle_id()
                .await
                .map_err(|e| ctx.internal("session cycle", e))?;
            session
                .insert(
                    CONSOLE_SESSION_KEY,
                    ConsoleSignedIn { admin_id: credentials.admin_id, since: now_unix() },
                )
                .await
                .map_err(|e| ctx.internal("session insert", e))?;
            tracing::info!(request_id = %ctx.request_id, admin = %credentials.admin_id, "console sign-in");
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

#[server]
pub async fn list_tenants(
    search: Option<String>,
    after: Option<String>,
) -> Result<TenantListView, AppError> {
    crate::ssr::context::with_status(
        async move {
            use super::products::{decode_cursor, encode_cursor, PAGE_SIZE};
            use db::platform::console::{list_tenants, TenantCursor};

            let console = Console::open()?;
            let after = after
                .as_deref()
                .filter(|c| !c.is_empty())
                .map(|c| decode_cursor(c).ok_or(AppError::NotFound))
                .transpose()?
                .map(|(created_at, id)| TenantCursor { created_at, id });
            let page = list_tenants(
                &console.db,
                &console.scope,
                search.as_deref(),
                after,
                PAGE_SIZE,
            )
            .await
            .map_err(|e| console.ctx.repo_error(e))?;
            let next = page
                .has_more
                .then(|| {
                    page.tenants
                        .last()
                        .map(|t| encode_cursor(t.created_at, t.id.as_uuid()))
                })
                .flatten();
            Ok(TenantListView {
                tenants: page.tenants.into_iter().map(row_of).collect(),
                next,
            })
        }
        .await,
    )
}

#[server]
pub async fn load_tenant(slug: String) -> Result<TenantDetailView, AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::services;

            let console = Console::open()?;
            let detail = db::platform::console::tenant_detail(&console.db, &console.scope, &slug)
                .await
                .map_err(|e| console.ctx.repo_error(e))?;
            let plans = db::platform::console::plans(&console.db)
                .await
                .map_err(|e| console.ctx.repo_error(e))?;
            let features = detail
                .entitlements
                .features
                .iter()
                .map(|f| FeatureSetting {
                    code: f.feature.clone(),
                    name: f.name.clone(),
                    enabled: f.enabled,
                    setting: detail
                        .feature_overrides
                        .iter()
                        .find(|o| o.feature == f.feature)
                        .map(|o| if o.enabled { "on" } else { "off" })
                        .unwrap_or("plan")
                        .to_owned(),
                })
                .collect();
            let limits = detail
                .entitlements
                .limits
                .iter()
                .map(|l| LimitSetting {
                    code: l.limit.clone(),
                    name: l.name.clone(),
                    used: l.used,
                    effective: l
                        .max
                        .map_or_else(|| "unlimited".to_owned(), |m| m.to_string()),
                    setting: detail
                        .limit_overrides
                        .iter()
                        .find(|o| o.limit == l.limit)
                        .map(|o| {
                            o.max
                                .map_or_else(|| "unlimited".to_owned(), |m| m.to_string())
                        })
                        .unwrap_or_default(),
                })
                .collect();
            let workspace_url = services()?.settings.workspace_url(&detail.overview.slug);
            Ok(TenantDetailView {
                plan_code: detail.overview.plan_code.clone(),
                tenant: row_of(detail.overview),
                workspace_url,
                plans: plans
                    .into_iter()
                    .map(|p| Choice {
                        code: p.code,
                        name: p.name,
                    })
                    .collect(),
                features,
                limits,
            })
        }
        .await,
    )
}

/// Moves a tenant to another plan; its next request already sees the new plan.
#[server]
pub async fn change_tenant_plan(slug: String, plan: String) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use db::platform::console::{change_plan, Actor};

            let console = Console::open()?;
            let tenant = console.tenant_id(&slug).await?;
            change_plan(
                &console.db,
                Actor::Console(&console.scope),
                tenant,
                &domain::PlanCode::new(plan.trim()),
            )
            .await
            .map_err(|e| console.ctx.repo_error(e))
        }
        .await,
    )
}

/// `status`: "active" or "suspended".
#[server]
pub async fn set_tenant_status(slug: String, status: String) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use domain::TenantStatus;

            let console = Console::open()?;
            let status = match status.as_str() {
                "active" => TenantStatus::Active,
                "suspended" => TenantStatus::Suspended,
                _ => return Err(AppError::field("status", "Choose active or suspended.")),
            };
            let tenant = console.tenant_id(&slug).await?;
            db::platform::console::set_status(&console.db, &console.scope, tenant, status)
                .await
                .map_err(|e| console.ctx.repo_error(e))
        }
        .await,
    )
}

/// `value`: "on", "off", or "plan" to remove the override.
#[server]
pub async fn set_feature_override(
    slug: String,
    feature: String,
    value: String,
) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            let console = Console::open()?;
            let enabled = match value.as_str() {
                "on" => Some(true),
                "off" => Some(false),
                "plan" => None,
                _ => {
                    return Err(AppError::field(
                        "value",
                        "Choose on, off, or follow the plan.",
                    ))
                }
            };
            let tenant = console.tenant_id(&slug).await?;
            db::platform::console::set_feature_override(
                &console.db,
                &console.scope,
                tenant,
                feature.trim(),
                enabled,
            )
            .await
            .map_err(|e| console.ctx.repo_error(e))
        }
        .await,
    )
}

/// `value`: a whole number, "unlimited", or empty to follow the plan again.
#[server]
pub async fn set_limit_override(
    slug: String,
    limit: String,
    value: String,
) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            let console = Console::open()?;
            let value = domain::LimitOverride::parse(&value)
                .map_err(|e| AppError::field(&format!("limit-{}", limit.trim()), e.to_string()))?;
            let tenant = console.tenant_id(&slug).await?;
            db::platform::console::set_limit_override(
                &console.db,
                &console.scope,
                tenant,
                limit.trim(),
                value,
            )
            .await
            .map_err(|e| console.ctx.repo_error(e))
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn compact(value: &Option<serde_json::Value>) -> String {
    value.as_ref().map(|v| v.to_string()).unwrap_or_default()
}

#[server]
pub async fn load_audit(
    tenant: Option<String>,
    action: Option<String>,
    actor: Option<String>,
    before: Option<String>,
) -> Result<AuditView, AppError> {
    crate::ssr::context::with_status(
        async move {
            use super::products::{decode_cursor, encode_cursor, PAGE_SIZE};
            use db::platform::console::{audit_log, AuditFilter};

            let console = Console::open()?;
            let before = before
                .as_deref()
                .filter(|c| !c.is_empty())
                .map(|c| decode_cursor(c).ok_or(AppError::NotFound))
                .transpose()?;
            let page = audit_log(
                &console.db,
                &console.scope,
                &AuditFilter {
                    tenant_slug: tenant.map(|t| t.trim().to_ascii_lowercase()),
                    action,
                    actor,
                    before,
                    limit: PAGE_SIZE * 2,
                },
            )
            .await
            .map_err(|e| console.ctx.repo_error(e))?;
            let next = page
                .has_more
                .then(|| page.entries.last().map(|e| encode_cursor(e.at, e.id)))
                .flatten();
            Ok(AuditView {
                entries: page
                    .entries
                    .into_iter()
                    .map(|e| AuditRow {
                        at: super::orders::when(e.at),
                        before: compact(&e.before),
                        after: compact(&e.after),
                        actor: e.actor,
                        action: e.action,
                        tenant: e.tenant_slug,
                    })
                    .collect(),
                next,
                actions: [
                    "change_plan",
                    "set_feature_override",
                    "set_limit_override",
                    "suspend",
                    "reactivate",
                ]
                .into_iter()
                .map(str::to_owned)
                .collect(),
            })
        }
        .await,
    )
}
