//! Link, image and status forms shared by both directions.
//!
//! Confluence resources become links with their own schemes, so a person can write them:
//! `[text](confluence-page:SPACE/Title#anchor)`, `[@id](confluence-user:ACCOUNT_ID)`,
//! `![alt](attachment:file.png)`, `[Done](confluence-status:Green)`. Titles are
//! percent-encoded where Markdown or the scheme would misread them (`/`, space, `#`, `%`).

use percent_encoding::percent_decode_str;

use crate::to_md::escape_md_cow;
use crate::xml::{self, Element, Name, Node, is_blank};

pub(crate) const PAGE: &str = "confluence-page:";
pub(crate) const USER: &str = "confluence-user:";
pub(crate) const USERNAME: &str = "confluence-username:";
pub(crate) const USERKEY: &str = "confluence-userkey:";
pub(crate) const SPACE: &str = "confluence-space:";
pub(crate) const STATUS: &str = "confluence-status:";
pub(crate) const ATTACHMENT: &str = "attachment:";
pub(crate) const JIRA: &str = "confluence-jira:";
/// `jiraissues`, the jira macro's name before Confluence 5 (pages migrated from Server and
/// Data Center still hold it), takes the jira macro's link form under a scheme of its own.
pub(crate) const JIRA_ISSUES: &str = "confluence-jiraissues:";
pub(crate) const EMOTICON: &str = "confluence-emoticon:";

const SCHEMES: &[&str] = &[
    PAGE,
    USER,
    USERNAME,
    USERKEY,
    SPACE,
    STATUS,
    ATTACHMENT,
    JIRA,
    JIRA_ISSUES,
    EMOTICON,
];

/// The link scheme of a jira macro of this name: `jira`, or its older name `jiraissues`.
pub(crate) fn jira_scheme(macro_name: &str) -> Option<&'static str> {
    match macro_name {
        "jira" => Some(JIRA),
        "jiraissues" => Some(JIRA_ISSUES),
        _ => None,
    }
}

/// Whether a URL uses one of the schemes this crate gives meaning to.
pub(crate) fn is_ours(href: &str) -> bool {
    SCHEMES.iter().any(|s| href.starts_with(s))
}

/// `prefix` followed by [`enc`] of `s`, in one allocation.
fn prefixed_enc(prefix: &str, s: &str, slash: bool) -> String {
    let mut out = String::with_capacity(prefix.len() + s.len() + 8);
    out.push_str(prefix);
    push_enc(&mut out, s, slash, false);
    out
}

/// Percent-encodes what a Markdown destination or our scheme syntax would misread.
pub(crate) fn enc(s: &str, slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    push_enc(&mut out, s, slash, false);
    out
}

/// [`enc`] onto `out`; `amp` encodes `&` as well (inside a query, where it separates).
fn push_enc(out: &mut String, s: &str, slash: bool, amp: bool) {
    // ASCII is looked at byte by byte and runs that need nothing are copied whole; other
    // characters one at a time.
    let bytes = s.as_bytes();
    let mut from = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii() {
            // An `&` that reads as an entity reference would come back decoded.
            let special = ascii_special(b)
                || (slash && b == b'/')
                || (b == b'&' && (amp || crate::to_md::entity_at(bytes, i)));
            if !special {
                i += 1;
                continue;
            }
            out.push_str(&s[from..i]);
            push_pct(out, b);
            i += 1;
            from = i;
            continue;
        }
        out.push_str(&s[from..i]);
        let c = s[i..].chars().next().unwrap_or(char::REPLACEMENT_CHARACTER);
        if c.is_control() || c.is_whitespace() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                push_pct(out, b);
            }
        } else {
            out.push(c);
        }
        i += c.len_utf8();
        from = i;
    }
    out.push_str(&s[from..]);
}

/// ASCII that [`enc`] encodes (besides `/` where asked): controls, space and the
/// punctuation a destination or our schemes would misread.
fn ascii_special(b: u8) -> bool {
    b.is_ascii_control()
        || matches!(
            b,
            b' ' | b'"'
                | b'#'
                | b'%'
                | b'<'
                | b'>'
                | b'?'
                | b'['
                | b']'
                | b'('
                | b')'
                | b'\\'
                | b'^'
                | b'`'
                | b'{'
                | b'}'
                | b'|'
                | b'='
        )
}

fn push_pct(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 15)]));
}

