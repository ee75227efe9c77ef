//! The page tree of each space: which pages exist, under which parent, of what kind, written
//! when and by whom. Titles come from the `tree` text; the shape (how many, how deep, in what
//! order the random draws are made) is decided here.

use std::collections::HashSet;

use rand::Rng;
use rand::seq::SliceRandom;

use super::fixed::{DAY, DEMO_EPOCH_SECS, WINDOW_START};
use super::generator::{ENG, Gen, HR, Kind, Node, OPS, PERSONAL, PRD};
use super::markup::{date_of, month_of};
use super::text::{fill, lines, text, words};
use crate::fixture::{DatabaseSpec, FolderSpec};

/// A title of the tree text.
fn title(name: &str) -> &'static str {
    text("tree", name)
}

/// A title of the tree text, its slots filled.
fn titled(name: &str, slots: &[(&str, &str)]) -> String {
    fill(text("tree", name), slots)
}

impl Gen {
    /// Adds a page to the plan; the title is made unique within the space.
    fn add(
        &mut self,
        space: usize,
        parent: Option<&str>,
        kind: Kind,
        title: &str,
        subject: &str,
        created: i64,
    ) -> String {
        let mut t = title.to_string();
        let mut n = 2;
        while self.titles[space].contains(&t) {
            t = format!("{title} ({n})");
            n += 1;
        }
        self.titles[space].insert(t.clone());
        let id = self.content_id();
        let author = self.pick_str(&self.spaces[space].writers.clone());
        self.nodes.push(Node {
            id: id.clone(),
            space,
            title: t,
            parent: parent.map(str::to_string),
            kind,
            subject: subject.to_string(),
            author,
            created,
            status: "current",
        });
        id
    }

    fn add_home(&mut self, space: usize) -> (String, i64) {
        let created = WINDOW_START + self.rng.random_range(0..5 * DAY);
        let title = if space == PERSONAL {
            title("personal.home").to_string()
        } else {
            titled("home", &[("space", &self.spaces[space].name)])
        };
        let id = self.add(space, None, Kind::Home, &title, "", created);
        self.spaces[space].home = Some(id.clone());
        (id, created)
    }

    fn add_index(&mut self, space: usize, parent: &str, title: &str, after: i64) -> (String, i64) {
        let created = self.later(after, 20 * DAY);
        (
            self.add(space, Some(parent), Kind::Index, title, "", created),
            created,
        )
    }

    /// A folder in the plan (folders hold pages but have no body).
    fn add_folder(&mut self, space: usize, parent: Option<&str>, title: &str) -> String {
        let folder = self.content_id();
        let author = self.pick_str(&self.spaces[space].writers.clone());
        self.folders.push(FolderSpec {
            id: folder.clone(),
            space: self.spaces[space].key.clone(),
            title: title.into(),
            parent_id: parent.map(str::to_string),
            author,
        });
        folder
    }

    fn years(&self) -> Vec<(i32, i64, i64)> {
        // (year, first second inside the window, last second inside the window)
        [
            (2024, 1_704_067_200i64),
            (2025, 1_735_689_600),
            (2026, 1_767_225_600),
        ]
        .iter()
        .map(|&(y, start)| {
            (
                y,
                start.max(WINDOW_START),
                (start + 365 * DAY - 1).min(DEMO_EPOCH_SECS - DAY),
            )
        })
        .filter(|&(_, a, b)| b > a + 7 * DAY)
        .collect()
    }

