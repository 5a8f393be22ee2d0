use domain::Role;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use super::layout::workspace_page;
use crate::api::team::{
    load_team, ChangeMemberRole, DeleteWorkspace, InvitationRow, InviteMember, MemberRow,
    RemoveMember, ResendInvitation, RevokeInvitation, TeamView, TransferOwnership,
};
use crate::api::SiteKind;
use crate::components::{
    field_error, focus_first_error, form_error, ErrorNotice, Field, Notice, NoticeKind,
    SubmitButton,
};
use crate::AppError;

/// `/team`: the workspace's members and invitations. OWNER and ADMIN.
#[component]
pub fn TeamPage() -> impl IntoView {
    let actions = TeamActions {
        invite: ServerAction::new(),
        resend: ServerAction::new(),
        revoke: ServerAction::new(),
        role: ServerAction::new(),
        remove: ServerAction::new(),
        transfer: ServerAction::new(),
    };
    let team = Resource::new(
        move || {
            (
                actions.invite.version().get(),
                actions.resend.version().get(),
                actions.revoke.version().get(),
                actions.role.version().get(),
                actions.remove.version().get(),
                actions.transfer.version().get(),
            )
        },
        |_| load_team(),
    );
    workspace_page(move |info| {
        let slug = match info.kind {
            SiteKind::Workspace { slug, .. } => slug,
            _ => String::new(),
        };
        view! { <Team actions team slug /> }
    })
}

/// Every action of the page, so the list reloads after any of them.
#[derive(Clone, Copy)]
struct TeamActions {
    invite: ServerAction<InviteMember>,
    resend: ServerAction<ResendInvitation>,
    revoke: ServerAction<RevokeInvitation>,
    role: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
    transfer: ServerAction<TransferOwnership>,
}

#[component]
fn Team(
    actions: TeamActions,
    team: Resource<Result<TeamView, AppError>>,
    slug: String,
) -> impl IntoView {
    view! {
        <Title text="Team" />
        <h1 class="text-2xl font-semibold">"Team"</h1>
        <div class="mt-2 space-y-2" aria-live="polite">
            <Outcome action=actions.resend done="Invitation sent again with a new link." />
            <Outcome action=actions.revoke done="Invitation withdrawn: its link no longer works." />
            <Outcome action=actions.role done="Role changed. They were signed out and sign in again with their new role." />
            <Outcome action=actions.remove done="Member removed and signed out." />
            <Outcome action=actions.transfer done="Ownership transferred. You are now an admin." />
        </div>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading the team…"</p> }>
            {move || {
                let slug = slug.clone();
                Suspend::new(async move {
                match team.await {
                    Err(err) => view! { <ErrorNotice err /> }.into_any(),
                    Ok(team) => {
                        let owner = team.viewer_role == Role::Owner;
                        let slug = slug.clone();
                        view! {
                            <TeamBody team actions />
                            {owner.then(|| view! { <DeleteWorkspaceForm slug /> })}
                        }
                        .into_any()
                    }
                }
            })
            }}
        </Suspense>
    }
}