pub(crate) fn dec(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// A URL CommonMark accepts between `<` and `>` as an autolink.
pub(crate) fn autolinkable(href: &str) -> bool {
    let Some((scheme, rest)) = href.split_once(':') else {
        return false;
    };
    let scheme_ok = (2..=32).contains(&scheme.len())
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'));
    scheme_ok
        && !rest.is_empty()
        && !href
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
}

/// A link destination as Markdown source.
pub(crate) fn dest(href: &str) -> String {
    let angle_byte = |b: u8| {
        matches!(
            b,
            b'(' | b')' | b'<' | b'>' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' | b' '
        )
    };
    let needs_angle = href.is_empty()
        || if href.is_ascii() {
            href.bytes().any(angle_byte)
        } else {
            href.chars()
                .any(|c| c.is_whitespace() || matches!(c, '(' | ')' | '<' | '>'))
        };
    let mut out = String::with_capacity(href.len() + 2);
    if needs_angle {
        out.push('<');
    }
    let escape = |b: u8| match b {
        b'<' if needs_angle => Some("\\<"),
        b'>' if needs_angle => Some("\\>"),
        b'\\' => Some("\\\\"),
        b'\n' => Some("%0A"),
        _ => None,
    };
    if href.contains('&') {
        // An `&` that reads as an entity reference would come back decoded.
        push_escaped_at(&mut out, href, |b, i| match b {
            b'&' if crate::to_md::entity_at(href.as_bytes(), i) => Some("\\&"),
            _ => escape(b),
        });
    } else {
        push_escaped(&mut out, href, escape);
    }
    if needs_angle {
        out.push('>');
    }
    out
}

/// A link title as Markdown source, with its leading space; empty when there is none.
pub(crate) fn title(t: Option<&str>) -> String {
    match t {
        None => String::new(),
        Some(t) => {
            let mut out = String::with_capacity(t.len() + 3);
            out.push_str(" \"");
            push_escaped_at(&mut out, t, |b, i| match b {
                b'\\' => Some("\\\\"),
                b'"' => Some("\\\""),
                b'&' if crate::to_md::entity_at(t.as_bytes(), i) => Some("\\&"),
                _ => None,
            });
            out.push('"');
            out
        }
    }
}

fn extras_title(extras: &[(Name<'_>, xml::Str<'_>)]) -> String {
    if extras.is_empty() {
        return String::new();
    }
    title(Some(&title_attrs(extras.iter().map(|(k, v)| (&**k, &**v)))))
}

/// Attributes as a link title's `key=value` tokens, the values percent-encoded.
fn title_attrs<'e>(attrs: impl Iterator<Item = (&'e str, &'e str)>) -> String {
    let mut out = String::new();
    for (k, v) in attrs {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(&enc(v, false));
    }
    out
}

/// Reads back attributes carried in a link title: `ac:card-appearance=inline ri:x=1`.
pub(crate) fn parse_extras(title: &str) -> Option<Vec<(Name<'static>, xml::Str<'static>)>> {
    parse_title_attrs(title, extra_key)
}

/// Whether `k` is an attribute a title's `key=value` tokens can carry: Confluence's own.
fn extra_key(k: &str) -> bool {
    (k.starts_with("ac:") || k.starts_with("ri:"))
        && k.len() > 3
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_'))
}

/// A title of `key=value` tokens whose keys all pass `key`, as attributes; `None` for any
/// other title.
fn parse_title_attrs(
    title: &str,
    key: impl Fn(&str) -> bool,
) -> Option<Vec<(Name<'static>, xml::Str<'static>)>> {
    let mut out = Vec::new();
    for token in title.split_whitespace() {
        let (k, v) = token.split_once('=')?;
        if !key(k) {
            return None;
        }
        out.push((xml::name(k), dec(v).into()));
    }
    if out.is_empty() { None } else { Some(out) }
}

/// Whether `k` is a `data-` attribute a link title can carry.
fn data_key(k: &str) -> bool {
    k.strip_prefix("data-").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
    })
}

/// The title of an HTML link's Markdown that carries its `data-` attributes (Cloud's smart
/// links: `data-card-appearance=inline`, `block`, `embed`), as an `ac:link`'s title carries
/// its extras; `None` when one of `attrs` is no such attribute.
pub(crate) fn data_title<'e>(
    attrs: impl Iterator<Item = (&'e str, &'e str)> + Clone,
) -> Option<String> {
    attrs
        .clone()
        .all(|(k, _)| data_key(k))
        .then(|| title_attrs(attrs))
}

/// Reads back the `data-` attributes of [`data_title`]; `None` for any other title.
pub(crate) fn parse_data_title(title: &str) -> Option<Vec<(Name<'static>, xml::Str<'static>)>> {
    parse_title_attrs(title, data_key)
}

