//! The demo site: counts, well-formed bodies, references that resolve.

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use quick_xml::XmlVersion;
use quick_xml::events::Event;
use quick_xml::reader::Reader;

use super::demo_fixture;
use super::fixed::{DEMO_EPOCH_SECS, DEMO_USER_EMAIL, DEMO_USER_NAME, WINDOW_START};
use super::markup::{adler32, crc32, timestamp};
use crate::fixture::{Fixture, PageSpec, SpaceSpec};

const SEEDS: [u64; 4] = [0, 7, 42, 20_260_115];

/// One element or empty element of a body: its name and attributes.
struct Element {
    name: String,
    attrs: HashMap<String, String>,
    /// Names of the enclosing elements, outermost first.
    path: Vec<String>,
}

/// Parses a storage body as XML (inside a root declaring `ac:` and `ri:`) and lists its
/// elements; any well-formedness error fails with the page named.
fn elements(what: &str, body: &str) -> Vec<Element> {
    let doc = format!(
        "<root xmlns:ac=\"http://atlassian.com/content\" xmlns:ri=\"http://atlassian.com/resource/identifier\">{body}</root>"
    );
    let mut reader = Reader::from_str(&doc);
    reader.config_mut().check_end_names = true;
    let mut out = Vec::new();
    let mut path: Vec<String> = Vec::new();
    loop {
        let event = reader.read_event().unwrap_or_else(|e| {
            panic!(
                "{what}: not well-formed at {}: {e}",
                reader.buffer_position()
            )
        });
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.name().into_inner().to_string();
                let mut attrs = HashMap::new();
                for a in e.attributes() {
                    let a = a.unwrap_or_else(|err| panic!("{what}: bad attribute: {err}"));
                    let key = a.key.into_inner().to_string();
                    let value = a
                        .normalized_value(XmlVersion::Implicit1_0)
                        .unwrap_or_else(|err| panic!("{what}: bad attribute value: {err}"));
                    assert!(
                        attrs.insert(key.clone(), value.to_string()).is_none(),
                        "{what}: duplicate {key}"
                    );
                }
                out.push(Element {
                    name: name.clone(),
                    attrs,
                    path: path.clone(),
                });
                if !empty {
                    path.push(name);
                }
            }
            Event::End(_) => {
                path.pop();
            }
            Event::GeneralRef(r) => {
                let name: &str = r.as_ref();
                assert!(
                    matches!(name, "amp" | "lt" | "gt" | "quot" | "apos") || name.starts_with('#'),
                    "{what}: entity &{name}; is not defined in XML"
                );
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(path.is_empty(), "{what}: unclosed elements {path:?}");
    out
}

/// Text of every inline-comment marker of a body, by ref.
fn markers(body: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = body;
    while let Some(start) = rest.find("<ac:inline-comment-marker ac:ref=\"") {
        let after = &rest[start + 34..];
        let quote = after.find('"').unwrap();
        let r = after[..quote].to_string();
        let text_start = quote + 2;
        let end = after.find("</ac:inline-comment-marker>").unwrap();
        out.insert(r, after[text_start..end].to_string());
        rest = &after[end..];
    }
    out
}

#[test]
fn same_seed_same_site_other_seed_other_site() {
    let a = serde_json::to_string(&demo_fixture(7)).unwrap();
    let b = serde_json::to_string(&demo_fixture(7)).unwrap();
    let c = serde_json::to_string(&demo_fixture(8)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn fixture_validates_and_survives_a_json_round_trip() {
    for seed in SEEDS {
        let f = demo_fixture(seed);
        f.validate()
            .unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
        let json = serde_json::to_string(&f).unwrap();
        let back = Fixture::from_json(&json).unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }
}

#[test]
fn counts_are_within_the_stated_ranges() {
    for seed in SEEDS {
        let f = demo_fixture(seed);
        let n = f.pages.len();
        assert!((300..=400).contains(&n), "seed {seed}: {n} pages");
        assert_eq!(f.site.name, "demo");
        assert!((4..=5).contains(&f.spaces.len()));
        let colleagues = f
            .users
            .iter()
            .filter(|u| u.email != DEMO_USER_EMAIL && !u.guest && !u.site_admin)
            .count();
        assert!(
            (5..=8).contains(&colleagues),
            "seed {seed}: {colleagues} colleagues"
        );
        assert_eq!(f.users.iter().filter(|u| u.guest).count(), 1);
        assert_eq!(f.users.iter().filter(|u| u.site_admin).count(), 1);
        assert!(f.groups.len() >= 3);
        assert!((1..=2).contains(&f.folders.len()));
        assert!(!f.databases.is_empty());
        let folder_ids: HashSet<&str> = f.folders.iter().map(|x| x.id.as_str()).collect();
        assert!(f.pages.iter().any(|p| {
            p.parent_id
                .as_deref()
                .is_some_and(|x| folder_ids.contains(x))
        }));
        let drafts = f.pages.iter().filter(|p| p.status == "draft").count();
        let archived = f.pages.iter().filter(|p| p.status == "archived").count();
        assert!(
            drafts >= 2 && archived >= 2,
            "seed {seed}: {drafts} drafts, {archived} archived"
        );
        let with_history: Vec<&PageSpec> =
            f.pages.iter().filter(|p| !p.history.is_empty()).collect();
        assert!(with_history.len() >= 3);
        assert!(
            with_history
                .iter()
                .all(|p| (2..=5).contains(&p.history.len()))
        );
        assert!(
            with_history
                .iter()
                .flat_map(|p| &p.history)
                .any(|v| !v.message.is_empty())
        );
        let labelled = f.pages.iter().filter(|p| !p.labels.is_empty()).count();
        assert!(
            labelled * 2 > n,
            "seed {seed}: only {labelled} pages have labels"
        );
        let long = f.pages.iter().filter(|p| p.body.len() >= 30_000).count();
        assert!(long >= 2, "seed {seed}: {long} long pages");
        assert!(f.pages.iter().all(|p| p.body.len() <= 60_000));
        let footer = f.comments.iter().filter(|c| c.kind == "footer").count();
        let replies = f
            .comments
            .iter()
            .filter(|c| c.parent_comment_id.is_some())
            .count();
        let inline = f.comments.iter().filter(|c| c.kind == "inline").count();
        assert!(
            footer >= 20 && replies >= 5 && inline >= 10,
            "{footer} {replies} {inline}"
        );
        let statuses: HashSet<&str> = f
            .comments
            .iter()
            .filter_map(|c| c.resolution_status.as_deref())
            .collect();
        assert!(statuses.contains("open") && statuses.contains("resolved"));
        for kind in ["image/png", "text/csv", "text/plain"] {
            assert!(
                f.attachments.iter().any(|a| a.media_type == kind),
                "seed {seed}: no {kind}"
            );
        }
    }
}

#[test]
fn tree_depth_titles_and_dates() {
    for seed in SEEDS {
        let f = demo_fixture(seed);
        let mut titles = HashSet::new();
        for p in &f.pages {
            assert!(
                titles.insert((&p.space, &p.title)),
                "seed {seed}: {} twice in {}",
                p.title,
                p.space
            );
        }
        let parents: HashMap<&str, Option<&str>> = f
            .pages
            .iter()
            .map(|p| (p.id.as_str(), p.parent_id.as_deref()))
            .chain(
                f.folders
                    .iter()
                    .map(|x| (x.id.as_str(), x.parent_id.as_deref())),
            )
            .collect();
        let depth = |start: &str| {
            let (mut id, mut d) = (start.to_string(), 1);
            while let Some(Some(p)) = parents.get(id.as_str()) {
                id = p.to_string();
                d += 1;
            }
            d
        };
        let max = f.pages.iter().map(|p| depth(&p.id)).max().unwrap();
        assert!((4..=5).contains(&max), "seed {seed}: depth {max}");
        let lo = timestamp(WINDOW_START);
        let hi = timestamp(DEMO_EPOCH_SECS);
        let dates = f
            .pages
            .iter()
            .filter_map(|p| p.created_at.as_ref())
            .chain(
                f.pages
                    .iter()
                    .flat_map(|p| p.history.iter().filter_map(|v| v.created_at.as_ref())),
            )
            .chain(f.comments.iter().filter_map(|c| c.created_at.as_ref()))
            .chain(f.attachments.iter().filter_map(|a| a.created_at.as_ref()));
        for d in dates {
            assert!(*d >= lo && *d <= hi, "seed {seed}: {d} outside the window");
        }
        for p in &f.pages {
            let mut last = String::new();
            for v in &p.history {
                let at = v.created_at.clone().unwrap();
                assert!(at > last, "page {}: history out of order", p.id);
                last = at;
            }
            if let Some(first) = p.history.first() {
                assert_eq!(
                    p.created_at, first.created_at,
                    "page {}: created with v1",
                    p.id
                );
            }
        }
    }
}

#[test]
fn demo_user_rights() {
    let f = demo_fixture(3);
    let demo = f.users.iter().find(|u| u.email == DEMO_USER_EMAIL).unwrap();
    assert_eq!(demo.display_name, DEMO_USER_NAME);
    let can = |space: &SpaceSpec, op: &str| {
        space.permissions.iter().any(|perm| {
            let who = match perm.principal.split_once(':') {
                Some(("user", id)) => id == demo.account_id,
                Some(("group", g)) => demo.groups.iter().any(|x| x == g),
                _ => perm.principal == "anonymous",
            };
            who && perm.operations.iter().any(|o| o == op)
        })
    };
    assert!(f.spaces.iter().all(|s| can(s, "read")));
    let read_only: Vec<&str> = f
        .spaces
        .iter()
        .filter(|s| !can(s, "write"))
        .map(|s| s.key.as_str())
        .collect();
    assert_eq!(read_only, ["HR"]);
    let anonymous = f
        .spaces
        .iter()
        .filter(|s| s.permissions.iter().any(|p| p.principal == "anonymous"))
        .count();
    assert_eq!(anonymous, 1);
    let guest = f.users.iter().find(|u| u.guest).unwrap();
    let guest_spaces = f
        .spaces
        .iter()
        .filter(|s| {
            s.permissions
                .iter()
                .any(|p| p.principal == format!("user:{}", guest.account_id))
        })
        .count();
    assert_eq!(guest_spaces, 1);
    assert!(f.spaces.iter().any(|s| s.space_type == "personal"));
    assert!(f.spaces.iter().all(|s| s.homepage.is_some()));
}

#[test]
fn bodies_are_well_formed_and_references_resolve() {
    for seed in SEEDS {
        let f = demo_fixture(seed);
        let titles: HashSet<(&str, &str)> = f
            .pages
            .iter()
            .map(|p| (p.space.as_str(), p.title.as_str()))
            .collect();
        let files: HashSet<(&str, &str)> = f
            .attachments
            .iter()
            .map(|a| (a.page_id.as_str(), a.title.as_str()))
            .collect();
        let accounts: HashSet<&str> = f.users.iter().map(|u| u.account_id.as_str()).collect();
        let mut seen = HashSet::new();
        for p in &f.pages {
            let what = format!("seed {seed} page {} ({})", p.id, p.title);
            for e in elements(&what, &p.body) {
                seen.insert(e.name.clone());
                if let Some(v) = e.attrs.get("ac:name") {
                    seen.insert(format!("{}:{v}", e.name));
                }
                let parent = e.path.last().map(String::as_str).unwrap_or("");
                match e.name.as_str() {
                    "ri:page" => {
                        let title = &e.attrs["ri:content-title"];
                        let space = e.attrs.get("ri:space-key").unwrap_or(&p.space);
                        assert!(
                            titles.contains(&(space.as_str(), title.as_str())),
                            "{what}: link to {space}/{title}"
                        );
                    }
                    "ri:attachment" => {
                        let name = &e.attrs["ri:filename"];
                        assert!(
                            files.contains(&(p.id.as_str(), name.as_str())),
                            "{what}: no attachment {name}"
                        );
                        seen.insert(format!("{parent}>ri:attachment"));
                    }
                    "ri:user" => {
                        assert!(
                            accounts.contains(e.attrs["ri:account-id"].as_str()),
                            "{what}: unknown user"
                        );
                    }
                    "ri:url" => {
                        seen.insert(format!("{parent}>ri:url"));
                    }
                    "ul" | "ol" if e.path.iter().any(|x| x == "li") => {
                        seen.insert("nested list".into());
                    }
                    _ => {}
                }
            }
            for v in &p.history {
                elements(&format!("{what} history"), &v.body);
            }
            assert!(!p.body.contains("]]>]]>"));
        }
        for c in &f.comments {
            elements(&format!("seed {seed} comment {}", c.id), &c.body);
            if c.kind == "inline" {
                let page = f.pages.iter().find(|p| p.id == c.page_id).unwrap();
                let r = c.inline_marker_ref.as_ref().unwrap();
                let found = markers(&page.body);
                assert_eq!(
                    found.get(r),
                    c.inline_original_selection.as_ref(),
                    "comment {}",
                    c.id
                );
            }
        }
        for needed in [
            "h1",
            "h2",
            "h3",
            "h4",
            "strong",
            "em",
            "code",
            "th",
            "table",
            "a",
            "time",
            "nested list",
            "ac:structured-macro:code",
            "ac:structured-macro:info",
            "ac:structured-macro:note",
            "ac:structured-macro:warning",
            "ac:structured-macro:tip",
            "ac:structured-macro:panel",
            "ac:structured-macro:expand",
            "ac:structured-macro:status",
            "ac:structured-macro:toc",
            "ac:structured-macro:jira",
            "ac:structured-macro:anchor",
            "ac:plain-text-body",
            "ac:rich-text-body",
            "ac:task-list",
            "ac:task-status",
            "ac:task-id",
            "ac:task-body",
            "ac:emoticon",
            "ac:inline-comment-marker",
            "ac:image>ri:attachment",
            "ac:image>ri:url",
            "ac:link>ri:attachment",
            "ri:user",
            "ri:page",
        ] {
            assert!(seen.contains(needed), "seed {seed}: no page uses {needed}");
        }
    }
}

#[test]
fn every_marker_has_its_comment_and_code_has_a_language() {
    let f = demo_fixture(11);
    let refs: HashSet<&str> = f
        .comments
        .iter()
        .filter_map(|c| c.inline_marker_ref.as_deref())
        .collect();
    for p in &f.pages {
        for r in markers(&p.body).keys() {
            assert!(
                refs.contains(r.as_str()),
                "page {}: marker {r} without a comment",
                p.id
            );
        }
        let code = p.body.matches("ac:name=\"code\"").count();
        let lang = p
            .body
            .matches("<ac:parameter ac:name=\"language\">")
            .count();
        assert_eq!(code, lang, "page {}", p.id);
    }
}

#[test]
fn png_is_valid() {
    assert_eq!(crc32(b"IEND"), 0xae42_6082);
    assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    let f = demo_fixture(5);
    let png = f
        .attachments
        .iter()
        .find(|a| a.media_type == "image/png")
        .unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(png.base64.as_ref().unwrap())
        .unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&bytes[12..16], b"IHDR");
    assert!(bytes.ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82]));
    // Every chunk's CRC holds.
    let mut at = 8;
    while at < bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let chunk = &bytes[at + 4..at + 8 + len];
        let crc = u32::from_be_bytes(bytes[at + 8 + len..at + 12 + len].try_into().unwrap());
        assert_eq!(crc32(chunk), crc);
        at += 12 + len;
    }
    assert_eq!(at, bytes.len());
}
