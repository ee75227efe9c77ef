//! One body writer per kind of page. Each decides the page's shape (sections, how many of
//! what, which random draws in which order); the words come from `pages/<kind>.txt`.

use rand::Rng;

use super::generator::{Gen, Kind, PERSONAL};
use super::markup::{
    Body, File, attachment_link, date_of, emoticon, esc, jira_issue, macro_rich, mention,
    page_link, plain_macro, slug, table, time_of,
};
use super::prose::{PageCtx, Vars};
use super::text::{fill, lines, rows, text, whole};

/// The columns of a table section: its first row.
fn columns(file: &str, name: &str) -> Vec<&'static str> {
    rows(file, name).into_iter().next().unwrap_or_default()
}

/// A table section written out: the first row heads the columns, the others are cells (markup
/// allowed).
fn table_of(file: &str, name: &str) -> String {
    let all = rows(file, name);
    let (head, body) = all
        .split_first()
        .map_or((&[][..], &[][..]), |(h, b)| (&h[..], b));
    let body: Vec<Vec<String>> = body
        .iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    table(head, &body)
}

/// A section with one slot filled.
fn with(file: &str, name: &str, slot: &str, value: &str) -> String {
    fill(text(file, name), &[(slot, value)])
}

/// Attached files: name of the attachment, and its text with slots.
const ROLLOUT_PLAN: &str = include_str!("../../data/demo/files/rollout-plan.csv");
const RESTART_SCRIPT: &str = include_str!("../../data/demo/files/restart.sh");
const TIMELINE: &str = include_str!("../../data/demo/files/timeline.txt");
const FORM: &str = include_str!("../../data/demo/files/form.txt");

impl Gen {
    pub(super) fn render(&mut self, b: &mut Body, ctx: &PageCtx) {
        let i = ctx.node;
        let v = self.vars(i);
        let kind = self.nodes[i].kind;
        match kind {
            Kind::Home => self.home(b, ctx, &v),
            Kind::Index => self.index(b, ctx, &v),
            Kind::Design | Kind::Prd => self.design(b, ctx, &v),
            Kind::Review | Kind::FollowUp => self.follow_up(b, ctx, &v),
            Kind::Adr => self.adr(b, ctx, &v),
            Kind::Runbook => self.runbook(b, ctx, &v),
            Kind::Meeting | Kind::Interview => self.meeting(b, ctx, &v),
            Kind::Release => self.release(b, ctx, &v),
            Kind::HowTo | Kind::Template => self.howto(b, ctx, &v),
            Kind::Onboarding => self.onboarding(b, ctx, &v),
            Kind::Retro => self.retro(b, ctx, &v),
            Kind::Incident => self.incident(b, ctx, &v),
            Kind::Policy | Kind::Faq => self.policy(b, ctx, &v),
            Kind::Handbook => self.handbook(b, ctx, &v),
            Kind::Roadmap => self.roadmap(b, ctx, &v),
            Kind::Personal => self.personal(b, ctx, &v),
        }
    }

    fn home(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        let space = self.nodes[ctx.node].space;
        let name = self.spaces[space].name.clone();
        b.section();
        b.push(&with("home", "welcome", "space", &esc(&name)));
        b.push(&macro_rich(
            &self.uuid(),
            "info",
            &[("title", text("home", "about"))],
            &format!("<p>{}</p>", esc(&self.spaces[space].description)),
        ));
        self.para(b, v);
        b.push(&plain_macro("toc", 1, &self.uuid(), &[("maxLevel", "2")]));
        b.section();
        b.push(text("home", "start"));
        let items: Vec<String> = ctx
            .children
            .iter()
            .map(|t| format!("<li><p>{}</p></li>", page_link(t, None, None)))
            .collect();
        if !items.is_empty() {
            b.push(&format!("<ul>{}</ul>", items.concat()));
        }
        b.push(&plain_macro(
            "children",
            2,
            &self.uuid(),
            &[("all", "true")],
        ));
        b.section();
        b.push(text("home", "ask"));
        let writers = self.spaces[space].writers.clone();
        let topics = lines("home", "ask-topics");
        let mut rows = Vec::new();
        for w in writers.iter().take(4) {
            let topic = self.pick(&topics);
            rows.push(vec![mention(w), esc(topic)]);
        }
        b.push(&table(&columns("home", "ask-columns"), &rows));
        b.section();
        b.push(text("home", "recent"));
        self.para(b, v);
        b.push(&plain_macro(
            "recently-updated",
            1,
            &self.uuid(),
            &[("max", "10")],
        ));
        if space == PERSONAL {
            b.push(&with("home", "personal-note", "smile", &emoticon("smile")));
        }
        let banner = esc(&self.spaces[space].key.to_lowercase().replace('~', ""));
        b.push(&with("home", "banner", "space", &banner));
    }