/// Where an `ac:link` points, in Markdown terms.
pub(crate) struct Target {
    pub dest: String,
    pub title: String,
    pub mention: bool,
    pub label: String,
}

pub(crate) fn ac_link_target(e: &Element) -> Option<Target> {
    let mut extras: Vec<(Name<'_>, xml::Str<'_>)> = Vec::new();
    let mut anchor = None;
    for (k, v) in &e.attrs {
        if k == "ac:anchor" {
            anchor = Some(&**v);
        } else {
            extras.push((k.clone(), v.clone()));
        }
    }
    let mut resource = None;
    for n in &e.children {
        match n {
            Node::Element(c) if c.name == "ac:link-body" || c.name == "ac:plain-text-link-body" => {
            }
            Node::Element(c)
                if resource.is_none()
                    && (c.children.iter().all(is_blank) || c.name == "ri:attachment") =>
            {
                resource = Some(c)
            }
            Node::Text(t) if t.trim().is_empty() => {}
            _ => return None,
        }
    }
    let frag = anchor
        .map(|a| prefixed_enc("#", a, false))
        .unwrap_or_default();
    let mut mention = false;
    let mut label = String::new();
    let dest = match resource {
        None => {
            anchor?;
            [PAGE, &frag].concat()
        }
        Some(r) => {
            let mut known = |names: &[&str]| -> Vec<Option<String>> {
                let vals = names
                    .iter()
                    .map(|n| r.attr(n).map(str::to_string))
                    .collect();
                for (k, v) in &r.attrs {
                    if !names.contains(&&**k) {
                        extras.push((k.clone(), v.clone()));
                    }
                }
                vals
            };
            match &*r.name {
                "ri:page" => {
                    let v = known(&["ri:space-key", "ri:content-title"]);
                    let mut dest = page_dest(v[0].as_deref(), v[1].as_deref()?)?;
                    dest.push_str(&frag);
                    dest
                }
                "ri:attachment" if anchor.is_none() => attachment_dest(r, &mut extras)?,
                "ri:user" if anchor.is_none() => {
                    mention = true;
                    let v = known(&["ri:account-id", "ri:username", "ri:userkey"]);
                    match (&v[0], &v[1], &v[2]) {
                        (Some(id), None, None) => {
                            label = id.clone();
                            prefixed_enc(USER, id, false)
                        }
                        (None, Some(n), None) => {
                            label = n.clone();
                            prefixed_enc(USERNAME, n, false)
                        }
                        (None, None, Some(k)) => {
                            label = k.clone();
                            prefixed_enc(USERKEY, k, false)
                        }
                        _ => return None,
                    }
                }
                "ri:space" if anchor.is_none() => {
                    let v = known(&["ri:space-key"]);
                    prefixed_enc(SPACE, v[0].as_deref()?, true)
                }
                _ => return None,
            }
        }
    };
    if label.is_empty() && mention {
        return None;
    }
    Some(Target {
        dest,
        title: extras_title(&extras),
        mention,
        label,
    })
}

/// `confluence-page:SPACE/Title` (or `confluence-page:Title`), both encoded; `None` for an
/// empty space key or title, which the form cannot carry (`confluence-page:` is a link to
/// this page).
fn page_dest(space: Option<&str>, title: &str) -> Option<String> {
    if title.is_empty() {
        return None;
    }
    let title = enc(title, true);
    match space {
        Some(s) if !s.is_empty() => {
            let mut d = prefixed_enc(PAGE, s, true);
            d.push('/');
            d.push_str(&title);
            Some(d)
        }
        Some(_) => None,
        None => Some([PAGE, &title].concat()),
    }
}

/// The `ri:page` of a page destination's `SPACE/Title` or `Title` ([`page_dest`] read back).
fn page_element(page: &str) -> Element<'static> {
    let r = Element::new("ri:page");
    match page.split_once('/') {
        Some((space, title)) => r
            .with_attr("ri:space-key", dec(space))
            .with_attr("ri:content-title", dec(title)),
        None => r.with_attr("ri:content-title", dec(page)),
    }
}

