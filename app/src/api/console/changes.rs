//! What a console admin changes about one workspace: its plan, its status, and its own
//! exceptions to the plan. Each change is audited by the repository.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::tenant_id;
use crate::AppError;

/// Moves a tenant to another plan; its next request already sees the new plan.
#[server(output = crate::codec::TextJson)]
pub async fn change_tenant_plan(slug: String, plan: String) -> Result<(), AppError> {
    use db::platform::console::{change_plan, Actor};

    let call = crate::ssr::ConsoleCall::open()?;
    let plan = domain::PlanCode::parse(&plan)
        .ok_or_else(|| AppError::field("plan", "There is no such plan."))?;
    let tenant = tenant_id(&call, &slug).await?;
    call.run(change_plan(
        call.db(),
        Actor::Console(call.scope()),
        tenant,
        &plan,
    ))
    .await
}

/// `status`: "active" or "suspended".
#[server(output = crate::codec::TextJson)]
pub async fn set_tenant_status(slug: String, status: String) -> Result<(), AppError> {
    use domain::TenantStatus;

    let call = crate::ssr::ConsoleCall::open()?;
    let status = match status.as_str() {
        "active" => TenantStatus::Active,
        "suspended" => TenantStatus::Suspended,
        _ => return Err(AppError::field("status", "Choose active or suspended.")),
    };
    let tenant = tenant_id(&call, &slug).await?;
    call.run(db::platform::console::set_status(
        call.db(),
        call.scope(),
        tenant,
        status,
    ))
    .await
}

/// `value`: "on", "off", or "plan" to remove the override.
#[server(output = crate::codec::TextJson)]
pub async fn set_feature_override(
    slug: String,
    feature: String,
    value: String,
) -> Result<(), AppError> {
    let call = crate::ssr::ConsoleCall::open()?;
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
    let feature = domain::parse_code(&feature)
        .ok_or_else(|| AppError::field("feature", "There is no such feature."))?;
    let tenant = tenant_id(&call, &slug).await?;
    call.run(db::platform::console::set_feature_override(
        call.db(),
        call.scope(),
        tenant,
        feature,
        enabled,
    ))
    .await
}

/// `value`: a whole number, "unlimited", or empty to follow the plan again.
#[server(output = crate::codec::TextJson)]
pub async fn set_limit_override(
    slug: String,
    limit: String,
    value: String,
) -> Result<(), AppError> {
    let call = crate::ssr::ConsoleCall::open()?;
    let limit = domain::parse_code(&limit)
        .ok_or_else(|| AppError::field("limit", "There is no such limit."))?;
    let field = format!("limit-{limit}");
    let value =
        domain::LimitOverride::parse(&value).map_err(|e| AppError::field(&field, e.to_string()))?;
    let tenant = tenant_id(&call, &slug).await?;
    let changed =
        db::platform::console::set_limit_override(call.db(), call.scope(), tenant, limit, value)
            .await;
    // Each limit knows what it accepts; the refusal belongs beside that limit's field.
    if let Err(db::RepoError::Refused(db::Refusal::OutOfBounds { min, max })) = changed {
        return Err(AppError::field(
            &field,
            crate::ssr::call::bounds_message(min, max),
        ));
    }
    call.run(async { changed }).await
}

/// Gives a shared workspace a database of its own on `cluster`, one this server can make
/// databases on (its settings hold that cluster's owner URL): made, migrated, its rows copied
/// and switched while it answers "try again" for a few seconds. Only a new or empty
/// workspace: moving one with data is another operation.
#[server(output = crate::codec::TextJson)]
pub async fn provision_tenant(slug: String, cluster: String) -> Result<(), AppError> {
    use db::platform::provision::OwnedActor;

    let call = crate::ssr::ConsoleCall::open()?;
    let tenant = tenant_id(&call, &slug).await?;
    let Some(provisioner) = call.services().provisioner.clone() else {
        return Err(AppError::field(
            "cluster",
            "This server cannot make databases (its settings hold no owner URL): run `server tenant provision` instead.",
        ));
    };
    let actor = OwnedActor::Console(call.scope().clone());
    call.run(async move { provisioner.place(tenant, &cluster, actor).await.map(|_| ()) })
        .await
}

/// Moves a workspace's data to `to` ("shared" or a cluster this server can act on as its
/// owner), from where it is now (a cluster this server can act on too). Returns once its
/// writes are frozen and the move is recorded; the move goes on in the background and the
/// workspace's page follows it. Its writes are refused until the switch; its reads carry on.
#[server(output = crate::codec::TextJson)]
pub async fn move_tenant(slug: String, to: String) -> Result<(), AppError> {
    use db::platform::moves::Target;
    use db::platform::provision::OwnedActor;

    let call = crate::ssr::ConsoleCall::open()?;
    let tenant = tenant_id(&call, &slug).await?;
    let Some(provisioner) = call.services().provisioner.clone() else {
        return Err(AppError::field(
            "to",
            "This server cannot move workspaces (its settings hold no owner URL): run `server tenant move` instead.",
        ));
    };
    let actor = OwnedActor::Console(call.scope().clone());
    let started = provisioner
        .start_move(tenant, Target::parse(to.trim()), actor)
        .await;
    if let Err(db::RepoError::Invalid { field: "cluster" }) = started {
        return Err(AppError::field(
            "to",
            "This server cannot act on that cluster (no owner URL for it in its settings).",
        ));
    }
    call.run(async { started }).await
}
