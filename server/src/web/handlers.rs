//! The few routes outside the Leptos app: readiness, the registration hand-off, export
//! downloads and the development outbox.

use std::sync::Arc;
use std::time::Duration;

use app::ssr::context::start_member_session;
use app::ssr::{RequestContext, Services, Site};
use axum::extract::{Path, Query};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Extension;
use db::platform::auth::TicketPurpose;
use tower_sessions::Session;

use super::html::{escape_html, html_page, linkify, not_found, unavailable};

const NOTHING_HERE: &str = "There is nothing at this address.";

pub(super) async fn readyz(Extension(services): Extension<Services>) -> Response {
    match tokio::time::timeout(Duration::from_secs(2), services.db.is_ready()).await {
        Ok(true) => (StatusCode::OK, "ready").into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response(),
    }
}

#[derive(serde::Deserialize)]
pub(super) struct WelcomeQuery {
    ticket: String,
}

/// Redeems the ticket a registration on the public site handed over, and signs the new owner
/// in on their workspace's own host.
pub(super) async fn welcome(
    Extension(services): Extension<Services>,
    Extension(ctx): Extension<Arc<RequestContext>>,
    session: Session,
    Query(query): Query<WelcomeQuery>,
) -> Response {
    let Site::Workspace(tenant) = &ctx.site else {
        return not_found(NOTHING_HERE);
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
        Err(db::RepoError::NotFound) => not_found(NO_EXPORT),
        Err(err) => {
            tracing::error!(request_id = %ctx.request_id, tenant = %tenant.id(), error = %err, "export download failed");
            unavailable()
        }
    }
}

/// Development only (`[mail] show_outbox`): the mail the outbox transport wrote, newest
/// first, on the public site, so invitation and reset links can be followed on one machine.
pub(super) async fn outbox_page(
    Extension(services): Extension<Services>,
    Extension(ctx): Extension<Arc<RequestContext>>,
) -> Response {
    if !services.settings.show_outbox
        || !matches!(ctx.site, Site::Public)
        || services.mailer.outbox_dir().is_none()
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