    pub(super) fn plan_eng(&mut self) {
        let w = words();
        let s = ENG;
        let (home, t0) = self.add_home(s);
        let (arch, t1) = self.add_index(s, &home, title("eng.architecture"), t0);
        let mut combos: Vec<(usize, usize)> = (0..w.design_features.len())
            .flat_map(|f| (0..w.services.len()).map(move |v| (f, v)))
            .collect();
        combos.shuffle(&mut self.rng);
        let designs = self.rng.random_range(13..=18usize);
        let mut used_features = HashSet::new();
        for (f, v) in combos.into_iter() {
            if used_features.len() == designs {
                break;
            }
            if !used_features.insert(f) {
                continue;
            }
            let (feature, svc) = (w.design_features[f], w.services[v]);
            let slots = [("feature", feature), ("svc", svc)];
            let title = titled("eng.design", &slots);
            let created = self.later(t1, 600 * DAY);
            let id = self.add(s, Some(&arch), Kind::Design, &title, svc, created);
            if self.chance(0.35) {
                let c = self.later(created, 20 * DAY);
                let review = titled("eng.review", &slots);
                let rid = self.add(s, Some(&id), Kind::Review, &review, svc, c);
                if self.chance(0.3) {
                    let c2 = self.later(c, 10 * DAY);
                    let t = titled("eng.open-questions", &slots);
                    self.add(s, Some(&rid), Kind::FollowUp, &t, svc, c2);
                }
            }
        }
        let (adrs, t2) = self.add_index(s, &arch, title("eng.adrs"), t1);
        let n_adr = self.rng.random_range(16..=24usize);
        let mut t = t2;
        for (i, decision) in w.adr_decisions.iter().take(n_adr).enumerate() {
            t = self.later(t, 30 * DAY);
            let subject = self.pick(&w.services);
            let n = format!("{:03}", i + 1);
            let title = titled("eng.adr", &[("n", &n), ("decision", decision)]);
            self.add(s, Some(&adrs), Kind::Adr, &title, subject, t);
        }

        let (runbooks, t3) = self.add_index(s, &home, title("eng.runbooks"), t0);
        let mut services = w.services.clone();
        services.shuffle(&mut self.rng);
        let n_services = self.rng.random_range(5..=7usize);
        for svc in services.into_iter().take(n_services) {
            let index = titled("eng.service-runbooks", &[("svc", svc)]);
            let (idx, ti) = self.add_index(s, &runbooks, &index, t3);
            let mut tasks = w.runbook_tasks.clone();
            tasks.shuffle(&mut self.rng);
            let n = self.rng.random_range(3..=5usize);
            for task in tasks.into_iter().take(n) {
                let task = fill(task, &[("svc", svc)]);
                let title = titled("eng.runbook", &[("task", &task)]);
                let c = self.later(ti, 500 * DAY);
                let id = self.add(s, Some(&idx), Kind::Runbook, &title, svc, c);
                if self.chance(0.12) {
                    let c2 = self.later(c, 60 * DAY);
                    let t = titled("eng.legacy-runbook", &[("task", &task)]);
                    self.add(s, Some(&id), Kind::Runbook, &t, svc, c2);
                }
            }
        }

        let (meetings, _) = self.add_index(s, &home, title("eng.meetings"), t0);
        let kinds = lines("tree", "eng.meeting-kinds");
        for (year, a, b) in self.years() {
            let title = titled("eng.year-meetings", &[("year", &year.to_string())]);
            let yid = self.add(s, Some(&meetings), Kind::Index, &title, "", a);
            let span_days = (b - a) / DAY;
            let n = ((span_days / 30) as usize + 2).min(14);
            for _ in 0..n {
                let day = a + self.rng.random_range(0..(b - a).max(1));
                let team = self.pick(&w.teams);
                let what = self.pick(&kinds);
                let date = date_of(day);
                let slots = [("date", date.as_str()), ("team", team), ("what", what)];
                let title = titled("eng.meeting", &slots);
                let id = self.add(s, Some(&yid), Kind::Meeting, &title, team, day);
                if self.chance(0.15) {
                    let c = self.later(day, 7 * DAY);
                    let t = titled("eng.follow-up", &slots);
                    self.add(s, Some(&id), Kind::FollowUp, &t, team, c);
                }
            }
        }

        let (releases, t4) = self.add_index(s, &home, title("eng.releases"), t0);
        let n = self.rng.random_range(10..=14u32);
        let mut t = t4;
        let mut minor = self.rng.random_range(0..4u32);
        for i in 0..n {
            t = self.later(t, 50 * DAY);
            if i % 3 == 0 {
                minor += 1;
            }
            let (minor, patch) = (minor.to_string(), (i % 3).to_string());
            let title = titled("eng.release", &[("minor", &minor), ("patch", &patch)]);
            let svc = self.pick(&w.services);
            self.add(s, Some(&releases), Kind::Release, &title, svc, t);
        }

        let (howtos, t5) = self.add_index(s, &home, title("eng.howtos"), t0);
        let mut list = w.howtos.clone();
        list.shuffle(&mut self.rng);
        let n = self.rng.random_range(10..=14usize);
        for title in list.into_iter().take(n) {
            let c = self.later(t5, 600 * DAY);
            let svc = self.pick(&w.services);
            self.add(s, Some(&howtos), Kind::HowTo, title, svc, c);
        }

        let (onb, t6) = self.add_index(s, &home, title("eng.onboarding"), t0);
        for title in &w.onboarding {
            let c = self.later(t6, 90 * DAY);
            self.add(s, Some(&onb), Kind::Onboarding, title, "Platform", c);
        }

        let (retros, t7) = self.add_index(s, &home, title("eng.retros"), t0);
        let n = self.rng.random_range(6..=9u32);
        let mut sprint = self.rng.random_range(20..40u32);
        let mut t = t7;
        for _ in 0..n {
            t = self.later(t, 70 * DAY);
            sprint += self.rng.random_range(1..4u32);
            let team = self.pick(&w.teams);
            let title = titled(
                "eng.retro",
                &[("team", team), ("sprint", &sprint.to_string())],
            );
            self.add(s, Some(&retros), Kind::Retro, &title, team, t);
        }

        let c = self.later(t0, 200 * DAY);
        let handbook = title("eng.handbook");
        self.add(s, Some(&home), Kind::Handbook, handbook, "Platform", c);
        let c = self.later(t0, 300 * DAY);
        let guide = title("eng.style-guide");
        self.add(s, Some(&arch), Kind::Handbook, guide, "Platform", c);

        // A folder at the space root holding the page templates.
        let folder = self.add_folder(s, None, title("eng.templates"));
        for title in lines("tree", "eng.template-pages") {
            let c = self.later(t0, 60 * DAY);
            self.add(s, Some(&folder), Kind::Template, title, "Platform", c);
        }
    }

