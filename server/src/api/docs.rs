//! The API's OpenAPI document, completed with what every operation shares (the bearer
//! scheme and the problem answers), and the reference page at `/docs/api`, written from that
//! document so the page and the API cannot disagree.

use axum::response::Html;
use serde_json::Value;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Ref, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ComponentsBuilder, OpenApi as Document, RefOr};

use super::problem::{Kind, PROBLEM_JSON};

/// Adds the bearer scheme, required everywhere, and each operation's problem answers.
pub(super) fn complete(document: &mut Document) {
    document
        .components
        .get_or_insert_with(|| ComponentsBuilder::new().build())
        .add_security_scheme("bearer", super::bearer_scheme());
    document.security = Some(vec![SecurityRequirement::new(
        "bearer",
        Vec::<String>::new(),
    )]);
    for item in document.paths.paths.values_mut() {
        let operations = [
            (&mut item.get, false),
            (&mut item.put, true),
            (&mut item.post, true),
        ];
        for (operation, writes) in operations {
            if let Some(operation) = operation {
                add_problems(operation, writes);
            }
        }
    }
}

/// The answers an operation can give besides its own, by what it does.
fn add_problems(operation: &mut Operation, writes: bool) {
    let has_body = operation.request_body.is_some();
    let mut kinds = vec![
        (400, "A query parameter, header or the body is malformed (`invalid-parameter`, `malformed-body`)"),
        (401, "No valid API token for this workspace (`unauthenticated`)"),
        (403, "The token may not do this, or the workspace is suspended (`forbidden`, `read-only-token`, `plan-limit`, `plan-required`, `workspace-suspended`)"),
        (404, "No such resource in this workspace, or no such workspace (`not-found`, `workspace-not-found`)"),
        (429, "Too many requests (`rate-limited`); wait for Retry-After seconds"),
        (500, "A failure on our side (`internal`); quote its request_id"),
        (503, "Busy or restarting (`unavailable`); retry after Retry-After seconds"),
    ];
    if writes {
        kinds.push((409, "The product changed since it was read, or a request with this idempotency key is still running (`stale-version`, `idempotency-in-progress`)"));
        kinds.push((413, "The body is larger than 64 KB (`too-large`)"));
        kinds.push((422, "Fields are not valid, or the idempotency key was used for another request (`validation`, `idempotency-key-reused`)"));
    }
    if has_body {
        kinds.push((
            415,
            "The body is not sent as JSON (`unsupported-media-type`)",
        ));
    }
    for (status, description) in kinds {
        let mut response = ResponseBuilder::new().description(description).content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        );
        if matches!(status, 409 | 429 | 503) {
            response = response.header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::Integer))
                    .description(Some("Seconds to wait before retrying"))
                    .build(),
            );
        }
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(response.build()));
    }
}

/// `/docs/api`: the reference page, on the public site (and on every workspace's host, so a
/// problem's `type` resolves wherever the API answered).
pub async fn reference() -> Html<&'static str> {
    static PAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    Html(PAGE.get_or_init(|| page(super::document())))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#0f172a}\
