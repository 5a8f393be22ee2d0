//! The content security policy of a Leptos page, with the nonce of its own scripts.

use leptos::prelude::use_context;

/// Scripts run only with this page's nonce (and what they load: `strict-dynamic`), WebAssembly
/// may compile, styles come from our stylesheet (plus attributes), requests and forms stay on
/// this origin, and no other site may frame the page.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Puts the page's policy on the response being rendered. Leptos makes a fresh nonce for
/// every render and writes it on each inline script it emits.
pub fn set_page_policy() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = http::HeaderValue::from_str(&page_policy(&nonce)) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}