    fn index(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        b.section();
        let title = esc(&self.nodes[ctx.node].title);
        b.push(&with("index", "intro", "title", &title));
        self.para(b, v);
        if ctx.children.is_empty() {
            b.push(text("index", "empty"));
        } else {
            let items: Vec<String> = ctx
                .children
                .iter()
                .map(|t| format!("<li>{}</li>", page_link(t, None, None)))
                .collect();
            b.push(&format!("<ul>{}</ul>", items.concat()));
        }
        b.push(&plain_macro(
            "children",
            2,
            &self.uuid(),
            &[("sort", "title")],
        ));
        if let Some(parent) = &ctx.parent_title {
            b.push(&with(
                "index",
                "back",
                "link",
                &page_link(parent, None, None),
            ));
        }
    }

    fn design(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        b.section();
        let props = self.properties_table(ctx);
        b.push(&props);
        b.push(&plain_macro("toc", 1, &self.uuid(), &[]));
        b.section();
        b.push(text("design", "background"));
        self.para(b, v);
        self.para(b, v);
        let l = self.link_to(ctx, false);
        if !l.is_empty() {
            b.push(&with("common", "see-also", "link", &l));
        }
        b.section();
        b.push(&fill(
            text("design", "goals"),
            &[("subject", &esc(&v.subject)), ("team", &esc(&v.team))],
        ));
        b.section();
        b.push(text("design", "proposal"));
        self.para(b, v);
        let code = self.code_sample(v);
        b.push(&code);
        if self.chance(0.6) {
            let name = with("design", "image-name", "subject", &v.subject);
            self.image(b, &name, text("design", "image-alt"));
        }
        self.para(b, v);
        b.push(text("design", "alternatives"));
        b.push(&table_of("design", "alternatives-table"));
        b.section();
        b.push(text("design", "rollout"));
        let adm = self.admonition(v);
        b.push(&adm);
        self.para(b, v);
        if self.chance(0.5) {
            let name = "rollout-plan.csv";
            let csv = whole(ROLLOUT_PLAN).to_string();
            b.files.push((name.into(), File::Text("text/csv", csv)));
            b.push(&with(
                "design",
                "rollout-plan",
                "link",
                &attachment_link(name),
            ));
        }
        b.section();
        b.push(text("design", "questions"));
        self.tasks(b, &lines("design", "questions-tasks"), ctx);
        b.push(&macro_rich(
            &self.uuid(),
            "expand",
            &[("title", text("design", "benchmark"))],
            &format!("<p>{}</p>", self.sentence(v)),
        ));
    }

    fn follow_up(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        b.section();
        if let Some(parent) = &ctx.parent_title {
            let link = page_link(parent, None, None);
            b.push(&with("follow-up", "intro", "link", &link));
        }
        b.push(text("follow-up", "summary"));
        self.para(b, v);
        b.push(text("follow-up", "actions"));
        self.tasks(b, &lines("follow-up", "tasks"), ctx);
    }

    fn adr(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        b.section();
        let status = self.status_lozenge();
        b.push(&with("adr", "status", "status", &status));
        let author = self.nodes[ctx.node].author.clone();
        b.push(&with("adr", "deciders", "who", &mention(&author)));
        b.section();
        b.push(text("adr", "context"));
        self.para(b, v);
        b.section();
        b.push(text("adr", "decision"));
        self.para(b, v);
        b.section();
        b.push(text("adr", "consequences"));
        let l = self.link_to(ctx, false);
        if !l.is_empty() {
            b.push(&with("common", "related", "link", &l));
        }
        let id = self.uuid();
        let key = with(
            "adr",
            "issue",
            "n",
            &self.rng.random_range(100..3000).to_string(),
        );
        b.push(&jira_issue(&id, &key));
    }

    fn runbook(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        b.section();
        b.push(&macro_rich(
            &self.uuid(),
            "warning",
            &[("title", text("runbook", "impact-title"))],
            &with("runbook", "impact", "svc", &esc(&v.svc)),
        ));
        b.push(text("runbook", "when"));
        self.para(b, v);
        b.section();
        b.push(&with("runbook", "steps", "svc", &esc(&v.svc)));
        let code = self.code_sample(v);
        b.push(&code);
        b.push(&table_of("runbook", "clusters"));
        b.section();
        b.push(text("runbook", "rollback"));
        self.para(b, v);
        b.section();
        b.push(text("runbook", "checks"));
        self.tasks(b, &lines("runbook", "checks-tasks"), ctx);
        if self.chance(0.4) {
            let script = fill(whole(RESTART_SCRIPT), &[("svc", &v.svc)]);
            let name = with("runbook", "script-name", "svc", &v.svc);
            b.files
                .push((name.clone(), File::Text("text/x-sh", script)));
            b.push(&with("runbook", "script", "link", &attachment_link(&name)));
        }
        let l = self.link_to(ctx, true);
        if !l.is_empty() {
            b.push(&with("runbook", "escalate", "link", &l));
        }
    }

