//! Evaluates a parsed query against a [`Document`], and orders documents by ORDER BY keys.
//!
//! Negated operators (`!=`, `!~`, `NOT IN`) are exactly the negation of their positive form,
//! so `label != x` also matches unlabelled content and `parent != 1` matches top-level pages.

use std::cmp::Ordering;

use crate::ast::{Clause, Expr, Field, Op, OrderField, OrderKey, Value};
use crate::{Context, Document};

impl Expr {
    pub(crate) fn matches(&self, doc: &dyn Document, ctx: &Context) -> bool {
        match self {
            Expr::And(items) => items.iter().all(|e| e.matches(doc, ctx)),
            Expr::Or(items) => items.iter().any(|e| e.matches(doc, ctx)),
            Expr::Not(inner) => !inner.matches(doc, ctx),
            Expr::Clause(c) => c.matches(doc, ctx),
        }
    }
}

impl Clause {
    fn matches(&self, doc: &dyn Document, ctx: &Context) -> bool {
        let (positive, negated) = match self.op {
            Op::Ne => (Op::Eq, true),
            Op::NotContains => (Op::Contains, true),
            Op::NotIn => (Op::In, true),
            op => (op, false),
        };
        let hit = match positive {
            Op::Eq | Op::In => self.values.iter().any(|v| equals(self.field, v, doc, ctx)),
            Op::Contains => self.values.iter().any(|v| match v {
                Value::Str(q) => search(self.field, q, doc),
                _ => false,
            }),
            op => self
                .values
                .iter()
                .any(|v| ordered(self.field, op, v, doc, ctx)),
        };
        hit != negated
    }
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// `field = value` for one value. Keys, types and labels ignore case; ids and account ids don't.
fn equals(field: Field, value: &Value, doc: &dyn Document, ctx: &Context) -> bool {
    let s = match value {
        Value::Str(s) => s.as_str(),
        Value::CurrentUser => match &ctx.current_user {
            Some(u) => u.as_str(),
            None => return false,
        },
        Value::Date(d) => {
            let Some(t) = date_of(field, doc) else {
                return false;
            };
            return d
                .resolve(ctx.now_ms)
                .is_some_and(|(start, end)| start <= t && t < end);
        }
    };
    match field {
        Field::Type => doc.content_type().eq_ignore_ascii_case(s),
        Field::Space => doc.space_key().eq_ignore_ascii_case(s),
        Field::Title => lower(doc.title()) == lower(s),
        Field::Label => {
            let s = lower(s);
            doc.labels().iter().any(|l| lower(l) == s)
        }
        Field::Ancestor => doc.ancestor_ids().iter().any(|a| a == s),
        Field::Parent => doc.parent_id() == Some(s),
        Field::Creator => doc.creator() == s,
        Field::Contributor => doc.contributors().iter().any(|c| c == s),
        Field::Id => doc.id() == s,
        Field::Text | Field::SiteSearch | Field::Created | Field::LastModified => false,
    }
}

fn date_of(field: Field, doc: &dyn Document) -> Option<i64> {
    match field {
        Field::Created => Some(doc.created()),
        Field::LastModified => Some(doc.last_modified()),
        _ => None,
    }
}

/// `<`, `<=`, `>`, `>=`. A day literal compares as its midnight, as in Jira:
/// `created <= "2024-01-31"` stops at 2024-01-31 00:00 UTC.
fn ordered(field: Field, op: Op, value: &Value, doc: &dyn Document, ctx: &Context) -> bool {
    let ord = match (field, value) {
        (Field::Id, Value::Str(s)) => match (doc.id().parse::<u128>(), s.parse::<u128>()) {
            (Ok(a), Ok(b)) => a.cmp(&b),
            _ => return false,
        },
        (_, Value::Date(d)) => match (date_of(field, doc), d.resolve(ctx.now_ms)) {
            (Some(t), Some((start, _))) => t.cmp(&start),
            _ => return false,
        },
        _ => return false,
    };
    match op {
        Op::Lt => ord.is_lt(),
        Op::Le => ord.is_le(),
        Op::Gt => ord.is_gt(),
        Op::Ge => ord.is_ge(),
        _ => false,
    }
}

/// One search word: lowercase, optionally a prefix (written with a trailing `*`).
#[derive(Debug, PartialEq)]
struct Pattern {
    word: String,
    prefix: bool,
}

impl Pattern {
    fn hits(&self, token: &str) -> bool {
        if self.prefix {
            token.starts_with(&self.word)
        } else {
            token == self.word
        }
    }
}

/// Splits a `~` operand into terms; each term is a run of patterns that must appear
/// consecutively (a single word, or a phrase written in inner double quotes).
fn terms(query: &str) -> Vec<Vec<Pattern>> {
    let mut out = Vec::new();
    for (i, segment) in query.split('"').enumerate() {
        let patterns = patterns(segment);
        if i % 2 == 1 {
            if !patterns.is_empty() {
                out.push(patterns);
            }
        } else {
            out.extend(patterns.into_iter().map(|p| vec![p]));
        }
    }
    out
}

fn patterns(segment: &str) -> Vec<Pattern> {
    let mut out = Vec::new();
    let segment = lower(segment);
    for piece in segment.split(|c: char| !(c.is_alphanumeric() || c == '*')) {
        if piece.is_empty() {
            continue;
        }
        let start = out.len();
        out.extend(piece.split('*').filter(|w| !w.is_empty()).map(|w| Pattern {
            word: w.to_string(),
            prefix: false,
        }));
        if piece.ends_with('*') {
            let grew = out.len() > start;
            match out.last_mut() {
                Some(last) if grew => last.prefix = true,
                _ => out.push(Pattern {
                    word: String::new(),
                    prefix: true,
                }),
            }
        }
    }
    out
}

/// Alphanumeric runs of an already lowercased text, borrowed rather than copied: search cost
/// is dominated by bodies, so each one is lowercased once and sliced.
fn words(lowered: &str) -> Vec<&str> {
    lowered
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
}

/// `field ~ query`: every term appears, case-insensitively, in one of the field's sources.
/// `title` searches the title; `text` the title and body; `siteSearch` those and the labels.
/// A query with no words matches nothing.
fn search(field: Field, query: &str, doc: &dyn Document) -> bool {
    let terms = terms(query);
    if terms.is_empty() {
        return false;
    }
    let mut texts = vec![lower(doc.title())];
    match field {
        Field::Title => {}
        Field::Text => texts.push(lower(doc.text())),
        Field::SiteSearch => {
            texts.push(lower(doc.text()));
            texts.push(lower(&doc.labels().join(" ")));
        }
        _ => return false,
    }
    let sources: Vec<Vec<&str>> = texts.iter().map(|t| words(t)).collect();
    terms.iter().all(|term| {
        sources.iter().any(|src| {
            src.windows(term.len())
                .any(|w| w.iter().zip(term).all(|(tok, p)| p.hits(tok)))
        })
    })
}

impl OrderKey {
    pub(crate) fn compare(&self, a: &dyn Document, b: &dyn Document) -> Ordering {
        let ord = match self.field {
            OrderField::Title => folded(a.title(), b.title()),
            OrderField::Created => a.created().cmp(&b.created()),
            OrderField::LastModified => a.last_modified().cmp(&b.last_modified()),
            OrderField::Id => match (a.id().parse::<u128>(), b.id().parse::<u128>()) {
                (Ok(x), Ok(y)) => x.cmp(&y),
                _ => a.id().cmp(b.id()),
            },
            OrderField::Space => folded(a.space_key(), b.space_key()),
            OrderField::Type => a.content_type().cmp(b.content_type()),
        };
        if self.desc { ord.reverse() } else { ord }
    }
}

/// Case-insensitive, with the exact spelling as tie-break so the order is total.
fn folded(a: &str, b: &str) -> Ordering {
    lower(a).cmp(&lower(b)).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(word: &str, prefix: bool) -> Pattern {
        Pattern {
            word: word.into(),
            prefix,
        }
    }

    #[test]
    fn terms_split_words_phrases_and_prefixes() {
        assert_eq!(
            terms(r#"Foo, bar* "Exact phrase" baz"#),
            vec![
                vec![p("foo", false)],
                vec![p("bar", true)],
                vec![p("exact", false), p("phrase", false)],
                vec![p("baz", false)],
            ]
        );
        assert_eq!(terms("*"), vec![vec![p("", true)]]);
        assert_eq!(terms("a*b*"), vec![vec![p("a", false)], vec![p("b", true)]]);
        assert!(terms(" -- \"\" ").is_empty());
    }

    #[test]
    fn words_are_lowercase_alphanumeric_runs() {
        assert_eq!(
            words(&lower("Hello, Wörld! it's 2024")),
            vec!["hello", "wörld", "it", "s", "2024"]
        );
    }

    /// A document with every field set; tests override what they need.
    #[derive(Clone)]
    struct Doc {
        ty: &'static str,
        id: &'static str,
        space: &'static str,
        title: &'static str,
        text: &'static str,
        labels: Vec<String>,
        ancestors: Vec<String>,
        parent: Option<&'static str>,
        creator: &'static str,
        created: i64,
        modified: i64,
        contributors: Vec<String>,
    }

    impl Document for Doc {
        fn content_type(&self) -> &str {
            self.ty
        }
        fn id(&self) -> &str {
            self.id
        }
        fn space_key(&self) -> &str {
            self.space
        }
        fn title(&self) -> &str {
            self.title
        }
        fn text(&self) -> &str {
            self.text
        }
        fn labels(&self) -> &[String] {
            &self.labels
        }
        fn ancestor_ids(&self) -> &[String] {
            &self.ancestors
        }
        fn parent_id(&self) -> Option<&str> {
            self.parent
        }
        fn creator(&self) -> &str {
            self.creator
        }
        fn created(&self) -> i64 {
            self.created
        }
        fn last_modified(&self) -> i64 {
            self.modified
        }
        fn contributors(&self) -> &[String] {
            &self.contributors
        }
    }

    /// 2024-03-14 15:30 UTC, a Thursday.
    const NOW: i64 = 1_710_430_200_000;
    const DAY: i64 = 86_400_000;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn doc() -> Doc {
        Doc {
            ty: "page",
            id: "1002",
            space: "DEV",
            title: "Release Notes 2.0",
            text: "The quick brown fox jumps over the lazy dog. Contact: ops@example.com",
            labels: strings(&["Release", "howto"]),
            ancestors: strings(&["1", "10"]),
            parent: Some("10"),
            creator: "acc-alice",
            created: NOW - 10 * DAY,
            modified: NOW - 2 * 3_600_000,
            contributors: strings(&["acc-alice", "acc-bob"]),
        }
    }

    fn ctx() -> Context {
        Context {
            current_user: Some("acc-bob".into()),
            now_ms: NOW,
        }
    }

    #[track_caller]
    fn check(d: &Doc, cases: &[(&str, bool)]) {
        for (q, want) in cases {
            let query = crate::parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
            assert_eq!(query.matches(d, &ctx()), *want, "{q}");
        }
    }

    #[test]
    fn type_space_and_id() {
        check(
            &doc(),
            &[
                ("type = page", true),
                ("type = PAGE", true),
                ("type = blogpost", false),
                ("type != blogpost", true),
                ("type in (blogpost, page)", true),
                ("type not in (blogpost, page)", false),
                ("space = dev", true),
                ("space.key = \"DEV\"", true),
                ("space != DEV", false),
                ("space in (OPS, HR)", false),
                ("space not in (OPS, HR)", true),
                ("id = 1002", true),
                ("content = 1002", true),
                ("id != 1002", false),
                ("id in (1, 1002)", true),
                ("id not in (1, 2)", true),
                ("id > 999", true),
                ("id >= 1002", true),
                ("id > 1002", false),
                ("id < 1002", false),
                ("id <= 1002", true),
                ("id < 10000", true),
            ],
        );
    }

    #[test]
    fn title_equality_and_search() {
        check(
            &doc(),
            &[
                ("title = \"release notes 2.0\"", true),
                ("title = \"Release Notes\"", false),
                ("title != \"Release Notes 2.0\"", false),
                ("title in (\"x\", \"Release Notes 2.0\")", true),
                ("title not in (\"x\")", true),
                ("title ~ release", true),
                ("title ~ \"NOTES release\"", true),
                ("title ~ \"notes fox\"", false),
                ("title ~ rel*", true),
                ("title ~ note", false),
                ("title !~ fox", true),
                ("title !~ notes", false),
            ],
        );
    }

    #[test]
    fn text_search_words_prefixes_and_phrases() {
        check(
            &doc(),
            &[
                ("text ~ fox", true),
                ("text ~ \"Lazy DOG\"", true),
                ("text ~ \"release fox\"", true),
                ("text ~ \"fox cat\"", false),
                ("text ~ qui*", true),
                ("text ~ \"qu* bro*\"", true),
                ("text ~ uick", false),
                ("text ~ \"example.com\"", true),
                ("text ~ \"\\\"brown fox\\\"\"", true),
                ("text ~ \"\\\"fox brown\\\"\"", false),
                ("text ~ '\"quick fox\"'", false),
                ("text ~ '\"jumps ov*\" lazy'", true),
                ("text ~ '\"notes the\"'", false),
                ("text !~ fox", false),
                ("text !~ cat", true),
                ("text ~ howto", false),
                ("text ~ \"!!\"", false),
                ("siteSearch ~ howto", true),
                ("siteSearch ~ \"howto fox release\"", true),
            ],
        );
    }

    #[test]
    fn labels_ancestors_and_parent() {
        let d = doc();
        check(
            &d,
            &[
                ("label = release", true),
                ("label = \"HOWTO\"", true),
                ("label = draft", false),
                ("label != draft", true),
                ("label != howto", false),
                ("label in (draft, howto)", true),
                ("label in (draft, archived)", false),
                ("label not in (draft, archived)", true),
                ("label not in (draft, release)", false),
                ("ancestor = 1", true),
                ("ancestor = 10", true),
                ("ancestor = 100", false),
                ("ancestor != 1", false),
                ("ancestor in (5, 10)", true),
                ("ancestor not in (5, 6)", true),
                ("parent = 10", true),
                ("parent = 1", false),
                ("parent != 1", true),
                ("parent in (1, 10)", true),
                ("parent not in (10)", false),
            ],
        );
        let top = Doc {
            labels: vec![],
            ancestors: vec![],
            parent: None,
            ..d
        };
        check(
            &top,
            &[
                ("label != draft", true),
                ("label = draft", false),
                ("parent = 10", false),
                ("parent != 10", true),
            ],
        );
    }

    #[test]
    fn creator_contributor_and_current_user() {
        let d = doc();
        check(
            &d,
            &[
                ("creator = acc-alice", true),
                ("creator != acc-alice", false),
                ("creator = ACC-ALICE", false),
                ("creator in (x, acc-alice)", true),
                ("creator not in (x)", true),
                ("creator = currentUser()", false),
                ("contributor = currentUser()", true),
                ("contributor = acc-alice", true),
                ("contributor != acc-carol", true),
                ("contributor in (acc-carol, currentUser())", true),
                ("contributor not in (acc-bob)", false),
            ],
        );
        let anonymous = Context {
            current_user: None,
            now_ms: NOW,
        };
        let q = crate::parse("contributor = currentUser()").unwrap();
        assert!(!q.matches(&d, &anonymous));
    }

    #[test]
    fn dates_literals_functions_and_relative() {
        // created 2024-03-04 15:30, modified 2024-03-14 13:30.
        check(
            &doc(),
            &[
                ("created = 2024-03-04", true),
                ("created = \"2024/03/04\"", true),
                ("created = 2024-03-05", false),
                ("created != 2024-03-04", false),
                ("created = \"2024-03-04 15:30\"", true),
                ("created = \"2024-03-04 15:31\"", false),
                ("created > 2024-03-04", true),
                ("created >= 2024-03-04", true),
                ("created < 2024-03-04", false),
                ("created <= 2024-03-04", false),
                ("created < 2024-03-05", true),
                ("created > \"2024-03-04 15:30\"", false),
                ("created >= \"2024-03-04 15:30\"", true),
                ("created > now(\"-2w\")", true),
                ("created > now(\"-1w\")", false),
                ("created > -2w", true),
                ("created < \"-1w\"", true),
                ("lastmodified > startOfDay()", true),
                ("lastModified < startOfDay()", false),
                ("lastmodified >= now(-3h)", true),
                ("lastmodified >= now(-1h)", false),
                ("lastmodified <= endOfDay()", true),
                ("created >= startOfMonth()", true),
                ("created >= startOfWeek()", false),
                ("created >= startOfWeek(\"-1w\")", true),
                ("created < startOfYear(\"+1y\")", true),
                ("created > endOfMonth(\"-1M\")", true),
                ("created > endOfYear()", false),
                ("created = now()", false),
            ],
        );
    }

    #[test]
    fn precedence_and_negation() {
        check(
            &doc(),
            &[
                ("type = blogpost OR type = page AND space = DEV", true),
                ("type = page OR type = blogpost AND space = OPS", true),
                ("(type = page OR type = blogpost) AND space = OPS", false),
                ("NOT type = page OR space = DEV", true),
                ("NOT (type = page OR space = OPS)", false),
                ("NOT type = blogpost AND NOT space = OPS", true),
                ("not not type = page", true),
                ("type = page and not (label = howto and label = nope)", true),
            ],
        );
    }

    #[test]
    fn order_by_keys_directions_and_ties() {
        let a = Doc {
            id: "9",
            title: "beta",
            created: 3,
            space: "b",
            ..doc()
        };
        let b = Doc {
            id: "10",
            title: "Alpha",
            created: 3,
            space: "A",
            ty: "blogpost",
            ..doc()
        };
        let cmp = |q: &str| crate::parse(q).unwrap().compare(&a, &b);
        assert_eq!(cmp("type = page"), Ordering::Equal);
        assert_eq!(cmp("type = page order by title"), Ordering::Greater);
        assert_eq!(cmp("type = page order by title desc"), Ordering::Less);
        assert_eq!(
            cmp("type = page order by id"),
            Ordering::Less,
            "ids compare as numbers"
        );
        assert_eq!(cmp("type = page order by created"), Ordering::Equal);
        assert_eq!(
            cmp("type = page order by created, id desc"),
            Ordering::Greater
        );
        assert_eq!(
            cmp("type = page order by created desc, title asc"),
            Ordering::Greater
        );
        assert_eq!(cmp("type = page order by space"), Ordering::Greater);
        assert_eq!(cmp("type = page order by type"), Ordering::Greater);
        assert_eq!(cmp("type = page order by lastmodified"), Ordering::Equal);
        let mut docs = [
            a.clone(),
            b.clone(),
            Doc {
                id: "1",
                title: "alpha",
                ..doc()
            },
        ];
        let q = crate::parse("type = page order by title, id").unwrap();
        docs.sort_by(|x, y| q.compare(x, y));
        assert_eq!(
            docs.iter().map(|d| d.id).collect::<Vec<_>>(),
            vec!["10", "1", "9"]
        );
    }
}
