//! What can go wrong while fetching a client metadata document, said so that the client's
//! developer (or the maintainer reading the log) knows what to change.

use std::net::IpAddr;
use std::time::Duration;

use super::document::InvalidClientMetadata;

/// Why a client metadata document was not accepted.
///
/// Every message names the client_id URL and what to change. Untrusted content (the document,
/// a header) is quoted only as a short excerpt.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientMetadataError {
    /// The client_id is not a URL this server fetches; nothing was sent.
    #[error(
        "client_id {client_id} is not a client metadata document URL: {problem} (it must be an \
         https URL with a host and a path, without user name, password, fragment or dot segments)"
    )]
    NotAClientIdUrl {
        /// The client_id, cut to a short excerpt.
        client_id: String,
        /// What is wrong with it.
        problem: &'static str,
    },

    /// The host is, or resolves to, an address this server does not fetch from; nothing was sent.
    #[error(
        "client_id {url} leads to {addr}, a {range} address; client metadata documents are \
         fetched from public addresses only (FetchPolicy::allow_private lifts this for tests and \
         private deployments)"
    )]
    AddressNotAllowed {
        /// The client_id URL.
        url: String,
        /// The refused address (the first refused one, when the name has several).
        addr: IpAddr,
        /// The kind of address, e.g. "loopback" or "private (RFC 1918)".
        range: &'static str,
    },

    /// The host name could not be resolved, or resolved to no address.
    #[error("could not resolve the host of client_id {url}: {source}")]
    Resolve {
        /// The client_id URL.
        url: String,
        /// The resolver's error.
        #[source]
        source: std::io::Error,
    },

    /// The TLS handshake failed, typically because the certificate is not trusted or not valid
    /// for the URL's host.
    #[error(
        "TLS with the host of client_id {url} failed ({reason}); it must present a certificate \
         valid for its host name from a trusted CA (FetchPolicy::extra_roots_pem adds roots)"
    )]
    Tls {
        /// The client_id URL.
        url: String,
        /// The TLS library's words, e.g. "invalid peer certificate: UnknownIssuer".
        reason: String,
        /// The transport error, whose chain holds the TLS error.
        #[source]
        source: reqwest::Error,
    },

    /// No connection, or the connection broke before an answer came.
    #[error("could not connect to the host of client_id {url}")]
    Connect {
        /// The client_id URL.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },

    /// The whole fetch (lookup, connection, answer, body) took longer than the policy allows.
    #[error("fetching client_id {url} took longer than the {} s allowed", after.as_secs_f32())]
    Timeout {
        /// The client_id URL.
        url: String,
        /// The time limit that ran out.
        after: Duration,
    },

    /// The server answered with a redirect, which is never followed.
    #[error(
        "client_id {url} answered {status} (a redirect); redirects are not followed, so the \
         document must be served at the client_id URL itself"
    )]
    Redirect {
        /// The client_id URL.
        url: String,
        /// The 3xx status.
        status: u16,
    },

    /// The server answered with a status other than 200.
    #[error("client_id {url} answered {status}; a client metadata document is served with 200")]
    Status {
        /// The client_id URL.
        url: String,
        /// The status received.
        status: u16,
    },

    /// The answer is not JSON by its content type.
    #[error(
        "client_id {url} was served {}; a client metadata document is served as \
         application/json (or application/<something>+json)",
        match content_type {
            Some(content_type) => format!("as {content_type}"),
            None => "without a content type".to_owned(),
        }
    )]
    ContentType {
        /// The client_id URL.
        url: String,
        /// The content type received (a short excerpt), if any.
        content_type: Option<String>,
    },

    /// The document is larger than the policy allows.
    #[error(
        "the client metadata document at {url} is {}",
        match size {
            Some(size) => format!("{}, more than the {} allowed", kb(*size), kb(*limit as u64)),
            None => format!(
                "more than the {} allowed (it came without Content-Length; reading stopped there)",
                kb(*limit as u64)
            ),
        }
    )]
    TooLarge {
        /// The client_id URL.
        url: String,
        /// The size announced by Content-Length, or `None` when the body went past the limit
        /// while being read.
        size: Option<u64>,
        /// The limit in bytes.
        limit: usize,
    },

    /// The body could not be read to its end.
    #[error("could not read the client metadata document at {url} to its end")]
    Read {
        /// The client_id URL.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },

    /// The document's `client_id` is not the URL it was fetched from.
    #[error(
        "the client metadata document at {url} says its client_id is {document}; it must be \
         equal to the URL it is served at, character for character"
    )]
    ClientIdMismatch {
        /// The client_id URL.
        url: String,
        /// The document's `client_id`, as a short excerpt (or "missing").
        document: String,
    },

    /// The document was fetched but its content is not acceptable.
    #[error("the client metadata document at {url} is not acceptable: {source}")]
    InvalidDocument {
        /// The client_id URL.
        url: String,
        /// What is wrong, field by field.
        #[source]
        source: InvalidClientMetadata,
    },

    /// An extra trust root in the policy is not a usable PEM certificate.
    #[error("FetchPolicy::extra_roots_pem[{index}] {problem}")]
    ExtraRoot {
        /// Its position in `extra_roots_pem`.
        index: usize,
        /// What is wrong with it.
        problem: String,
    },

    /// The HTTP client could not be built (for example no trust roots at all on this system).
    #[error(
        "could not set up the client metadata fetcher (are the system's CA certificates installed?)"
    )]
    Setup {
        /// The builder's error.
        #[source]
        source: reqwest::Error,
    },
}