    fn meeting(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        let node = &self.nodes[ctx.node];
        let date = date_of(node.created);
        let space = node.space;
        b.section();
        b.push(&with("meeting", "date", "date", &date));
        b.push(text("meeting", "participants"));
        let commenters = self.spaces[space].commenters.clone();
        let mut who: Vec<String> = Vec::new();
        for _ in 0..self.rng.random_range(2..=4) {
            let p = self.pick_str(&commenters);
            if !who.contains(&p) {
                who.push(p);
            }
        }
        let items: Vec<String> = who
            .iter()
            .map(|p| format!("<li><p>{}</p></li>", mention(p)))
            .collect();
        b.push(&format!("<ul>{}</ul>", items.concat()));
        b.section();
        b.push(text("meeting", "agenda"));
        let rows: Vec<Vec<String>> = (0..self.rng.random_range(2..=4))
            .map(|k| {
                vec![
                    with("meeting", "minutes", "n", &(5 + 5 * k).to_string()),
                    esc(&self.sentence(v).replace(['<', '>'], "")),
                    mention(&who[k % who.len()]),
                ]
            })
            .collect();
        b.push(&table(&columns("meeting", "agenda-columns"), &rows));
        b.section();
        b.push(text("meeting", "discussion"));
        self.para(b, v);
        if self.chance(0.3) {
            b.push(&with(
                "meeting",
                "decision",
                "thumbs-up",
                &emoticon("thumbs-up"),
            ));
        }
        b.section();
        b.push(text("meeting", "actions"));
        self.tasks(b, &lines("meeting", "tasks"), ctx);
    }

    fn release(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        let title = self.nodes[ctx.node].title.clone();
        b.section();
        b.push(&format!("<h1>{}</h1>", esc(&title)));
        b.push(&fill(
            text("release", "highlights"),
            &[("svc", &esc(&v.svc)), ("flag", &esc(&v.flag))],
        ));
        if self.chance(0.4) {
            let name = with("release", "image-name", "title", &title);
            self.image(b, &name, text("release", "image-alt"));
        }
        b.section();
        b.push(text("release", "changes"));
        let types = lines("release", "issue-types");
        let rows: Vec<Vec<String>> = (0..self.rng.random_range(3..=6))
            .map(|_| {
                let key = with(
                    "release",
                    "issue",
                    "n",
                    &self.rng.random_range(100..3000).to_string(),
                );
                let kind = self.pick(&types);
                vec![
                    esc(&key),
                    kind.into(),
                    esc(&self.sentence(v).replace(['<', '>'], "")),
                ]
            })
            .collect();
        b.push(&table(&columns("release", "changes-columns"), &rows));
        let (id, server) = (self.uuid(), self.uuid());
        let query = format!("fixVersion = \"{}\" ORDER BY priority DESC", esc(&title));
        b.push(&plain_macro(
            "jira",
            1,
            &id,
            &[
                ("server", "System Jira"),
                ("columns", "key,summary,type,status"),
                ("maximumIssues", "20"),
                ("jqlQuery", &query),
                ("serverId", &server),
            ],
        ));
        b.section();
        b.push(text("release", "known-issues"));
        b.push(&macro_rich(
            &self.uuid(),
            "note",
            &[],
            &format!("<p>{}</p>", self.sentence(v)),
        ));
    }

    fn howto(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        b.section();
        b.push(&macro_rich(
            &self.uuid(),
            "tip",
            &[("title", text("howto", "short"))],
            &format!("<p>{}</p>", self.sentence(v)),
        ));
        b.push(text("howto", "prerequisites"));
        b.section();
        b.push(text("howto", "steps"));
        for k in 1..=self.rng.random_range(3..=5) {
            b.push(&with("howto", "step", "n", &k.to_string()));
            self.para(b, v);
            if k == 2 {
                let code = self.code_sample(v);
                b.push(&code);
            }
        }
        if self.chance(0.3) {
            b.push(&with("howto", "image", "slug", &slug(&v.svc)));
        }
        b.section();
        b.push(text("howto", "troubleshooting"));
        let id = self.uuid();
        let help = fill(
            text("howto", "help"),
            &[("sentence", &self.sentence(v)), ("slug", &slug(&v.svc))],
        );
        b.push(&macro_rich(
            &id,
            "expand",
            &[("title", text("howto", "stuck"))],
            &help,
        ));
        let l = self.link_to(ctx, false);
        if !l.is_empty() {
            b.push(&with("common", "related", "link", &l));
        }
    }

