//! The small cookies besides the session's: host-only, HttpOnly, SameSite=Lax, and over https
//! Secure with the `__Host-` prefix (which pins a cookie to the exact host that set it).

use super::context::SiteSettings;

/// A cookie of ours, named once.
#[derive(Clone, Copy)]
pub struct Cookie {
    pub name: &'static str,
    /// The same name with the `__Host-` prefix, for https.
    pub secure_name: &'static str,
}

impl Cookie {
    fn name(&self, settings: &SiteSettings) -> &'static str {
        if settings.scheme == "https" {
            self.secure_name
        } else {
            self.name
        }
    }

    /// The `Set-Cookie` value that stores `value` for `max_age_secs` (0 removes it).
    pub fn set(&self, settings: &SiteSettings, value: &str, max_age_secs: u64) -> String {
        let secure = if settings.scheme == "https" {
            "; Secure"
        } else {
            ""
        };
        format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}",
            self.name(settings)
        )
    }

    /// This cookie's value in a request's `Cookie` header.
    pub fn read<'h>(&self, settings: &SiteSettings, cookie_header: &'h str) -> Option<&'h str> {
        let name = self.name(settings);
        cookie_header
            .split(';')
            .map(str::trim)
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
    }
}

/// The `Cookie` header of the request being served.
pub fn request_cookies() -> String {
    leptos::prelude::with_context::<http::request::Parts, _>(|parts| {
        parts
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join("; ")
    })
    .unwrap_or_default()
}

/// Adds a `Set-Cookie` to the response of the server function being served.
pub fn send(set_cookie: &str) -> Result<(), String> {
    let response = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
        .ok_or("no response to set a cookie on")?;
    let value = http::HeaderValue::from_str(set_cookie).map_err(|e| e.to_string())?;
    response.append_header(http::header::SET_COOKIE, value);
    Ok(())
}

#[cfg(test)]
pub(crate) fn test_settings(scheme: &str) -> SiteSettings {
    SiteSettings {
        base_domain: "localhost:3000".into(),
        scheme: scheme.into(),
        session_absolute_timeout: std::time::Duration::from_secs(60),
        session_idle_timeout: std::time::Duration::from_secs(60),
        limits: super::context::PublicLimits {
            registrations_per_address: 1,
            lookups_per_address: 1,
            lookups_per_email: 1,
            sign_in_failures_per_account: 1,
            sign_in_failures_per_address: 1,
            sign_in_failures_per_device: 1,
            sign_in_window_secs: 1,
            link_attempts_per_address: 1,
        },
        invitation_ttl: std::time::Duration::from_secs(60),
        password_reset_ttl: std::time::Duration::from_secs(60),
        deletion_grace: std::time::Duration::from_secs(60),
        show_outbox: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST: Cookie = Cookie {
        name: "stockroom_test",
        secure_name: "__Host-stockroom_test",
    };

    #[test]
    fn cookies_round_trip_and_are_pinned_over_https() {
        let http = test_settings("http");
        let set = TEST.set(&http, "v1", 60);
        assert_eq!(
            set,
            "stockroom_test=v1; Path=/; HttpOnly; SameSite=Lax; Max-Age=60"
        );
        assert_eq!(TEST.read(&http, "a=1; stockroom_test=v1; b=2"), Some("v1"));
        assert_eq!(TEST.read(&http, "stockroom_tester=v1"), None);
        let https = test_settings("https");
        let set = TEST.set(&https, "v1", 60);
        assert!(set.starts_with("__Host-stockroom_test=v1;") && set.ends_with("; Secure"));
        assert_eq!(TEST.read(&https, "stockroom_test=v1"), None);
    }
}
