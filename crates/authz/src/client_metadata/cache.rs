//! How long a fetched document may be reused, from its HTTP cache headers (RFC 9111).

use std::time::Duration;

use reqwest::header::{AGE, CACHE_CONTROL, HeaderMap};

/// Cache time when the server sends no Cache-Control freshness: long enough to spare the client's
/// server a fetch per authorization, short enough that a changed redirect URI takes effect.
pub const DEFAULT_CACHE_FOR: Duration = Duration::from_secs(60 * 60);
/// Longest cache time, whatever max-age says, so a removed redirect URI stops working within a day.
pub const MAX_CACHE_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// `no-store` or `no-cache` mean zero; `max-age` counts (less `Age`, capped at
/// [`MAX_CACHE_FOR`]); anything else means [`DEFAULT_CACHE_FOR`].
pub(crate) fn cache_for(headers: &HeaderMap) -> Duration {
    let mut max_age = None;
    for value in headers.get_all(CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',') {
            let (name, argument) = match directive.split_once('=') {
                Some((name, argument)) => (name.trim(), Some(argument.trim().trim_matches('"'))),
                None => (directive.trim(), None),
            };
            if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
                return Duration::ZERO;
            }
            if name.eq_ignore_ascii_case("max-age") {
                // RFC 9111 §4.2.1: with several, or an invalid one, the response is stale.
                match (max_age, argument.and_then(|a| a.parse::<u64>().ok())) {
                    (None, Some(seconds)) => max_age = Some(seconds),
                    _ => return Duration::ZERO,
                }
            }
        }
    }
    let Some(max_age) = max_age else {
        return DEFAULT_CACHE_FOR;
    };
    let age = headers
        .get(AGE)
        .and_then(|age| age.to_str().ok())
        .and_then(|age| age.trim().parse::<u64>().ok())
        .unwrap_or(0);
    Duration::from_secs(max_age.saturating_sub(age)).min(MAX_CACHE_FOR)
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn cache_headers_decide_how_long() {
        let secs = Duration::from_secs;
        for (pairs, expected) in [
            (&[][..], DEFAULT_CACHE_FOR),
            (&[("cache-control", "public")][..], DEFAULT_CACHE_FOR),
            (&[("cache-control", "max-age=600")][..], secs(600)),
            (
                &[("cache-control", "public, MAX-AGE=\"120\"")][..],
                secs(120),
            ),
            (&[("cache-control", "max-age=0")][..], Duration::ZERO),
            (&[("cache-control", "max-age=31536000")][..], MAX_CACHE_FOR),
            (
                &[("cache-control", "max-age=600"), ("age", "100")][..],
                secs(500),
            ),
            (
                &[("cache-control", "max-age=600"), ("age", "9000")][..],
                Duration::ZERO,
            ),
            (&[("cache-control", "no-store")][..], Duration::ZERO),
            (
                &[("cache-control", "max-age=600, no-cache")][..],
                Duration::ZERO,
            ),
            (
                &[
                    ("cache-control", "max-age=600"),
                    ("cache-control", "no-store"),
                ][..],
                Duration::ZERO,
            ),
            (&[("cache-control", "max-age=soon")][..], Duration::ZERO),
            (
                &[("cache-control", "max-age=60, max-age=600")][..],
                Duration::ZERO,
            ),
            (&[("cache-control", "s-maxage=600")][..], DEFAULT_CACHE_FOR),
        ] {
            assert_eq!(cache_for(&headers(pairs)), expected, "{pairs:?}");
        }
    }
}
