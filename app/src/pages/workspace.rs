use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::api::SiteKind;
use crate::components::{
    with_site, Field, Frame, Notice, NoticeKind, SessionActions, SubmitButton,
};
use crate::{AppError, SiteInfo};

fn workspace_name(info: &SiteInfo) -> String {
    match &info.kind {
        SiteKind::Workspace { name, .. } => name.clone(),
        _ => "Stockroom".into(),
    }
}

#[component]
pub fn Dashboard(info: SiteInfo) -> impl IntoView {
    let Some(viewer) = info.viewer.clone() else {
        return view! { <Redirect path="/login" /> }.into_any();
    };
    let name = workspace_name(&info);
    view! {
        <Title text=name.clone() />
        <Frame title=name.clone() info>
            <h1 class="text-2xl font-semibold" data-testid="dashboard-heading">{format!("Welcome, {}", viewer.name)}</h1>
            <p class="mt-2 text-slate-600">
                {format!("You are signed in to {name} as {} ({}).", viewer.email, viewer.role.label())}
            </p>
        </Frame>
    }
    .into_any()
}

#[component]
pub fn SignIn() -> impl IntoView {
    with_site(|info| match info.kind {
        SiteKind::Workspace { .. } if info.viewer.is_some() => {
            view! { <Redirect path="/" /> }.into_any()
        }
        SiteKind::Workspace { .. } => view! { <SignInForm info /> }.into_any(),
        _ => view! { <super::NotFound /> }.into_any(),
    })
}

#[component]
fn SignInForm(info: SiteInfo) -> impl IntoView {
    let action = expect_context::<SessionActions>().sign_in;
    let name = workspace_name(&info);
    let error_for = move |field: &'static str| {
        Signal::derive(move || match action.value().get() {
            Some(Err(err)) => err.message_for(field),
            _ => None,
        })
    };
    let general_error = move || match action.value().get() {
        Some(Err(AppError::Validation { .. })) | None | Some(Ok(())) => None,
        Some(Err(err)) => Some(err.to_string()),
    };
    view! {
        <Title text=format!("Sign in to {name}") />
        <Frame title=name.clone() info>
            <div class="mx-auto max-w-sm">
                <h1 class="text-2xl font-semibold">{format!("Sign in to {name}")}</h1>
                <ActionForm action attr:class="mt-6 space-y-3" attr:novalidate="true">
                    <Field name="email" label="Email" kind="email" autocomplete="username" error=error_for("email") />
                    <Field name="password" label="Password" kind="password" autocomplete="current-password" error=error_for("password") />
                    {move || general_error().map(|text| view! { <Notice kind=NoticeKind::Error text /> })}
                    <SubmitButton label="Sign in" pending=action.pending() />
                </ActionForm>
            </div>
        </Frame>
    }
}
