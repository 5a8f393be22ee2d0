//! The HTTP edge: routes, and the middleware every request passes through in order —
//! request id and tracing, host → site, session, session → member, CSRF.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::ssr::context::{now_unix, scope_cache_key, start_member_session, SiteSettings};
use app::ssr::{
    ConsoleSignedIn, RequestContext, Services, SignedIn, Site, AUTH_SESSION_KEY,
    CONSOLE_SESSION_KEY,
};
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use db::platform::auth::TicketPurpose;
use db::platform::console::ConsoleScope;
use db::TenantScope;
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower::ServiceBuilder;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

pub struct WebSettings {
    pub leptos: LeptosOptions,
    pub request_timeout: Duration,
    pub idle_timeout: Duration,
}

pub fn router(services: Services, web: WebSettings) -> Router {
    let leptos_options = web.leptos.clone();
    let routes = generate_route_list(app::App);
    let pkg_dir = format!(
        "{}/{}",
        leptos_options.site_root, leptos_options.site_pkg_dir
    );
    // Hashed file names change with their content, so browsers may keep them for a year.
    let pkg_cache = if leptos_options.hash_files {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };

    let session_layer = SessionManagerLayer::new(services.db.session_store())
        .with_name("stockroom_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(services.settings.scheme == "https")
        .with_expiry(Expiry::OnInactivity(
            time::Duration::try_from(web.idle_timeout).unwrap_or(time::Duration::hours(2)),
        ));

    let site_routes = Router::new()
        .route("/welcome", get(welcome))
        .route("/exports/{id}/download", get(download_export))
        .route("/dev/outbox", get(outbox_page))
        .leptos_routes(&leptos_options, routes, {
            let options = leptos_options.clone();
            move || app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(app::shell))
        .with_state(leptos_options)
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn(malformed_calls_are_bad_requests))
                .layer(middleware::from_fn_with_state(
                    services.settings.clone(),
                    reject_cross_site,
                ))
                .layer(middleware::from_fn_with_state(
                    services.clone(),
                    resolve_site,
                ))
                .layer(session_layer)
                .layer(middleware::from_fn_with_state(
                    services.clone(),
                    attach_member,
                )),
        );

    let assets = Router::new()
        // `./dev` writes brotli and gzip copies of every asset at build time (at the highest
        // levels, once), so serving them costs no compression per request.
        .nest_service(
            "/pkg",
            ServeDir::new(pkg_dir)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static(pkg_cache),
        ));

    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .merge(assets)
        .merge(site_routes)
        .layer(Extension(services))
        .layer(
            ServiceBuilder::new()
                // Our ids only: a client-chosen one could forge log correlation.
                .layer(middleware::from_fn(drop_client_request_id))
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                    let request_id = req
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|id| id.header_value().to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!(
                        "request",
                        request_id = %request_id,
                        method = %req.method(),
                        path = %req.uri().path(),
                        tenant = tracing::field::Empty,
                    )
                }))
                .layer(PropagateRequestIdLayer::x_request_id())
                // Dynamic responses are compressed once per request, so cheaply: gzip at its
                // fastest level. Brotli's encoder zeroes large tables for every response, and
                // gzip at level 4 still took a sixth of the server's CPU on the product list
                // (profiled in bench/). Static assets are brotli-compressed at build time.
                .layer(
                    CompressionLayer::new()
                        .no_br()
                        .quality(CompressionLevel::Fastest),
                )
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    web.request_timeout,
                )),
        )
}

async fn readyz(Extension(services): Extension<Services>) -> Response {
    match tokio::time::timeout(Duration::from_secs(2), services.db.is_ready()).await {
        Ok(true) => (StatusCode::OK, "ready").into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response(),
    }
}