/// What the last submission of `action` came to: a success line or its error.
#[component]
fn Outcome<S>(action: ServerAction<S>, done: &'static str) -> impl IntoView
where
    S: ServerFn<Error = AppError, Output = ()> + Clone + Send + Sync + 'static,
{
    move || {
        match action.value().get() {
        Some(Ok(())) => Some(
            view! {
                <p class="rounded-md border border-emerald-200 bg-emerald-50 px-4 py-2 text-sm text-emerald-800" role="status">{done}</p>
            }
            .into_any(),
        ),
        Some(Err(err)) => Some(view! { <Notice kind=NoticeKind::Error text=err.to_string() /> }.into_any()),
        None => None,
    }
    }
}

#[component]
fn TeamBody(team: TeamView, actions: TeamActions) -> impl IntoView {
    let usage = team.usage.clone();
    let full = usage.as_ref().is_some_and(|u| u.is_full());
    let grantable = team.grantable.clone();
    let viewer_is_owner = team.viewer_role == Role::Owner;
    view! {
        <section class="mt-6">
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h2 class="text-lg font-semibold">"Members"</h2>
                {usage.map(|u| view! { <p class="text-sm text-slate-600" data-testid="member-usage">{u.label()}</p> })}
            </div>
            <div class="mt-2 overflow-x-auto rounded-lg border border-slate-200 bg-white">
                <table class="min-w-full divide-y divide-slate-200 text-sm">
                    <thead class="bg-slate-50 text-left text-slate-600">
                        <tr>
                            <th scope="col" class="px-4 py-2 font-medium">"Name"</th>
                            <th scope="col" class="px-4 py-2 font-medium">"Role"</th>
                            <th scope="col" class="px-4 py-2 font-medium">"Last sign-in"</th>
                            <th scope="col" class="px-4 py-2 font-medium"><span class="sr-only">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100">
                        {team.members.into_iter().map(|m| view! {
                            <MemberLine member=m grantable=grantable.clone() viewer_is_owner actions />
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        <InviteForm grantable=team.grantable.clone() full action=actions.invite />
        <section class="mt-8">
            <h2 class="text-lg font-semibold">"Pending invitations"</h2>
            {if team.invitations.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-600" data-testid="no-invitations">"No invitations are waiting."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-2 divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white text-sm">
                        {team.invitations.into_iter().map(|i| view! { <InvitationLine invitation=i actions /> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn MemberLine(
    member: MemberRow,
    grantable: Vec<Role>,
    viewer_is_owner: bool,
    actions: TeamActions,
) -> impl IntoView {
    let id = member.id.clone();
    let current = member.role;
    let controls = member.manageable.then(|| {
        let (role_id, remove_id, transfer_id) = (id.clone(), id.clone(), id.clone());
        let name = member.name.clone();
        view! {
            <div class="flex flex-wrap items-center justify-end gap-2">
                <ActionForm action=actions.role attr:class="flex items-center gap-1">
                    <input type="hidden" name="id" value=role_id />
                    <label class="sr-only" for=format!("role-{id}")>{format!("Role of {name}")}</label>
                    <select id=format!("role-{id}") name="role" class="rounded-md border border-slate-300 px-2 py-1">
                        {grantable.iter().map(|r| view! {
                            <option value=r.as_str() selected=*r == current>{r.label()}</option>
                        }).collect_view()}
                    </select>
                    <button type="submit" class="rounded-md border border-slate-300 px-2 py-1 hover:bg-slate-100">"Change role"</button>
                </ActionForm>
                {(viewer_is_owner && current != Role::Owner).then(|| view! {
                    <ActionForm action=actions.transfer>
                        <input type="hidden" name="id" value=transfer_id />
                        <button type="submit" class="rounded-md border border-slate-300 px-2 py-1 hover:bg-slate-100">"Make owner, step down"</button>
                    </ActionForm>
                })}
                <ActionForm action=actions.remove>
                    <input type="hidden" name="id" value=remove_id />
                    <button type="submit" class="rounded-md border border-red-300 px-2 py-1 text-red-700 hover:bg-red-50">"Remove"</button>
                </ActionForm>
            </div>
        }
    });
    view! {
        <tr data-testid="member-row">
            <td class="px-4 py-2">
                <span class="font-medium">{member.name}</span>
                {member.is_you.then(|| view! { <span class="ml-1 text-xs text-slate-500">"(you)"</span> })}
                <span class="block text-slate-500">{member.email}</span>
            </td>
            <td class="px-4 py-2" data-testid="member-role">{member.role.label()}</td>
            <td class="px-4 py-2 text-slate-600">{member.last_sign_in}</td>
            <td class="px-4 py-2">{controls}</td>
        </tr>
    }
}

#[component]
fn InviteForm(
    grantable: Vec<Role>,
    full: bool,
    action: ServerAction<InviteMember>,
) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let sent = move || matches!(action.value().get(), Some(Ok(())));
    // A successful invitation clears the form for the next one.
    Effect::new(move |_| {
        if sent() {
            email.set(String::new());
        }
    });
    let general_error = form_error(action);
    focus_first_error(action);
    view! {
        <section class="mt-8 max-w-xl rounded-lg border border-slate-200 bg-white p-4">
            <h2 class="text-lg font-semibold">"Invite someone"</h2>
            {full.then(|| view! {
                <p class="mt-1 text-sm text-amber-800" data-testid="members-full">
                    "Your plan's member limit is reached (open invitations count too). Remove someone or withdraw an invitation first, or ask for a bigger plan."
                </p>
            })}
            <ActionForm action attr:class="mt-3 space-y-3" attr:novalidate="true">
                <Field name="email" label="Email" kind="email" autocomplete="off" value=email error=field_error(action, "email") />
                <div class="space-y-1">
                    <label for="field-role" class="block text-sm font-medium text-slate-700">"Role"</label>
                    <select id="field-role" name="role" class="block w-full rounded-md border border-slate-300 bg-white px-3 py-2">
                        {grantable.into_iter().map(|r| view! { <option value=r.as_str() selected=r == Role::Member>{r.label()}</option> }).collect_view()}
                    </select>
                    <p class="min-h-4 text-sm text-red-700">{move || field_error(action, "role").get()}</p>
                </div>
                {move || general_error.get().map(|text| view! { <Notice kind=NoticeKind::Error text /> })}
                {move || sent().then(|| view! {
                    <p class="rounded-md border border-emerald-200 bg-emerald-50 px-4 py-2 text-sm text-emerald-800" role="status" data-testid="invitation-sent">
                        "Invitation sent. The link in the email works once."
                    </p>
                })}
                <SubmitButton label="Send invitation" pending=action.pending() />
            </ActionForm>
        </section>
    }
}

#[component]
fn InvitationLine(invitation: InvitationRow, actions: TeamActions) -> impl IntoView {
    let (resend_id, revoke_id) = (invitation.id.clone(), invitation.id.clone());
    view! {
        <li class="flex flex-wrap items-center justify-between gap-3 px-4 py-2" data-testid="invitation-row">
            <div>
                <span class="font-medium">{invitation.email}</span>
                <span class="ml-2 text-slate-600">{invitation.role.label()}</span>
                <span class="block text-xs text-slate-500">
                    {format!("Invited by {}, sent {}", invitation.invited_by, invitation.sent_at)}
                    {if invitation.expired {
                        view! { <span class="ml-1 font-medium text-amber-700">"Expired"</span> }.into_any()
                    } else {
                        view! { <span>{format!(", expires {}", invitation.expires_at)}</span> }.into_any()
                    }}
                </span>
            </div>
            <div class="flex gap-2">
                <ActionForm action=actions.resend>
                    <input type="hidden" name="id" value=resend_id />
                    <button type="submit" class="rounded-md border border-slate-300 px-2 py-1 hover:bg-slate-100">"Resend"</button>
                </ActionForm>
                <ActionForm action=actions.revoke>
                    <input type="hidden" name="id" value=revoke_id />
                    <button type="submit" class="rounded-md border border-red-300 px-2 py-1 text-red-700 hover:bg-red-50">"Withdraw"</button>
                </ActionForm>
            </div>
        </li>
    }
}

/// The owner's "delete this workspace", confirmed by its address and their password. Once it
/// succeeds the workspace is closed, so the browser goes to its address, which says so.
#[component]
fn DeleteWorkspaceForm(slug: String) -> impl IntoView {
    let action = ServerAction::<DeleteWorkspace>::new();
    let general_error = form_error(action);
    focus_first_error(action);
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(()))) {
            #[cfg(feature = "hydrate")]
            let _ = window().location().set_href("/");
        }
    });
    view! {
        <section class="mt-8 max-w-xl rounded-lg border border-red-200 bg-white p-4" data-testid="delete-workspace">
            <h2 class="text-lg font-semibold text-red-800">"Delete this workspace"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "Everyone is signed out at once, and its address, API tokens and invitations stop working. Its data is kept for a grace period, during which support can restore it, then erased for good. Every owner gets an email."
            </p>
            <p class="mt-1 text-sm text-slate-600">
                "To keep a copy, "
                <a href="/exports" class="font-medium text-indigo-700 hover:underline">"export the whole workspace"</a>
                " first."
            </p>
            <ActionForm action attr:class="mt-3 space-y-3" attr:novalidate="true">
                <Field name="slug" label=format!("Type the workspace's address, {slug}, to confirm") autocomplete="off" error=field_error(action, "slug") />
                <Field name="password" label="Your password" kind="password" autocomplete="current-password" error=field_error(action, "password") />
                {move || general_error.get().map(|text| view! { <Notice kind=NoticeKind::Error text /> })}
                <button type="submit" class="rounded-md bg-red-700 px-4 py-2 text-sm font-medium text-white hover:bg-red-800 disabled:opacity-60" disabled=move || action.pending().get()>
                    "Delete this workspace"
                </button>
            </ActionForm>
        </section>
    }
}