/// An `ri:attachment`'s destination: `attachment:FILE`, and for a file of another page
/// `attachment:FILE?page=TITLE&space=KEY` (the space only when the storage names one). The
/// attachment's other attributes go to `extras`; `None` when it holds anything else.
fn attachment_dest<'a>(
    r: &Element<'a>,
    extras: &mut Vec<(Name<'a>, xml::Str<'a>)>,
) -> Option<String> {
    let mut dest = prefixed_enc(ATTACHMENT, r.attr("ri:filename")?, false);
    let mut page = None;
    for n in &r.children {
        match n {
            _ if is_blank(n) => {}
            Node::Element(p)
                if page.is_none() && p.name == "ri:page" && p.children.iter().all(is_blank) =>
            {
                page = Some(p)
            }
            _ => return None,
        }
    }
    if let Some(p) = page {
        let known = |k: &str| k == "ri:content-title" || k == "ri:space-key";
        if !p.attrs.iter().all(|(k, _)| known(k)) {
            return None;
        }
        let title = p.attr("ri:content-title").filter(|t| !t.is_empty())?;
        dest.push_str("?page=");
        dest.push_str(&enc(title, false).replace('&', "%26"));
        if let Some(space) = p.attr("ri:space-key") {
            if space.is_empty() {
                return None;
            }
            dest.push_str("&space=");
            dest.push_str(&enc(space, false).replace('&', "%26"));
        }
    }
    for (k, v) in &r.attrs {
        if k != "ri:filename" {
            extras.push((k.clone(), v.clone()));
        }
    }
    Some(dest)
}

/// The `ri:attachment` of an `attachment:` destination, with its page for `?page=`. A `?`
/// followed by anything else is part of the file's name, as it was before pages were written
/// (a `?` this crate writes in a name is always encoded).
fn attachment_element(rest: &str) -> Element<'static> {
    let owner = rest.split_once('?').and_then(|(file, query)| {
        let (mut page, mut space) = (None, None);
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("page", v)) if page.is_none() && !v.is_empty() => page = Some(dec(v)),
                Some(("space", v)) if space.is_none() && !v.is_empty() => space = Some(dec(v)),
                _ => return None,
            }
        }
        let mut p = Element::new("ri:page");
        if let Some(space) = space {
            p = p.with_attr("ri:space-key", space);
        }
        Some((file, p.with_attr("ri:content-title", page?)))
    });
    match owner {
        Some((file, page)) => Element::new("ri:attachment")
            .with_attr("ri:filename", dec(file))
            .with_child(Node::Element(page)),
        None => Element::new("ri:attachment").with_attr("ri:filename", dec(rest)),
    }
}

/// A macro parameter's resource as the destination of its link form, for `key:link=DEST`:
/// `confluence-page:SPACE/Title`, `attachment:file?page=…`, `confluence-space:KEY`,
/// `confluence-user:ID`, or the URL of an `ri:url`. `None` when it carries anything that
/// form does not (another attribute, a child).
pub(crate) fn resource_dest(r: &Element) -> Option<String> {
    let only = |names: &[&str]| {
        r.attrs.iter().all(|(k, _)| names.contains(&&**k)) && r.children.iter().all(is_blank)
    };
    let value = |name: &str| r.attr(name).filter(|v| !v.is_empty());
    match &*r.name {
        "ri:attachment" => {
            let mut extras = Vec::new();
            let dest = attachment_dest(r, &mut extras)?;
            extras.is_empty().then_some(dest)
        }
        "ri:page" if only(&["ri:content-title", "ri:space-key"]) => {
            page_dest(r.attr("ri:space-key"), value("ri:content-title")?)
        }
        "ri:space" if only(&["ri:space-key"]) => {
            Some(prefixed_enc(SPACE, value("ri:space-key")?, true))
        }
        "ri:user" if only(&["ri:account-id"]) => {
            Some(prefixed_enc(USER, value("ri:account-id")?, false))
        }
        "ri:url" if only(&["ri:value"]) => {
            let url = value("ri:value")?;
            (has_scheme(url) && !is_ours(url)).then(|| url.to_string())
        }
        _ => None,
    }
}

/// The resource of a `key:link=DEST` parameter ([`resource_dest`] read back); a destination
/// in none of this crate's schemes is an `ri:url`.
pub(crate) fn resource_element(dest: &str) -> Element<'static> {
    if let Some(page) = dest.strip_prefix(PAGE) {
        page_element(page)
    } else if let Some(rest) = dest.strip_prefix(ATTACHMENT) {
        attachment_element(rest)
    } else if let Some(key) = dest.strip_prefix(SPACE) {
        Element::new("ri:space").with_attr("ri:space-key", dec(key))
    } else if let Some(id) = dest.strip_prefix(USER) {
        Element::new("ri:user").with_attr("ri:account-id", dec(id))
    } else {
        Element::new("ri:url").with_attr("ri:value", dest)
    }
}

