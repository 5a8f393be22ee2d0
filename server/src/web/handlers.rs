//! The few routes outside the Leptos app: readiness, the registration hand-off, export
//! downloads and the development outbox.

use std::sync::Arc;
use std::time::Duration;

use app::ssr::context::start_member_session;
use app::ssr::{RequestContext, Services, Site};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use db::platform::auth::TicketPurpose;
use tower_sessions::Session;

use super::html::{escape_html, html_page, linkify, not_found, plain_page, unavailable};

const NOTHING_HERE: &str = "There is nothing at this address.";

pub(super) async fn readyz(Extension(services): Extension<Services>) -> Response {
    if services.db.schema_behind() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "database migrations missing",
        )
            .into_response();
    }
    match tokio::time::timeout(Duration::from_secs(2), services.db.is_ready()).await {
        Ok(true) => (StatusCode::OK, "ready").into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response(),
    }
}

/// `GET /welcome`. On the public site: the page that posts this browser's hand-off ticket to
/// its new workspace (see `app::ssr::handoff`), at once with the page's one script, or with
/// its button. On a workspace it never signs anyone in: a link is not a hand-off.
pub(super) async fn welcome_page(
    Extension(services): Extension<Services>,
    Extension(ctx): Extension<Arc<RequestContext>>,
    headers: HeaderMap,
) -> Response {
    match &ctx.site {
        Site::Public => {}
        Site::Workspace(_) => return Redirect::to("/login").into_response(),
        _ => return not_found(NOTHING_HERE),
    }
    let settings = &services.settings;
    let cookie = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some((slug, ticket)) = app::ssr::handoff::read_cookie(settings, cookie)
        .filter(|(slug, _)| domain::Slug::parse(slug).is_ok_and(|s| s.as_str() == slug))
    else {
        return Redirect::to("/").into_response();
    };
    let workspace = settings.workspace_url(&slug);
    let (nonce, _) = app::ssr::tokens::new_token();
    let body = format!(
        "<form id=\"handoff\" method=\"post\" action=\"{workspace}/welcome\">\
         <input type=\"hidden\" name=\"ticket\" value=\"{ticket}\">\
         <p>Your workspace is ready at {address}.</p>\
         <button type=\"submit\">Continue to your workspace</button></form>\
         <script nonce=\"{nonce}\">document.getElementById(\"handoff\").submit();</script>",
        address = escape_html(&format!("{slug}.{}", settings.base_domain)),
    );
    let policy = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; \
         form-action {workspace}; base-uri 'none'; frame-ancestors 'none'"
    );
    (
        [
            (header::CONTENT_SECURITY_POLICY, policy),
            (
                header::SET_COOKIE,
                app::ssr::handoff::clear_cookie(settings),
            ),
            // The workspace checks that this post comes from the public site by its Origin,
            // which browsers replace with "null" under the stricter `same-origin` policy.
            (header::REFERRER_POLICY, "strict-origin".to_owned()),
        ],
        Html(html_page("Opening your workspace", &body)),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
pub(super) struct WelcomeForm {
    ticket: String,
}

/// `POST /welcome` on a workspace: redeems the hand-off ticket the public site posted (the
/// CSRF guard lets only the public site's origin post here) and signs the new owner in.
pub(super) async fn welcome(
    Extension(services): Extension<Services>,
    Extension(ctx): Extension<Arc<RequestContext>>,
    session: Session,
    Form(form): Form<WelcomeForm>,
) -> Response {
    let Site::Workspace(tenant) = &ctx.site else {
        return not_found(NOTHING_HERE);
    };
    let digest = app::ssr::tokens::digest(&form.ticket);
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
                db::platform::auth::record_sign_in(&services.db, tenant, user_id, None).await
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
pub(super) async fn download_export(
    Extension(services): Extension<Services>,
    Extension(ctx): Extension<Arc<RequestContext>>,
    Path(id): Path<String>,
) -> Response {
    const NO_EXPORT: &str = "There is no export at this address.";
    let (Site::Workspace(tenant), Some(scope)) = (&ctx.site, &ctx.scope) else {
        return match ctx.site {
            Site::Workspace(_) => Redirect::to("/login").into_response(),
            _ => not_found(NO_EXPORT),
        };
    };
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return not_found(NO_EXPORT);
    };
    match db::tenant::exports::download(&services.db, scope, domain::ExportId::from_uuid(id)).await
    {
        Ok(file) => {
            let date = file.created_at.date();
            let (extension, content_type) = match file.kind {
                db::tenant::exports::ExportKind::Workspace => ("tar.gz", "application/gzip"),
                _ => ("csv", "text/csv; charset=utf-8"),
            };
            let name = format!(
                "{}-{}-{}.{extension}",
                tenant.slug(),
                file.kind.as_str(),
                date
            );
            (
                [
                    (header::CONTENT_TYPE, content_type.to_owned()),
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
        Err(db::RepoError::NotFound) => not_found(NO_EXPORT),
        Err(db::RepoError::Refused(db::Refusal::ExportExpired)) => (
            StatusCode::GONE,
            Html(plain_page(
                "Export expired",
                "This export was kept for a limited time and has been discarded. Ask for a new one on the Exports page.",
            )),
        )
            .into_response(),
        Err(db::RepoError::Forbidden | db::RepoError::PlanRequired { .. }) => (
            StatusCode::FORBIDDEN,
            Html(plain_page(
                "Not available",
                "CSV exports are for the workspace's admins and owners, on a plan that includes them; the whole workspace's archive is for its owners.",
            )),
        )
            .into_response(),
        Err(err) => {
            tracing::error!(request_id = %ctx.request_id, tenant = %tenant.id(), error = %err, "export download failed");
            unavailable()
        }
    }
}

/// Development only (`[mail] show_outbox`): the mail the outbox transport wrote, newest
/// first, on the public site, so invitation and reset links can be followed on one machine.
/// Every workspace's links are on it, so it answers only a client on this machine that
/// asked for this machine by name (the TCP peer, not a forwarded address; a loopback Host,
/// so a page that re-pointed its own name here cannot read it); the settings refuse it on a
/// server that listens beyond loopback.
pub(super) async fn outbox_page(
    Extension(services): Extension<Services>,
    Extension(ctx): Extension<Arc<RequestContext>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !services.settings.show_outbox
        || !matches!(ctx.site, Site::Public)
        || services.mailer.outbox_dir().is_none()
        || !peer.ip().is_loopback()
        || !is_loopback_host(host)
    {
        return not_found(NOTHING_HERE);
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
            "<article style=\"border-top:1px solid #ccc;padding:1rem 0;overflow-wrap:anywhere\" data-testid=\"outbox-message\">\
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

/// `localhost`, a name under `.localhost`, or a loopback address, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name.to_ascii_lowercase().ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_loopback_names_are_loopback_hosts() {
        for host in [
            "localhost:3000",
            "LOCALHOST",
            "127.0.0.1:3000",
            "[::1]:3000",
            "x.localhost",
        ] {
            assert!(super::is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example:3000",
            "10.0.0.1",
            "localhost.evil.example",
            "",
        ] {
            assert!(!super::is_loopback_host(host), "{host}");
        }
    }
}
