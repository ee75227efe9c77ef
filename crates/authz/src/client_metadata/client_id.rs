//! Which client_id strings are Client ID Metadata Document URLs.

use url::Url;

/// Longest client_id URL accepted. Real ones are short; this bounds what is echoed and stored.
pub(crate) const MAX_CLIENT_ID_LEN: usize = 1024;

/// Whether `s` is an acceptable Client ID Metadata Document URL: https, a host, a path other than
/// `/`, no user name or password, no fragment, no `.` or `..` segments, and written exactly as
/// the URL standard would write it.
///
/// The authorization endpoint uses this to tell CIMD client ids from registered ones; it needs no
/// network. The MCP Python SDK likewise takes only https URLs with a non-root path as CIMD ids.
pub fn is_client_id_url(s: &str) -> bool {
    check_client_id_url(s).is_ok()
}

/// Parses a CIMD client_id, or says what is wrong with it.
///
/// The normal-form rule (the string is what [`Url`] would print) means the URL fetched is the
/// string the client sent, so the document's `client_id` can be compared character for character
/// (draft-ietf-oauth-client-id-metadata-document §3, RFC 3986 §6.2.1 simple string comparison).
pub(crate) fn check_client_id_url(s: &str) -> Result<Url, &'static str> {
    if s.len() > MAX_CLIENT_ID_LEN {
        return Err("it is longer than 1024 bytes");
    }
    if !s
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    {
        return Err("it does not start with https://");
    }
    let url = Url::parse(s).map_err(|_| "it is not a valid URL")?;
    if url.scheme() != "https" {
        return Err("it is not an https URL");
    }
    if !url.username().is_empty() || url.password().is_some() || authority(s).contains('@') {
        return Err("it has a user name or password");
    }
    if url.fragment().is_some() {
        return Err("it has a fragment (#...)");
    }
    if url.host().is_none() {
        return Err("it has no host");
    }
    if has_dot_segment(s) {
        return Err("its path has a `.` or `..` segment");
    }
    if url.path() == "/" || url.path().is_empty() {
        return Err(
            "its path is empty or `/`; the document must live at a path such as /client.json",
        );
    }
    if url.as_str() != s {
        return Err(
            "it is not in normal form (lower-case scheme and host, no default port, \
                    percent-encoding where the URL standard puts it)",
        );
    }
    Ok(url)
}

/// The raw authority of an `https://` URL string (between `//` and the path, query or fragment).
fn authority(s: &str) -> &str {
    let rest = s.get(8..).unwrap_or_default();
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    &rest[..end]
}

/// Whether the raw path has a `.` or `..` segment, percent-encoded or not. Checked on the string
/// because parsing removes them.
fn has_dot_segment(s: &str) -> bool {
    let rest = s.get(8..).unwrap_or_default();
    let Some(start) = rest.find(['/', '\\']) else {
        return false;
    };
    let path = &rest[start..];
    let path = &path[..path.find(['?', '#']).unwrap_or(path.len())];
    path.split(['/', '\\']).any(|segment| {
        let segment = segment.to_ascii_lowercase().replace("%2e", ".");
        segment == "." || segment == ".."
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_urls_with_a_path() {
        for ok in [
            "https://app.example/client.json",
            "https://app.example/oauth/client-metadata",
            "https://app.example:8443/client.json",
            "https://127.0.0.1:4443/client.json",
            "https://[::1]:4443/client.json",
            "https://app.example/client.json?v=2",
            "https://app.example/dir/",
        ] {
            assert_eq!(
                check_client_id_url(ok).map(|u| u.to_string()),
                Ok(ok.to_owned()),
                "{ok}"
            );
        }
    }

    #[test]
    fn refuses_everything_else_and_says_why() {
        for (bad, why) in [
            (
                "http://app.example/client.json",
                "does not start with https://",
            ),
            (
                "ftp://app.example/client.json",
                "does not start with https://",
            ),
            ("app.example/client.json", "does not start with https://"),
            ("client-123", "does not start with https://"),
            ("", "does not start with https://"),
            ("https://app.example", "path is empty"),
            ("https://app.example/", "path is empty"),
            ("https://app.example/?x=1", "path is empty"),
            (
                "https://user@app.example/client.json",
                "user name or password",
            ),
            (
                "https://user:pw@app.example/client.json",
                "user name or password",
            ),
            ("https://@app.example/client.json", "user name or password"),
            ("https://app.example/client.json#x", "fragment"),
            ("https://app.example/client.json#", "fragment"),
            ("https://app.example/a/../client.json", "`.` or `..`"),
            ("https://app.example/./client.json", "`.` or `..`"),
            ("https://app.example/a/%2E%2e/client.json", "`.` or `..`"),
            ("https://app.example/a/.%2e", "`.` or `..`"),
            ("https://APP.example/client.json", "normal form"),
            ("HTTPS://app.example/client.json", "normal form"),
            ("https://app.example:443/client.json", "normal form"),
            ("https://app.example/client json", "normal form"),
            ("https://2130706433/client.json", "normal form"),
            ("https://app.example\\client.json", "normal form"),
            // Read as https://client.json/, a host and no path.
            ("https:///client.json", "path is empty"),
            ("https://", "not a valid URL"),
            ("https://exa mple/x", "not a valid URL"),
        ] {
            let problem = check_client_id_url(bad).expect_err(bad);
            assert!(problem.contains(why), "{bad}: {problem}");
            assert!(!is_client_id_url(bad));
        }
        let long = format!("https://app.example/{}", "a".repeat(MAX_CLIENT_ID_LEN));
        assert!(!is_client_id_url(&long));
    }
}
