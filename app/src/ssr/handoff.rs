//! The hand-off from registration on the public site to the new workspace's own host, whose
//! cookies the public site cannot set. Registration leaves the ticket in a short-lived cookie
//! of the public host, so only the browser that registered holds it; the public site's
//! `/welcome` posts it to the workspace, which accepts the post only from the public site.
//! There is no link that signs anyone in: a registrant cannot send someone a URL that puts
//! them in the registrant's workspace.

use super::context::SiteSettings;
use super::cookies::Cookie;

const HANDOFF: Cookie = Cookie {
    name: "stockroom_handoff",
    secure_name: "__Host-stockroom_handoff",
};
/// Long enough for a slow page load; the ticket itself expires on the same scale.
const LIFETIME_SECS: u64 = 600;

/// The `Set-Cookie` value that hands `ticket` for workspace `slug` to this browser.
pub fn set_cookie(settings: &SiteSettings, slug: &str, ticket: &str) -> String {
    HANDOFF.set(settings, &format!("{slug}.{ticket}"), LIFETIME_SECS)
}

/// The `Set-Cookie` value that removes the hand-off once it is used.
pub fn clear_cookie(settings: &SiteSettings) -> String {
    HANDOFF.set(settings, "", 0)
}

/// The workspace slug and ticket this browser holds, from its `Cookie` header.
pub fn read_cookie(settings: &SiteSettings, cookie_header: &str) -> Option<(String, String)> {
    let (slug, ticket) = HANDOFF.read(settings, cookie_header)?.split_once('.')?;
    let well_formed = !ticket.is_empty() && ticket.chars().all(|c| c.is_ascii_hexdigit());
    well_formed.then(|| (slug.to_owned(), ticket.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssr::cookies::test_settings;

    #[test]
    fn the_hand_off_names_its_workspace_and_refuses_junk() {
        let http = test_settings("http");
        let set = set_cookie(&http, "acme", "00ff");
        let header = format!("other=1; {}", set.split(';').next().unwrap());
        assert_eq!(
            read_cookie(&http, &header),
            Some(("acme".into(), "00ff".into()))
        );
        assert_eq!(read_cookie(&http, "stockroom_handoff=acme.<script>"), None);
        assert!(clear_cookie(&http).contains("Max-Age=0"));
    }
}