/// `(dest, alt, title)` for an `ac:image` with one attachment or URL.
pub(crate) fn ac_image_target(e: &Element) -> Option<(String, String, String)> {
    image_target(e, e.children.iter())
}

/// [`ac_image_target`] of the image `e` with only `children` of its own (a figure leaves its
/// caption out).
pub(crate) fn image_target<'n, 'a: 'n>(
    e: &Element<'a>,
    children: impl Iterator<Item = &'n Node<'a>>,
) -> Option<(String, String, String)> {
    let mut alt = String::new();
    let mut plain_title = None;
    let mut extras = Vec::new();
    for (k, v) in &e.attrs {
        match &**k {
            "ac:alt" => alt = v.to_string(),
            "ac:title" => plain_title = Some(v.clone()),
            _ => extras.push((k.clone(), v.clone())),
        }
    }
    let mut resource = None;
    for n in children {
        match n {
            _ if is_blank(n) => {}
            Node::Element(c)
                if resource.is_none()
                    && (c.children.iter().all(is_blank) || c.name == "ri:attachment") =>
            {
                resource = Some(c)
            }
            _ => return None,
        }
    }
    let r = resource?;
    let dest = match &*r.name {
        "ri:attachment" => attachment_dest(r, &mut extras)?,
        "ri:url" => {
            for (k, v) in &r.attrs {
                if k != "ri:value" {
                    extras.push((k.clone(), v.clone()));
                }
            }
            let url = r.attr("ri:value")?;
            if !has_scheme(url) || is_ours(url) {
                return None;
            }
            dest(url)
        }
        _ => return None,
    };
    // Another attribute (`data-layout`) would come back as the title's text.
    if !extras.iter().all(|(k, _)| extra_key(k)) {
        return None;
    }
    if let Some(t) = &plain_title
        && (!extras.is_empty() || parse_extras(t).is_some())
    {
        extras.insert(0, (xml::name("ac:title"), t.clone()));
    }
    let title = if !extras.is_empty() {
        extras_title(&extras)
    } else {
        title(plain_title.as_deref())
    };
    Some((dest, alt, title))
}

pub(crate) fn has_scheme(url: &str) -> bool {
    match url.split_once(':') {
        Some((s, _)) => {
            !s.is_empty()
                && s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
        }
        None => false,
    }
}

