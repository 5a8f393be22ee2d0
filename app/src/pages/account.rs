use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::layout::workspace_page;
use crate::api::account::{
    check_reset_link, load_invitation, load_profile, ChangePassword, InvitationView, ProfileView,
    RequestPasswordReset, UpdateProfile,
};
use crate::api::SiteKind;
use crate::components::{
    field_error, focus_first_error, form_error, with_site, ErrorNotice, Field, Frame, Notice,
    NoticeKind, SessionActions, SubmitButton,
};
use crate::{AppError, SiteInfo};

/// A page of a workspace that people reach before they are signed in (an emailed link, the
/// "forgot password" form): the workspace frame without its navigation.
fn workspace_door<V: IntoView + 'static>(
    render: impl Fn(SiteInfo, String) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView {
    with_site(move |info| match info.kind.clone() {
        SiteKind::Workspace { name, .. } => {
            let content = render(info.clone(), name.clone());
            view! { <Frame title=name info>{content}</Frame> }.into_any()
        }
        _ => view! { <super::NotFound /> }.into_any(),
    })
}

fn token_param() -> impl Fn() -> String + Copy {
    let params = use_params_map();
    move || params.read().get("token").unwrap_or_default()
}

/// `/invite/:token`: shows who invited whom, then asks the invitee for a name and password.
#[component]
pub fn InvitePage() -> impl IntoView {
    let invitation = Resource::new(token_param(), load_invitation);
    workspace_door(move |_, _| view! { <AcceptInvitationForm invitation /> })
}