impl ClientMetadataError {
    /// Whether the same fetch may succeed later (time-outs, broken connections, 5xx and 429),
    /// so a caller caches this failure briefly, if at all.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Resolve { .. }
            | Self::Connect { .. }
            | Self::Timeout { .. }
            | Self::Read { .. } => true,
            Self::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// The client_id URL the error is about, when it got as far as being one.
    pub fn url(&self) -> Option<&str> {
        match self {
            Self::NotAClientIdUrl { .. } | Self::ExtraRoot { .. } | Self::Setup { .. } => None,
            Self::AddressNotAllowed { url, .. }
            | Self::Resolve { url, .. }
            | Self::Tls { url, .. }
            | Self::Connect { url, .. }
            | Self::Timeout { url, .. }
            | Self::Redirect { url, .. }
            | Self::Status { url, .. }
            | Self::ContentType { url, .. }
            | Self::TooLarge { url, .. }
            | Self::Read { url, .. }
            | Self::ClientIdMismatch { url, .. }
            | Self::InvalidDocument { url, .. } => Some(url),
        }
    }
}

/// Sizes as people read them: "16 KB", "40.5 KB", "900 bytes" (1 KB = 1024 bytes).
fn kb(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else if bytes.is_multiple_of(1024) {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    }
}

/// A short, printable excerpt of untrusted text: at most 64 characters, escaped.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 64;
    let mut out: String = text
        .chars()
        .take(MAX)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(MAX).is_some() {
        out.push('…');
    }
    format!("\"{out}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(kb(900), "900 bytes");
        assert_eq!(kb(16 * 1024), "16 KB");
        assert_eq!(kb(40 * 1024 + 512), "40.5 KB");
    }

    #[test]
    fn excerpts_are_short_and_escaped() {
        assert_eq!(excerpt("a\u{7}b"), "\"a\\u{7}b\"");
        let long = "x".repeat(1000);
        let cut = excerpt(&long);
        assert!(cut.chars().count() < 70, "{cut}");
        assert!(cut.ends_with("…\""));
    }

    #[test]
    fn too_large_says_both_sizes() {
        let error = ClientMetadataError::TooLarge {
            url: "https://app.example/client.json".into(),
            size: Some(40 * 1024),
            limit: 16 * 1024,
        };
        assert_eq!(
            error.to_string(),
            "the client metadata document at https://app.example/client.json is 40 KB, more \
             than the 16 KB allowed"
        );
    }
}
