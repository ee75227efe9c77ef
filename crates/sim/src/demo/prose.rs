//! What every page body is written with: a page's topic ([`Vars`]), sentences and paragraphs
//! drawn from the sentence pool, links to other pages, and the pieces several kinds of page
//! share (status lozenges, the properties table, code samples, admonitions, task lists, images).

use rand::Rng;
use rand::seq::SliceRandom;

use super::fixed::DAY;
use super::generator::{Gen, PERSONAL};
use super::markup::{
    Body, File, code_macro, date_of, esc, macro_rich, mention, page_link, plain_macro, slug, table,
    tiny_png,
};
use super::text::{fill, lines, pairs, whole, words};

/// What a page is about, for the sentence slots.
pub(super) struct Vars {
    pub(super) svc: String,
    pub(super) team: String,
    pub(super) flag: String,
    pub(super) env: String,
    pub(super) subject: String,
}

/// Where a page stands in the tree.
pub(super) struct PageCtx<'a> {
    pub(super) node: usize,
    pub(super) parent_title: Option<String>,
    pub(super) children: Vec<String>,
    /// Titles of the current pages of each space: what a link may point at.
    pub(super) targets: &'a [Vec<String>],
}

/// The code samples, by language; `{svc}`, `{flag}` and `{team}` are filled per page.
const CODE: [(&str, &str); 7] = [
    ("bash", include_str!("../../data/demo/code/bash.txt")),
    ("sql", include_str!("../../data/demo/code/sql.txt")),
    ("yaml", include_str!("../../data/demo/code/yaml.txt")),
    ("json", include_str!("../../data/demo/code/json.txt")),
    ("rust", include_str!("../../data/demo/code/rust.txt")),
    ("python", include_str!("../../data/demo/code/python.txt")),
    ("text", include_str!("../../data/demo/code/log.txt")),
];

impl Gen {
    pub(super) fn vars(&mut self, i: usize) -> Vars {
        let w = words();
        let subject = self.nodes[i].subject.clone();
        let svc = if w.services.contains(&subject.as_str()) {
            subject.clone()
        } else {
            self.pick(&w.services).to_string()
        };
        let team = if w.teams.contains(&subject.as_str()) {
            subject.clone()
        } else {
            self.pick(&w.teams).to_string()
        };
        Vars {
            svc,
            team,
            flag: self.pick(&w.flags).to_string(),
            env: self.pick(&w.envs).to_string(),
            subject,
        }
    }

    pub(super) fn sentence(&mut self, v: &Vars) -> String {
        let s = self.pick(&words().sentences);
        self.fill_sentence(s, v)
    }

    /// Fills a sentence's slots: the page's topic, and numbers drawn for this sentence.
    fn fill_sentence(&mut self, s: &str, v: &Vars) -> String {
        let ms = (self.rng.random_range(4..90u32) * 10).to_string();
        let rps = (self.rng.random_range(1..40u32) * 50).to_string();
        let pct = self.rng.random_range(5..95u32).to_string();
        let growth = self.rng.random_range(2..15u32).to_string();
        let min = self.rng.random_range(5..90u32).to_string();
        s.replace("{svc}", &v.svc)
            .replace("{team}", &v.team)
            .replace("{flag}", &v.flag)
            .replace("{env}", &v.env)
            .replace("{ms}", &ms)
            .replace("{rps}", &rps)
            .replace("{pct}", &pct)
            .replace("{growth}", &growth)
            .replace("{min}", &min)
    }

    /// A paragraph of two to four sentences; one of them may carry an inline-comment marker.
    pub(super) fn para(&mut self, b: &mut Body, v: &Vars) {
        let sentences = &words().sentences;
        let n = self.rng.random_range(2..=4);
        let mut picks: Vec<usize> = (0..sentences.len()).collect();
        picks.shuffle(&mut self.rng);
        let mut parts = Vec::new();
        for &k in picks.iter().take(n) {
            let s = self.fill_sentence(sentences[k], v);
            parts.push(s);
        }
        if b.wants_marker()
            && self.chance(0.5)
            && let Some(k) = parts
                .iter()
                .position(|s| !s.contains('<') && !s.contains('&'))
        {
            let r = self.uuid();
            let text = parts[k].clone();
            parts[k] = format!(
                "<ac:inline-comment-marker ac:ref=\"{r}\">{text}</ac:inline-comment-marker>"
            );
            b.markers.push((r, text));
        }
        b.push(&format!("<p>{}</p>", parts.join(" ")));
    }

