use std::fmt;

use url::Url;

/// Why a base URL was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlError {
    #[error("`{input}` is not a URL: {reason}; write it like https://your-site.atlassian.net")]
    Invalid { input: String, reason: String },
    #[error("`{input}` must use http or https")]
    Scheme { input: String },
    #[error("`{input}` must not carry a user name or password; give credentials separately")]
    Credentials { input: String },
}

/// An absolute http(s) URL with no trailing slash, no query and no fragment: the root that
/// request paths are appended to. Parsed once, so code further down never re-checks.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl(String);

impl BaseUrl {
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        let trimmed = input.trim();
        let url = Url::parse(trimmed).map_err(|e| UrlError::Invalid {
            input: trimmed.to_string(),
            reason: e.to_string(),
        })?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(UrlError::Scheme {
                input: trimmed.to_string(),
            });
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlError::Credentials {
                input: "(URL with credentials)".to_string(),
            });
        }
        let mut s = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
        if let Some(port) = url.port() {
            s.push_str(&format!(":{port}"));
        }
        s.push_str(url.path().trim_end_matches('/'));
        Ok(BaseUrl(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `self` followed by `path`, which must start with `/`.
    pub fn join(&self, path: &str) -> String {
        format!("{}{}", self.0, path)
    }

    /// The host, for display ("example.atlassian.net").
    pub fn host(&self) -> &str {
        let rest = self.0.split_once("://").map(|(_, r)| r).unwrap_or(&self.0);
        rest.split(['/', ':']).next().unwrap_or(rest)
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({})", self.0)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Confluence Cloud site root such as `https://example.atlassian.net`.
///
/// People paste the site in many shapes (`.../wiki`, `.../wiki/`, with a page path); all of
/// them mean the same site, so everything from `/wiki` on is dropped here, once.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct SiteUrl(BaseUrl);

impl SiteUrl {
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        let base = BaseUrl::parse(input)?;
        let s = base.as_str();
        let root = match s.find("/wiki") {
            Some(i) => &s[..i],
            None => s,
        };
        Ok(SiteUrl(BaseUrl(root.to_string())))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn base(&self) -> &BaseUrl {
        &self.0
    }

    pub fn join(&self, path: &str) -> String {
        self.0.join(path)
    }
}

impl fmt::Display for SiteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_url_normalises_every_common_shape() {
        for input in [
            "https://example.atlassian.net",
            "https://example.atlassian.net/",
            "https://example.atlassian.net/wiki",
            " https://example.atlassian.net/wiki/spaces/DEV/overview ",
        ] {
            assert_eq!(
                SiteUrl::parse(input).unwrap().as_str(),
                "https://example.atlassian.net"
            );
        }
    }

    #[test]
    fn keeps_port_for_loopback() {
        let s = SiteUrl::parse("http://127.0.0.1:8080/wiki/").unwrap();
        assert_eq!(s.as_str(), "http://127.0.0.1:8080");
        assert_eq!(s.base().host(), "127.0.0.1");
    }

    #[test]
    fn refuses_bad_urls_with_a_fix() {
        let e = SiteUrl::parse("example.atlassian.net").unwrap_err();
        assert!(
            e.to_string().contains("https://your-site.atlassian.net"),
            "{e}"
        );
        assert!(matches!(
            SiteUrl::parse("ftp://x").unwrap_err(),
            UrlError::Scheme { .. }
        ));
        let e = BaseUrl::parse("https://me:pw@example.atlassian.net").unwrap_err();
        assert!(!e.to_string().contains("pw"));
    }
}
