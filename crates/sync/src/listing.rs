//! The labels and attachments of a space's pages in bulk: one CQL listing of the space's pages
//! and attachments, instead of two requests a page (a label added or a file attached leaves the
//! page's version as it was, so an export must look at them every run).
//!
//! Search reads an index, which can trail a change by moments, and which expansions a search
//! result carries is not documented for every field. So the listing is a hint the export takes
//! only where it is whole: a page the search did not return, or returned without its labels,
//! and every page when an attachment came without its page, version or size, is listed page by
//! page as before.

use std::collections::HashMap;

use conflux_client::models::{Attachment, Version};
use conflux_client::{Client, PageRequest};
use serde_json::Value;

use crate::error::Result;

/// What one listing of the space said.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// Page id -> its labels (sorted), for each page the search returned with all its labels.
    pub labels: HashMap<String, Vec<String>>,
    /// Page id -> its attachments, when every attachment came with what the export needs;
    /// a page the search returned and no attachment names has none.
    pub attachments: Option<HashMap<String, Vec<Attachment>>>,
}

/// Confluence caps search pages below what is asked where it must; the cursor follows.
const LIMIT: u32 = 250;

/// Lists the pages and attachments of the space `space_key`.
pub(crate) async fn read(client: &Client, space_key: &str) -> Result<Listing> {
    let cql = format!(
        "space = \"{}\" AND type IN (page, attachment)",
        space_key.replace('\\', "\\\\").replace('"', "\\\"")
    );
    let expand = [
        "content.version",
        "content.container",
        "content.metadata.labels",
    ];
    let mut request = PageRequest::limit(LIMIT);
    let mut listing = Listing::default();
    let mut attachments: HashMap<String, Vec<Attachment>> = HashMap::new();
    let mut attachments_whole = true;
    loop {
        let page = client
            .search()
            .content_expanded(&cql, &expand, &request)
            .await?;
        for content in &page.results {
            match content.get("type").and_then(Value::as_str) {
                Some("page") => {
                    let Some(id) = content.get("id").and_then(Value::as_str) else {
                        continue;
                    };
                    attachments.entry(id.to_string()).or_default();
                    if let Some(labels) = labels_of(content) {
                        listing.labels.insert(id.to_string(), labels);
                    }
                }
                Some("attachment") => match attachment_of(content) {
                    Some((page_id, a)) => attachments.entry(page_id).or_default().push(a),
                    // A blog post's attachment is not the export's business.
                    None if container_type(content) == Some("blogpost") => {}
                    None => attachments_whole = false,
                },
                _ => {}
            }
        }
        match page.next_cursor {
            Some(c) => request.cursor = Some(c),
            None => break,
        }
    }
    if attachments_whole {
        listing.attachments = Some(attachments);
    }
    Ok(listing)
}

/// The labels of a search result's page, when it carries all of them.
fn labels_of(content: &Value) -> Option<Vec<String>> {
    let labels = content.pointer("/metadata/labels")?;
    let results = labels.get("results")?.as_array()?;
    // An expansion lists a first page only; a page with more labels is read on its own.
    let more = labels.pointer("/_links/next").is_some()
        || labels
            .get("size")
            .and_then(Value::as_u64)
            .is_some_and(|size| size as usize > results.len());
    if more {
        return None;
    }
    let mut names: Vec<String> = results
        .iter()
        .filter_map(|l| l.get("name").and_then(Value::as_str).map(String::from))
        .collect();
    if names.len() != results.len() {
        return None;
    }
    names.sort();
    Some(names)
}

fn container_type(content: &Value) -> Option<&str> {
    content.pointer("/container/type").and_then(Value::as_str)
}

/// A search result's attachment of a page, with its page's id, when it says all the export
/// compares: id, name, version and size.
fn attachment_of(content: &Value) -> Option<(String, Attachment)> {
    if container_type(content)? != "page" {
        return None;
    }
    let page_id = content.pointer("/container/id").and_then(as_id)?;
    let a = Attachment {
        id: content.get("id").and_then(as_id)?,
        title: content.get("title")?.as_str()?.to_string(),
        file_size: content.pointer("/extensions/fileSize")?.as_u64()?,
        version: Some(Version {
            number: content.pointer("/version/number")?.as_u64()?,
            ..Version::default()
        }),
        page_id: Some(page_id.clone()),
        ..Attachment::default()
    };
    Some((page_id, a))
}

/// An id as a string, whether Confluence wrote it as a string or a number.
fn as_id(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn labels_are_taken_only_when_the_expansion_holds_them_all() {
        let whole =
            json!({"metadata": {"labels": {"results": [{"name": "b"}, {"name": "a"}], "size": 2}}});
        assert_eq!(labels_of(&whole), Some(vec!["a".into(), "b".into()]));
        let first_page = json!({"metadata": {"labels": {"results": [{"name": "a"}], "size": 1, "_links": {"next": "/x"}}}});
        assert_eq!(labels_of(&first_page), None);
        let fewer = json!({"metadata": {"labels": {"results": [{"name": "a"}], "size": 3}}});
        assert_eq!(labels_of(&fewer), None);
        assert_eq!(labels_of(&json!({"id": "1"})), None);
    }

    #[test]
    fn an_attachment_needs_its_page_version_and_size() {
        let full = json!({"id": "att9", "type": "attachment", "title": "a.png",
            "container": {"id": 42, "type": "page"}, "version": {"number": 3},
            "extensions": {"fileSize": 10}});
        let (page, a) = attachment_of(&full).unwrap();
        assert_eq!(
            (page.as_str(), a.id.as_str(), a.file_size),
            ("42", "att9", 10)
        );
        assert_eq!(a.version.unwrap().number, 3);
        for missing in ["/container", "/version", "/extensions"] {
            let mut v = full.clone();
            let (parent, key) = missing.rsplit_once('/').unwrap();
            v.pointer_mut(if parent.is_empty() { "" } else { parent })
                .and_then(Value::as_object_mut)
                .unwrap()
                .remove(key);
            assert!(attachment_of(&v).is_none(), "{missing}");
        }
    }
}