    /// A link to another current page of the same space, or (`cross`) of a random space; empty
    /// when there is none.
    pub(super) fn link_to(&mut self, ctx: &PageCtx, cross: bool) -> String {
        let own = self.nodes[ctx.node].space;
        let space = if cross {
            self.rng.random_range(0..PERSONAL)
        } else {
            own
        };
        let own_title = &self.nodes[ctx.node].title;
        let list: Vec<&String> = ctx.targets[space]
            .iter()
            .filter(|t| space != own || *t != own_title)
            .collect();
        if list.is_empty() {
            return String::new();
        }
        let title = list[self.rng.random_range(0..list.len())].clone();
        let key = self.spaces[space].key.clone();
        let key = if space == own && self.chance(0.3) {
            None
        } else {
            Some(key.as_str())
        };
        let text = if self.chance(0.25) {
            Some(title.to_lowercase())
        } else {
            None
        };
        page_link(&title, key, text.as_deref())
    }

    pub(super) fn status_lozenge(&mut self) -> String {
        let (colour, title) = self.pick(&pairs("common", "lozenges"));
        plain_macro(
            "status",
            1,
            &self.uuid(),
            &[("colour", colour), ("title", title)],
        )
    }

    pub(super) fn properties_table(&mut self, ctx: &PageCtx) -> String {
        let author = self.nodes[ctx.node].author.clone();
        let others: Vec<String> = self.spaces[self.nodes[ctx.node].space]
            .writers
            .iter()
            .filter(|w| **w != author)
            .cloned()
            .collect();
        let reviewer = if others.is_empty() {
            author.clone()
        } else {
            self.pick_str(&others)
        };
        let status = self.status_lozenge();
        let date = date_of(self.nodes[ctx.node].created);
        // The columns, then the names of the four fields: owner, reviewer, status, reviewed.
        let text = lines("common", "properties");
        let (columns, fields) = text.split_first().unwrap_or((&"", &[]));
        let field = |i: usize| fields.get(i).copied().unwrap_or_default().to_string();
        table(
            &columns.split(" | ").collect::<Vec<_>>(),
            &[
                vec![field(0), mention(&author)],
                vec![field(1), mention(&reviewer)],
                vec![field(2), status],
                vec![field(3), format!("<time datetime=\"{date}\"/>")],
            ],
        )
    }

    pub(super) fn code_sample(&mut self, v: &Vars) -> String {
        let (lang, src) = CODE[self.rng.random_range(0..CODE.len())];
        let team = v.team.to_lowercase();
        let code = fill(
            whole(src),
            &[("svc", &v.svc), ("flag", &v.flag), ("team", &team)],
        );
        code_macro(&self.uuid(), lang, &code)
    }

    pub(super) fn admonition(&mut self, v: &Vars) -> String {
        // (macro name, title)
        let (name, title) = self.pick(&pairs("common", "admonitions"));
        let s = self.sentence(v);
        macro_rich(
            &self.uuid(),
            name,
            &[("title", title)],
            &format!("<p>{s}</p>"),
        )
    }

    pub(super) fn tasks(&mut self, b: &mut Body, items: &[&str], ctx: &PageCtx) {
        let space = self.nodes[ctx.node].space;
        let writers = self.spaces[space].writers.clone();
        let mut out = String::from("<ac:task-list>");
        for item in items {
            b.task_id += 1;
            let status = if self.chance(0.5) {
                "complete"
            } else {
                "incomplete"
            };
            let mut body = esc(item);
            if self.chance(0.5) {
                let who = self.pick_str(&writers);
                body.push(' ');
                body.push_str(&mention(&who));
            }
            if self.chance(0.3) {
                let due = date_of(self.later(self.nodes[ctx.node].created, 30 * DAY));
                body.push_str(&format!(" <time datetime=\"{due}\"/>"));
            }
            out.push_str(&format!(
                "<ac:task><ac:task-id>{}</ac:task-id><ac:task-uuid>{}</ac:task-uuid><ac:task-status>{status}</ac:task-status><ac:task-body>{body}</ac:task-body></ac:task>",
                b.task_id,
                self.uuid()
            ));
        }
        out.push_str("</ac:task-list>");
        b.push(&out);
    }

    /// An image attached to the page (a tiny PNG), shown in the body.
    pub(super) fn image(&mut self, b: &mut Body, name: &str, alt: &str) {
        let filename = format!("{}.png", slug(name));
        let png = tiny_png(&mut self.rng);
        b.files.push((filename.clone(), File::Png(png)));
        b.push(&format!(
            "<p><ac:image ac:alt=\"{}\" ac:width=\"600\"><ri:attachment ri:filename=\"{}\"/></ac:image></p>",
            esc(alt),
            esc(&filename)
        ));
    }
}
