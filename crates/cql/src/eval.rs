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
    for piece in segment.split(|c: char| !(c.is_alphanumeric() || c == '*')) {
        if piece.is_empty() {
            continue;
        }
        let start = out.len();
        out.extend(piece.split('*').filter(|w| !w.is_empty()).map(|w| Pattern {
            word: lower(w),
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

/// Lowercase alphanumeric runs.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(lower)
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
    let mut sources = vec![words(doc.title())];
    match field {
        Field::Title => {}
        Field::Text => sources.push(words(doc.text())),
        Field::SiteSearch => {
            sources.push(words(doc.text()));
            sources.push(doc.labels().iter().flat_map(|l| words(l)).collect());
        }
        _ => return false,
    }
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
            words("Hello, Wörld! it's 2024"),
            vec!["hello", "wörld", "it", "s", "2024"]
        );
    }
}
