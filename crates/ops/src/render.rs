//! `verbose` output: compact readable text for a model (titles, ids, links), no JSON.

use std::fmt::Write;

use crate::model::*;

fn more(out: &mut String, next: &Option<String>) {
    if let Some(c) = next {
        let _ = writeln!(out, "more: pass cursor \"{c}\" for the next page");
    }
}

fn page_line(p: &PageItem) -> String {
    let mut s = format!("{} (id {}, space {}", p.title, p.id, p.space_id);
    if let Some(v) = p.version {
        let _ = write!(s, ", version {v}");
    }
    if !p.status.is_empty() && p.status != "current" {
        let _ = write!(s, ", {}", p.status);
    }
    s.push(')');
    if let Some(u) = &p.url {
        let _ = write!(s, " {u}");
    }
    s
}

fn body_text(out: &mut String, b: &BodyOut) {
    match (&b.file, &b.value) {
        (Some(f), _) => {
            let _ = writeln!(out, "body ({}, {} bytes) written to {f}", b.format, b.size);
        }
        (None, Some(v)) => {
            let _ = writeln!(out, "body ({}, {} bytes):", b.format, b.size);
            out.push_str(v);
            out.push('\n');
            if b.truncated {
                let _ = writeln!(
                    out,
                    "[cut at {} of {} bytes: raise maxBytes, or read it in parts with actions outline and getSection]",
                    v.len(),
                    b.size
                );
            }
        }
        (None, None) => {}
    }
}

/// A write's conversion warnings: written as read, but maybe not what the caller meant.
fn warning_lines(out: &mut String, warnings: &[String]) {
    for w in warnings {
        let _ = writeln!(out, "warning: {w}");
    }
}

