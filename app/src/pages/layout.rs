use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

use crate::api::SiteKind;
use crate::components::{with_site, Frame};
use crate::SiteInfo;

/// A page inside a workspace: signed-in members only (others go to /login), with the
/// workspace's navigation above `render`'s content.
pub fn workspace_page<V: IntoView + 'static>(
    render: impl Fn(SiteInfo) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView {
    with_site(move |info| workspace_frame(info, render.clone()))
}

/// The same frame for a page that already holds the site (never read the site twice: nested
/// suspense over one resource renders differently on the server and in the browser).
pub fn workspace_frame<V: IntoView + 'static>(
    info: SiteInfo,
    render: impl Fn(SiteInfo) -> V,
) -> AnyView {
    match &info.kind {
        SiteKind::Workspace { name, .. } if info.viewer.is_some() => {
            let name = name.clone();
            let manager = info
                .viewer
                .as_ref()
                .is_some_and(|v| v.role.at_least(domain::Role::Admin));
            let content = render(info.clone());
            view! {
                <Frame title=name info>
                    <WorkspaceNav manager />
                    {content}
                </Frame>
            }
            .into_any()
        }
        SiteKind::Workspace { .. } => view! { <Redirect path="/login" /> }.into_any(),
        _ => view! { <super::NotFound /> }.into_any(),
    }
}

#[component]
fn WorkspaceNav(manager: bool) -> impl IntoView {
    let location = use_location();
    let link = move |href: &'static str, label: &'static str| {
        let active = move || {
            let path = location.pathname.get();
            if href == "/" {
                path == "/"
            } else {
                path.starts_with(href)
            }
        };
        view! {
            <a
                href=href
                aria-current=move || active().then_some("page")
                class="rounded-md px-3 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100 aria-[current=page]:bg-indigo-50 aria-[current=page]:text-indigo-700"
            >
                {label}
            </a>
        }
    };
    view! {
        <nav class="-mt-4 mb-6 flex flex-wrap gap-1 border-b border-slate-200 pb-3" aria-label="Workspace">
            {link("/", "Dashboard")}
            {link("/products", "Products")}
            {link("/orders", "Orders")}
            {link("/customers", "Customers")}
            {manager.then(|| link("/exports", "Exports"))}
            {manager.then(|| link("/team", "Team"))}
            {manager.then(|| link("/settings/api", "API"))}
            {link("/profile", "Profile")}
        </nav>
    }
}
