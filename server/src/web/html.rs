//! The few pages the server writes itself, outside the Leptos app: refusals and failures that
//! happen before a page can render, and the development outbox.

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

pub(super) fn unavailable() -> Response {
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

/// While the database lacks a migration this build expects: a deploy is under way.
pub(super) fn upgrading() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, UPGRADE_RETRY_SECS.to_string())],
        Html(plain_page(
            "Being upgraded",
            "Stockroom is being upgraded. Please try again in a minute: nothing you saved is lost.",
        )),
    )
        .into_response()
}

/// `Retry-After` while an upgrade is under way.
pub(super) const UPGRADE_RETRY_SECS: u32 = 30;

pub(super) fn not_found(message: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(plain_page("Not found", message)),
    )
        .into_response()
}

pub(super) fn plain_page(title: &str, message: &str) -> String {
    html_page(title, &format!("<p>{message}</p>"))
}

pub(super) fn html_page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title></head>\
         <body style=\"font-family:system-ui;max-width:40rem;margin:4rem auto;padding:0 1rem\">\
         <h1>{title}</h1>{body}</body></html>"
    )
}

pub(super) fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Turns the http(s) links of already escaped text into anchors.
pub(super) fn linkify(escaped: &str) -> String {
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
