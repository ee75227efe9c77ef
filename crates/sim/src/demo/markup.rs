//! Storage-format (XHTML) pieces the page bodies are made of, the dates they print, and the tiny
//! PNG the image attachments carry. Markup only: the words come from `text`.

use chrono::{DateTime, SecondsFormat};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

pub(super) enum File {
    Text(&'static str, String),
    Png(Vec<u8>),
}

/// A storage-format body under construction.
pub(super) struct Body {
    pub(super) out: String,
    /// Byte offsets where a top-level section starts: an earlier version may end there.
    pub(super) sections: Vec<usize>,
    pub(super) task_id: u32,
    pub(super) markers_wanted: usize,
    /// (marker ref, highlighted text) of each inline-comment marker placed.
    pub(super) markers: Vec<(String, String)>,
    pub(super) files: Vec<(String, File)>,
}

impl Body {
    pub(super) fn new(markers_wanted: usize) -> Body {
        Body {
            out: String::new(),
            sections: Vec::new(),
            task_id: 0,
            markers_wanted,
            markers: Vec::new(),
            files: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, s: &str) {
        self.out.push_str(s);
    }

    pub(super) fn section(&mut self) {
        if !self.out.is_empty() {
            self.sections.push(self.out.len());
        }
    }

    pub(super) fn wants_marker(&self) -> bool {
        self.markers.len() < self.markers_wanted
    }
}

// ---------------------------------------------------------------------------------------------
// Storage-format fragments.

pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

pub(super) fn page_link(title: &str, space: Option<&str>, text: Option<&str>) -> String {
    let space = space
        .map(|k| format!(" ri:space-key=\"{}\"", esc(k)))
        .unwrap_or_default();
    let body = text
        .map(|t| format!("<ac:plain-text-link-body><![CDATA[{t}]]></ac:plain-text-link-body>"))
        .unwrap_or_default();
    format!(
        "<ac:link><ri:page ri:content-title=\"{}\"{space}/>{body}</ac:link>",
        esc(title)
    )
}

pub(super) fn attachment_link(filename: &str) -> String {
    format!(
        "<ac:link><ri:attachment ri:filename=\"{}\"/></ac:link>",
        esc(filename)
    )
}

pub(super) fn mention(account_id: &str) -> String {
    format!(
        "<ac:link><ri:user ri:account-id=\"{}\"/></ac:link>",
        esc(account_id)
    )
}

pub(super) fn emoticon(name: &str) -> String {
    let (short, id, fallback) = match name {
        "smile" => (":slight_smile:", "1f642", "\u{1f642}"),
        "thumbs-up" => (":thumbsup:", "1f44d", "\u{1f44d}"),
        "thumbs-down" => (":thumbsdown:", "1f44e", "\u{1f44e}"),
        _ => (":check_mark:", "2705", "\u{2705}"),
    };
    format!(
        "<ac:emoticon ac:name=\"{name}\" ac:emoji-shortname=\"{short}\" ac:emoji-id=\"{id}\" ac:emoji-fallback=\"{fallback}\"/>"
    )
}

pub(super) fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = String::from("<table data-layout=\"default\"><tbody><tr>");
    for h in headers {
        s.push_str(&format!("<th><p><strong>{}</strong></p></th>", esc(h)));
    }
    s.push_str("</tr>");
    for row in rows {
        s.push_str("<tr>");
        for cell in row {
            s.push_str(&format!("<td><p>{cell}</p></td>"));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

pub(super) fn code_macro(id: &str, lang: &str, code: &str) -> String {
    // CDATA cannot hold its own terminator; split it the way Confluence does.
    let code = code.replace("]]>", "]]]]><![CDATA[>");
    format!(
        "<ac:structured-macro ac:name=\"code\" ac:schema-version=\"1\" ac:macro-id=\"{id}\"><ac:parameter ac:name=\"language\">{lang}</ac:parameter><ac:parameter ac:name=\"linenumbers\">true</ac:parameter><ac:plain-text-body><![CDATA[{code}]]></ac:plain-text-body></ac:structured-macro>"
    )
}

pub(super) fn macro_rich(id: &str, name: &str, params: &[(&str, &str)], body: &str) -> String {
    let params: String = params
        .iter()
        .map(|(k, v)| {
            format!(
                "<ac:parameter ac:name=\"{}\">{}</ac:parameter>",
                esc(k),
                esc(v)
            )
        })
        .collect();
    format!(
        "<ac:structured-macro ac:name=\"{name}\" ac:schema-version=\"1\" ac:macro-id=\"{id}\">{params}<ac:rich-text-body>{body}</ac:rich-text-body></ac:structured-macro>"
    )
}

/// A structured macro without a body. Parameter values are written as given: callers pass
/// values that are markup already.
pub(super) fn plain_macro(name: &str, version: u8, id: &str, params: &[(&str, &str)]) -> String {
    let head = format!(
        "<ac:structured-macro ac:name=\"{name}\" ac:schema-version=\"{version}\" ac:macro-id=\"{id}\""
    );
    if params.is_empty() {
        return format!("{head}/>");
    }
    let params: String = params
        .iter()
        .map(|(k, v)| format!("<ac:parameter ac:name=\"{k}\">{v}</ac:parameter>"))
        .collect();
    format!("{head}>{params}</ac:structured-macro>")
}

pub(super) fn jira_issue(id: &str, key: &str) -> String {
    format!(
        "<p><ac:structured-macro ac:name=\"jira\" ac:schema-version=\"1\" ac:macro-id=\"{id}\"><ac:parameter ac:name=\"server\">System Jira</ac:parameter><ac:parameter ac:name=\"key\">{}</ac:parameter></ac:structured-macro></p>",
        esc(key)
    )
}

// ---------------------------------------------------------------------------------------------
// Dates.

pub(super) fn timestamp(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0)
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

pub(super) fn date_of(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

pub(super) fn time_of(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0)
        .map(|d| d.format("%H:%M").to_string())
        .unwrap_or_default()
}

pub(super) fn month_of(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0)
        .map(|d| d.format("%B %Y").to_string())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// A tiny PNG, encoded here: 8x8 RGB, one stored (uncompressed) deflate block.

pub(super) fn tiny_png(rng: &mut ChaCha8Rng) -> Vec<u8> {
    const SIDE: u32 = 8;
    let a: [u8; 3] = rng.random();
    let b: [u8; 3] = rng.random();
    let mut raw = Vec::new();
    for y in 0..SIDE {
        raw.push(0); // filter: none
        for x in 0..SIDE {
            raw.extend_from_slice(if (x + y) % 2 == 0 { &a } else { &b });
        }
    }
    let mut zlib = vec![0x78, 0x01, 0x01];
    let len = raw.len() as u16;
    zlib.extend_from_slice(&len.to_le_bytes());
    zlib.extend_from_slice(&(!len).to_le_bytes());
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&SIDE.to_be_bytes());
    ihdr.extend_from_slice(&SIDE.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    for (kind, data) in [(*b"IHDR", ihdr), (*b"IDAT", zlib), (*b"IEND", Vec::new())] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut chunk = kind.to_vec();
        chunk.extend_from_slice(&data);
        png.extend_from_slice(&chunk);
        png.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    png
}

pub(super) fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

pub(super) fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}