    pub(super) fn plan_ops(&mut self) {
        let w = words();
        let s = OPS;
        let (home, t0) = self.add_home(s);
        let (incidents, _) = self.add_index(s, &home, title("ops.incidents"), t0);
        let mut inc = self.rng.random_range(100..300u32);
        for (year, a, b) in self.years() {
            let title = titled("ops.year-incidents", &[("year", &year.to_string())]);
            let yid = self.add(s, Some(&incidents), Kind::Index, &title, "", a);
            let span_days = (b - a) / DAY;
            let n = ((span_days / 22) as usize + 1).min(18);
            let mut days: Vec<i64> = (0..n)
                .map(|_| a + self.rng.random_range(0..(b - a).max(1)))
                .collect();
            days.sort_unstable();
            for day in days {
                inc += self.rng.random_range(1..6u32);
                let svc = self.pick(&w.services);
                let symptom = self.pick(&w.symptoms);
                let n = inc.to_string();
                let slots = [("n", n.as_str()), ("svc", svc), ("symptom", symptom)];
                let title = titled("ops.incident", &slots);
                let id = self.add(s, Some(&yid), Kind::Incident, &title, svc, day);
                if self.chance(0.2) {
                    let c = self.later(day, 14 * DAY);
                    let t = titled("ops.postmortem", &slots);
                    self.add(s, Some(&id), Kind::FollowUp, &t, svc, c);
                }
            }
        }
        let (oncall, t1) = self.add_index(s, &home, title("ops.on-call"), t0);
        let c = self.later(t1, 100 * DAY);
        let handbook = title("ops.on-call-handbook");
        self.add(s, Some(&oncall), Kind::Handbook, handbook, "Infra", c);
        for title in lines("tree", "ops.on-call-pages") {
            let c = self.later(t1, 300 * DAY);
            self.add(s, Some(&oncall), Kind::Policy, title, "Infra", c);
        }
        let (runbooks, t2) = self.add_index(s, &home, title("ops.runbooks"), t0);
        let mut list = w.ops_runbooks.clone();
        list.shuffle(&mut self.rng);
        let n = self.rng.random_range(9..=12usize);
        for title in list.into_iter().take(n) {
            let c = self.later(t2, 600 * DAY);
            let svc = self.pick(&w.services);
            self.add(s, Some(&runbooks), Kind::Runbook, title, svc, c);
        }
        let (maint, t3) = self.add_index(s, &home, title("ops.maintenance"), t0);
        let n = self.rng.random_range(5..=8usize);
        let mut t = t3;
        for _ in 0..n {
            t = self.later(t, 90 * DAY);
            let svc = self.pick(&w.services);
            let title = titled("ops.window", &[("date", &date_of(t)), ("svc", svc)]);
            self.add(s, Some(&maint), Kind::Meeting, &title, "Infra", t);
        }
        let (howtos, t4) = self.add_index(s, &home, title("ops.howtos"), t0);
        for title in lines("tree", "ops.howto-pages") {
            let c = self.later(t4, 400 * DAY);
            let svc = self.pick(&w.services);
            self.add(s, Some(&howtos), Kind::HowTo, title, svc, c);
        }
        // A folder of retired pages under the home page.
        let folder = self.add_folder(s, Some(&home), title("ops.archive"));
        self.archive = Some(folder.clone());
        for title in lines("tree", "ops.archive-pages") {
            let c = self.later(t0, 60 * DAY);
            self.add(s, Some(&folder), Kind::Runbook, title, "edge-proxy", c);
        }
    }

