//! A Markdown file's metadata: Conflux's YAML front matter, or the HTML-comment headers that
//! mark (`<!-- Space: KEY -->`, `<!-- Parent: Title -->`, ...) and md2conf
//! (`<!-- confluence-page-id: N -->`) users already write, so their files publish unchanged.

use serde::{Deserialize, Serialize};

/// What a page file says about its page. Every field is optional when read: a file someone
/// wrote by hand may carry only a title, or nothing at all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "snake_case")]
pub struct FrontMatter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `page` (the default), `folder`, `database`, `whiteboard`, ...
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// The parent's id (a page or folder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// `None`: the file does not say (labels are left as they are); `Some([])`: no labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The page in the browser.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Which header form a file used, so that a publish knows whose file it is reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderStyle {
    /// No metadata at all.
    None,
    /// Conflux's YAML front matter.
    Yaml,
    /// mark's HTML comments.
    Mark,
    /// md2conf's HTML comments.
    Md2conf,
}

/// A page file read: its metadata and its Markdown body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub meta: FrontMatter,
    pub style: HeaderStyle,
    /// mark's `<!-- Parent: ... -->` titles, outermost first.
    pub parents: Vec<String>,
    /// mark's `<!-- Attachment: path -->` files, relative to the file.
    pub attachments: Vec<String>,
    pub body: String,
}

impl Document {
    /// Reads a file's text. A YAML block that does not parse is an error (a typo must not
    /// publish the front matter as body text); comment headers that are not ours are body.
    pub fn parse(text: &str) -> std::result::Result<Document, String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if let Some(rest) = text
            .strip_prefix("---\n")
            .or_else(|| text.strip_prefix("---\r\n"))
        {
            let end = find_closing(rest).ok_or_else(|| {
                "the front matter opened by `---` on the first line is never closed by a `---` \
                 line"
                    .to_string()
            })?;
            let yaml = &rest[..end.0];
            let meta: FrontMatter = if yaml.trim().is_empty() {
                FrontMatter::default()
            } else {
                serde_norway::from_str(yaml).map_err(|e| format!("front matter: {e}"))?
            };
            return Ok(Document {
                meta,
                style: HeaderStyle::Yaml,
                parents: Vec::new(),
                attachments: Vec::new(),
                body: rest[end.1..].trim_start_matches(['\n', '\r']).to_string(),
            });
        }
        Ok(parse_comments(text))
    }

    /// The file's text: YAML front matter, a blank line, the body.
    pub fn render(&self) -> String {
        let yaml = serde_norway::to_string(&self.meta).unwrap_or_default();
        format!("---\n{yaml}---\n\n{}", self.body)
    }

    /// The page title: the metadata's, else the first `# heading` (md2conf's rule).
    pub fn title(&self) -> Option<String> {
        if let Some(t) = self.meta.title.as_ref().filter(|t| !t.trim().is_empty()) {
            return Some(t.trim().to_string());
        }
        self.body.lines().find_map(|l| {
            l.strip_prefix("# ")
                .map(|t| t.trim().trim_end_matches('#').trim().to_string())
                .filter(|t| !t.is_empty())
        })
    }
}

/// Where the YAML ends: (end of the YAML, start of what follows the closing line).
fn find_closing(rest: &str) -> Option<(usize, usize)> {
    let mut at = 0;
    for line in rest.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" || bare == "..." {
            return Some((at, at + line.len()));
        }
        at += line.len();
    }
    None
}

