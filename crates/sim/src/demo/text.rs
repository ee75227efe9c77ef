//! The demo site's words. Everything a reader of the demo site reads (people's names, titles,
//! sentences, page fragments, comments, code samples, attached files) lives in
//! `crates/sim/data/demo/` and is compiled in here; the generator decides only what goes where.
//!
//! Three kinds of file (see `crates/sim/data/demo/README.md`):
//! - a *list*: one item per line ([`Words`]);
//! - *sections*: named texts, each under a `[name]` line, read with [`text`] and [`lines`];
//!   lines before the first `[name]` describe the file;
//! - a *whole file* (code samples, attached files): the text is the file without its last line
//!   break ([`whole`]).
//!
//! `{slot}` in a text is filled by [`fill`].

use std::collections::HashMap;
use std::sync::OnceLock;

/// The word lists the generator draws from.
pub(super) struct Words {
    pub services: Vec<&'static str>,
    pub teams: Vec<&'static str>,
    pub flags: Vec<&'static str>,
    pub envs: Vec<&'static str>,
    pub labels: Vec<&'static str>,
    /// (display name, e-mail local part, home group).
    pub people: Vec<(&'static str, &'static str, &'static str)>,
    pub design_features: Vec<&'static str>,
    pub adr_decisions: Vec<&'static str>,
    /// Runbook titles with a `{svc}` slot.
    pub runbook_tasks: Vec<&'static str>,
    pub howtos: Vec<&'static str>,
    pub onboarding: Vec<&'static str>,
    pub symptoms: Vec<&'static str>,
    pub ops_runbooks: Vec<&'static str>,
    pub product_features: Vec<&'static str>,
    pub companies: Vec<&'static str>,
    pub policies: Vec<&'static str>,
    /// Sentences with `{svc}`, `{team}`, `{flag}`, `{env}` and number slots.
    pub sentences: Vec<&'static str>,
}

fn list(src: &'static str) -> Vec<&'static str> {
    src.lines().filter(|l| !l.is_empty()).collect()
}

pub(super) fn words() -> &'static Words {
    static WORDS: OnceLock<Words> = OnceLock::new();
    WORDS.get_or_init(|| Words {
        services: list(include_str!("../../data/demo/words/services.txt")),
        teams: list(include_str!("../../data/demo/words/teams.txt")),
        flags: list(include_str!("../../data/demo/words/flags.txt")),
        envs: list(include_str!("../../data/demo/words/envs.txt")),
        labels: list(include_str!("../../data/demo/words/labels.txt")),
        people: list(include_str!("../../data/demo/words/people.tsv"))
            .into_iter()
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some((f.next()?, f.next()?, f.next()?))
            })
            .collect(),
        design_features: list(include_str!("../../data/demo/titles/design-features.txt")),
        adr_decisions: list(include_str!("../../data/demo/titles/adr-decisions.txt")),
        runbook_tasks: list(include_str!("../../data/demo/titles/runbook-tasks.txt")),
        howtos: list(include_str!("../../data/demo/titles/howtos.txt")),
        onboarding: list(include_str!("../../data/demo/titles/onboarding.txt")),
        symptoms: list(include_str!("../../data/demo/titles/symptoms.txt")),
        ops_runbooks: list(include_str!("../../data/demo/titles/ops-runbooks.txt")),
        product_features: list(include_str!("../../data/demo/titles/product-features.txt")),
        companies: list(include_str!("../../data/demo/titles/companies.txt")),
        policies: list(include_str!("../../data/demo/titles/policies.txt")),
        sentences: list(include_str!("../../data/demo/sentences.txt")),
    })
}

/// Every sections file, by the name [`text`] knows it by.
const SECTIONS: &[(&str, &str)] = &[
    ("tree", include_str!("../../data/demo/tree.txt")),
    ("comments", include_str!("../../data/demo/comments.txt")),
    ("common", include_str!("../../data/demo/pages/common.txt")),
    ("home", include_str!("../../data/demo/pages/home.txt")),
    ("index", include_str!("../../data/demo/pages/index.txt")),
    ("design", include_str!("../../data/demo/pages/design.txt")),
    (
        "follow-up",
        include_str!("../../data/demo/pages/follow-up.txt"),
    ),
    ("adr", include_str!("../../data/demo/pages/adr.txt")),
    ("runbook", include_str!("../../data/demo/pages/runbook.txt")),
    ("meeting", include_str!("../../data/demo/pages/meeting.txt")),
    ("release", include_str!("../../data/demo/pages/release.txt")),
    ("howto", include_str!("../../data/demo/pages/howto.txt")),
    (
        "onboarding",
        include_str!("../../data/demo/pages/onboarding.txt"),
    ),
    ("retro", include_str!("../../data/demo/pages/retro.txt")),
    (
        "incident",
        include_str!("../../data/demo/pages/incident.txt"),
    ),
    ("policy", include_str!("../../data/demo/pages/policy.txt")),
    ("roadmap", include_str!("../../data/demo/pages/roadmap.txt")),
    (
        "personal",
        include_str!("../../data/demo/pages/personal.txt"),
    ),
    (
        "handbook",
        include_str!("../../data/demo/pages/handbook.txt"),
    ),
];

