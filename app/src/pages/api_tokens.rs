use leptos::prelude::*;
use leptos_meta::Title;

use super::layout::workspace_page;
use crate::api::api_tokens::{
    load_api_tokens, ApiTokenRow, ApiTokensView, CreateApiToken, RevokeApiToken, EXPIRY_DAYS,
};
use crate::components::{
    field_error, form_error, ErrorNotice, Field, Notice, NoticeKind, SubmitButton,
};
use crate::AppError;

/// `/settings/api`: the workspace's API tokens. OWNER and ADMIN.
#[component]
pub fn ApiTokensPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| load_api_tokens(),
    );
    workspace_page(move |_| view! { <ApiTokens create revoke tokens /> })
}

#[component]
fn ApiTokens(
    create: ServerAction<CreateApiToken>,
    revoke: ServerAction<RevokeApiToken>,
    tokens: Resource<Result<ApiTokensView, AppError>>,
) -> impl IntoView {
    view! {
        <Title text="API tokens" />
        <h1 class="text-2xl font-semibold">"API tokens"</h1>
        <p class="mt-2 max-w-2xl text-sm text-slate-600">
            "A token lets a shop, an ERP or a script use this workspace's JSON API. A read-write token acts as you, with your role as it is at each call; a read-only token can only read. "
            <a href="/docs/api" rel="external" class="text-indigo-700 underline">"API reference"</a>
        </p>
        <div class="mt-2" aria-live="polite">
            {move || match revoke.value().get() {
                Some(Ok(())) => Some(view! {
                    <p class="rounded-md border border-emerald-200 bg-emerald-50 px-4 py-2 text-sm text-emerald-800" role="status">
                        "Token revoked: its next call is refused."
                    </p>
                }.into_any()),
                Some(Err(err)) => Some(view! { <Notice kind=NoticeKind::Error text=err.to_string() /> }.into_any()),
                None => None,
            }}
        </div>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading the tokens…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Err(err) => view! { <ErrorNotice err /> }.into_any(),
                    Ok(view) => view! { <TokenList view revoke /> <CreateForm create /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TokenList(view: ApiTokensView, revoke: ServerAction<RevokeApiToken>) -> impl IntoView {
    let ApiTokensView {
        tokens,
        usage,
        api_url,
    } = view;
    view! {
        <section class="mt-6">
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h2 class="text-lg font-semibold">"Tokens"</h2>
                {usage.map(|u| view! { <p class="text-sm text-slate-600" data-testid="token-usage">{u.label()}</p> })}
            </div>
            <p class="mt-1 text-sm text-slate-600">"This workspace's API: " <code data-testid="api-url">{api_url}</code></p>
            {if tokens.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-600" data-testid="no-tokens">"No tokens yet."</p> }.into_any()
            } else {
                view! {
                    <div class="mt-2 overflow-x-auto rounded-lg border border-slate-200 bg-white">
                        <table class="min-w-full divide-y divide-slate-200 text-sm">
                            <thead class="bg-slate-50 text-left text-slate-600">
                                <tr>
                                    <th scope="col" class="px-4 py-2 font-medium">"Name"</th>
                                    <th scope="col" class="px-4 py-2 font-medium">"Access"</th>
                                    <th scope="col" class="px-4 py-2 font-medium">"Created by"</th>
                                    <th scope="col" class="px-4 py-2 font-medium">"Last used"</th>
                                    <th scope="col" class="px-4 py-2 font-medium">"Expires"</th>
                                    <th scope="col" class="px-4 py-2 font-medium"><span class="sr-only">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody class="divide-y divide-slate-100">
                                {tokens.into_iter().map(|token| view! { <TokenLine token revoke /> }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn TokenLine(token: ApiTokenRow, revoke: ServerAction<RevokeApiToken>) -> impl IntoView {
    let id = token.id.clone();
    let name = token.name.clone();
    view! {
        <tr data-testid="token-row">
            <td class="px-4 py-2">
                <span class="font-medium">{token.name}</span>
                <code class="block text-xs text-slate-500" data-testid="token-prefix">{format!("{}…", token.prefix)}</code>
            </td>
            <td class="px-4 py-2">
                {token.role.label()}
                <span class="block text-xs text-slate-500" data-testid="token-state">{token.state}</span>
            </td>
            <td class="px-4 py-2 text-slate-600">
                {token.created_by}
                <span class="block text-xs text-slate-500">{token.created_at}</span>
            </td>
            <td class="px-4 py-2 text-slate-600" data-testid="token-last-used">{token.last_used}</td>
            <td class="px-4 py-2 text-slate-600">{token.expires}</td>
            <td class="px-4 py-2 text-right">
                {token.active.then(|| view! {
                    <ActionForm action=revoke>
                        <input type="hidden" name="id" value=id />
                        <button type="submit" aria-label=format!("Revoke {name}") class="rounded-md border border-red-300 px-2 py-1 text-red-700 hover:bg-red-50">"Revoke"</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}

#[component]
fn CreateForm(create: ServerAction<CreateApiToken>) -> impl IntoView {
    let general_error = form_error(create);
    view! {
        <section class="mt-8 max-w-xl rounded-lg border border-slate-200 bg-white p-4">
            <h2 class="text-lg font-semibold">"Create a token"</h2>
            <ActionForm action=create attr:class="mt-3 space-y-3" attr:novalidate="true">
                <Field name="name" label="Token name" hint="What uses it, e.g. \"Web shop\"." error=field_error(create, "name") />
                <div class="space-y-1">
                    <label for="field-role" class="block text-sm font-medium text-slate-700">"Access"</label>
                    <select id="field-role" name="role" class="block w-full rounded-md border border-slate-300 bg-white px-3 py-2">
                        <option value="read">"Read only"</option>
                        <option value="write">"Read and write (with your role)"</option>
                    </select>
                    <p class="min-h-4 text-sm text-red-700">{move || field_error(create, "role").get()}</p>
                </div>
                <div class="space-y-1">
                    <label for="field-expires_in_days" class="block text-sm font-medium text-slate-700">"Expires"</label>
                    <select id="field-expires_in_days" name="expires_in_days" class="block w-full rounded-md border border-slate-300 bg-white px-3 py-2">
                        <option value="">"Never"</option>
                        {EXPIRY_DAYS.iter().map(|days| view! { <option value=days.to_string()>{format!("In {days} days")}</option> }).collect_view()}
                    </select>
                    <p class="min-h-4 text-sm text-red-700">{move || field_error(create, "expires_in_days").get()}</p>
                </div>
                {move || general_error.get().map(|text| view! { <Notice kind=NoticeKind::Error text /> })}
                {move || match create.value().get() {
                    Some(Ok(created)) => Some(view! {
                        <div class="rounded-md border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm text-emerald-900" role="status">
                            <p>{format!("Token \"{}\" created. Copy it now: it is shown only this once.", created.name)}</p>
                            <code class="mt-2 block break-all rounded bg-white px-2 py-1 font-mono text-xs" data-testid="new-token-secret">{created.secret}</code>
                        </div>
                    }),
                    _ => None,
                }}
                <SubmitButton label="Create token" pending=create.pending() />
            </ActionForm>
        </section>
    }
}