/// `[Title](confluence-status:Colour)` for a status macro with text parameters.
pub(crate) fn status_link(params: &[crate::to_md::Param<'_>]) -> Option<String> {
    let mut colour = "";
    let mut text = "";
    let mut subtle = Vec::new();
    for (k, v) in params {
        let v = v.as_deref()?;
        match &**k {
            "colour" => colour = v,
            "title" => text = v,
            "subtle" => subtle.push(v),
            _ => return None,
        }
    }
    let has_title = params.iter().any(|(k, _)| *k == "title");
    let has_colour = params.iter().any(|(k, _)| *k == "colour");
    if (has_title && text.is_empty())
        || (has_colour && colour.is_empty())
        || (!has_title && !has_colour)
    {
        return None;
    }
    if !has_title {
        return None;
    }
    let text = escape_md_cow(text);
    let mut out = String::with_capacity(text.len() + STATUS.len() + colour.len() + 4);
    out.push('[');
    out.push_str(&text.replace('\n', " "));
    out.push_str("](");
    out.push_str(STATUS);
    push_enc(&mut out, colour, false, false);
    for (i, v) in subtle.iter().enumerate() {
        out.push_str(if i == 0 { "?subtle=" } else { "&subtle=" });
        push_enc(&mut out, v, false, false);
    }
    out.push(')');
    Some(out)
}

/// Whether [`jira_link`] writes the macro as a link, without writing it.
pub(crate) fn jira_linkable(e: &Element, params: &[crate::to_md::Param<'_>]) -> bool {
    if jira_scheme(crate::to_md::macro_name(e)).is_none() {
        return false;
    }
    let extra = e
        .attrs
        .iter()
        .any(|(k, v)| k != "ac:name" && !crate::to_md::left_out_attr(k, v));
    let mut key = None;
    let mut query = None;
    for (k, v) in params {
        let Some(v) = v.as_deref() else { return false };
        match *k {
            "key" if key.is_none() => key = Some(v),
            "" | "key" => return false,
            "jqlQuery" if query.is_none() => query = Some(v),
            _ => {}
        }
    }
    let target = match key {
        Some(k) => !k.is_empty() && !k.contains(char::is_whitespace),
        None => query.is_some_and(|q| !q.trim().is_empty()),
    };
    !extra && target
}

/// `[KEY-1](confluence-jira:KEY-1?server=…&serverId=…)` for a jira macro that shows one
/// issue: a `key` parameter, text parameters, no attributes besides the regenerated ones.
/// A macro showing the issues of a query (`jqlQuery`, no `key`) is a link without a key,
/// with the query as its text: `[project = DOC](confluence-jira:?jqlQuery=project%20%3D%20DOC…)`.
pub(crate) fn jira_link(e: &Element, params: &[crate::to_md::Param<'_>]) -> Option<String> {
    // From here on every value is text, no parameter is unnamed, and there is at most one
    // key, without whitespace, or else a query that is not blank.
    if !jira_linkable(e, params) {
        return None;
    }
    let value = |name: &str| {
        params
            .iter()
            .find(|(k, _)| *k == name)
            .and_then(|(_, v)| v.as_deref())
    };
    let scheme = jira_scheme(crate::to_md::macro_name(e))?;
    let key = value("key");
    let text = key.or_else(|| value("jqlQuery"))?;
    // One buffer: `[text](confluence-jira:KEY?k=v&k=v)`.
    let mut out = String::with_capacity(text.len() + scheme.len() + 64);
    out.push('[');
    let mut words = text.split_whitespace();
    let mut label = words.next().unwrap_or("").to_string();
    for w in words {
        label.push(' ');
        label.push_str(w);
    }
    out.push_str(&escape_md_cow(&label));
    out.push_str("](");
    out.push_str(scheme);
    push_enc(&mut out, key.unwrap_or(""), true, false);
    let mut sep = '?';
    for (k, v) in params.iter().filter(|(k, _)| *k != "key") {
        out.push(sep);
        sep = '&';
        push_enc(&mut out, k, false, true);
        out.push('=');
        push_enc(&mut out, v.as_deref().unwrap_or(""), false, true);
    }
    out.push(')');
    Some(out)
}

fn jira_element(name: &'static str, rest: &str) -> Element<'static> {
    let (key, query) = rest.split_once('?').unwrap_or((rest, ""));
    let param = |name: &str, value: String| {
        Node::Element(
            Element::new("ac:parameter")
                .with_attr("ac:name", name)
                .with_child(Node::Text(value.into())),
        )
    };
    let mut m = Element::new("ac:structured-macro").with_attr("ac:name", name);
    // A query link has no key: its text is the query, which the parameters carry.
    if !key.is_empty() {
        m.children.push(param("key", dec(key)));
    }
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        m.children.push(param(&dec(k), dec(v)));
    }
    m
}

/// What an emoticon's link text stands for when it has no fallback: its shortname, else its
/// name, else its emoji id.
fn emoticon_label<'v>(attr: impl Fn(&str) -> Option<&'v str>) -> &'v str {
    attr("ac:emoji-shortname")
        .or_else(|| attr("ac:name"))
        .or_else(|| attr("ac:emoji-id"))
        .unwrap_or("")
}

/// `[🙂](confluence-emoticon:smile?emoji-shortname=%3Aslight_smile%3A&emoji-id=1f642)` for an
/// emoticon with emoji attributes: the text is the emoji fallback (or, without one, the
/// shortname, name or id, which the destination carries), the name is the path and the other
/// `ac:` attributes the query. `None` for content or attributes of another kind.
pub(crate) fn emoticon_link(e: &Element) -> Option<String> {
    if !e.children.is_empty() || e.attr("ac:name") == Some("") {
        return None;
    }
    let label = emoticon_label(|k| e.attr(k));
    let fallback = e.attr("ac:emoji-fallback");
    let text = match fallback {
        Some(f) if !f.is_empty() && f != label => f,
        _ => label,
    };
    if text.contains(['\n', '\r']) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + EMOTICON.len() + 64);
    out.push('[');
    out.push_str(&escape_md_cow(text));
    out.push_str("](");
    out.push_str(EMOTICON);
    push_enc(&mut out, e.attr("ac:name").unwrap_or(""), true, false);
    let mut sep = '?';
    for (k, v) in &e.attrs {
        let key = k.strip_prefix("ac:")?;
        let plain = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        if !plain {
            return None;
        }
        // The text carries the fallback when it differs from what the text would be without it.
        if key == "name" || (key == "emoji-fallback" && text == v && text != label) {
            continue;
        }
        out.push(sep);
        sep = '&';
        out.push_str(key);
        out.push('=');
        push_enc(&mut out, v, false, true);
    }
    out.push(')');
    Some(out)
}

