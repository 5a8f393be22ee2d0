//! Who a request is for: the Host names the site (and its tenant), the session names the
//! member or console admin. A tenant comes from here and from nowhere in the request body.

use std::sync::Arc;
use std::time::Duration;

use app::ssr::context::now_unix;
use app::ssr::{
    ConsoleSignedIn, RequestContext, Services, SignedIn, Site, AUTH_SESSION_KEY,
    CONSOLE_SESSION_KEY,
};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use db::platform::console::ConsoleScope;
use db::{RepoError, Tenant, TenantScope};
use tower_http::request_id::RequestId;
use tower_sessions::Session;

use super::html::{plain_page, unavailable};

/// Server functions live under this prefix; everything else on a site is a page.
pub(super) const SERVER_FN_PREFIX: &str = "/api/";

/// Which site the Host names.
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
        // A name this deployment does not own (an IP address, a typo of the base, a name
        // pointed here by someone else's DNS): no site answers for it.
        None => HostKind::Foreign,
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum HostKind {
    Public,
    Console,
    Workspace(domain::Slug),
    NoWorkspace,
    /// Outside the base domain.
    Foreign,
}

pub(super) fn request_id(req: &Request) -> String {
    req.extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-")
        .to_owned()
}

pub(super) async fn resolve_site(
    State(services): State<Services>,
    mut req: Request,
    next: Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or_default()
        .to_owned();
    let site = match classify_host(&host, &services.settings.base_domain) {
        HostKind::Foreign => return foreign_host(&req, &services),
        HostKind::Public => Site::Public,
        HostKind::Console => Site::Console,
        HostKind::NoWorkspace => Site::UnknownWorkspace,
        HostKind::Workspace(slug) => {
            match db::platform::tenants::find_by_slug(&services.db, &slug).await {
                Ok(Some(tenant)) if tenant.is_active() => Site::Workspace(tenant),
                // Erased: nothing of it is left to show, not even that it was there.
                Ok(Some(tenant)) if tenant.status() == domain::TenantStatus::Purged => {
                    Site::UnknownWorkspace
                }
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
    let is_page = req.method() == Method::GET && !req.uri().path().starts_with(SERVER_FN_PREFIX);
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

/// A name the deployment does not own gets no page: a reader is sent to the public site, and
/// anything else is told it came to the wrong server (421). Pages reached by DNS rebinding or
/// under a stranger's domain never render here.
fn foreign_host(req: &Request, services: &Services) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        let to = format!("{}/", services.settings.public_url());
        return (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, to)]).into_response();
    }
    (
        StatusCode::MISDIRECTED_REQUEST,
        Html(plain_page(
            "Wrong address",
            "This server does not answer for this address.",
        )),
    )
        .into_response()
}

/// Reads who the session signs in and checks it against the site, then puts everything the
/// request learnt into one [`RequestContext`].
pub(super) async fn attach_member(
    State(services): State<Services>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(site) = req.extensions().get::<Site>().cloned() else {
        tracing::error!("attach_member ran before resolve_site");
        return unavailable();
    };
    let client_address = req
        .extensions()
        .get::<super::ClientAddress>()
        .map(|client| client.0.to_string())
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
    let console = match console_signed_in {
        Some(admin) => match console_step(&services, &session, &site, admin).await {
            Ok(found) => found,
            Err(refusal) => return refusal,
        },
        None => None,
    };
    let scope = match signed_in {
        Some(member) => match member_step(&services, &session, &site, member).await {
            Ok(found) => found,
            Err(refusal) => return refusal,
        },
        None => None,
    };
    let request_id = request_id(&req);
    req.extensions_mut().insert(Arc::new(RequestContext {
        request_id,
        client_address,
        site,
        scope,
        console,
    }));
    next.run(req).await
}

/// A console session counts only on the console's host, within its absolute lifetime, for an
/// admin who still exists. `Err` is the answer the request gets instead of going on.
async fn console_step(
    services: &Services,
    session: &Session,
    site: &Site,
    admin: ConsoleSignedIn,
) -> Result<Option<ConsoleScope>, Response> {
    if !matches!(site, Site::Console) {
        // Host-only cookies never carry a console session to another host: a replay.
        tracing::warn!("tenant_mismatch: console session presented outside the console");
        return Err(signed_in_elsewhere());
    }
    if expired(services, admin.since) {
        let _ = session.flush().await;
        return Ok(None);
    }
    let found = ConsoleScope::for_admin(&services.db, admin.admin_id).await;
    still_signed_in(
        services,
        session,
        admin.since,
        found,
        "console admin lookup",
    )
    .await
}

