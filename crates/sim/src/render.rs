//! Body representations. The simulator stores storage format (XHTML) and derives the rest:
//! plain text (for CQL and excerpts), `view` (the storage markup with Confluence's `ac:`/`ri:`
//! elements unwrapped: a plain HTML rendering, not Confluence's), and `atlas_doc_format` (a
//! minimal valid ADF document: one paragraph of text per block element).

use serde_json::{Value, json};

/// Text of a storage-format body: tags removed, entities decoded, whitespace collapsed, one
/// line per block element.
pub(crate) fn plain_text(storage: &str) -> String {
    blocks(storage).join("\n")
}

fn blocks(storage: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut rest = storage;
    while let Some(lt) = rest.find('<') {
        cur.push_str(&decode_entities(&rest[..lt]));
        let after = &rest[lt..];
        let end = after.find('>').map_or(after.len(), |e| e + 1);
        let tag = &after[..end];
        let name: String = tag
            .trim_start_matches(['<', '/'])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '-')
            .collect();
        if is_block(&name) {
            flush(&mut cur, &mut out);
        } else if name == "br" {
            cur.push(' ');
        }
        // CDATA (code macros): keep its text.
        if let Some(cdata) = after.strip_prefix("<![CDATA[") {
            let stop = cdata.find("]]>").unwrap_or(cdata.len());
            cur.push_str(&cdata[..stop]);
            rest = cdata.get(stop + 3..).unwrap_or("");
            continue;
        }
        rest = &after[end..];
    }
    cur.push_str(&decode_entities(rest));
    flush(&mut cur, &mut out);
    out
}

fn flush(cur: &mut String, out: &mut Vec<String>) {
    let line = cur.split_whitespace().collect::<Vec<_>>().join(" ");
    if !line.is_empty() {
        out.push(line);
    }
    cur.clear();
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "li"
            | "tr"
            | "td"
            | "th"
            | "pre"
            | "blockquote"
            | "table"
            | "ul"
            | "ol"
            | "hr"
            | "ac:structured-macro"
            | "ac:task"
    )
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `view`: storage markup with `ac:*` / `ri:*` tags removed (their text kept).
pub(crate) fn view_html(storage: &str) -> String {
    let mut out = String::new();
    let mut rest = storage;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let after = &rest[lt..];
        if let Some(cdata) = after.strip_prefix("<![CDATA[") {
            let stop = cdata.find("]]>").unwrap_or(cdata.len());
            out.push_str(&escape(&cdata[..stop]));
            rest = cdata.get(stop + 3..).unwrap_or("");
            continue;
        }
        let end = after.find('>').map_or(after.len(), |e| e + 1);
        let tag = &after[..end];
        let name = tag.trim_start_matches(['<', '/']);
        if !(name.starts_with("ac:") || name.starts_with("ri:")) {
            out.push_str(tag);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// `atlas_doc_format`: a minimal valid ADF document, as a JSON string (as Cloud sends it).
pub(crate) fn adf(storage: &str) -> String {
    let content: Vec<Value> = blocks(storage)
        .into_iter()
        .map(|text| json!({"type": "paragraph", "content": [{"type": "text", "text": text}]}))
        .collect();
    json!({"type": "doc", "version": 1, "content": content}).to_string()
}

/// Storage format from a written body (`storage`, `atlas_doc_format` or `wiki`).
pub(crate) fn to_storage(representation: &str, value: &str) -> Result<String, String> {
    match representation {
        "storage" => Ok(value.to_string()),
        "wiki" | "plain" => Ok(value
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| format!("<p>{}</p>", escape(l)))
            .collect()),
        "atlas_doc_format" => {
            let doc: Value = serde_json::from_str(value)
                .map_err(|e| format!("body.value is not ADF JSON: {e}"))?;
            if doc.get("type").and_then(Value::as_str) != Some("doc") {
                return Err("body.value is not an ADF document (type must be \"doc\")".into());
            }
            let mut paragraphs = Vec::new();
            for block in doc
                .get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let mut text = String::new();
                collect_text(block, &mut text);
                paragraphs.push(format!("<p>{}</p>", escape(&text)));
            }
            Ok(paragraphs.concat())
        }
        other => Err(format!(
            "body.representation {other:?} is not one of storage, atlas_doc_format, wiki"
        )),
    }
}

fn collect_text(node: &Value, out: &mut String) {
    if let Some(t) = node.get("text").and_then(Value::as_str) {
        out.push_str(t);
    }
    for c in node
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect_text(c, out);
    }
}

/// `{format: {representation, value}}` for a v2 body of the requested format.
pub(crate) fn v2_body(storage: &str, format: Option<&str>) -> Value {
    match format {
        Some("storage") => json!({"storage": {"representation": "storage", "value": storage}}),
        Some("atlas_doc_format") => {
            json!({"atlas_doc_format": {"representation": "atlas_doc_format", "value": adf(storage)}})
        }
        Some(f @ ("view" | "export_view" | "styled_view" | "anonymous_export_view")) => {
            json!({f: {"representation": f, "value": view_html(storage)}})
        }
        Some("editor") => json!({"editor": {"representation": "editor", "value": storage}}),
        _ => json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_of_storage() {
        let s = "<h1>Title</h1><p>Hello &amp; <strong>world</strong></p><ac:structured-macro ac:name=\"code\"><ac:plain-text-body><![CDATA[let x = 1 < 2;]]></ac:plain-text-body></ac:structured-macro>";
        assert_eq!(plain_text(s), "Title\nHello & world\nlet x = 1 < 2;");
    }

    #[test]
    fn adf_round_trip_keeps_text() {
        let doc = adf("<p>One</p><p>Two &lt;b&gt;</p>");
        let v: Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(v["content"][1]["content"][0]["text"], "Two <b>");
        assert_eq!(
            to_storage("atlas_doc_format", &doc).unwrap(),
            "<p>One</p><p>Two &lt;b&gt;</p>"
        );
        assert!(to_storage("atlas_doc_format", "[]").is_err());
        assert!(to_storage("markdown", "x").is_err());
    }

    #[test]
    fn view_unwraps_macros() {
        assert_eq!(
            view_html("<p>a<ac:link><ri:page ri:content-title=\"X\"/>b</ac:link></p>"),
            "<p>ab</p>"
        );
    }
}
