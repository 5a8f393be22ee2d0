//! The HTTP edge: routes, and the middleware every request passes through in order —
//! request id and tracing, host → site, session, session → member, CSRF, and the status of a
//! server function's error.

mod csrf;
mod errors;
mod fair_share;
mod handlers;
mod headers;
mod html;
mod imports;
mod proxies;
mod schema_gate;
mod tenancy;

use std::sync::Arc;
use std::time::Duration;

pub use tenancy::{classify_host, HostKind};

use app::ssr::Services;
use axum::extract::{FromRef, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list_with_exclusions, LeptosRoutes};
use tower::ServiceBuilder;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub use fair_share::{over_rate, retry_after_secs, TenantRates};
pub use proxies::ClientAddress;

pub struct WebSettings {
    pub leptos: LeptosOptions,
    pub request_timeout: Duration,
    pub idle_timeout: Duration,
    /// Proxies whose `Forwarded` / `X-Forwarded-For` is believed (see `proxies`).
    pub trusted_proxies: std::sync::Arc<[ipnet::IpNet]>,
    /// Each workspace's request rate, in this process.
    pub rates: std::sync::Arc<TenantRates>,
    /// Requests slower than this are logged.
    pub slow_request: Duration,
}

/// The app's routes, listed once per process. Listing renders the app with resource loading
/// switched off by a flag that is global to the process (leptos_server's
/// `SuppressResourceLoad`): a page that starts a resource on another thread while a list is
/// being made waits for it forever, until the request timeout answers 503 (leptos#4773). So
/// the list is made before the first router can serve, and never again.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES
        .get_or_init(|| {
            let excluded = app::SERVER_PAGES.iter().map(|p| p.to_string()).collect();
            generate_route_list_with_exclusions(app::App, Some(excluded))
        })
        .clone()
}

pub fn router(services: Services, web: WebSettings) -> Router {
    let leptos_options = web.leptos.clone();
    let site_state = SiteState(Arc::new(leptos_options.clone()));
    let routes = route_list();
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

    let https = services.settings.scheme == "https";
    let session_layer = SessionManagerLayer::new(services.db.session_store())
        // Over https the `__Host-` prefix makes the browser refuse the cookie unless it is
        // Secure, host-only and for the whole site: no sibling subdomain can set or shadow it.
        .with_name(if https {
            "__Host-stockroom_session"
        } else {
            "stockroom_session"
        })
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(https)
        .with_expiry(Expiry::OnInactivity(
            time::Duration::try_from(web.idle_timeout).unwrap_or(time::Duration::hours(2)),
        ));

    let site_routes = Router::new()
        .route(
            "/welcome",
            get(handlers::welcome_page).post(handlers::welcome),
        )
        .route("/exports/{id}/download", get(handlers::download_export))
        .route(
            imports::UPLOAD_PATH,
            // `limit_body` holds every body to its limit; axum's own default for extractors
            // (2 MB) would cut the upload's shorter.
            axum::routing::post(imports::upload).layer(axum::extract::DefaultBodyLimit::max(
                imports::UPLOAD_BODY_LIMIT,
            )),
        )
        .route(imports::TEMPLATE_PATH, get(imports::template))
        .route("/dev/outbox", get(handlers::outbox_page))
        .route("/docs/api", get(crate::api::docs::reference))
        .leptos_routes_with_context(&site_state, routes, app::ssr::security::record_nonce, {
            let options = leptos_options.clone();
            move || app::shell(options.clone())
        })
        .fallback(unrouted)
        .with_state(site_state)
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn(headers::security_headers))
                .layer(middleware::from_fn(headers::limit_body))
                .layer(middleware::from_fn(errors::server_fn_status))
                .layer(middleware::from_fn_with_state(
                    services.settings.clone(),
                    csrf::reject_cross_site,
                ))
                .layer(middleware::from_fn_with_state(
                    web.trusted_proxies.clone(),
                    proxies::client_address,
                ))
                .layer(middleware::from_fn_with_state(
                    services.clone(),
                    tenancy::resolve_site,
                ))
                .layer(middleware::from_fn_with_state(
                    web.slow_request,
                    crate::metrics::observe,
                ))
                .layer(middleware::from_fn_with_state(
                    (services.clone(), web.rates.clone()),
                    fair_share::limit_rate,
                ))
                .layer(session_layer)
                .layer(middleware::from_fn_with_state(
                    services.clone(),
                    tenancy::attach_member,
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
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ));

    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(handlers::readyz))
        .merge(assets)
        // The API beside the screens, never through them: no session, no member, no CSRF.
        .merge(
            crate::api::router()
                .layer(middleware::from_fn(headers::security_headers))
                .layer(middleware::from_fn_with_state(
                    web.slow_request,
                    crate::metrics::observe,
                )),
        )
        .merge(site_routes)
        .layer(middleware::from_fn_with_state(
            services.clone(),
            schema_gate::refuse_while_behind,
        ))
        .layer(Extension(services))
        .layer(Extension(web.rates.clone()))
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
                        path = %headers::redacted_path(req.uri().path()),
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
                        .quality(CompressionLevel::Fastest)
                        .compress_when(worth_compressing()),
                )
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    web.request_timeout,
                )),
        )
}