    pub(super) fn plan_prd(&mut self) {
        let w = words();
        let s = PRD;
        let (home, t0) = self.add_home(s);
        let (roadmap, t1) = self.add_index(s, &home, title("prd.roadmap"), t0);
        for (year, a, _) in self.years() {
            for q in 1..=4 {
                let start = a + (q - 1) * 91 * DAY;
                if start < DEMO_EPOCH_SECS - 30 * DAY {
                    let (year, q) = (year.to_string(), q.to_string());
                    let title = titled("prd.quarter", &[("year", &year), ("q", &q)]);
                    self.add(s, Some(&roadmap), Kind::Roadmap, &title, "", start.max(t1));
                }
            }
        }
        let (reqs, t2) = self.add_index(s, &home, title("prd.requirements"), t0);
        let mut list = w.product_features.clone();
        list.shuffle(&mut self.rng);
        let n = self.rng.random_range(11..=15usize);
        for feature in list.into_iter().take(n) {
            let c = self.later(t2, 650 * DAY);
            let title = titled("prd.prd", &[("feature", feature)]);
            let id = self.add(s, Some(&reqs), Kind::Prd, &title, feature, c);
            if self.chance(0.3) {
                let c2 = self.later(c, 30 * DAY);
                let t = titled("prd.launch", &[("feature", feature)]);
                self.add(s, Some(&id), Kind::FollowUp, &t, feature, c2);
            }
        }
        let (research, t3) = self.add_index(s, &home, title("prd.research"), t0);
        let (interviews, t4) = self.add_index(s, &research, title("prd.interviews"), t3);
        let n = self.rng.random_range(10..=16usize);
        for _ in 0..n {
            let c = self.later(t4, 680 * DAY);
            let company = self.pick(&w.companies);
            let title = titled(
                "prd.interview",
                &[("company", company), ("date", &date_of(c))],
            );
            self.add(s, Some(&interviews), Kind::Interview, &title, company, c);
        }
        for title in lines("tree", "prd.research-pages") {
            let c = self.later(t3, 500 * DAY);
            self.add(s, Some(&research), Kind::Faq, title, "", c);
        }
        let (releases, t5) = self.add_index(s, &home, title("prd.releases"), t0);
        let n = self.rng.random_range(8..=12u32);
        let mut t = t5;
        for _ in 0..n {
            t = self.later(t, 60 * DAY);
            let title = titled("prd.release", &[("month", &month_of(t))]);
            let svc = self.pick(&w.services);
            self.add(s, Some(&releases), Kind::Release, &title, svc, t);
        }
        let c = self.later(t0, 100 * DAY);
        self.add(s, Some(&home), Kind::Faq, title("prd.faq"), "", c);
        let author = self.pick_str(&self.spaces[s].writers.clone());
        let db = self.content_id();
        self.databases.push(DatabaseSpec {
            id: db,
            space: self.spaces[s].key.clone(),
            title: title("prd.tracker").into(),
            parent_id: Some(home),
            author,
        });
    }

