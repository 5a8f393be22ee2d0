//! API tokens on the workspace's settings page: list, create (the secret is shown once) and
//! revoke. OWNER and ADMIN only; the repository enforces it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub role: domain::ApiTokenRole,
    pub created_by: String,
    pub created_at: String,
    /// "Never" when it was not used yet.
    pub last_used: String,
    /// "Never" when it does not expire.
    pub expires: String,
    /// "Active", "Expired" or "Revoked".
    pub state: String,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokensView {
    pub tokens: Vec<ApiTokenRow>,
    pub usage: Option<super::common::UsageView>,
    /// The address of this workspace's API, e.g. `http://acme.localhost:3000/api/v1`.
    pub api_url: String,
}

/// A token just made: its secret is in this answer and nowhere else, ever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiToken {
    pub name: String,
    pub prefix: String,
    pub secret: String,
}

/// Expiry choices the form offers, in days; blank means the token does not expire.
pub const EXPIRY_DAYS: [u16; 4] = [7, 30, 90, 365];

#[server(output = crate::codec::TextJson)]
pub async fn load_api_tokens() -> Result<ApiTokensView, AppError> {
    use super::common::{usage_of, when};

    let call = crate::ssr::MemberCall::open()?;
    call.require(domain::Role::Admin)?;
    let (db, scope) = (call.db(), call.scope());
    let tokens = call.run(db::tenant::api_tokens::list(db, scope)).await?;
    let entitlements = call.run(db::tenant::plan::entitlements(db, scope)).await?;
    let now = time::OffsetDateTime::now_utc();
    Ok(ApiTokensView {
        tokens: tokens
            .into_iter()
            .map(|t| {
                let expired = t.expires_at.is_some_and(|at| at <= now);
                let state = match (t.revoked_at.is_some(), expired) {
                    (true, _) => "Revoked",
                    (false, true) => "Expired",
                    (false, false) => "Active",
                };
                ApiTokenRow {
                    id: t.id.to_string(),
                    name: t.name,
                    prefix: t.prefix,
                    role: t.role,
                    created_by: t.created_by,
                    created_at: when(t.created_at),
                    last_used: t.last_used_at.map(when).unwrap_or_else(|| "Never".into()),
                    expires: t.expires_at.map(when).unwrap_or_else(|| "Never".into()),
                    active: state == "Active",
                    state: state.into(),
                }
            })
            .collect(),
        usage: entitlements
            .limit(domain::LimitKind::ApiTokens)
            .filter(|u| u.max.is_some())
            .map(usage_of),
        api_url: format!(
            "{}/api/v1",
            call.settings().workspace_url(call.tenant().slug().as_str())
        ),
    })
}

/// Makes a token acting for the caller. `role` is `read` or `write`; `expires_in_days` is
/// blank (never) or one of [`EXPIRY_DAYS`].
#[server(output = crate::codec::TextJson)]
pub async fn create_api_token(
    name: String,
    role: String,
    expires_in_days: String,
) -> Result<CreatedApiToken, AppError> {
    use crate::FieldErrors;
    use db::tenant::api_tokens::{create, NewApiToken};

    let call = crate::ssr::MemberCall::open()?;
    call.require(domain::Role::Admin)?;
    let mut errors = FieldErrors::default();
    let name = errors.check("name", domain::TokenName::parse(&name));
    let role = errors.check("role", role.parse::<domain::ApiTokenRole>());
    let expiry = errors.check("expires_in_days", expiry(&expires_in_days));
    let (name, role, expiry) = errors.into_values((name, role, expiry))?;
    let minted = crate::ssr::tokens::new_api_token(call.tenant().id());
    let expires_at =
        expiry.map(|days| time::OffsetDateTime::now_utc() + time::Duration::days(days));
    call.run(create(
        call.db(),
        call.scope(),
        &NewApiToken {
            name: &name,
            role,
            prefix: &minted.prefix,
            digest: &minted.digest,
            expires_at,
        },
    ))
    .await?;
    tracing::info!(request_id = %call.request_id(), tenant = %call.tenant().id(), prefix = %minted.prefix, "api token created");
    Ok(CreatedApiToken {
        name: name.as_str().to_owned(),
        prefix: minted.prefix,
        secret: minted.secret,
    })
}

#[cfg(feature = "ssr")]
fn expiry(days: &str) -> Result<Option<i64>, &'static str> {
    match days.trim() {
        "" => Ok(None),
        days => days
            .parse::<u16>()
            .ok()
            .filter(|d| EXPIRY_DAYS.contains(d))
            .map(|d| Some(i64::from(d)))
            .ok_or("Choose one of the offered expiry periods."),
    }
}

#[server(output = crate::codec::TextJson)]
pub async fn revoke_api_token(id: String) -> Result<(), AppError> {
    let call = crate::ssr::MemberCall::open()?;
    let id = uuid::Uuid::parse_str(id.trim())
        .map(domain::ApiTokenId::from_uuid)
        .map_err(|_| AppError::NotFound)?;
    call.run(db::tenant::api_tokens::revoke(call.db(), call.scope(), id))
        .await?;
    tracing::info!(request_id = %call.request_id(), tenant = %call.tenant().id(), token = %id, "api token revoked");
    Ok(())
}