/// An answer that fits in a connection's first flight of segments (ten, RFC 6928) arrives in
/// the same round trip compressed or not, so compressing it would only cost CPU: gzip's state
/// is set up afresh for each response, a tenth of the product list's server time. Answers of
/// unknown size are compressed, and pages are among them (Leptos streams them). Otherwise
/// tower-http's default exclusions (gRPC, images, event streams).
fn worth_compressing() -> impl Predicate {
    const FIRST_FLIGHT_BYTES: u16 = 14_000;
    SizeAbove::new(FIRST_FLIGHT_BYTES)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE)
}

/// The site router's state. leptos_axum clones it into every request's context, twice per
/// server-function call, and `LeptosOptions` is a dozen fields to count references of: the
/// profile of the product list showed their drops alone at 1% of the server's CPU.
#[derive(Clone)]
struct SiteState(Arc<LeptosOptions>);

impl FromRef<SiteState> for LeptosOptions {
    fn from_ref(state: &SiteState) -> Self {
        LeptosOptions::clone(&state.0)
    }
}

/// What no route answers: the site's static files, and the not-found page. A page's address
/// typed or linked with a trailing slash (`/login/`) is sent on to the address without it.
async fn unrouted(uri: Uri, state: State<SiteState>, req: Request) -> Response {
    if let Some(page) = without_trailing_slash(req.method(), &uri) {
        return Redirect::permanent(&page).into_response();
    }
    leptos_axum::file_and_error_handler_with_context::<SiteState, _>(
        app::ssr::security::record_nonce,
        app::shell,
    )(uri, state, req)
    .await
}

/// `/login/?next=x` → `/login?next=x`, for a read only. Never an address that a browser would
/// take for another host's (`//host/`, `/\host/`): that would be an open redirect.
fn without_trailing_slash(method: &Method, uri: &Uri) -> Option<String> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let path = uri.path();
    let page = path.trim_end_matches('/');
    if page.len() == path.len()
        || !page.starts_with('/')
        || page.starts_with("//")
        || page.contains('\\')
    {
        return None;
    }
    Some(match uri.query() {
        Some(query) => format!("{page}?{query}"),
        None => page.to_owned(),
    })
}

async fn drop_client_request_id(mut req: Request, next: Next) -> Response {
    req.headers_mut().remove("x-request-id");
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trailing_slash_is_dropped_for_reads_on_this_host_only() {
        let to = |method: Method, uri: &str| without_trailing_slash(&method, &uri.parse().unwrap());
        assert_eq!(to(Method::GET, "/login/"), Some("/login".into()));
        assert_eq!(
            to(Method::HEAD, "/orders/new//"),
            Some("/orders/new".into())
        );
        assert_eq!(
            to(Method::GET, "/register/?slug=a%2Fb&x=1"),
            Some("/register?slug=a%2Fb&x=1".into())
        );
        for (method, uri) in [
            (Method::GET, "/"),
            (Method::GET, "///"),
            (Method::GET, "/login"),
            (Method::GET, "/login?next=/x/"),
            (Method::POST, "/login/"),
            (Method::GET, "//evil.example/"),
            (Method::GET, "/\\evil.example/"),
        ] {
            assert_eq!(to(method.clone(), uri), None, "{method} {uri}");
        }
    }
}