/// A member's session counts only on its own workspace's host, within its absolute lifetime,
/// for someone who is still a member. A suspended workspace signs its people out.
async fn member_step(
    services: &Services,
    session: &Session,
    site: &Site,
    signed_in: SignedIn,
) -> Result<Option<TenantScope>, Response> {
    let tenant = match site {
        Site::Workspace(tenant) if tenant.id() == signed_in.tenant_id => tenant,
        Site::SuspendedWorkspace(tenant) if tenant.id() == signed_in.tenant_id => {
            let _ = session.flush().await;
            return Ok(None);
        }
        _ => {
            // Host-only cookies make this impossible for a browser; someone replayed a cookie
            // on another host. Refuse rather than guess which tenant was meant.
            tracing::warn!(
                session_tenant = %signed_in.tenant_id,
                "tenant_mismatch: session of another tenant presented on this host"
            );
            return Err(signed_in_elsewhere());
        }
    };
    if expired(services, signed_in.since) {
        let _ = session.flush().await;
        return Ok(None);
    }
    let found = checked_member(services, session, tenant, &signed_in).await;
    still_signed_in(services, session, signed_in.since, found, "member lookup").await
}

/// The member a session names (remembered per session while nothing changed it, see
/// `db::caches`).
async fn checked_member(
    services: &Services,
    session: &Session,
    tenant: &Tenant,
    signed_in: &SignedIn,
) -> Result<Option<TenantScope>, RepoError> {
    match session.id() {
        Some(id) => TenantScope::for_session(&services.db, tenant, signed_in.user_id, &id).await,
        None => TenantScope::for_member(&services.db, tenant, signed_in.user_id).await,
    }
}

/// What a lookup of the signed-in person means for the session: found keeps it alive, gone
/// (removed member, deleted admin) ends it, a failed lookup answers 503. `since` is when the
/// person signed in.
async fn still_signed_in<T>(
    services: &Services,
    session: &Session,
    since: i64,
    found: Result<Option<T>, RepoError>,
    what: &str,
) -> Result<Option<T>, Response> {
    match found {
        Ok(Some(found)) => {
            let idle = services.settings.session_idle_timeout;
            if let Err(err) = keep_alive(session, idle, since).await {
                tracing::warn!(error = %err, "session keep-alive failed");
            }
            Ok(Some(found))
        }
        Ok(None) => {
            let _ = session.flush().await;
            Ok(None)
        }
        Err(err) => {
            tracing::warn!(error = %err, "{what} failed");
            Err(unavailable())
        }
    }
}

fn expired(services: &Services, since: i64) -> bool {
    now_unix() - since >= services.settings.session_absolute_timeout.as_secs() as i64
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

const SEEN_KEY: &str = "seen";

/// Slides the idle timeout. Touching the record marks it modified, so tower-sessions saves it
/// with a fresh expiry; doing so at most every tenth of the idle timeout keeps most requests
/// free of a session write. Signing in wrote the whole session with a fresh expiry, so a
/// session not touched since counts from then: the requests right after a sign-in write
/// nothing (each such write also made every server process forget the session, and the next
/// request read it back from the database).
async fn keep_alive(
    session: &Session,
    idle: Duration,
    signed_in_since: i64,
) -> Result<(), tower_sessions::session::Error> {
    let now = now_unix();
    let seen = session
        .get::<i64>(SEEN_KEY)
        .await?
        .unwrap_or(signed_in_since);
    if now - seen >= (idle.as_secs() as i64 / 10).max(1) {
        session.insert(SEEN_KEY, now).await?;
    }
    Ok(())
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
    fn a_name_outside_the_base_domain_is_foreign() {
        assert_eq!(
            classify_host("acme.localhost:4000", "localhost:3000"),
            HostKind::Foreign
        );
        assert_eq!(
            classify_host("acme.example.org", "example.com"),
            HostKind::Foreign
        );
        assert_eq!(
            classify_host("evilexample.com", "example.com"),
            HostKind::Foreign
        );
        assert_eq!(
            classify_host("127.0.0.1:3000", "localhost:3000"),
            HostKind::Foreign
        );
        assert_eq!(classify_host("", "localhost:3000"), HostKind::Foreign);
    }
}
