//! Property tests over the public API: parsing never panics, the normalised rendering
//! re-parses to an equal query, and evaluation agrees with the query's logic.
#![allow(clippy::unwrap_used)]

use conflux_cql::{Context, Document, Query, parse};
use proptest::prelude::*;

#[test]
fn query_is_send_sync_and_static() {
    fn assert_bounds<T: Send + Sync + 'static>() {}
    assert_bounds::<Query>();
    assert_bounds::<conflux_cql::CqlError>();
}

/// A value written the way people write it: bare, single- or double-quoted with escapes.
fn literal() -> impl Strategy<Value = String> {
    let bare = "[A-Za-z0-9_.*-][A-Za-z0-9_.*@:/-]{0,8}".prop_filter("not a keyword", |s| {
        !["and", "or", "not", "in", "order", "by", "asc", "desc"]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(s))
    });
    let quoted = (any::<String>(), any::<bool>()).prop_map(|(s, single)| {
        let q = if single { '\'' } else { '"' };
        let mut out = String::from(q);
        for c in s.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                c if c == q => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
        out.push(q);
        out
    });
    prop_oneof![bare, quoted]
}

fn offset() -> impl Strategy<Value = String> {
    ("[+-]?", 0u32..500, "[yMwdhm]").prop_map(|(s, n, u)| format!("{s}{n}{u}"))
}

fn date() -> impl Strategy<Value = String> {
    let lit = (
        1970u32..2100,
        1u32..=12,
        1u32..=28,
        proptest::option::of((0u32..24, 0u32..60)),
        any::<bool>(),
    )
        .prop_map(|(y, m, d, t, slash)| {
            let sep = if slash { '/' } else { '-' };
            match t {
                None => format!("{y}{sep}{m:02}{sep}{d:02}"),
                Some((h, min)) => format!("\"{y}{sep}{m:02}{sep}{d:02} {h:02}:{min:02}\""),
            }
        });
    let func = (
        prop::sample::select(vec![
            "now",
            "startOfDay",
            "startofweek",
            "STARTOFMONTH",
            "startOfYear",
            "endOfDay",
            "endOfWeek",
            "endOfMonth",
            "endOfYear",
        ]),
        proptest::option::of(offset()),
    )
        .prop_map(|(f, o)| match o {
            None => format!("{f}()"),
            Some(o) => format!("{f}(\"{o}\")"),
        });
    prop_oneof![lit, func, offset().prop_map(|o| format!("\"{o}\""))]
}

fn list(item: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    prop::collection::vec(item, 1..4).prop_map(|v| format!("({})", v.join(", ")))
}

fn clause() -> impl Strategy<Value = String> {
    let eq_in = prop::sample::select(vec!["=", "!=", "in", "NOT IN"]);
    let plain = (
        prop::sample::select(vec![
            "type",
            "Space",
            "space.key",
            "label",
            "ancestor",
            "parent",
            "title",
        ]),
        eq_in.clone(),
        literal(),
        list(literal()),
    )
        .prop_map(|(f, op, v, l)| {
            let arg = if op.contains("in") || op.contains("IN") {
                l
            } else {
                v
            };
            format!("{f} {op} {arg}")
        });
    let user_value = prop_oneof![literal(), Just("currentUser()".to_string())];
    let user = (
        prop::sample::select(vec!["creator", "CONTRIBUTOR"]),
        eq_in.clone(),
        user_value.clone(),
        list(user_value),
    )
        .prop_map(|(f, op, v, l)| {
            let arg = if op.contains("in") || op.contains("IN") {
                l
            } else {
                v
            };
            format!("{f} {op} {arg}")
        });
    let search = (
        prop::sample::select(vec!["text", "title", "siteSearch"]),
        prop::sample::select(vec!["~", "!~"]),
        literal(),
    )
        .prop_map(|(f, op, v)| format!("{f} {op} {v}"));
    let dates = (
        prop::sample::select(vec!["created", "lastModified"]),
        prop::sample::select(vec!["=", "!=", "<", "<=", ">", ">="]),
        date(),
    )
        .prop_map(|(f, op, v)| format!("{f}{op}{v}"));
    let ids = (
        prop::sample::select(vec!["id", "content"]),
        prop::sample::select(vec!["=", "!=", "<", "<=", ">", ">="]),
        0u64..100_000,
    )
        .prop_map(|(f, op, v)| format!("{f} {op} {v}"));
    prop_oneof![plain, user, search, dates, ids]
}

