use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::api::dashboard::{load_dashboard, DashboardView, DayFigure, PlanUsageView};
use crate::api::SiteKind;
use crate::components::{
    field_error, focus_first_error, form_error, with_site, ErrorNotice, Field, Frame, Notice,
    NoticeKind, SessionActions, SubmitButton,
};
use crate::SiteInfo;

fn workspace_name(info: &SiteInfo) -> String {
    match &info.kind {
        SiteKind::Workspace { name, .. } => name.clone(),
        _ => "Stockroom".into(),
    }
}

pub type DashboardResource = Resource<Result<DashboardView, crate::AppError>>;

/// The dashboard's figures, made by the page before `with_site` (see there).
pub fn dashboard_resource() -> DashboardResource {
    let signed_in = expect_context::<SessionActions>();
    Resource::new(move || signed_in.version(), |_| load_dashboard())
}

#[component]
pub fn Dashboard(info: SiteInfo, board: DashboardResource) -> impl IntoView {
    super::layout::workspace_frame(info, move |info| {
        let viewer = info.viewer.map(|v| v.name).unwrap_or_default();
        view! { <DashboardBody viewer board /> }
    })
}

#[component]
fn DashboardBody(viewer: String, board: DashboardResource) -> impl IntoView {
    view! {
        <Title text="Dashboard" />
        <h1 class="text-2xl font-semibold" data-testid="dashboard-heading">{format!("Welcome, {viewer}")}</h1>
        <Suspense fallback=|| view! { <p class="mt-4 text-slate-500">"Loading figures…"</p> }>
            {move || Suspend::new(async move {
                match board.await {
                    Err(err) => view! { <ErrorNotice err /> }.into_any(),
                    Ok(board) => view! { <DashboardFigures board /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DashboardFigures(board: DashboardView) -> impl IntoView {
    let days = board.days.clone();
    view! {
        <section class="mt-6 rounded-lg border border-slate-200 bg-white p-4">
            <h2 class="font-semibold">"Last 30 days"</h2>
            <p class="text-sm text-slate-600">
                {format!("{} orders, {} revenue (cancelled orders excluded)", board.total_orders, board.total_revenue)}
            </p>
            <RevenueChart days=days.clone() />
            <details class="mt-2 text-sm">
                <summary class="cursor-pointer text-indigo-700">"Show the figures as a table"</summary>
                <table class="mt-2 text-left">
                    <thead><tr><th scope="col" class="pr-6">"Day"</th><th scope="col" class="pr-6">"Orders"</th><th scope="col">"Revenue"</th></tr></thead>
                    <tbody>
                        {days.into_iter().map(|d| view! { <tr><td class="pr-6">{d.label}</td><td class="pr-6">{d.orders}</td><td>{d.revenue}</td></tr> }).collect_view()}
                    </tbody>
                </table>
            </details>
        </section>
        <div class="mt-6 grid gap-6 md:grid-cols-2">
            <section class="rounded-lg border border-slate-200 bg-white p-4">
                <h2 class="font-semibold">"Orders by status"</h2>
                <dl class="mt-2 grid grid-cols-2 gap-1 text-sm" data-testid="status-counts">
                    {board.by_status.into_iter().map(|(status, count)| view! {
                        <dt class="text-slate-600">{status.label()}</dt>
                        <dd class="text-right tabular-nums">{count}</dd>
                    }).collect_view()}
                </dl>
            </section>
            <section class="rounded-lg border border-slate-200 bg-white p-4">
                <h2 class="font-semibold">"Low stock"</h2>
                {if board.low_stock.is_empty() {
                    view! { <p class="mt-2 text-sm text-slate-600">"Nothing is running low."</p> }.into_any()
                } else {
                    view! {
                        <ul class="mt-2 space-y-1 text-sm" data-testid="low-stock">
                            {board.low_stock.into_iter().map(|p| view! {
                                <li class="flex justify-between gap-3">
                                    <a href=format!("/products/{}", p.id) class="text-indigo-700 hover:underline">{format!("{} ({})", p.name, p.sku)}</a>
                                    <span class="tabular-nums">{format!("{} left", p.stock)}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
        </div>
        <PlanUsage plan=board.plan />
    }
}

/// What the workspace uses of its plan, so nobody meets a limit by surprise.
#[component]
fn PlanUsage(plan: PlanUsageView) -> impl IntoView {
    view! {
        <section class="mt-6 rounded-lg border border-slate-200 bg-white p-4" data-testid="plan-usage">
            <h2 class="font-semibold">{format!("Your plan: {}", plan.plan_name)}</h2>
            <dl class="mt-2 grid gap-x-6 gap-y-1 text-sm sm:grid-cols-2">
                {plan.limits.into_iter().map(|(name, usage)| {
                    let full = usage.is_full();
                    view! {
                        <div class="flex justify-between gap-3">
                            <dt class="text-slate-600">{name}</dt>
                            <dd class="tabular-nums" class:text-red-700=full class:font-semibold=full>{usage.label()}</dd>
                        </div>
                    }
                }).collect_view()}
                {plan.shares.into_iter().map(|(name, value)| view! {
                    <div class="flex justify-between gap-3">
                        <dt class="text-slate-600">{name}</dt>
                        <dd class="tabular-nums">{value}</dd>
                    </div>
                }).collect_view()}
            </dl>
        </section>
    }
}

/// Revenue per day as bars, orders per day written above them. Plain SVG rendered on the
/// server: it reads without JavaScript and carries its own title and description.
///
/// Coordinates are whole SVG units computed in integers: floating-point formatting would add
/// its own code to the browser bundle for nothing a chart of this size can show.
#[component]
fn RevenueChart(days: Vec<DayFigure>) -> impl IntoView {
    const WIDTH: i64 = 720;
    const HEIGHT: i64 = 220;
    const LEFT: i64 = 90;
    const BOTTOM: i64 = 30;
    const TOP: i64 = 16;
    let max = days
        .iter()
        .map(|d| d.revenue_minor)
        .max()
        .unwrap_or(0)
        .max(1);
    let peak = days
        .iter()
        .max_by_key(|d| d.revenue_minor)
        .map(|d| d.revenue.clone())
        .unwrap_or_default();
    let plot_w = WIDTH - LEFT - 10;
    let plot_h = HEIGHT - BOTTOM - TOP;
    let slot = plot_w / (days.len().max(1) as i64);
    let bar = (slot * 7 / 10).max(1);
    let baseline = HEIGHT - BOTTOM;
    let description = format!(
        "Bar chart of revenue per day for the last {} days. Highest day: {}. Total orders: {}.",
        days.len(),
        if max > 1 { peak.clone() } else { "none".into() },
        days.iter().map(|d| d.orders).sum::<i64>()
    );
    view! {
        <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") class="mt-3 h-auto w-full" role="img" aria-labelledby="chart-title chart-desc" data-testid="revenue-chart">
            <title id="chart-title">"Revenue per day"</title>
            <desc id="chart-desc">{description}</desc>
            <line x1=LEFT y1=TOP x2=LEFT y2=baseline stroke="#cbd5e1" />
            <line x1=LEFT y1=baseline x2=WIDTH - 10 y2=baseline stroke="#cbd5e1" />
            <text x=LEFT - 6 y=baseline text-anchor="end" font-size="11" fill="#475569">"0"</text>
            <text x=LEFT - 6 y=TOP + 4 text-anchor="end" font-size="11" fill="#475569">{if max > 1 { peak } else { String::new() }}</text>
            <text x=12 y=HEIGHT / 2 font-size="11" fill="#475569" transform=format!("rotate(-90 12 {})", HEIGHT / 2) text-anchor="middle">"Revenue"</text>
            {days.iter().enumerate().map(|(i, d)| {
                // i128: revenue in minor units times the plot height cannot overflow.
                let h = (i128::from(plot_h) * i128::from(d.revenue_minor) / i128::from(max)) as i64;
                let x = LEFT + i as i64 * slot + (slot - bar) / 2;
                let middle = x + bar / 2;
                let label = (i % 5 == 0 || i + 1 == days.len()).then(|| view! {
                    <text x=middle y=baseline + 16 text-anchor="middle" font-size="10" fill="#475569">{d.label.clone()}</text>
                });
                view! {
                    <rect x=x y=baseline - h width=bar height=h fill="#6366f1" rx="2">
                        <title>{format!("{}: {} orders, {}", d.label, d.orders, d.revenue)}</title>
                    </rect>
                    {(d.orders > 0).then(|| view! {
                        <text x=middle y=baseline - h - 3 text-anchor="middle" font-size="9" fill="#334155">{d.orders}</text>
                    })}
                    {label}
                }
            }).collect_view()}
        </svg>
    }
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
    let error_for = move |field: &'static str| field_error(action, field);
    let general_error = form_error(action);
    focus_first_error(action);
    view! {
        <Title text=format!("Sign in to {name}") />
        <Frame title=name.clone() info>
            <div class="mx-auto max-w-sm">
                <h1 class="text-2xl font-semibold">{format!("Sign in to {name}")}</h1>
                <ActionForm action attr:class="mt-6 space-y-3" attr:novalidate="true">
                    <Field name="email" label="Email" kind="email" autocomplete="username" error=error_for("email") />
                    <Field name="password" label="Password" kind="password" autocomplete="current-password" error=error_for("password") />
                    {move || general_error.get().map(|text| view! { <Notice kind=NoticeKind::Error text /> })}
                    <SubmitButton label="Sign in" pending=action.pending() />
                </ActionForm>
                <a href="/forgot" class="mt-4 inline-block text-sm text-indigo-700 underline">"Forgot your password?"</a>
            </div>
        </Frame>
    }
}