fn emoticon_element(rest: &str, text: &str) -> Element<'static> {
    let (name, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut el = Element::new("ac:emoticon");
    if !name.is_empty() {
        el.attrs.push((xml::name("ac:name"), dec(name).into()));
    }
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        el.attrs
            .push((Name::Owned(format!("ac:{}", dec(k))), dec(v).into()));
    }
    if el.attr("ac:emoji-fallback").is_none() && emoticon_label(|k| el.attr(k)) != text {
        el.attrs
            .push((xml::name("ac:emoji-fallback"), text.to_string().into()));
    }
    el
}

/// Builds storage for a Markdown link to one of our schemes; ordinary URLs give the body back.
pub(crate) fn link_element<'a>(
    url: &str,
    title: &str,
    body: Vec<Node<'a>>,
    autolink: bool,
) -> Result<Element<'a>, Vec<Node<'a>>> {
    let extras = parse_extras(title).unwrap_or_default();
    let (ac_extra, ri_extra): (Vec<_>, Vec<_>) =
        extras.into_iter().partition(|(k, _)| k.starts_with("ac:"));
    let text: String = plain_text(&body);
    let mut link = Element::new("ac:link");
    link.attrs.extend(ac_extra);
    let mut mention = false;
    let resource = if let Some(rest) = url.strip_prefix(PAGE) {
        let (page, anchor) = match rest.split_once('#') {
            Some((p, a)) => (p, Some(dec(a))),
            None => (rest, None),
        };
        if let Some(a) = anchor {
            link.attrs.insert(0, (xml::name("ac:anchor"), a.into()));
        }
        if page.is_empty() {
            None
        } else {
            Some(page_element(page))
        }
    } else if let Some(rest) = url.strip_prefix(ATTACHMENT) {
        Some(attachment_element(rest))
    } else if let Some(rest) = url.strip_prefix(USER) {
        mention = true;
        Some(Element::new("ri:user").with_attr("ri:account-id", dec(rest)))
    } else if let Some(rest) = url.strip_prefix(USERNAME) {
        mention = true;
        Some(Element::new("ri:user").with_attr("ri:username", dec(rest)))
    } else if let Some(rest) = url.strip_prefix(USERKEY) {
        mention = true;
        Some(Element::new("ri:user").with_attr("ri:userkey", dec(rest)))
    } else if let Some(rest) = url.strip_prefix(SPACE) {
        Some(Element::new("ri:space").with_attr("ri:space-key", dec(rest)))
    } else if let Some(rest) = url.strip_prefix(STATUS) {
        return Ok(status_element(rest, &text));
    } else if let Some(rest) = url.strip_prefix(JIRA) {
        return Ok(jira_element("jira", rest));
    } else if let Some(rest) = url.strip_prefix(JIRA_ISSUES) {
        return Ok(jira_element("jiraissues", rest));
    } else if let Some(rest) = url.strip_prefix(EMOTICON) {
        return Ok(emoticon_element(rest, &text));
    } else {
        return Err(body);
    };
    if let Some(mut r) = resource {
        r.attrs.extend(ri_extra);
        link.children.push(Node::Element(r));
    }
    let skip_body = autolink || body.is_empty() || (mention && text.starts_with('@'));
    if !skip_body {
        let all_text = body.iter().all(|n| matches!(n, Node::Text(_)));
        if all_text {
            link.children.push(Node::Element(
                Element::new("ac:plain-text-link-body").with_child(Node::CData(text.into())),
            ));
        } else {
            let mut b = Element::new("ac:link-body");
            b.children = body;
            link.children.push(Node::Element(b));
        }
    }
    Ok(link)
}

fn status_element(rest: &str, text: &str) -> Element<'static> {
    let (colour, query) = match rest.split_once('?') {
        Some((c, q)) => (c, Some(q)),
        None => (rest, None),
    };
    let param = |name: &str, value: String| {
        Node::Element(
            Element::new("ac:parameter")
                .with_attr("ac:name", name)
                .with_child(Node::Text(value.into())),
        )
    };
    let mut m = Element::new("ac:structured-macro").with_attr("ac:name", "status");
    if !colour.is_empty() {
        m.children.push(param("colour", dec(colour)));
    }
    m.children.push(param("title", text.to_string()));
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        m.children.push(param(&dec(k), dec(v)));
    }
    m
}