/// Which site the Host names. A tenant comes from here and from nowhere in the request body.
pub fn classify_host(host: &str, base_domain: &str) -> HostKind {
    let host = host.trim().to_ascii_lowercase();
    let base = base_domain.to_ascii_lowercase();
    if host == base {
        return HostKind::Public;
    }
    match host
        .strip_suffix(&base)
        .and_then(|rest| rest.strip_suffix('.'))
    {
        Some("www") => HostKind::Public,
        Some("admin") => HostKind::Console,
        Some(label) => match domain::Slug::parse(label) {
            Ok(slug) if slug.as_str() == label => HostKind::Workspace(slug),
            _ => HostKind::NoWorkspace,
        },
        // Any other host (an IP address, a typo of the base) gets the public site, which holds
        // no tenant data.
        None => HostKind::Public,
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum HostKind {
    Public,
    Console,
    Workspace(domain::Slug),
    NoWorkspace,
}

fn request_id(req: &Request) -> String {
    req.extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-")
        .to_owned()
}

async fn resolve_site(State(services): State<Services>, mut req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or_default()
        .to_owned();
    let site = match classify_host(&host, &services.settings.base_domain) {
        HostKind::Public => Site::Public,
        HostKind::Console => Site::Console,
        HostKind::NoWorkspace => Site::UnknownWorkspace,
        HostKind::Workspace(slug) => {
            match db::platform::tenants::find_by_slug(&services.db, &slug).await {
                Ok(Some(tenant)) if tenant.is_active() => Site::Workspace(tenant),
                Ok(Some(tenant)) => Site::SuspendedWorkspace(tenant),
                Ok(None) => Site::UnknownWorkspace,
                Err(err) => {
                    tracing::warn!(error = %err, "tenant lookup failed");
                    return unavailable();
                }
            }
        }
    };
    if let Site::Workspace(tenant) | Site::SuspendedWorkspace(tenant) = &site {
        tracing::Span::current().record("tenant", tracing::field::display(tenant.id()));
    }
    // Only pages get the status: a server function's answer must stay readable as such.
    let is_page = req.method() == Method::GET && !req.uri().path().starts_with("/api/");
    let status_override = match site {
        _ if !is_page => None,
        Site::UnknownWorkspace => Some(StatusCode::NOT_FOUND),
        Site::SuspendedWorkspace(_) => Some(StatusCode::FORBIDDEN),
        _ => None,
    };
    req.extensions_mut().insert(site);
    let mut response = next.run(req).await;
    // The pages say "no such workspace" / "suspended"; the status says it to machines.
    if let Some(status) = status_override {
        if response.status().is_success() {
            *response.status_mut() = status;
        }
    }
    response
}

async fn attach_member(
    State(services): State<Services>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(site) = req.extensions().get::<Site>().cloned() else {
        tracing::error!("attach_member ran before resolve_site");
        return unavailable();
    };
    let request_id = request_id(&req);
    let client_address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "127.0.0.1".into());

    let (signed_in, console_signed_in) = match (
        session.get::<SignedIn>(AUTH_SESSION_KEY).await,
        session.get::<ConsoleSignedIn>(CONSOLE_SESSION_KEY).await,
    ) {
        (Ok(member), Ok(admin)) => (member, admin),
        (Err(err), _) | (_, Err(err)) => {
            tracing::warn!(error = %err, "session load failed");
            return unavailable();
        }
    };
    let absolute = services.settings.session_absolute_timeout.as_secs() as i64;
    let mut console = None;
    if let Some(admin) = console_signed_in {
        if !matches!(site, Site::Console) {
            // Host-only cookies never carry a console session to another host: a replay.
            tracing::warn!("tenant_mismatch: console session presented outside the console");
            return signed_in_elsewhere();
        }
        if now_unix() - admin.since >= absolute {
            let _ = session.flush().await;
        } else {
            match ConsoleScope::for_admin(&services.db, admin.admin_id).await {
                Ok(Some(found)) => {
                    if let Err(err) =
                        keep_alive(&session, services.settings.session_idle_timeout).await
                    {
                        tracing::warn!(error = %err, "session keep-alive failed");
                    }
                    console = Some(found);
                }
                Ok(None) => {
                    let _ = session.flush().await;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "console admin lookup failed");
                    return unavailable();
                }
            }
        }
    }
    let mut scope = None;
    if let Some(signed_in) = signed_in {
        match &site {
            Site::Workspace(tenant) if tenant.id() == signed_in.tenant_id => {
                if now_unix() - signed_in.since >= absolute {
                    let _ = session.flush().await;
                } else {
                    let key = session.id().map(|id| scope_cache_key(&id, &signed_in));
                    let cached = key.as_ref().and_then(|key| services.scopes.get(key));
                    let found = match cached {
                        Some(found) => Ok(Some(found)),
                        None => {
                            let found =
                                TenantScope::for_member(&services.db, tenant, signed_in.user_id)
                                    .await;
                            if let (Some(key), Ok(Some(found))) = (key, &found) {
                                services.scopes.insert(key, found.clone());
                            }
                            found
                        }
                    };
                    match found {
                        Ok(Some(found)) => {
                            if let Err(err) =
                                keep_alive(&session, services.settings.session_idle_timeout).await
                            {
                                tracing::warn!(error = %err, "session keep-alive failed");
                            }
                            scope = Some(found);
                        }
                        // The member was removed: the session dies with the membership.
                        Ok(None) => {
                            let _ = session.flush().await;
                        }
                        Err(err) => {
                            tracing::warn!(error = %err, "member lookup failed");
                            return unavailable();
                        }
                    }
                }
            }
            // A suspended workspace signs its people out.
            Site::SuspendedWorkspace(tenant) if tenant.id() == signed_in.tenant_id => {
                let _ = session.flush().await;
            }
            _ => {
                // Host-only cookies make this impossible for a browser; someone replayed a
                // cookie on another host. Refuse rather than guess which tenant was meant.
                tracing::warn!(
                    session_tenant = %signed_in.tenant_id,
                    "tenant_mismatch: session of another tenant presented on this host"
                );
                return signed_in_elsewhere();
            }
        }
    }
    req.extensions_mut().insert(RequestContext {
        request_id,
        client_address,
        site,
        scope,
        console,
    });
    next.run(req).await
}