code,pre{font-family:ui-monospace,monospace;background:#f1f5f9;border-radius:4px;padding:0 .25rem}\
pre{padding:.75rem;overflow-x:auto}table{border-collapse:collapse;width:100%;margin:.5rem 0}\
th,td{border:1px solid #cbd5e1;padding:.25rem .5rem;text-align:left;vertical-align:top}\
h3{margin-top:2rem;border-top:1px solid #e2e8f0;padding-top:1rem}.method{font-weight:700;color:#4338ca}";

fn page(document: &Document) -> String {
    let json = serde_json::to_value(document).unwrap_or(Value::Null);
    let mut html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>API reference · Stockroom</title><style>{STYLE}</style></head><body><main>\
         <h1>Stockroom API reference</h1>{GUIDE}<h2 id=\"errors\">Errors</h2>{ERRORS_INTRO}"
    );
    html.push_str(
        "<table><thead><tr><th>type</th><th>status</th><th>meaning</th></tr></thead><tbody>",
    );
    for kind in Kind::ALL {
        html.push_str(&format!(
            "<tr id=\"problem-{slug}\"><td><code>{uri}</code></td><td>{status}</td><td>{title}</td></tr>",
            slug = kind.slug(),
            uri = escape(&kind.type_uri()),
            status = kind.status().as_u16(),
            title = escape(kind.title()),
        ));
    }
    html.push_str("</tbody></table><h2 id=\"endpoints\">Endpoints</h2>");
    let empty = serde_json::Map::new();
    let paths = json["paths"].as_object().unwrap_or(&empty);
    for (path, item) in paths {
        for method in ["get", "put", "post", "delete"] {
            if let Some(operation) = item.get(method) {
                html.push_str(&endpoint(method, path, operation));
            }
        }
    }
    html.push_str("<h2 id=\"schemas\">Schemas</h2>");
    for (name, schema) in json["components"]["schemas"].as_object().unwrap_or(&empty) {
        html.push_str(&schema_section(name, schema));
    }
    html.push_str("</main></body></html>");
    html
}

fn text(value: &Value) -> String {
    escape(value.as_str().unwrap_or_default())
}

fn endpoint(method: &str, path: &str, operation: &Value) -> String {
    let mut html = format!(
        "<h3 id=\"{id}\"><span class=\"method\">{upper}</span> <code>{path}</code> — {summary}</h3><p>{description}</p>",
        id = escape(operation["operationId"].as_str().unwrap_or(path)),
        upper = method.to_uppercase(),
        path = escape(path),
        summary = text(&operation["summary"]),
        description = text(&operation["description"]),
    );
    if let Some(parameters) = operation["parameters"].as_array() {
        html.push_str("<table><thead><tr><th>parameter</th><th>in</th><th>type</th><th>description</th></tr></thead><tbody>");
        for parameter in parameters {
            html.push_str(&format!(
                "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                text(&parameter["name"]),
                if parameter["required"].as_bool() == Some(true) {
                    " (required)"
                } else {
                    ""
                },
                text(&parameter["in"]),
                type_of(&parameter["schema"]),
                text(&parameter["description"]),
            ));
        }
        html.push_str("</tbody></table>");
    }
    if let Some(content) = operation["requestBody"]["content"].as_object() {
        for (media, body) in content {
            html.push_str(&format!(
                "<p>Body (<code>{}</code>): {}</p>",
                escape(media),
                type_of(&body["schema"])
            ));
        }
    }
    html.push_str("<ul>");
    for (status, response) in operation["responses"].as_object().into_iter().flatten() {
        let body = response["content"]
            .as_object()
            .and_then(|c| c.values().next())
            .map(|c| format!(": {}", type_of(&c["schema"])))
            .unwrap_or_default();
        html.push_str(&format!(
            "<li><strong>{}</strong> {}{}</li>",
            escape(status),
            text(&response["description"]),
            body
        ));
    }
    html.push_str("</ul>");
    html
}

fn schema_section(name: &str, schema: &Value) -> String {
    let mut html = format!(
        "<h3 id=\"schema-{name}\">{name}</h3><p>{}</p>",
        text(&schema["description"]),
        name = escape(name)
    );
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values
            .iter()
            .map(|v| format!("<code>{}</code>", text(v)))
            .collect();
        html.push_str(&format!("<p>One of {}.</p>", values.join(", ")));
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(properties) = schema["properties"].as_object() {
        html.push_str(
            "<table><thead><tr><th>field</th><th>type</th><th>description</th></tr></thead><tbody>",
        );
        for (field, property) in properties {
            html.push_str(&format!(
                "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td></tr>",
                escape(field),
                if required.contains(&field.as_str()) {
                    " (required)"
                } else {
                    ""
                },
                type_of(property),
                text(&property["description"]),
            ));
        }
        html.push_str("</tbody></table>");
    }
    html
}

/// A schema as a reader wants it: a link to a named schema, or its type and format.
fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return format!("<a href=\"#schema-{0}\">{0}</a>", escape(name));
    }
    if let Some(options) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        let kinds: Vec<String> = options.iter().map(type_of).collect();
        return kinds.join(" or ");
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        other => other.as_str().unwrap_or("any").to_owned(),
    };
    let kind = if kind.starts_with("array") {
        format!("array of {}", type_of(&schema["items"]))
    } else {
        escape(&kind)
    };
    match schema["format"].as_str() {
        Some(format) => format!("{kind} ({})", escape(format)),
        None => kind,
    }
}