fn condition() -> impl Strategy<Value = String> {
    clause().prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(vec!["AND", "and", "OR", "or"]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.clone().prop_map(|a| format!("NOT {a}")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

fn query() -> impl Strategy<Value = String> {
    let key = (
        prop::sample::select(vec![
            "title",
            "created",
            "lastmodified",
            "id",
            "space",
            "type",
        ]),
        prop::sample::select(vec!["", " asc", " DESC"]),
    )
        .prop_map(|(k, d)| format!("{k}{d}"));
    let order = proptest::option::of(prop::collection::vec(key, 1..4));
    (condition(), order).prop_map(|(c, o)| match o {
        None => c,
        Some(keys) => format!("{c} order by {}", keys.join(", ")),
    })
}

/// Words and symbols of CQL, shuffled into near-misses.
fn token_soup() -> impl Strategy<Value = String> {
    let tok = prop::sample::select(vec![
        "type",
        "space",
        "title",
        "text",
        "label",
        "created",
        "id",
        "creator",
        "AND",
        "or",
        "NOT",
        "in",
        "not in",
        "order",
        "by",
        "desc",
        "=",
        "!=",
        "~",
        "!~",
        "<",
        ">=",
        "(",
        ")",
        ",",
        "\"",
        "'",
        "\\",
        "!",
        "page",
        "x*",
        "now(",
        "now(\"-1d\")",
        "currentUser()",
        "2024-01-01",
        "é",
        "\n",
        " ",
    ]);
    prop::collection::vec(tok, 0..24).prop_map(|v| v.join(" "))
}

/// A valid query with one edit: cut short, a character dropped, or a symbol inserted.
fn mutated() -> impl Strategy<Value = String> {
    let symbol = prop::sample::select(vec![
        '(', ')', '"', '\'', '\\', ',', '=', '!', '~', ' ', 'é',
    ]);
    (query(), any::<prop::sample::Index>(), 0..3u8, symbol).prop_map(|(q, at, how, c)| {
        let mut chars: Vec<char> = q.chars().collect();
        let i = at.index(chars.len() + 1);
        match how {
            0 => chars.truncate(i),
            1 if i < chars.len() => {
                chars.remove(i);
            }
            _ => chars.insert(i, c),
        }
        chars.into_iter().collect()
    })
}

#[derive(Debug, Clone)]
struct Doc {
    ty: String,
    id: String,
    space: String,
    title: String,
    text: String,
    labels: Vec<String>,
    ancestors: Vec<String>,
    parent: Option<String>,
    creator: String,
    created: i64,
    modified: i64,
    contributors: Vec<String>,
}

impl Document for Doc {
    fn content_type(&self) -> &str {
        &self.ty
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn space_key(&self) -> &str {
        &self.space
    }
    fn title(&self) -> &str {
        &self.title
    }
    fn text(&self) -> &str {
        &self.text
    }
    fn labels(&self) -> &[String] {
        &self.labels
    }
    fn ancestor_ids(&self) -> &[String] {
        &self.ancestors
    }
    fn parent_id(&self) -> Option<&str> {
        self.parent.as_deref()
    }
    fn creator(&self) -> &str {
        &self.creator
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

fn doc() -> impl Strategy<Value = Doc> {
    let word = "[a-z0-9]{1,3}";
    let words = prop::collection::vec(word, 0..4);
    (
        (
            prop::sample::select(vec!["page", "blogpost", "comment"]),
            0u64..50,
            "[A-Z]{1,2}",
        ),
        (words.clone(), words.clone(), words.clone()),
        (prop::collection::vec(0u64..50, 0..3), "[a-c]", words),
        (any::<i64>(), any::<i64>()),
    )
        .prop_map(
            |(
                (ty, id, space),
                (title, text, labels),
                (ancestors, creator, contributors),
                (c, m),
            )| Doc {
                ty: ty.to_string(),
                id: id.to_string(),
                space,
                title: title.join(" "),
                text: text.join(" "),
                labels,
                parent: ancestors.last().map(|a| a.to_string()),
                ancestors: ancestors.iter().map(|a| a.to_string()).collect(),
                creator,
                created: c,
                modified: m,
                contributors,
            },
        )
}

fn check_error_position(input: &str) {
    if let Err(e) = parse(input) {
        assert!(
            e.offset() <= input.len() && input.is_char_boundary(e.offset()),
            "{e:?}"
        );
        let before = &input[..e.offset()];
        assert_eq!(e.line(), before.matches('\n').count() + 1);
        assert!(e.column() >= 1);
        assert!(
            e.to_string()
                .contains(&format!("at line {}, column {}", e.line(), e.column()))
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_never_panics_on_any_text(input in any::<String>()) {
        check_error_position(&input);
    }

    #[test]
    fn parse_never_panics_on_token_soup(input in token_soup()) {
        check_error_position(&input);
        if let Ok(q) = parse(&input) {
            prop_assert_eq!(parse(&q.to_string()).unwrap(), q);
        }
    }

    #[test]
    fn parse_never_panics_on_near_misses(input in mutated()) {
        check_error_position(&input);
        if let Ok(q) = parse(&input) {
            prop_assert_eq!(parse(&q.to_string()).unwrap(), q);
        }
    }

    #[test]
    fn generated_queries_parse_and_round_trip(input in query()) {
        let q = parse(&input).map_err(|e| TestCaseError::fail(format!("{input}: {e}")))?;
        let shown = q.to_string();
        let again = parse(&shown).map_err(|e| TestCaseError::fail(format!("{shown}: {e}")))?;
        prop_assert_eq!(&again, &q, "{} -> {}", input, shown);
        prop_assert_eq!(again.to_string(), shown);
    }

    #[test]
    fn evaluation_follows_the_logic(a in condition(), b in condition(), d in doc(), now in any::<i64>(), me in "[a-c]") {
        let ctx = Context { current_user: Some(me), now_ms: now };
        let m = |s: &str| parse(s).unwrap().matches(&d, &ctx);
        let (ma, mb) = (m(&a), m(&b));
        prop_assert_eq!(m(&format!("NOT ({a})")), !ma);
        prop_assert_eq!(m(&format!("({a}) AND ({b})")), ma && mb);
        prop_assert_eq!(m(&format!("({a}) OR ({b})")), ma || mb);
        let shown = parse(&a).unwrap().to_string();
        prop_assert_eq!(m(&shown), ma, "{}", shown);
    }

    #[test]
    fn compare_is_antisymmetric(q in query(), x in doc(), y in doc()) {
        let q = parse(&q).unwrap();
        prop_assert_eq!(q.compare(&x, &y), q.compare(&y, &x).reverse());
        prop_assert!(q.compare(&x, &x).is_eq());
    }
}

/// Tokio's default worker-thread stack: the simulator parses CQL on one.
fn on_worker_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

/// Parentheses and NOT chains 100,000 deep are a parse error naming the limit, at the first
/// level past it; nothing recurses deeper than `MAX_DEPTH`.
#[test]
fn nesting_100k_deep_is_a_parse_error_naming_the_depth() {
    use conflux_cql::{CqlErrorKind, MAX_DEPTH};
    on_worker_stack(|| {
        let n = 100_000;
        let cases = [
            (
                "parentheses",
                format!("{}type = page{}", "(".repeat(n), ")".repeat(n)),
                MAX_DEPTH,
            ),
            ("unclosed parentheses", "(".repeat(n), MAX_DEPTH),
            (
                "NOT chain",
                format!("{}type = page", "NOT ".repeat(n)),
                MAX_DEPTH * 4,
            ),
            (
                "NOT and parentheses",
                format!("{}type = page{}", "NOT (".repeat(n), ")".repeat(n)),
                MAX_DEPTH / 2 * 5,
            ),
            (
                "AND and OR groups",
                format!(
                    "{}type = page{}",
                    "type = a AND (type = b OR (".repeat(n / 10),
                    "))".repeat(n / 10)
                ),
                (MAX_DEPTH / 2) * 27 + 13,
            ),
        ];
        for (name, q, offset) in cases {
            let e = parse(&q).unwrap_err();
            assert_eq!(
                e.kind(),
                &CqlErrorKind::TooDeep { limit: MAX_DEPTH },
                "{name}"
            );
            assert_eq!(e.offset(), offset, "{name}: {e}");
            assert!(
                e.to_string()
                    .starts_with("query is nested deeper than 64 levels of parentheses or NOT"),
                "{name}: {e}"
            );
        }
        // Closing parentheses with nothing open are one error, not a descent.
        let e = parse(&format!("type = page{}", ")".repeat(n))).unwrap_err();
        assert_eq!(e.kind(), &CqlErrorKind::UnopenedParen);
    });
}

/// At the limit, a query parses, prints, re-parses and evaluates on a worker-sized stack.
#[test]
fn nesting_at_the_limit_parses_evaluates_and_prints() {
    use conflux_cql::MAX_DEPTH;
    on_worker_stack(|| {
        let d = Doc {
            ty: "page".into(),
            id: "1".into(),
            space: "DEV".into(),
            title: "t".into(),
            text: "x".into(),
            labels: vec![],
            ancestors: vec![],
            parent: None,
            creator: "a".into(),
            created: 0,
            modified: 0,
            contributors: vec![],
        };
        let ctx = Context::default();
        let nots = format!("{}type = page", "NOT ".repeat(MAX_DEPTH));
        let q = parse(&nots).unwrap();
        assert!(q.matches(&d, &ctx), "an even number of NOTs");
        assert_eq!(parse(&q.to_string()).unwrap(), q);
        let groups = format!(
            "{}type = page{}",
            "type = blogpost OR (type = page AND (".repeat(MAX_DEPTH / 2),
            "))".repeat(MAX_DEPTH / 2)
        );
        let q = parse(&groups).unwrap();
        assert!(q.matches(&d, &ctx));
        assert_eq!(parse(&q.to_string()).unwrap(), q);
        let mixed = format!(
            "{}type = page{}",
            "NOT (NOT (".repeat(MAX_DEPTH / 4),
            "))".repeat(MAX_DEPTH / 4)
        );
        let q = parse(&mixed).unwrap();
        assert!(q.matches(&d, &ctx));
        assert_eq!(parse(&q.to_string()).unwrap(), q);
    });
}