/// Splits a sections file into `(name, text)`; a text keeps its inner line breaks.
pub(super) fn sections(src: &'static str) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    let mut current: Option<(&'static str, usize)> = None;
    let mut at = 0;
    for line in src.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        let name = bare
            .strip_prefix('[')
            .and_then(|l| l.strip_suffix(']'))
            .filter(|n| {
                !n.is_empty()
                    && n.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.".contains(c))
            });
        if let Some(name) = name {
            if let Some((prev, start)) = current {
                out.push((prev, src[start..at].trim_end_matches(['\n', '\r'])));
            }
            current = Some((name, at + line.len()));
        }
        at += line.len();
    }
    if let Some((prev, start)) = current {
        out.push((prev, src[start..].trim_end_matches(['\n', '\r'])));
    }
    out
}

fn book() -> &'static HashMap<(&'static str, &'static str), &'static str> {
    static BOOK: OnceLock<HashMap<(&'static str, &'static str), &'static str>> = OnceLock::new();
    BOOK.get_or_init(|| {
        SECTIONS
            .iter()
            .flat_map(|&(file, src)| sections(src).into_iter().map(move |(n, t)| ((file, n), t)))
            .collect()
    })
}

/// Section `name` of sections file `file`. Every name the generator asks for exists (the demo
/// tests build the site); an unknown one is a bug, caught in debug builds.
pub(super) fn text(file: &str, name: &str) -> &'static str {
    let found = book().get(&(file, name)).copied();
    debug_assert!(
        found.is_some(),
        "no section [{name}] in the demo's {file} text"
    );
    found.unwrap_or_default()
}

/// The lines of a section.
pub(super) fn lines(file: &str, name: &str) -> Vec<&'static str> {
    text(file, name).lines().collect()
}

/// The rows of a table section: one row a line, cells separated by ` | `.
pub(super) fn rows(file: &str, name: &str) -> Vec<Vec<&'static str>> {
    text(file, name)
        .lines()
        .map(|l| l.split(" | ").collect())
        .collect()
}

/// The rows of a two-column table section, as pairs.
pub(super) fn pairs(file: &str, name: &str) -> Vec<(&'static str, &'static str)> {
    text(file, name)
        .lines()
        .map(|l| l.split_once(" | ").unwrap_or((l, "")))
        .collect()
}

/// A whole-file text: the file without its last line break.
pub(super) fn whole(src: &'static str) -> &'static str {
    src.strip_suffix('\n').unwrap_or(src)
}

/// Fills each `{name}` of `template` whose name `slots` gives, in one pass (a filled value is
/// never scanned again); any other brace is kept as it is.
pub(super) fn fill(template: &str, slots: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            slots
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (close, *v))
        });
        match value {
            Some((close, v)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_keep_their_lines_and_drop_the_preamble() {
        let s = sections("About this file.\n\n[a]\none\ntwo\n\n[b.c-d]\nthree\n");
        assert_eq!(s, vec![("a", "one\ntwo"), ("b.c-d", "three")]);
        assert!(sections("no sections\n[Not A Name]\n").is_empty());
    }

    #[test]
    fn fill_is_one_pass_and_keeps_other_braces() {
        assert_eq!(
            fill("{a} {b} {{x}} {c", &[("a", "{b}"), ("b", "2")]),
            "{b} 2 {{x}} {c"
        );
    }

    #[test]
    fn every_file_parses_and_every_list_is_full() {
        for (file, src) in SECTIONS {
            assert!(!sections(src).is_empty(), "{file} has no sections");
            for (name, t) in sections(src) {
                assert!(!t.is_empty(), "[{name}] of {file} is empty");
            }
        }
        let w = words();
        assert_eq!(w.people.len(), 12);
        assert!(w.people.iter().all(|p| !p.2.is_empty()));
        assert_eq!(w.sentences.len(), 40);
    }
}