const GUIDE: &str = r#"
<p>Each Stockroom workspace has a JSON API on its own address, for the shop, ERP or script that
works with its products and orders: <code>https://&lt;workspace&gt;.&lt;domain&gt;/api/v1/</code>.
The machine-readable description is at <a href="/api/v1/openapi.json"><code>/api/v1/openapi.json</code></a>
(OpenAPI 3.1), served by every workspace's address; this page is written from it.</p>
<h2 id="authentication">Authentication</h2>
<p>Send an API token with every call: <code>Authorization: Bearer sr_…</code>. A workspace's
owners and admins create tokens on the workspace's <code>/settings/api</code> page: a name, an
access level and an optional expiry. The token is shown once; Stockroom keeps only a digest of it.
Its first characters (<code>sr_</code> and eight more) are its public prefix, listed on the
settings page, so a token found in a log can be identified and revoked.</p>
<ul>
<li>A <strong>read-only</strong> token can only read; any write answers 403 <code>read-only-token</code>.</li>
<li>A <strong>read-write</strong> token acts as the member who created it, with that member's role
<em>as it is at each call</em>: a creator who is demoted gives the token less power, a creator who
is removed ends it. Creating products needs an admin or owner; cancelling an order too.</li>
<li>The workspace comes from the address only. A token of another workspace, a revoked or expired
token, or none at all answers 401 <code>unauthenticated</code>. A revoked token is refused from the
very next call.</li>
<li>Signed-in browser sessions do not work on the API, and tokens do not work on the screens.</li>
</ul>
<pre>curl -H "Authorization: Bearer $STOCKROOM_TOKEN" https://acme.stockroom.example/api/v1/products?limit=10</pre>
<h2 id="conventions">Money, moments, ids, pages</h2>
<ul>
<li>Money is an object of integer minor units and the currency: <code>{"amount_minor": 1250, "currency": "USD"}</code>
is USD 12.50. A workspace prices everything in its own currency.</li>
<li>Moments are RFC 3339 timestamps in UTC, e.g. <code>2026-11-30T09:00:00Z</code>.</li>
<li>Ids are UUIDs. An id that does not exist in this workspace (including another workspace's) is 404.</li>
<li>Lists come newest first, 25 items a page (<code>limit</code> up to 100). When more follow, the
answer has <code>next_cursor</code>; pass it as <code>cursor</code> for the next page. A cursor only
works on the list and in the workspace it came from.</li>
<li>Request bodies are JSON (<code>Content-Type: application/json</code>), at most 64 KB. Unknown
fields are refused, so a misspelt field is never silently ignored; so are unknown query parameters.</li>
</ul>
<h2 id="idempotency">Idempotency</h2>
<p>Every <code>POST</code> takes an optional <code>Idempotency-Key</code> header (1–255 visible
ASCII characters; a UUID is a good choice). The first request with a key runs and its answer is
kept for 24 hours, per token; a retry with the same key and the same request (method, path and
body) gets that answer again, with <code>Idempotent-Replayed: true</code>, and never runs the action
twice: a retried order is placed once. A retry that arrives while the first request is still running
waits for its answer for up to 10 seconds, then answers 409 <code>idempotency-in-progress</code>
(retry with the same key). The same key with a different request answers 422
<code>idempotency-key-reused</code>. An answer of 503 is not kept: the next request with the key
runs afresh. If the server stops while the first request runs, the key stays in progress until it
expires, because Stockroom cannot know whether the action happened: check, then use a new key.</p>
"#;

const ERRORS_INTRO: &str = r#"
<p>Errors are problem documents (RFC 9457) with <code>Content-Type: application/problem+json</code>:
<code>type</code> (stable: match on it), <code>title</code>, <code>status</code>, <code>detail</code>
for people, <code>errors</code> naming each field at fault (a JSON path into the body such as
<code>lines[0].quantity</code>, a query parameter, or a header), <code>plans</code> that would allow
what a plan refused, and <code>request_id</code> for failures on our side. 401 answers carry
<code>WWW-Authenticate: Bearer</code>; 409, 429 and 503 answers carry <code>Retry-After</code>.</p>
<pre>{"type": "/docs/api#problem-validation", "title": "Some fields are not valid", "status": 422,
 "detail": "lines[0].quantity: Not enough Mug in stock: 3 left.",
 "errors": [{"field": "lines[0].quantity", "message": "Not enough Mug in stock: 3 left."}]}</pre>
"#;

#[cfg(test)]
mod tests {
    #[test]
    fn the_reference_describes_every_endpoint_and_every_error() {
        let document = super::super::document();
        let page = super::page(document);
        for kind in super::Kind::ALL {
            assert!(
                page.contains(&format!("id=\"problem-{}\"", kind.slug())),
                "{kind:?}"
            );
        }
        for (path, item) in &document.paths.paths {
            assert!(page.contains(&format!("<code>{path}</code>")), "{path}");
            for operation in [&item.get, &item.put, &item.post].into_iter().flatten() {
                assert!(operation.responses.responses.contains_key("401"), "{path}");
            }
        }
        assert!(page.contains("id=\"schema-Product\""));
        assert!(document
            .to_json()
            .unwrap()
            .contains("\"openapi\":\"3.1.0\""));
    }
}