impl Output {
    /// The result as text for a model.
    pub fn verbose(&self) -> String {
        let mut o = String::new();
        match &self.data {
            Data::PageList(l) => {
                let _ = writeln!(o, "{} page(s):", l.count);
                for p in &l.items {
                    let _ = writeln!(o, "- {}", page_line(p));
                }
                more(&mut o, &l.next_cursor);
            }
            Data::Page { page } => {
                let _ = writeln!(o, "page: {}", page_line(page));
                if let Some(p) = &page.parent_id {
                    let _ = writeln!(o, "parent: {p}");
                }
            }
            Data::PageBody { page, body } => {
                let _ = writeln!(o, "page: {}", page_line(page));
                body_text(&mut o, body);
            }
            Data::Outline { page, sections } => {
                let _ = writeln!(
                    o,
                    "page: {}\n{} section(s):",
                    page_line(page),
                    sections.len()
                );
                for s in sections {
                    let indent = "  ".repeat(usize::from(s.level.saturating_sub(1)));
                    let _ = writeln!(
                        o,
                        "{indent}- {} [id {}, h{}, {} bytes]",
                        s.title, s.id, s.level, s.size
                    );
                }
            }
            Data::Section {
                page,
                section,
                body,
            } => {
                let _ = writeln!(
                    o,
                    "page: {}\nsection: {} [id {}, h{}]",
                    page_line(page),
                    section.title,
                    section.id,
                    section.level
                );
                body_text(&mut o, body);
            }
            Data::Written {
                page,
                size,
                warnings,
            } => {
                let _ = writeln!(
                    o,
                    "{}: {} ({} bytes of body)",
                    self.action,
                    page_line(page),
                    size
                );
                warning_lines(&mut o, warnings);
            }
            Data::Replaced {
                page,
                replacements,
                size,
            } => {
                let _ = writeln!(
                    o,
                    "replaced {replacements} occurrence(s): {} ({size} bytes of body)",
                    page_line(page)
                );
            }
            Data::Deleted {
                id, what, purged, ..
            } => {
                let outcome = match (*what, *purged) {
                    ("page" | "blog post" | "attachment", false) => "moved to the trash",
                    ("page" | "blog post" | "attachment", true) => {
                        "purged from the trash (deleted for good)"
                    }
                    ("comment", _) => "deleted for good, with its replies",
                    _ => "deleted",
                };
                let _ = writeln!(o, "{what} {id} {outcome}");
            }
            Data::Property {
                page_id,
                key,
                value,
                version,
            } => {
                let version = version
                    .map(|v| format!(", version {v}"))
                    .unwrap_or_default();
                let _ = writeln!(o, "property `{key}` of {page_id}{version}: {value}");
            }
            Data::Restrictions {
                page_id,
                restrictions,
            } => {
                let limited: Vec<&RestrictionItem> = restrictions
                    .iter()
                    .filter(|r| !r.users.is_empty() || !r.groups.is_empty())
                    .collect();
                if limited.is_empty() {
                    let _ = writeln!(o, "page {page_id} is not restricted");
                }
                for r in limited {
                    let users: Vec<String> = r
                        .users
                        .iter()
                        .map(|u| format!("{} ({})", u.display_name, u.account_id))
                        .collect();
                    let _ = writeln!(
                        o,
                        "{}: users [{}], groups [{}]",
                        r.operation,
                        users.join(", "),
                        r.groups.join(", ")
                    );
                }
            }
            Data::Permission {
                page_id,
                operation,
                subject,
                allowed,
                reasons,
            } => {
                let verdict = if *allowed { "may" } else { "may not" };
                let _ = writeln!(o, "{subject} {verdict} {operation} page {page_id}");
                for r in reasons {
                    let _ = writeln!(o, "- {r}");
                }
            }
            Data::Views {
                page_id,
                views,
                viewers,
            } => match (views, viewers) {
                (Some(v), Some(p)) => {
                    let _ = writeln!(o, "page {page_id}: {v} view(s) by {p} distinct viewer(s)");
                }
                _ => {
                    let _ = writeln!(
                        o,
                        "page {page_id}: this site offers no page analytics (Confluence keeps \
                         them to some plans)"
                    );
                }
            },
            Data::Templates(l) => {
                let _ = writeln!(o, "{} template(s):", l.count);
                for t in &l.items {
                    let space = t.space_key.as_deref().unwrap_or("global");
                    let _ = writeln!(o, "- {} (id {}, {space})", t.name, t.id);
                }
                more(&mut o, &l.next_cursor);
            }
            Data::Template { template: t } => {
                let space = t.space_key.as_deref().unwrap_or("global");
                let _ = writeln!(o, "template {} (id {}, {space})", t.name, t.id);
                if let Some(b) = &t.body {
                    let _ = writeln!(o, "body (storage, {} bytes):\n{b}", b.len());
                }
            }
            Data::Users(l) => {
                let _ = writeln!(o, "{} user(s):", l.count);
                for u in &l.items {
                    let _ = writeln!(o, "- {} (accountId {})", u.display_name, u.account_id);
                }
                more(&mut o, &l.next_cursor);
            }
            Data::User { user } => {
                let _ = writeln!(o, "{} (accountId {})", user.display_name, user.account_id);
                if let Some(e) = &user.email {
                    let _ = writeln!(o, "email: {e}");
                }
            }
            Data::PostList(l) => {
                let _ = writeln!(o, "{} blog post(s):", l.count);
                for p in &l.items {
                    let _ = writeln!(o, "- {}", page_line(p));
                }
                more(&mut o, &l.next_cursor);
            }
            Data::Post { blogpost } => {
                let _ = writeln!(o, "blog post: {}", page_line(blogpost));
            }
            Data::PostBody { blogpost, body } => {
                let _ = writeln!(o, "blog post: {}", page_line(blogpost));
                body_text(&mut o, body);
            }
            Data::PostWritten {
                blogpost,
                size,
                warnings,
            } => {
                let _ = writeln!(
                    o,
                    "{}: blog post {} ({size} bytes of body)",
                    self.action,
                    page_line(blogpost)
                );
                warning_lines(&mut o, warnings);
            }
            Data::SpaceList(l) => {
                let _ = writeln!(o, "{} space(s):", l.count);
                for s in &l.items {
                    let _ = writeln!(o, "- {} {} (id {}, {})", s.key, s.name, s.id, s.space_type);
                }
                more(&mut o, &l.next_cursor);
            }
            Data::Permissions { space, list } => {
                let _ = writeln!(
                    o,
                    "{} permission assignment(s) in space {} ({}):",
                    list.count, space.key, space.name
                );
                for p in &list.items {
                    let _ = writeln!(
                        o,
                        "- {} {} may {} {}",
                        p.principal_type, p.principal_id, p.operation, p.target
                    );
                }
                more(&mut o, &list.next_cursor);
            }
            Data::Space { space: s } => {
                let _ = writeln!(
                    o,
                    "space: {} {} (id {}, {}, {})",
                    s.key, s.name, s.id, s.space_type, s.status
                );
                if let Some(h) = &s.homepage_id {
                    let _ = writeln!(o, "homepage: {h}");
                }
            }
            Data::Search { list, total_size } => {
                let _ = writeln!(
                    o,
                    "{} result(s){}:",
                    list.count,
                    total_size.map(|t| format!(" of {t}")).unwrap_or_default()
                );
                for r in &list.items {
                    let space = r
                        .space_key
                        .as_deref()
                        .map(|k| format!(", space {k}"))
                        .unwrap_or_default();
                    let _ = writeln!(
                        o,
                        "- {} ({} {}{space}) {}",
                        r.title, r.content_type, r.id, r.url
                    );
                    let ex = r.excerpt.split_whitespace().collect::<Vec<_>>().join(" ");
                    if !ex.is_empty() {
                        let _ = writeln!(o, "  {ex}");
                    }
                }
                more(&mut o, &list.next_cursor);
            }
            Data::Nodes(l) => {
                let _ = writeln!(o, "{} item(s):", l.count);
                for n in &l.items {
                    let d = n.depth.map(|d| format!(", depth {d}")).unwrap_or_default();
                    let _ = writeln!(o, "- {} ({} {}{d})", n.title, n.content_type, n.id);
                }
                more(&mut o, &l.next_cursor);
            }
            Data::Tree { space, list } => {
                let _ = writeln!(
                    o,
                    "space {} {}: {} node(s)",
                    space.key, space.name, list.count
                );
                for n in &list.items {
                    let indent = "  ".repeat(n.depth.unwrap_or(1) as usize);
                    let _ = writeln!(o, "{indent}- {} ({} {})", n.title, n.content_type, n.id);
                }
                more(&mut o, &list.next_cursor);
            }
            Data::Folder { folder } => {
                let _ = writeln!(o, "folder created: {} (id {})", folder.title, folder.id);
            }
            Data::Database { database } => {
                let _ = writeln!(o, "database: {} (id {})", database.title, database.id);
                if let Some(p) = &database.parent_id {
                    let _ = writeln!(o, "parent: {p}");
                }
            }
            Data::Connection(report) => {
                o.push_str(&crate::doctor::render_text(report));
            }
            Data::Comments(l) => {
                let _ = writeln!(o, "{} comment(s):", l.count);
                // Threads as nested bullets; a stack, since replies nest (to a bounded depth).
                let mut stack: Vec<(usize, &crate::model::CommentItem)> =
                    l.items.iter().rev().map(|c| (0, c)).collect();
                while let Some((depth, c)) = stack.pop() {
                    let by = c
                        .author_id
                        .as_deref()
                        .map(|a| format!(" by {a}"))
                        .unwrap_or_default();
                    let at = c
                        .created_at
                        .as_deref()
                        .map(|t| format!(" at {t}"))
                        .unwrap_or_default();
                    let _ = writeln!(
                        o,
                        "{:indent$}- comment {}{by}{at}: {}",
                        "",
                        c.id,
                        c.body.as_deref().unwrap_or(&c.title).trim_end(),
                        indent = depth * 2
                    );
                    if c.more_replies {
                        let _ = writeln!(
                            o,
                            "{:indent$}  (more replies than one call reads)",
                            "",
                            indent = depth * 2
                        );
                    }
                    stack.extend(c.replies.iter().rev().map(|r| (depth + 1, r)));
                }
                more(&mut o, &l.next_cursor);
            }
            Data::Comment { comment, warnings } => {
                let _ = write!(o, "{}: comment {}", self.action, comment.id);
                match (&comment.page_id, &comment.blog_post_id) {
                    (Some(p), _) => {
                        let _ = write!(o, " on page {p}");
                    }
                    (None, Some(b)) => {
                        let _ = write!(o, " on blog post {b}");
                    }
                    (None, None) => {}
                }
                if let Some(status) = &comment.resolution_status {
                    let _ = write!(o, " ({status})");
                }
                o.push('\n');
                warning_lines(&mut o, warnings);
            }
            Data::Labels { on, list } => {
                let names: Vec<&str> = list.items.iter().map(|l| l.name.as_str()).collect();
                let _ = writeln!(
                    o,
                    "labels of {on}: {}",
                    if names.is_empty() {
                        "(none)".into()
                    } else {
                        names.join(", ")
                    }
                );
                more(&mut o, &list.next_cursor);
            }
            Data::Attachments(l) => {
                let _ = writeln!(o, "{} attachment(s):", l.count);
                for a in &l.items {
                    let _ = writeln!(
                        o,
                        "- {} (id {}, {}, {} bytes)",
                        a.title, a.id, a.media_type, a.file_size
                    );
                }
                more(&mut o, &l.next_cursor);
            }
            Data::Attachment { attachment: a } => {
                let _ = writeln!(
                    o,
                    "attachment: {} (id {}, {}, {} bytes, page {})",
                    a.title,
                    a.id,
                    a.media_type,
                    a.file_size,
                    a.page_id.as_deref().unwrap_or("?")
                );
                if let Some(d) = &a.download_link {
                    let _ = writeln!(o, "download: {d}");
                }
            }
            Data::Download {
                attachment,
                media_type,
                size,
                file,
                ..
            } => {
                let _ = writeln!(
                    o,
                    "downloaded {} ({media_type}, {size} bytes){}",
                    attachment.title,
                    file.as_deref()
                        .map(|f| format!(" to {f}"))
                        .unwrap_or_else(|| {
                            "; bytes are in the resource / structured `data` (base64)".into()
                        })
                );
            }
            Data::Uploaded {
                id,
                on,
                title,
                size,
            } => {
                let _ = writeln!(
                    o,
                    "uploaded {title} ({size} bytes) to {on}: attachment {id}"
                );
            }
            Data::UploadedFiles { on, items, count } => {
                let _ = writeln!(o, "uploaded {count} file(s) to {on}:");
                for f in items {
                    let _ = writeln!(o, "- {} ({} bytes): attachment {}", f.title, f.size, f.id);
                }
            }
            Data::Files {
                on,
                files,
                skipped,
                size,
                file,
                images,
            } => {
                let what = if *images { "image(s)" } else { "file(s)" };
                let _ = writeln!(
                    o,
                    "{} {what} of {on}, {size} bytes{}",
                    files.len(),
                    match file {
                        Some(dir) => format!(", written to {dir}"),
                        None => "; bytes are in the resources / structured `data` (base64)".into(),
                    }
                );
                for f in files {
                    let _ = writeln!(
                        o,
                        "- {} (id {}, {}, {} bytes){}",
                        f.attachment.title,
                        f.attachment.id,
                        f.media_type,
                        f.size,
                        f.file
                            .as_deref()
                            .map(|p| format!(": {p}"))
                            .unwrap_or_default()
                    );
                }
                for s in skipped {
                    let _ = writeln!(
                        o,
                        "- skipped {} (id {}, {} bytes): {}",
                        s.title, s.id, s.size, s.reason
                    );
                }
            }
            Data::Versions { page_id, list } => {
                let _ = writeln!(o, "{} version(s) of page {page_id}:", list.count);
                for v in &list.items {
                    let when = v.created_at.as_deref().unwrap_or("");
                    let msg = if v.message.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", v.message)
                    };
                    let _ = writeln!(o, "- version {} {when}{msg}", v.number);
                }
                more(&mut o, &list.next_cursor);
            }
            Data::VersionBody {
                page,
                version,
                body,
            } => {
                let _ = writeln!(o, "page {} ({}) at version {version}", page.title, page.id);
                body_text(&mut o, body);
            }
            Data::Diff {
                page_id,
                from,
                to,
                added,
                removed,
                diff,
            } => {
                let _ = writeln!(
                    o,
                    "page {page_id}: version {from} -> {to}, {added} line(s) added, {removed} removed"
                );
                o.push_str(diff);
            }
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Data, Output};

    fn deleted(what: &'static str, purged: bool) -> String {
        Output::new(
            "delete",
            Data::Deleted {
                id: "42".into(),
                deleted: true,
                what,
                purged,
            },
        )
        .verbose()
    }

    /// Issue 12: `delete` with `purge` said "moved to the trash", and `databases delete` said
    /// "page ... moved to the trash".
    #[test]
    fn issue_012_deletions_say_what_happened_to_what() {
        assert_eq!(deleted("page", false).trim(), "page 42 moved to the trash");
        assert_eq!(
            deleted("page", true).trim(),
            "page 42 purged from the trash (deleted for good)"
        );
        assert_eq!(deleted("database", false).trim(), "database 42 deleted");
    }
}