/// Builds an `ac:image` for a Markdown image.
pub(crate) fn image_element(url: &str, title: &str, alt: &str) -> Element<'static> {
    let mut img = Element::new("ac:image");
    let extras = parse_extras(title);
    let (ac_extra, ri_extra): (Vec<_>, Vec<_>) = extras
        .clone()
        .unwrap_or_default()
        .into_iter()
        .partition(|(k, _)| k.starts_with("ac:"));
    if !alt.is_empty() {
        img.attrs.push(("ac:alt".into(), alt.to_string().into()));
    }
    if extras.is_none() && !title.is_empty() {
        img.attrs
            .push(("ac:title".into(), title.to_string().into()));
    }
    img.attrs.extend(ac_extra);
    let mut r = if let Some(rest) = url.strip_prefix(ATTACHMENT) {
        attachment_element(rest)
    } else if has_scheme(url) || url.starts_with("//") {
        Element::new("ri:url").with_attr("ri:value", url)
    } else {
        // A relative path is a file next to the page: an attachment.
        Element::new("ri:attachment").with_attr("ri:filename", dec(url))
    };
    r.attrs.extend(ri_extra);
    img.children.push(Node::Element(r));
    img
}

fn plain_text(nodes: &[Node]) -> String {
    let mut s = String::new();
    for n in nodes {
        match n {
            Node::Text(t) | Node::CData(t) => s.push_str(t),
            Node::Element(e) => s.push_str(&e.text()),
            _ => {}
        }
    }
    s
}

/// Appends `s` with each ASCII byte `escape` names replaced by its escape; runs without one are
/// copied whole. `escape` must answer `None` for every byte that is not ASCII.
pub(crate) fn push_escaped(out: &mut String, s: &str, escape: impl Fn(u8) -> Option<&'static str>) {
    push_escaped_at(out, s, |b, _| escape(b));
}

/// [`push_escaped`], the escape told where the byte is.
fn push_escaped_at(out: &mut String, s: &str, escape: impl Fn(u8, usize) -> Option<&'static str>) {
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        let Some(esc) = escape(b, i) else { continue };
        out.push_str(&s[from..i]);
        out.push_str(esc);
        from = i + 1;
    }
    out.push_str(&s[from..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The character-by-character version `enc` replaced, kept to check it against.
    fn enc_reference(s: &str, slash: bool) -> String {
        let mut out = String::new();
        for (i, c) in s.char_indices() {
            let special = c.is_control()
                || c.is_whitespace()
                || "\"#%<>?[]()\\^`{}|=".contains(c)
                || (slash && c == '/')
                || (c == '&' && crate::to_md::entity_at(s.as_bytes(), i));
            if special {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    /// The character-by-character version `dest` replaced, kept to check it against.
    fn dest_reference(href: &str) -> String {
        let needs_angle = href.is_empty()
            || href
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, '(' | ')' | '<' | '>'));
        let mut out = String::new();
        if needs_angle {
            out.push('<');
        }
        for (i, c) in href.char_indices() {
            match c {
                '&' if crate::to_md::entity_at(href.as_bytes(), i) => out.push_str("\\&"),
                '<' | '>' | '\\' if needs_angle => {
                    out.push('\\');
                    out.push(c);
                }
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("%0A"),
                _ => out.push(c),
            }
        }
        if needs_angle {
            out.push('>');
        }
        out
    }

    proptest! {
        #[test]
        fn dest_matches_reference(s in "([ -~]|&amp;|&#1;|\\t|\\n|\\r|\u{b}|\u{c}|\u{85}|\u{a0}|\u{2003}|é){0,30}") {
            prop_assert_eq!(dest(&s), dest_reference(&s));
        }

        #[test]
        fn enc_matches_reference(s in "([ -~]|&lt;|&#9;|\t|\n|\u{7f}|\u{85}|\u{a0}|\u{2003}|é|\u{1f600}){0,40}", slash: bool) {
            prop_assert_eq!(enc(&s, slash), enc_reference(&s, slash));
        }
    }

    #[test]
    fn encoding_round_trips() {
        for s in [
            "API/v2 Guide",
            "50% off #1 (new)",
            "Árvíztűrő tükörfúrógép",
            "a=b",
        ] {
            assert_eq!(dec(&enc(s, true)), s);
            assert!(!enc(s, true).contains(['/', ' ', '#']));
        }
    }

    #[test]
    fn extras_parse() {
        let t = extras_title(&[
            ("ac:card-appearance".into(), "inline".into()),
            ("ri:x".into(), "a b".into()),
        ]);
        let inner = t.trim().trim_matches('"');
        assert_eq!(
            parse_extras(inner),
            Some(vec![
                ("ac:card-appearance".into(), "inline".into()),
                ("ri:x".into(), "a b".into())
            ])
        );
        assert_eq!(parse_extras("just a title"), None);
    }
}