fn signed_in_elsewhere() -> Response {
    (
        StatusCode::FORBIDDEN,
        Html(plain_page(
            "Signed in elsewhere",
            "This session belongs to a different workspace. Please sign in here.",
        )),
    )
        .into_response()
}

/// Refuses state-changing requests from other sites. `Sec-Fetch-Site` is trusted when the
/// browser sends it; otherwise the Origin must be exactly this host. A sibling subdomain is
/// "same-site" but not "same-origin", so one workspace's page cannot post to another's.
async fn reject_cross_site(
    State(settings): State<Arc<SiteSettings>>,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let allowed = match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        None => match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            Some(origin) => {
                let host = headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or_default();
                origin == format!("{}://{}", settings.scheme, host)
            }
            // Neither header: not a browser, so not a cross-site forgery.
            None => true,
        },
    };
    if allowed {
        next.run(req).await
    } else {
        tracing::warn!(method = %req.method(), "cross-site request refused");
        (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response()
    }
}

#[derive(serde::Deserialize)]
struct WelcomeQuery {
    ticket: String,
}

/// Redeems the ticket a registration on the public site handed over, and signs the new owner
/// in on their workspace's own host.
async fn welcome(
    Extension(services): Extension<Services>,
    Extension(ctx): Extension<RequestContext>,
    session: Session,
    Query(query): Query<WelcomeQuery>,
) -> Response {
    let Site::Workspace(tenant) = &ctx.site else {
        return (
            StatusCode::NOT_FOUND,
            Html(plain_page("Not found", "There is nothing at this address.")),
        )
            .into_response();
    };
    let digest = app::ssr::tokens::digest(&query.ticket);
    let redeemed =
        db::platform::auth::redeem_ticket(&services.db, tenant, TicketPurpose::Welcome, &digest)
            .await;
    match redeemed {
        Ok(Some(user_id)) => {
            if start_member_session(&session, tenant, user_id)
                .await
                .is_err()
            {
                return unavailable();
            }
            if let Err(err) =
                db::platform::auth::record_sign_in(&services.db, tenant, user_id).await
            {
                tracing::warn!(error = %err, "recording the sign-in time failed");
            }
            Redirect::to("/").into_response()
        }
        Ok(None) => Redirect::to("/login").into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "ticket redemption failed");
            unavailable()
        }
    }
}

/// Serves a finished export to a signed-in member of its own workspace; to anyone else it
/// does not exist.
async fn download_export(
    Extension(services): Extension<Services>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> Response {
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            Html(plain_page(
                "Not found",
                "There is no export at this address.",
            )),
        )
            .into_response()
    };
    let (Site::Workspace(tenant), Some(scope)) = (&ctx.site, &ctx.scope) else {
        return match ctx.site {
            Site::Workspace(_) => Redirect::to("/login").into_response(),
            _ => not_found(),
        };
    };
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return not_found();
    };
    match db::tenant::exports::download(&services.db, scope, domain::ExportId::from_uuid(id)).await
    {
        Ok(file) => {
            let date = file.created_at.date();
            let name = format!("{}-{}-{}.csv", tenant.slug(), file.kind.as_str(), date);
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                    (header::CACHE_CONTROL, "private, no-store".to_owned()),
                ],
                file.content,
            )
                .into_response()
        }
        Err(db::RepoError::NotFound) => not_found(),
        Err(err) => {
            tracing::error!(request_id = %ctx.request_id, tenant = %tenant.id(), error = %err, "export download failed");
            unavailable()
        }
    }
}