    fn onboarding(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        b.section();
        b.push(&with("onboarding", "welcome", "smile", &emoticon("smile")));
        b.push(text("onboarding", "checklist"));
        self.tasks(b, &lines("onboarding", "tasks"), ctx);
        b.section();
        b.push(text("onboarding", "reading"));
        let mut links = Vec::new();
        for _ in 0..3 {
            let cross = self.chance(0.3);
            let l = self.link_to(ctx, cross);
            if !l.is_empty() {
                links.push(format!("<li><p>{l}</p></li>"));
            }
        }
        if !links.is_empty() {
            b.push(&format!("<ul>{}</ul>", links.concat()));
        }
        self.para(b, v);
        let buddy = mention(&self.nodes[ctx.node].author.clone());
        b.push(&macro_rich(
            &self.uuid(),
            "panel",
            &[
                ("title", text("onboarding", "buddy-title")),
                ("bgColor", "#DEEBFF"),
            ],
            &with("onboarding", "buddy", "who", &buddy),
        ));
    }

    fn retro(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        b.section();
        b.push(&with(
            "retro",
            "went-well",
            "thumbs-up",
            &emoticon("thumbs-up"),
        ));
        b.push(&format!(
            "<ul><li><p>{}</p></li><li><p>{}</p></li></ul>",
            self.sentence(v),
            self.sentence(v)
        ));
        b.section();
        let down = emoticon("thumbs-down");
        b.push(&with("retro", "went-badly", "thumbs-down", &down));
        self.para(b, v);
        b.section();
        b.push(text("retro", "actions"));
        self.tasks(b, &lines("retro", "tasks"), ctx);
        let status = self.status_lozenge();
        b.push(&with("retro", "goal", "status", &status));
    }

    fn incident(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        let created = self.nodes[ctx.node].created;
        b.section();
        let id = self.uuid();
        let sev = self.rng.random_range(1..=3).to_string();
        let minutes = self.rng.random_range(5..240).to_string();
        let impact = esc(&self.sentence(v).replace(['<', '>'], ""));
        b.push(&macro_rich(
            &id,
            "panel",
            &[
                ("title", text("incident", "summary-title")),
                ("bgColor", "#FFEBE6"),
                ("borderStyle", "solid"),
            ],
            &fill(
                text("incident", "summary"),
                &[("sev", &sev), ("minutes", &minutes), ("impact", &impact)],
            ),
        ));
        b.push(text("incident", "jump"));
        b.section();
        b.push(text("incident", "what-happened"));
        self.para(b, v);
        self.para(b, v);
        b.section();
        b.push(text("incident", "timeline"));
        b.push("<ac:structured-macro ac:name=\"anchor\" ac:schema-version=\"1\"><ac:parameter ac:name=\"\">timeline</ac:parameter></ac:structured-macro>");
        let mut t = created;
        let mut rows = Vec::new();
        for what in lines("incident", "events") {
            t += self.rng.random_range(60..1800);
            rows.push(vec![time_of(t), what.into()]);
        }
        b.push(&table(&columns("incident", "timeline-columns"), &rows));
        if self.chance(0.5) {
            let log = fill(
                whole(TIMELINE),
                &[
                    ("alert", &time_of(created)),
                    ("svc", &v.svc),
                    ("ack", &time_of(created + 300)),
                    ("resolved", &time_of(t)),
                ],
            );
            let name = "timeline.txt";
            b.files.push((name.into(), File::Text("text/plain", log)));
            b.push(&with("incident", "raw-log", "link", &attachment_link(name)));
        }
        b.section();
        b.push(text("incident", "root-cause"));
        self.para(b, v);
        b.push(text("incident", "factors"));
        b.section();
        b.push(text("incident", "follow-ups"));
        self.tasks(b, &lines("incident", "tasks"), ctx);
        let id = self.uuid();
        let key = with(
            "incident",
            "issue",
            "n",
            &self.rng.random_range(10..900).to_string(),
        );
        b.push(&jira_issue(&id, &key));
    }

