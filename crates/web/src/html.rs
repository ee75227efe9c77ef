//! Server-rendered HTML: one layout, escaping, and the headers every page carries.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Escapes text for HTML element content and double-quoted attributes.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;\
padding:0 1rem;color:#172b4d}h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}\
code{background:#f4f5f7;padding:.1rem .3rem;border-radius:3px;word-break:break-all}\
.ok{color:#006644}.warn{color:#974f0c}.err{color:#bf2600}.note{color:#5e6c84;font-size:.9rem}\
fieldset{border:1px solid #dfe1e6;border-radius:4px;margin:1rem 0}label{display:block;margin:.4rem 0}\
input[type=text],input[type=password],textarea{width:100%;box-sizing:border-box;padding:.3rem}\
form.inline{display:inline}button{padding:.3rem .9rem;margin:.3rem .3rem .3rem 0}\
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.2rem .4rem;border-bottom:1px solid #dfe1e6}";

/// A whole page.
pub(crate) fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{t} · Conflux</title><style>{STYLE}</style></head><body>\
         <h1>{t}</h1>{body}</body></html>",
        t = esc(title)
    )
}

/// The hidden CSRF field every form carries.
pub(crate) fn csrf_field(token: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(token)
    )
}

/// A page response with headers that keep it out of frames, caches and referrers.
pub(crate) fn page(status: StatusCode, html: String) -> Response {
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        // Same-origin (not no-referrer): browsers then send the real Origin with our own form
        // posts, which the guard checks, and nothing at all to other sites.
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn pages_forbid_framing_and_caching() {
        let r = page(StatusCode::OK, layout("T", "<p>b</p>"));
        assert_eq!(r.headers()[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
        assert!(
            r.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
    }
}
