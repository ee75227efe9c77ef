//! Where things live in Confluence's web UI and download servlet: the `webui` and `download`
//! links both dialects put in their answers.

use crate::state::{Attachment, Content, Kind, State};

/// The `webui` link of content, relative to `{site}/wiki`.
pub(crate) fn webui(st: &State, c: &Content) -> String {
    let key = space_key(st, &c.space_id);
    match c.kind {
        Kind::Page => format!("/spaces/{key}/pages/{}/{}", c.id, slug(c.title())),
        Kind::BlogPost => blog_webui(&key, c),
        Kind::Folder => format!("/spaces/{key}/folder/{}", c.id),
        Kind::Database => format!("/spaces/{key}/database/{}", c.id),
        Kind::FooterComment | Kind::InlineComment => {
            let page = c.page_id.clone().unwrap_or_default();
            match st.content.get(&page) {
                Some(b) if b.kind == Kind::BlogPost => {
                    format!("{}?focusedCommentId={}", blog_webui(&key, b), c.id)
                }
                p => format!(
                    "/spaces/{key}/pages/{page}/{}?focusedCommentId={}",
                    slug(p.map(|p| p.title()).unwrap_or_default()),
                    c.id
                ),
            }
        }
    }
}

/// A blog post's place in the web UI: under its posting date.
fn blog_webui(key: &str, c: &Content) -> String {
    let day = chrono::DateTime::from_timestamp_millis(c.created_ms)
        .unwrap_or_default()
        .format("%Y/%m/%d");
    format!("/spaces/{key}/blog/{day}/{}/{}", c.id, slug(c.title()))
}

/// A title as the web UI writes it in a page's path.
pub(crate) fn slug(title: &str) -> String {
    let s: String = title
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '+' })
        .collect();
    percent_encoding::utf8_percent_encode(&s, percent_encoding::NON_ALPHANUMERIC)
        .to_string()
        .replace("%2B", "+")
}

fn space_key(st: &State, space_id: &str) -> String {
    st.space(space_id)
        .map(|s| s.key.clone())
        .unwrap_or_default()
}

/// What a path segment keeps unencoded (RFC 3986 unreserved).
pub(crate) const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The v2 `downloadLink` of an attachment (v1 gives it without `&api=v2`).
pub(crate) fn download_link(a: &Attachment) -> String {
    let name = percent_encoding::utf8_percent_encode(&a.title, SEGMENT);
    format!(
        "/download/attachments/{}/{name}?version={}&modificationDate={}&cacheVersion=1&api=v2",
        a.page_id, a.version, a.modified_ms
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("Hello world"), "Hello+world");
    }
}
