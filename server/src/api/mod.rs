//! The public JSON API under `<workspace>.<base>/api/v1/`, for shops, ERPs and scripts.
//!
//! It runs beside the screens, not through them: no session layer, no CSRF, no server
//! function error mapping. Its own steps, in order: the body is read (bounded), the Host
//! names the workspace and the bearer token the member (`auth`), a POST with an
//! `Idempotency-Key` is claimed (`idempotency`), then the handler calls the same scoped
//! repository functions the screens call. Every route and schema is declared once, on the
//! handler, and the OpenAPI document and the reference page are generated from that.

mod auth;
mod call;
mod cursor;
pub mod docs;
mod extract;
mod idempotency;
mod orders;
mod problem;
mod products;
mod shared;

use std::sync::OnceLock;

use axum::http::{header, HeaderValue};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use tower::ServiceBuilder;
use utoipa::openapi::{self, OpenApi as Document};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use problem::Problem;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Stockroom API",
        version = "1.0.0",
        description = "Products and orders of one Stockroom workspace, for shops, ERPs and scripts. \
            Call it on the workspace's own address with an API token; see the reference at /docs/api."
    ),
    components(schemas(Problem, problem::FieldProblem)),
    tags(
        (name = "products", description = "The workspace's catalogue and stock"),
        (name = "orders", description = "Orders and their workflow")
    )
)]
struct ApiDoc;

/// The API's routes, with their own middleware.
pub fn router() -> Router {
    let (routes, _) = routes_and_document();
    routes
        // Anything else under the API is a problem too, never a page.
        .route("/api/v1/{*rest}", any(not_found))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn(extract::buffer_body))
                .layer(middleware::from_fn(auth::authenticate))
                .layer(middleware::from_fn(idempotency::idempotent)),
        )
        .merge(Router::new().route("/api/v1/openapi.json", get(openapi_json)))
}

fn routes_and_document() -> (Router, Document) {
    let (routes, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(products::list_products, products::create_product))
        .routes(routes!(products::get_product, products::update_product))
        .routes(routes!(products::archive_product))
        .routes(routes!(orders::list_orders, orders::place_order))
        .routes(routes!(orders::get_order))
        .routes(routes!(orders::change_order_status))
        .split_for_parts();
    docs::complete(&mut document);
    (routes, document)
}

/// The OpenAPI 3.1 document, made once from the handlers' declarations.
pub fn document() -> &'static Document {
    static DOCUMENT: OnceLock<Document> = OnceLock::new();
    DOCUMENT.get_or_init(|| routes_and_document().1)
}

async fn openapi_json() -> Response {
    static JSON: OnceLock<String> = OnceLock::new();
    let json = JSON.get_or_init(|| document().to_json().unwrap_or_default());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        json.as_str(),
    )
        .into_response()
}

async fn not_found() -> problem::ApiError {
    problem::ApiError::new(
        problem::Kind::NotFound,
        "There is no such endpoint. The reference lists them all: /docs/api.",
    )
}

async fn method_not_allowed() -> problem::ApiError {
    problem::ApiError::new(
        problem::Kind::MethodNotAllowed,
        "This endpoint does not take this method. The reference lists them all: /docs/api.",
    )
}

/// The security scheme every operation requires.
fn bearer_scheme() -> openapi::security::SecurityScheme {
    use openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
    SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "An API token of the workspace (`sr_…`), created by an owner or admin under Settings, API.",
            ))
            .build(),
    )
}

/// The API's 503 problem with `Retry-After`, for refusals made before its router (an upgrade
/// under way: `web::schema_gate`).
pub(crate) fn unavailable_for(retry_after_secs: u32) -> Response {
    call::unavailable()
        .with_retry_after(retry_after_secs)
        .into_response()
}