/// mark's and md2conf's headers: HTML comments at the top of the file, one per line.
fn parse_comments(text: &str) -> Document {
    let mut meta = FrontMatter::default();
    let mut style = HeaderStyle::None;
    let mut parents = Vec::new();
    let mut attachments = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    let mut consumed = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.trim();
        if bare.is_empty() {
            consumed += line.len();
            continue;
        }
        let Some(inner) = bare
            .strip_prefix("<!--")
            .and_then(|s| s.strip_suffix("-->"))
        else {
            break;
        };
        let Some((key, value)) = inner.split_once(':') else {
            break;
        };
        let value = value.trim().to_string();
        match key.trim().to_ascii_lowercase().as_str() {
            "space" => {
                meta.space = Some(value);
                style = HeaderStyle::Mark;
            }
            "parent" => {
                parents.push(value);
                style = HeaderStyle::Mark;
            }
            "title" => {
                meta.title = Some(value);
                style = HeaderStyle::Mark;
            }
            "label" => {
                labels.push(value);
                style = HeaderStyle::Mark;
            }
            "attachment" => {
                attachments.push(value);
                style = HeaderStyle::Mark;
            }
            // mark's other headers (layout, sidebar, emoji, ...) say nothing a publish uses.
            "layout" | "sidebar" | "emoji" | "type" | "include" | "import" => {
                style = HeaderStyle::Mark;
            }
            "confluence-page-id" => {
                meta.id = Some(value);
                style = HeaderStyle::Md2conf;
            }
            "confluence-space-key" => {
                meta.space = Some(value);
                style = HeaderStyle::Md2conf;
            }
            _ => break,
        }
        consumed += line.len();
    }
    if style == HeaderStyle::None {
        consumed = 0;
    }
    if !labels.is_empty() {
        meta.labels = Some(labels);
    }
    Document {
        meta,
        style,
        parents,
        attachments,
        body: text[consumed..].to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_front_matter_round_trips() {
        let doc = Document {
            meta: FrontMatter {
                id: Some("42".into()),
                space: Some("ENG".into()),
                title: Some("A: \"quoted\" title\n# not a comment".into()),
                version: Some(3),
                labels: Some(vec!["a".into(), "b-c".into()]),
                ..FrontMatter::default()
            },
            style: HeaderStyle::Yaml,
            parents: Vec::new(),
            attachments: Vec::new(),
            body: "Body *text*.\n".into(),
        };
        let text = doc.render();
        assert!(text.starts_with("---\n"));
        assert_eq!(Document::parse(&text).unwrap(), doc);
    }

    #[test]
    fn mark_headers() {
        let text = "<!-- Space: DOC -->\n<!-- Parent: Guides -->\n<!-- Parent: Setup -->\n\
                    <!-- Title: Install -->\n<!-- Label: how-to -->\n<!-- Label: setup -->\n\
                    <!-- Attachment: img/a.png -->\n\nHello\n";
        let d = Document::parse(text).unwrap();
        assert_eq!(d.style, HeaderStyle::Mark);
        assert_eq!(d.meta.space.as_deref(), Some("DOC"));
        assert_eq!(d.parents, ["Guides", "Setup"]);
        assert_eq!(d.title().as_deref(), Some("Install"));
        assert_eq!(d.meta.labels, Some(vec!["how-to".into(), "setup".into()]));
        assert_eq!(d.attachments, ["img/a.png"]);
        assert_eq!(d.body, "Hello\n");
    }

    #[test]
    fn md2conf_headers_and_title_from_heading() {
        let text = "<!-- confluence-page-id: 123 -->\n<!-- confluence-space-key: ENG -->\n\n# The Title\n\nText\n";
        let d = Document::parse(text).unwrap();
        assert_eq!(d.style, HeaderStyle::Md2conf);
        assert_eq!(d.meta.id.as_deref(), Some("123"));
        assert_eq!(d.meta.space.as_deref(), Some("ENG"));
        assert_eq!(d.title().as_deref(), Some("The Title"));
    }

    #[test]
    fn other_comments_are_body_and_bad_yaml_is_an_error() {
        let d = Document::parse("<!-- just a note -->\nText\n").unwrap();
        assert_eq!(d.style, HeaderStyle::None);
        assert_eq!(d.body, "<!-- just a note -->\nText\n");
        assert!(Document::parse("---\ntitle: [unclosed\n---\nx").is_err());
        assert!(Document::parse("---\ntitle: x\n").is_err());
    }
}
