//! The pages of the plan, written out: each body (see `bodies`), the files it refers to, earlier
//! versions, labels, and the comments people left.

use std::collections::{BTreeMap, HashSet};

use base64::Engine as _;
use chrono::DateTime;
use rand::Rng;
use rand::seq::SliceRandom;

use super::fixed::{DAY, DEMO_EPOCH_SECS};
use super::generator::{Gen, Kind, PERSONAL};
use super::markup::{Body, File, mention, timestamp};
use super::prose::PageCtx;
use super::text::{fill, lines, text, words};
use crate::fixture::{AttachmentSpec, CommentSpec, PageSpec, VersionSpec};

impl Gen {
    pub(super) fn render_pages(&mut self) -> Vec<PageSpec> {
        // Link targets: current pages, by space.
        let mut targets: Vec<Vec<String>> = vec![Vec::new(); self.spaces.len()];
        for n in &self.nodes {
            if n.status == "current" {
                targets[n.space].push(n.title.clone());
            }
        }
        let by_id: BTreeMap<String, usize> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.clone(), i))
            .collect();
        // Pages that get extra material.
        let count = self.nodes.len();
        let mut order: Vec<usize> = (0..count).collect();
        order.shuffle(&mut self.rng);
        let with_history: HashSet<usize> = order
            .iter()
            .copied()
            .filter(|&i| {
                let n = &self.nodes[i];
                n.status == "current"
                    && n.kind != Kind::Home
                    && n.created < DEMO_EPOCH_SECS - 120 * DAY
            })
            .take(self.rng.random_range(8..=12))
            .collect();
        let with_inline: HashSet<usize> = order
            .iter()
            .rev()
            .copied()
            .filter(|&i| self.nodes[i].status == "current" && self.nodes[i].space != PERSONAL)
            .take(self.rng.random_range(14..=20))
            .collect();

        let mut pages = Vec::with_capacity(count);
        for i in 0..count {
            let markers = if with_inline.contains(&i) {
                self.rng.random_range(1..=3)
            } else {
                0
            };
            let parent_title = self.nodes[i]
                .parent
                .as_ref()
                .and_then(|p| by_id.get(p))
                .map(|&j| self.nodes[j].title.clone());
            let children: Vec<String> = self
                .nodes
                .iter()
                .filter(|n| n.parent.as_deref() == Some(&self.nodes[i].id) && n.status == "current")
                .map(|n| n.title.clone())
                .collect();
            let mut body = Body::new(markers);
            let ctx = PageCtx {
                node: i,
                parent_title,
                children,
                targets: &targets,
            };
            self.render(&mut body, &ctx);
            self.finish_markers(&mut body);
            let node = &self.nodes[i];
            let (id, space_key, title, author, created, status, kind) = (
                node.id.clone(),
                self.spaces[node.space].key.clone(),
                node.title.clone(),
                node.author.clone(),
                node.created,
                node.status,
                node.kind,
            );
            // Attachments the body refers to.
            for (filename, file) in std::mem::take(&mut body.files) {
                let att_author = self.pick_str(&self.spaces[self.nodes[i].space].writers.clone());
                let (media_type, content, base64) = match file {
                    File::Text(media, content) => (media, Some(content), None),
                    File::Png(bytes) => (
                        "image/png",
                        None,
                        Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
                    ),
                };
                let att_id = self.attachment_id();
                let comment = if self.chance(0.5) {
                    text("comments", "attachment").into()
                } else {
                    String::new()
                };
                let at = self.later(created, 5 * DAY);
                self.attachments.push(AttachmentSpec {
                    id: att_id,
                    page_id: id.clone(),
                    title: filename,
                    media_type: media_type.to_string(),
                    comment,
                    text: content,
                    base64,
                    author: att_author,
                    created_at: Some(timestamp(at)),
                });
            }
            let history = if with_history.contains(&i) {
                self.history(&body, &title, &author, created, self.nodes[i].space)
            } else {
                Vec::new()
            };
            // The page was created with its first version; the simulator dates the current
            // version a minute after the last earlier one.
            let current_at = history
                .last()
                .and_then(|v| v.created_at.as_deref())
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map_or(created, |t| t.timestamp() + 60);
            let labels = self.labels(kind, i);
            if status == "current" {
                self.footer_comments(i, &id, current_at);
                self.inline_comments(i, &id, &body.markers, current_at);
            }
            pages.push(PageSpec {
                id,
                space: space_key,
                title,
                parent_id: self.nodes[i].parent.clone(),
                author,
                body: body.out,
                status: status.to_string(),
                labels,
                created_at: Some(timestamp(created)),
                history,
            });
        }
        pages
    }

    fn history(
        &mut self,
        body: &Body,
        title: &str,
        author: &str,
        created: i64,
        space: usize,
    ) -> Vec<VersionSpec> {
        let n = self.rng.random_range(2..=5usize);
        let cuts = &body.sections;
        let mut out = Vec::new();
        let mut t = created;
        // The messages, and a version saved without one.
        let mut messages = lines("comments", "version-messages");
        messages.push("");
        for v in 0..n {
            // Earlier versions hold a growing prefix of the sections.
            let cut = if cuts.is_empty() {
                body.out.len()
            } else {
                cuts[(v * cuts.len() / n).min(cuts.len() - 1)]
            };
            let prefix = body.out.get(..cut).unwrap_or_default();
            let body_text = if prefix.is_empty() {
                text("comments", "work-in-progress").to_string()
            } else {
                prefix.to_string()
            };
            let vtitle = if v == 0 && self.chance(0.5) {
                fill(text("comments", "draft-title"), &[("title", title)])
            } else {
                title.to_string()
            };
            let message = if v == 0 {
                text("comments", "first-version")
            } else {
                self.pick(&messages)
            };
            let who = if self.chance(0.6) {
                author.to_string()
            } else {
                self.pick_str(&self.spaces[space].writers.clone())
            };
            out.push(VersionSpec {
                title: vtitle,
                body: body_text,
                message: message.to_string(),
                author: Some(who),
                created_at: Some(timestamp(t)),
            });
            t = self.later(t, 10 * DAY);
        }
        out
    }

    fn labels(&mut self, kind: Kind, i: usize) -> Vec<String> {
        let mut labels: Vec<&str> = match kind {
            Kind::Runbook => vec!["runbook", "oncall"],
            Kind::Adr => vec!["adr", "architecture"],
            Kind::Design => vec!["design", "architecture"],
            Kind::Review | Kind::FollowUp => vec![],
            Kind::Meeting => vec!["meeting-notes"],
            Kind::Release => vec!["release"],
            Kind::HowTo => vec!["how-to"],
            Kind::Onboarding => vec!["onboarding"],
            Kind::Retro => vec!["retro"],
            Kind::Incident => vec!["incident", "postmortem"],
            Kind::Policy => vec!["policy"],
            Kind::Handbook => vec!["handbook"],
            Kind::Prd => vec!["roadmap"],
            Kind::Interview => vec!["customer-research"],
            Kind::Roadmap => vec!["roadmap"],
            Kind::Template => vec!["template"],
            Kind::Faq => vec!["faq"],
            Kind::Home | Kind::Index | Kind::Personal => vec![],
        };
        if self.chance(0.25) {
            labels.push(self.pick(&words().labels));
        }
        if self.nodes[i].space == PERSONAL || self.chance(0.12) {
            labels.clear();
        }
        labels.sort_unstable();
        labels.dedup();
        labels.into_iter().map(str::to_string).collect()
    }

    fn footer_comments(&mut self, i: usize, page_id: &str, after: i64) {
        if !self.chance(0.22) {
            return;
        }
        let space = self.nodes[i].space;
        let commenters = self.spaces[space].commenters.clone();
        let top = self.rng.random_range(1..=3);
        for _ in 0..top {
            let id = self.content_id();
            let at = self.later(after, 60 * DAY);
            let author = self.pick_str(&commenters);
            let body = self.comment_body(space);
            self.comments.push(CommentSpec {
                id: id.clone(),
                page_id: page_id.to_string(),
                kind: "footer".into(),
                parent_comment_id: None,
                author,
                body,
                inline_marker_ref: None,
                inline_original_selection: None,
                resolution_status: None,
                created_at: Some(timestamp(at)),
            });
            let replies = self.rng.random_range(0..=2);
            let mut t = at;
            for _ in 0..replies {
                t = self.later(t, 3 * DAY);
                let rid = self.content_id();
                let author = self.pick_str(&commenters);
                let body = self.reply_body();
                self.comments.push(CommentSpec {
                    id: rid,
                    page_id: page_id.to_string(),
                    kind: "footer".into(),
                    parent_comment_id: Some(id.clone()),
                    author,
                    body,
                    inline_marker_ref: None,
                    inline_original_selection: None,
                    resolution_status: None,
                    created_at: Some(timestamp(t)),
                });
            }
        }
    }

    fn inline_comments(
        &mut self,
        i: usize,
        page_id: &str,
        markers: &[(String, String)],
        after: i64,
    ) {
        let space = self.nodes[i].space;
        let commenters = self.spaces[space].commenters.clone();
        for (mref, selection) in markers {
            let id = self.content_id();
            let at = self.later(after, 30 * DAY);
            let author = self.pick_str(&commenters);
            let status = self.pick(&["open", "open", "resolved", "reopened"]);
            let remark = self.pick(&lines("comments", "inline-remarks"));
            self.comments.push(CommentSpec {
                id,
                page_id: page_id.to_string(),
                kind: "inline".into(),
                parent_comment_id: None,
                author,
                body: format!("<p>{remark}</p>"),
                inline_marker_ref: Some(mref.clone()),
                inline_original_selection: Some(selection.clone()),
                resolution_status: Some(status.to_string()),
                created_at: Some(timestamp(at)),
            });
        }
    }

    fn comment_body(&mut self, space: usize) -> String {
        let opener = self.pick(&lines("comments", "openers"));
        let mut s = format!("<p>{opener}");
        if self.chance(0.4) {
            let who = self.pick_str(&self.spaces[space].writers.clone());
            s.push(' ');
            s.push_str(&fill(text("comments", "ask"), &[("who", &mention(&who))]));
        } else if self.chance(0.3) {
            s.push(' ');
            s.push_str(text("comments", "aside"));
        }
        s.push_str("</p>");
        if self.chance(0.2) {
            s.push_str(text("comments", "checklist"));
        }
        s
    }

    fn reply_body(&mut self) -> String {
        let reply = self.pick(&lines("comments", "replies"));
        format!("<p>{reply}</p>")
    }

    /// Places the inline-comment markers the paragraphs did not.
    fn finish_markers(&mut self, b: &mut Body) {
        let texts = lines("comments", "marked");
        while b.wants_marker() {
            let r = self.uuid();
            let text = self.pick(&texts);
            b.push(&format!(
                "<p><ac:inline-comment-marker ac:ref=\"{r}\">{text}</ac:inline-comment-marker></p>"
            ));
            b.markers.push((r, text.to_string()));
        }
    }
}