/// Development only (`[mail] show_outbox`): the mail the outbox transport wrote, newest
/// first, on the public site, so invitation and reset links can be followed on one machine.
async fn outbox_page(
    Extension(services): Extension<Services>,
    Extension(ctx): Extension<RequestContext>,
) -> Response {
    if !services.settings.show_outbox
        || !matches!(ctx.site, Site::Public)
        || services.mailer.outbox_dir().is_none()
    {
        return (
            StatusCode::NOT_FOUND,
            Html(plain_page("Not found", "There is nothing at this address.")),
        )
            .into_response();
    }
    let messages = services.mailer.outbox_messages(50).await;
    let mut body = String::from(
        "<p>Development outbox: mail is written here instead of being sent. Newest first.</p>",
    );
    if messages.is_empty() {
        body.push_str("<p>No mail yet.</p>");
    }
    for message in messages {
        let (headers, text) = app::ssr::mail::readable(&message.raw);
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| escape_html(v))
                .unwrap_or_default()
        };
        body.push_str(&format!(
            "<article style=\"border-top:1px solid #ccc;padding:1rem 0\" data-testid=\"outbox-message\">\
             <p><strong>To:</strong> {}<br><strong>Subject:</strong> {}<br><strong>Date:</strong> {}</p>\
             <pre style=\"white-space:pre-wrap\">{}</pre></article>",
            header("To"),
            header("Subject"),
            header("Date"),
            linkify(&escape_html(&text)),
        ));
    }
    Html(html_page("Outbox", &body)).into_response()
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Turns the http(s) links of already escaped text into anchors.
fn linkify(escaped: &str) -> String {
    escaped
        .split_inclusive(char::is_whitespace)
        .map(|word| {
            let trimmed = word.trim_end();
            if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
                format!(
                    "<a href=\"{trimmed}\">{trimmed}</a>{}",
                    &word[trimmed.len()..]
                )
            } else {
                word.to_owned()
            }
        })
        .collect()
}

/// A server function whose arguments do not decode never runs, so nothing sets its status and
/// the framework answers 500. That is the caller's mistake, not ours: answer 400, keeping the
/// plain message, and leave real failures (which set their own status) alone.
async fn malformed_calls_are_bad_requests(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key("serverfnerror")
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response();
    };
    if let Ok(app::AppError::Transport { detail }) = serde_json::from_slice(&bytes) {
        tracing::info!(detail = %detail, "server function called with arguments that do not decode");
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

async fn drop_client_request_id(mut req: Request, next: Next) -> Response {
    req.headers_mut().remove("x-request-id");
    next.run(req).await
}

const SEEN_KEY: &str = "seen";

/// Slides the idle timeout. Touching the record marks it modified, so tower-sessions saves it
/// with a fresh expiry; doing so at most every tenth of the idle timeout keeps most requests
/// free of a session write.
async fn keep_alive(
    session: &Session,
    idle: Duration,
) -> Result<(), tower_sessions::session::Error> {
    let now = now_unix();
    let seen = session.get::<i64>(SEEN_KEY).await?.unwrap_or(0);
    if now - seen >= (idle.as_secs() as i64 / 10).max(1) {
        session.insert(SEEN_KEY, now).await?;
    }
    Ok(())
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "5")],
        Html(plain_page(
            "Temporarily unavailable",
            "The service is busy or restarting. Please try again in a moment.",
        )),
    )
        .into_response()
}

fn plain_page(title: &str, message: &str) -> String {
    html_page(title, &format!("<p>{message}</p>"))
}

fn html_page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:system-ui;max-width:40rem;margin:4rem auto;padding:0 1rem\">\
         <h1>{title}</h1>{body}</body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(s: &str) -> HostKind {
        HostKind::Workspace(domain::Slug::parse(s).unwrap())
    }

    #[test]
    fn hosts_map_to_sites() {
        let base = "localhost:3000";
        assert_eq!(classify_host("localhost:3000", base), HostKind::Public);
        assert_eq!(classify_host("LOCALHOST:3000", base), HostKind::Public);
        assert_eq!(classify_host("www.localhost:3000", base), HostKind::Public);
        assert_eq!(
            classify_host("admin.localhost:3000", base),
            HostKind::Console
        );
        assert_eq!(classify_host("acme.localhost:3000", base), slug("acme"));
        assert_eq!(classify_host("Acme.localhost:3000", base), slug("acme"));
    }

    #[test]
    fn malformed_or_nested_subdomains_name_no_workspace() {
        let base = "example.com";
        assert_eq!(
            classify_host("a.b.example.com", base),
            HostKind::NoWorkspace
        );
        assert_eq!(classify_host("ab.example.com", base), HostKind::NoWorkspace);
        assert_eq!(
            classify_host("api.example.com", base),
            HostKind::NoWorkspace
        );
        assert_eq!(classify_host(".example.com", base), HostKind::NoWorkspace);
    }

    #[test]
    fn a_different_port_or_domain_is_not_a_workspace() {
        assert_eq!(
            classify_host("acme.localhost:4000", "localhost:3000"),
            HostKind::Public
        );
        assert_eq!(
            classify_host("acme.example.org", "example.com"),
            HostKind::Public
        );
        assert_eq!(
            classify_host("evilexample.com", "example.com"),
            HostKind::Public
        );
    }
}
