//! Cursor (v2, v1 search) and offset (v1) pagination, as one type and as streams.

use futures::Stream;
use serde::Serialize;

use crate::error::Result;

/// One page of results and how to get the next.
#[derive(Clone, Debug, Serialize)]
pub struct Page<T> {
    pub results: Vec<T>,
    /// Opaque: pass it back as [`PageRequest::cursor`] for the next page. `None` on the last.
    pub next_cursor: Option<String>,
}

/// Where a list starts and how much it returns.
#[derive(Clone, Debug, Default)]
pub struct PageRequest {
    /// Items per page; Confluence caps v2 lists at 250.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PageRequest {
    pub fn limit(limit: u32) -> Self {
        PageRequest {
            limit: Some(limit),
            cursor: None,
        }
    }
}

/// The `cursor` (or, for v1 offset lists, `start`) parameter of a next link, as our opaque cursor.
pub(crate) fn cursor_from_next(next: &str) -> Option<String> {
    let query = next.split_once('?')?.1;
    let mut start = None;
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_encoding::percent_decode_str(v)
            .decode_utf8_lossy()
            .into_owned();
        match k {
            "cursor" => return Some(v),
            "start" => start = Some(format!("start:{v}")),
            _ => {}
        }
    }
    start
}

/// Follows pages until the last, yielding items one by one.
pub(crate) fn stream_pages<T, F, Fut>(
    first: PageRequest,
    mut fetch: F,
) -> impl Stream<Item = Result<T>>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>>>,
{
    async_stream::try_stream! {
        let mut req = first;
        loop {
            let page = fetch(req.clone()).await?;
            for item in page.results {
                yield item;
            }
            match page.next_cursor {
                Some(c) => req.cursor = Some(c),
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_from_both_link_styles() {
        assert_eq!(
            cursor_from_next("/wiki/api/v2/pages?limit=25&cursor=abc%3D%3D"),
            Some("abc==".into())
        );
        assert_eq!(
            cursor_from_next("/rest/api/content?start=50&limit=25"),
            Some("start:50".into())
        );
        assert_eq!(cursor_from_next("/wiki/api/v2/pages"), None);
    }
}