#[component]
fn AcceptInvitationForm(invitation: Resource<Result<InvitationView, AppError>>) -> impl IntoView {
    let token = token_param();
    let action = expect_context::<SessionActions>().accept_invitation;
    view! {
        <Title text="Accept your invitation" />
        <div class="mx-auto max-w-md">
            <Suspense fallback=|| view! { <p class="text-slate-500">"Checking your invitation…"</p> }>
                {move || Suspend::new(async move {
                    match invitation.await {
                        Err(err) => view! { <ErrorNotice err /> }.into_any(),
                        Ok(InvitationView::Unusable { reason }) => view! {
                            <h1 class="text-2xl font-semibold">"This invitation can't be used"</h1>
                            <p class="mt-2 text-slate-700" data-testid="invitation-unusable">{reason}</p>
                            <a href="/login" class="mt-4 inline-block text-indigo-700 underline">"Go to sign-in"</a>
                        }.into_any(),
                        Ok(InvitationView::Open { workspace, email, role, invited_by }) => {
                            let general_error = form_error(action);
                            focus_first_error(action);
                            view! {
                                <h1 class="text-2xl font-semibold">{format!("Join {workspace}")}</h1>
                                <p class="mt-2 text-slate-700" data-testid="invitation-summary">
                                    {format!("{invited_by} invited {email} to join as {}.", role.label())}
                                </p>
                                <ActionForm action attr:class="mt-6 space-y-3" attr:novalidate="true">
                                    <input type="hidden" name="token" value=token() />
                                    <div class="space-y-1">
                                        <label for="invite-email" class="block text-sm font-medium text-slate-700">"Email"</label>
                                        <input id="invite-email" type="email" value=email readonly autocomplete="username"
                                            class="block w-full rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-slate-600" />
                                    </div>
                                    <Field name="name" label="Your name" autocomplete="name" error=field_error(action, "name") />
                                    <Field name="password" label="Choose a password" kind="password" autocomplete="new-password"
                                        hint="At least 10 characters." error=field_error(action, "password") />
                                    {move || general_error.get().map(|text| view! { <Notice kind=NoticeKind::Error text /> })}
                                    <SubmitButton label="Join the workspace" pending=action.pending() />
                                </ActionForm>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </div>
    }
}

/// `/forgot`: asks for the email and mails a reset link if it has an account here.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    workspace_door(|_, name| view! { <ForgotForm name /> })
}

#[component]
fn ForgotForm(name: String) -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    let outcome = move || {
        match action.value().get() {
        Some(Ok(())) => Some(
            view! {
                <p class="rounded-md border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm text-emerald-800" role="status" data-testid="reset-sent">
                    "If that address has an account here, we have emailed it a link to choose a new password."
                </p>
            }
            .into_any(),
        ),
        Some(Err(AppError::Validation { .. })) | None => None,
        Some(Err(err)) => Some(view! { <Notice kind=NoticeKind::Error text=err.to_string() /> }.into_any()),
    }
    };
    view! {
        <Title text="Forgot your password?" />
        <div class="mx-auto max-w-sm">
            <h1 class="text-2xl font-semibold">"Forgot your password?"</h1>
            <p class="mt-1 text-slate-600">{format!("Enter the email you use for {name}. We'll send you a link to choose a new password.")}</p>
            <ActionForm action attr:class="mt-6 space-y-3" attr:novalidate="true">
                <Field name="email" label="Email" kind="email" autocomplete="username" error=field_error(action, "email") />
                {outcome}
                <SubmitButton label="Email me a reset link" pending=action.pending() />
            </ActionForm>
            <a href="/login" class="mt-4 inline-block text-sm text-indigo-700 underline">"Back to sign-in"</a>
        </div>
    }
}

/// `/reset/:token`: chooses a new password with an emailed link.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let valid = Resource::new(token_param(), check_reset_link);
    workspace_door(move |_, _| view! { <ResetForm valid /> })
}

#[component]
fn ResetForm(valid: Resource<Result<bool, AppError>>) -> impl IntoView {
    let token = token_param();
    let action = expect_context::<SessionActions>().reset_password;
    let general_error = form_error(action);
    focus_first_error(action);
    view! {
        <Title text="Choose a new password" />
        <div class="mx-auto max-w-sm">
            <Suspense fallback=|| view! { <p class="text-slate-500">"Checking your link…"</p> }>
                {move || Suspend::new(async move {
                    match valid.await {
                        Err(err) => view! { <ErrorNotice err /> }.into_any(),
                        Ok(false) => view! {
                            <h1 class="text-2xl font-semibold">"This link no longer works"</h1>
                            <p class="mt-2 text-slate-700" data-testid="reset-unusable">
                                "It has expired or was already used. You can ask for a new one."
                            </p>
                            <a href="/forgot" class="mt-4 inline-block text-indigo-700 underline">"Send me a new link"</a>
                        }.into_any(),
                        Ok(true) => view! {
                            <h1 class="text-2xl font-semibold">"Choose a new password"</h1>
                            <ActionForm action attr:class="mt-6 space-y-3" attr:novalidate="true">
                                <input type="hidden" name="token" value=token() />
                                <Field name="password" label="New password" kind="password" autocomplete="new-password"
                                    hint="At least 10 characters." error=field_error(action, "password") />
                                {move || general_error.get().map(|text| view! { <Notice kind=NoticeKind::Error text /> })}
                                <SubmitButton label="Set password and sign in" pending=action.pending() />
                            </ActionForm>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

/// `/profile`: the signed-in member's name and password.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let rename = ServerAction::<UpdateProfile>::new();
    let password = ServerAction::<ChangePassword>::new();
    let profile = Resource::new(move || rename.version().get(), |_| load_profile());
    workspace_page(move |_| view! { <Profile rename password profile /> })
}

#[component]
fn Profile(
    rename: ServerAction<UpdateProfile>,
    password: ServerAction<ChangePassword>,
    profile: Resource<Result<ProfileView, AppError>>,
) -> impl IntoView {
    let password_general = form_error(password);
    let rename_general = form_error(rename);
    focus_first_error(password);
    focus_first_error(rename);
    let password_changed = move || matches!(password.value().get(), Some(Ok(())));
    let renamed = move || matches!(rename.value().get(), Some(Ok(())));
    view! {
        <Title text="Your profile" />
        <div class="max-w-xl space-y-8">
            <h1 class="text-2xl font-semibold">"Your profile"</h1>
            <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match profile.await {
                        Err(err) => view! { <ErrorNotice err /> }.into_any(),
                        Ok(me) => {
                            let name = RwSignal::new(me.name.clone());
                            view! {
                                <section class="rounded-lg border border-slate-200 bg-white p-4">
                                    <p class="text-sm text-slate-600" data-testid="profile-email">{format!("{} · {}", me.email, me.role.label())}</p>
                                    <ActionForm action=rename attr:class="mt-3 space-y-3" attr:novalidate="true">
                                        <Field name="name" label="Name" autocomplete="name" value=name error=field_error(rename, "name") />
                                        {move || rename_general.get().map(|text| view! { <Notice kind=NoticeKind::Error text /> })}
                                        {move || renamed().then(|| view! { <p class="text-sm text-emerald-700" role="status">"Name saved."</p> })}
                                        <SubmitButton label="Save name" pending=rename.pending() />
                                    </ActionForm>
                                </section>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
            <section class="rounded-lg border border-slate-200 bg-white p-4">
                <h2 class="text-lg font-semibold">"Change password"</h2>
                <p class="text-sm text-slate-600">"You stay signed in here; every other browser signed in as you is signed out."</p>
                <ActionForm action=password attr:class="mt-3 space-y-3" attr:novalidate="true">
                    <Field name="current" label="Current password" kind="password" autocomplete="current-password" error=field_error(password, "current") />
                    <Field name="new_password" label="New password" kind="password" autocomplete="new-password"
                        hint="At least 10 characters." error=field_error(password, "new_password") />
                    {move || password_general.get().map(|text| view! { <Notice kind=NoticeKind::Error text /> })}
                    {move || password_changed().then(|| view! {
                        <p class="text-sm text-emerald-700" role="status" data-testid="password-changed">"Password changed. Other sessions were signed out."</p>
                    })}
                    <SubmitButton label="Change password" pending=password.pending() />
                </ActionForm>
            </section>
        </div>
    }
}