    fn policy(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        let title = self.nodes[ctx.node].title.clone();
        b.section();
        b.push(&with(
            "policy",
            "intro",
            "title",
            &esc(&title.to_lowercase()),
        ));
        b.push(&plain_macro("toc", 1, &self.uuid(), &[("minLevel", "2")]));
        for (n, heading) in lines("policy", "headings").into_iter().enumerate() {
            b.section();
            b.push(&format!("<h2>{heading}</h2>"));
            self.para(b, v);
            if n == 1 {
                b.push(&table_of("policy", "cases"));
            }
        }
        // Questions and answers on FAQ-like pages.
        if self.nodes[ctx.node].kind == Kind::Faq {
            for _ in 0..self.rng.random_range(3..=6) {
                let q = self.sentence(v).replace(['<', '>'], "");
                b.push(&format!("<h3>{}?</h3>", esc(q.trim_end_matches('.'))));
                self.para(b, v);
            }
        }
        if self.chance(0.3) {
            let form = fill(whole(FORM), &[("title", &title.to_lowercase())]);
            let name = "form.txt";
            b.files.push((name.into(), File::Text("text/plain", form)));
            b.push(&with("policy", "form", "link", &attachment_link(name)));
        }
        let l = self.link_to(ctx, false);
        if !l.is_empty() {
            b.push(&with("common", "see-also", "link", &l));
        }
        let owner = mention(&self.nodes[ctx.node].author.clone());
        b.push(&with("policy", "owner", "who", &owner));
    }

    fn roadmap(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        let w = super::text::words();
        b.section();
        let title = esc(&self.nodes[ctx.node].title);
        b.push(&with("roadmap", "intro", "title", &title));
        let mut rows = Vec::new();
        for _ in 0..self.rng.random_range(4..=6) {
            let feature = self.pick(&w.product_features);
            let status = self.status_lozenge();
            rows.push(vec![esc(feature), status, esc(self.pick(&w.teams))]);
        }
        b.push(&table(&columns("roadmap", "columns"), &rows));
        self.para(b, v);
        let l = self.link_to(ctx, false);
        if !l.is_empty() {
            b.push(&with("roadmap", "details", "link", &l));
        }
    }

    fn personal(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        b.section();
        self.para(b, v);
        let post = self.rng.random_range(100..999).to_string();
        let link = self.link_to(ctx, true);
        b.push(&fill(
            text("personal", "links"),
            &[("post", &post), ("link", &link)],
        ));
        let code = self.code_sample(v);
        b.push(&code);
        self.tasks(b, &lines("personal", "tasks"), ctx);
    }

    /// A long page of many sections (30 to 60 KB) for large-page tests.
    fn handbook(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        let target = self.rng.random_range(32_000..54_000usize);
        b.section();
        b.push(&format!("<h1>{}</h1>", esc(&self.nodes[ctx.node].title)));
        b.push(&plain_macro("toc", 1, &self.uuid(), &[("maxLevel", "3")]));
        let topics = lines("handbook", "topics");
        let mut k = 0usize;
        while b.out.len() < target {
            let topic = topics[k % topics.len()];
            let round = k / topics.len();
            k += 1;
            let n = k.to_string();
            b.section();
            if round == 0 {
                b.push(&fill(
                    text("handbook", "heading"),
                    &[("k", &n), ("topic", topic)],
                ));
            } else {
                let part = (round + 1).to_string();
                b.push(&fill(
                    text("handbook", "heading-again"),
                    &[("k", &n), ("topic", topic), ("part", &part)],
                ));
            }
            self.para(b, v);
            b.push(&with("handbook", "practice", "k", &n));
            self.para(b, v);
            match k % 5 {
                0 => {
                    let code = self.code_sample(v);
                    b.push(&code);
                }
                1 => {
                    let adm = self.admonition(v);
                    b.push(&adm);
                }
                2 => {
                    let dos = esc(&self.sentence(v).replace(['<', '>'], ""));
                    let donts = esc(&self.sentence(v).replace(['<', '>'], ""));
                    let fixed: Vec<String> = rows("handbook", "do-row")
                        .into_iter()
                        .flatten()
                        .map(String::from)
                        .collect();
                    b.push(&table(
                        &columns("handbook", "do-columns"),
                        &[vec![dos, donts], fixed],
                    ));
                }
                3 => {
                    b.push(&with("handbook", "checklist", "k", &n));
                    self.tasks(b, &lines("handbook", "tasks"), ctx);
                }
                _ => {
                    let l = self.link_to(ctx, true);
                    b.push(&format!(
                        "<ul><li><p>{}</p><ul><li><p>{l}</p></li></ul></li></ul>",
                        self.sentence(v)
                    ));
                }
            }
        }
    }
}
