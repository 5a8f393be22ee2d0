//! The public JSON API through the whole stack: tokens, isolation, the resources, errors,
//! idempotency. Helpers to make tokens and call the API with an explicit Host.

mod bad_input;
mod bad_params;
mod idempotency;
mod isolation;
mod resources;
mod tokens;

use std::sync::{Arc, Mutex};

use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, HOST};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::Server;

/// An answer of the API, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    /// The `type` of a problem document, without the reference page's address.
    pub fn problem(&self) -> &str {
        self.body["type"]
            .as_str()
            .and_then(|t| t.strip_prefix("/docs/api#problem-"))
            .unwrap_or_default()
    }

    /// The fields a problem names.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["field"].as_str().map(str::to_owned))
            .collect()
    }
}

/// A request to the API of `slug`'s host, with `token` (if any), `body` (if any) as JSON and
/// extra headers.
pub async fn call(
    app: &Server,
    method: Method,
    slug: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    extra: &[(&'static str, &str)],
) -> Answer {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut request = client
        .request(method, format!("http://{}/api/v1{path}", app.addr))
        .header(HOST, app.host(Some(slug)));
    if let Some(token) = token {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(body) = body {
        request = request
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    answer(request.send().await.unwrap()).await
}

/// A request with a body of any bytes, sent with `content_type` if there is one.
pub async fn raw(
    app: &Server,
    method: Method,
    path: &str,
    token: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Answer {
    let mut request = reqwest::Client::new()
        .request(method, format!("http://{}/api/v1{path}", app.addr))
        .header(HOST, app.host(Some("alpha")))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    answer(request.send().await.unwrap()).await
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
        text,
    }
}

pub async fn get(app: &Server, slug: &str, path: &str, token: &str) -> Answer {
    call(app, Method::GET, slug, path, Some(token), None, &[]).await
}

pub async fn post(app: &Server, slug: &str, path: &str, token: &str, body: Value) -> Answer {
    call(app, Method::POST, slug, path, Some(token), Some(body), &[]).await
}

/// Creates a token on the settings page's server function as the member holding `cookie`;
/// returns its secret.
pub async fn token(app: &Server, slug: &str, cookie: &str, role: &str) -> String {
    let response = app
        .call::<app::api::api_tokens::CreateApiToken>(
            Some(slug),
            &[
                ("name", "Test token"),
                ("role", role),
                ("expires_in_days", ""),
            ],
            Some(cookie),
            HeaderMap::new(),
        )
        .await;
    let status = response.status();
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(status, StatusCode::OK, "token created: {body}");
    body["secret"].as_str().unwrap().to_owned()
}

/// A product made through the API; returns its id.
pub async fn product(app: &Server, slug: &str, token: &str, sku: &str, stock: i64) -> String {
    let made = post(
        app,
        slug,
        "/products",
        token,
        json!({"sku": sku, "name": format!("Product {sku}"), "price": {"amount_minor": 1250, "currency": "USD"}, "stock": stock}),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    made.body["id"].as_str().unwrap().to_owned()
}

/// An order of `quantity` of one product, placed through the API; returns its id.
pub async fn order(app: &Server, slug: &str, token: &str, product: &str, quantity: i64) -> String {
    let placed = post(
        app,
        slug,
        "/orders",
        token,
        json!({"lines": [{"product_id": product, "quantity": quantity}]}),
    )
    .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.text);
    placed.body["id"].as_str().unwrap().to_owned()
}

/// Revokes the token whose secret is `secret` on the settings page, as the member holding
/// `cookie`.
pub async fn revoke(app: &Server, slug: &str, cookie: &str, secret: &str) {
    use app::api::api_tokens::{ApiTokensView, LoadApiTokens, RevokeApiToken};
    let listed = app
        .call::<LoadApiTokens>(Some(slug), &[], Some(cookie), HeaderMap::new())
        .await;
    let view: ApiTokensView = serde_json::from_str(&listed.text().await.unwrap()).unwrap();
    let row = view
        .tokens
        .iter()
        .find(|row| secret.starts_with(&row.prefix))
        .expect("the token is listed");
    let revoked = app
        .call::<RevokeApiToken>(
            Some(slug),
            &[("id", &row.id)],
            Some(cookie),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
}

/// What the test servers log on this thread while it is held. A `#[tokio::test]` runs on a
/// current-thread runtime, and the servers it spawns run their requests on that thread, so
/// another test's servers never write here.
pub struct CapturedLogs {
    lines: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl CapturedLogs {
    pub fn start() -> Self {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let writer = Arc::clone(&lines);
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || SharedWriter(Arc::clone(&writer)))
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        Self {
            lines,
            _guard: guard,
        }
    }

    /// The lines logged so far that contain `needle`.
    pub fn lines_with(&self, needle: &str) -> Vec<String> {
        let bytes = self.lines.lock().unwrap().clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|line| line.contains(needle))
            .map(str::to_owned)
            .collect()
    }
}

struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for SharedWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