    pub(super) fn plan_hr(&mut self) {
        let s = HR;
        let (home, t0) = self.add_home(s);
        let (policies, t1) = self.add_index(s, &home, title("hr.policies"), t0);
        for title in &words().policies {
            let c = self.later(t1, 400 * DAY);
            self.add(s, Some(&policies), Kind::Policy, title, "", c);
        }
        let (onb, t2) = self.add_index(s, &home, title("hr.onboarding"), t0);
        for title in lines("tree", "hr.onboarding-pages") {
            let c = self.later(t2, 200 * DAY);
            self.add(s, Some(&onb), Kind::Onboarding, title, "People", c);
        }
        let (hiring, t3) = self.add_index(s, &home, title("hr.hiring"), t0);
        for title in lines("tree", "hr.hiring-pages") {
            let c = self.later(t3, 300 * DAY);
            self.add(s, Some(&hiring), Kind::Policy, title, "People", c);
        }
        let c = self.later(t0, 50 * DAY);
        let handbook = title("hr.handbook");
        self.add(s, Some(&home), Kind::Handbook, handbook, "People", c);
        let c = self.later(t0, 80 * DAY);
        self.add(s, Some(&home), Kind::Faq, title("hr.faq"), "", c);
        let c = self.later(t0, 80 * DAY);
        self.add(s, Some(&home), Kind::Policy, title("hr.holidays"), "", c);
    }

    pub(super) fn plan_personal(&mut self) {
        let s = PERSONAL;
        let (home, t0) = self.add_home(s);
        for title in lines("tree", "personal.pages") {
            let c = self.later(t0, 600 * DAY);
            self.add(s, Some(&home), Kind::Personal, title, "", c);
        }
        let (ones, t1) = self.add_index(s, &home, title("personal.one-on-ones"), t0);
        let n = self.rng.random_range(4..=7usize);
        let mut t = t1;
        for _ in 0..n {
            t = self.later(t, 90 * DAY);
            let title = titled("personal.one-on-one", &[("date", &date_of(t))]);
            self.add(s, Some(&ones), Kind::Meeting, &title, "Platform", t);
        }
    }

    /// Marks a few leaf pages as drafts and a few as archived, and everything in the archive
    /// folder as archived.
    pub(super) fn set_statuses(&mut self) {
        let parents: HashSet<String> = self.nodes.iter().filter_map(|n| n.parent.clone()).collect();
        let leaves: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| {
                !parents.contains(&self.nodes[i].id)
                    && !matches!(
                        self.nodes[i].kind,
                        Kind::Home | Kind::Index | Kind::Handbook
                    )
            })
            .collect();
        let mut chosen = leaves;
        chosen.shuffle(&mut self.rng);
        let drafts = self.rng.random_range(3..=5usize);
        let archived = self.rng.random_range(3..=5usize);
        for (n, &i) in chosen.iter().take(drafts + archived).enumerate() {
            self.nodes[i].status = if n < drafts { "draft" } else { "archived" };
        }
        if let Some(archive) = &self.archive {
            for node in &mut self.nodes {
                if node.parent.as_ref() == Some(archive) {
                    node.status = "archived";
                }
            }
        }
    }
}
