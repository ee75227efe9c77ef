#![allow(clippy::unwrap_used)]
//! No input takes the process down: every construct nested 100,000 deep is refused with
//! `ConvertError::TooDeep`, and documents nested as deep as `MAX_DEPTH` still convert without
//! loss. Every conversion here runs on a 2 MiB thread stack, tokio's default for worker
//! threads, so these tests (debug builds by default) prove the cap holds where the MCP server
//! converts pages. A stack overflow aborts the whole test binary, so a regression cannot hide.

use conflux_convert::{
    ConvertError, Format, MAX_DEPTH, census, markdown_to_storage, normalized, run_convert,
    storage_to_markdown,
};

/// Tokio's default worker-thread stack.
const STACK: usize = 2 * 1024 * 1024;

/// Deep enough that any recursion on the depth would overflow a 2 MiB stack many times over.
const HOSTILE: usize = 100_000;

fn on_worker_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

/// A storage construct: `open` and `close` nest `levels` elements; `inner` is the innermost
/// content, `inner_levels` deep; `around` wraps the whole (`<p>` for inline constructs).
struct Storage {
    name: &'static str,
    open: &'static str,
    close: &'static str,
    levels: usize,
    inner: &'static str,
    inner_levels: usize,
    around: (&'static str, &'static str),
}

impl Storage {
    fn doc(&self, reps: usize) -> String {
        let mut s = String::from(self.around.0);
        s.push_str(&self.open.repeat(reps));
        s.push_str(self.inner);
        s.push_str(&self.close.repeat(reps));
        s.push_str(self.around.1);
        s
    }

    fn around_levels(&self) -> usize {
        usize::from(!self.around.0.is_empty())
    }

    /// Repetitions that put the innermost element exactly at `MAX_DEPTH`.
    fn reps_at_limit(&self) -> usize {
        (MAX_DEPTH - self.inner_levels - self.around_levels()) / self.levels
    }
}

const P: (&str, &str) = ("<p>", "</p>");
const EXPAND: &str = "<ac:structured-macro ac:name=\"expand\"><ac:parameter ac:name=\"title\">T</ac:parameter><ac:rich-text-body>";
const NONE: (&str, &str) = ("", "");

fn storage_constructs() -> Vec<Storage> {
    let block = |name, open, close, levels| Storage {
        name,
        open,
        close,
        levels,
        inner: "<p>x</p>",
        inner_levels: 1,
        around: NONE,
    };
    // A block construct around bare text.
    let bare = |name, open, close, levels| Storage {
        inner: "x",
        inner_levels: 0,
        ..block(name, open, close, levels)
    };
    let inline = |name, open, close, levels| Storage {
        name,
        open,
        close,
        levels,
        inner: "x",
        inner_levels: 0,
        around: P,
    };
    vec![
        bare("bullet lists", "<ul><li>", "</li></ul>", 2),
        bare("ordered lists", "<ol><li>", "</li></ol>", 2),
        block("loose lists", "<ul><li><p>a</p>", "</li></ul>", 2),
        block("divs", "<div>", "</div>", 1),
        block("block quotes", "<blockquote>", "</blockquote>", 1),
        // Text right in a container: its Markdown is a paragraph, which has no room for a
        // `p` at the limit (that Markdown was refused).
        bare(
            "block quotes around text",
            "<blockquote>",
            "</blockquote>",
            1,
        ),
        bare(
            "info panels around text",
            "<ac:structured-macro ac:name=\"info\"><ac:rich-text-body>",
            "</ac:rich-text-body></ac:structured-macro>",
            2,
        ),
        bare(
            "tables",
            "<table><tbody><tr><td>",
            "</td></tr></tbody></table>",
            4,
        ),
        block(
            "rich-text-body macros",
            "<ac:structured-macro ac:name=\"panel\"><ac:rich-text-body>",
            "</ac:rich-text-body></ac:structured-macro>",
            2,
        ),
        block(
            "info panels",
            "<ac:structured-macro ac:name=\"info\"><ac:rich-text-body>",
            "</ac:rich-text-body></ac:structured-macro>",
            2,
        ),
        block(
            "expand macros",
            EXPAND,
            "</ac:rich-text-body></ac:structured-macro>",
            2,
        ),
        block(
            "the new editor's panels",
            "<ac:adf-extension><ac:adf-node type=\"panel\"><ac:adf-attribute key=\"panel-type\">note</ac:adf-attribute><ac:adf-content>",
            "</ac:adf-content></ac:adf-node></ac:adf-extension>",
            3,
        ),
        block(
            "layouts",
            "<ac:layout><ac:layout-section ac:type=\"single\"><ac:layout-cell>",
            "</ac:layout-cell></ac:layout-section></ac:layout>",
            3,
        ),
        bare(
            "task lists",
            "<ac:task-list><ac:task><ac:task-status>incomplete</ac:task-status><ac:task-body>t ",
            "</ac:task-body></ac:task></ac:task-list>",
            3,
        ),
        block(
            "mixed blocks",
            "<div><ul><li><table><tbody><tr><td><blockquote>",
            "</blockquote></td></tr></tbody></table></li></ul></div>",
            8,
        ),
        block("unknown elements", "<x:box>", "</x:box>", 1),
        inline("spans", "<span style=\"color: red\">", "</span>", 1),
        inline("strong", "<strong>a ", " b</strong>", 1),
        inline("emphasis", "<em>a ", " b</em>", 1),
        inline("strikethrough", "<del>a ", " b</del>", 1),
        inline("underline", "<u>a ", " b</u>", 1),
        inline("links", "<a href=\"https://example.com/\">a ", " b</a>", 1),
        // Inline content right in a quote: its paragraph gives up its `p` for the element.
        Storage {
            inner: "<strong>x</strong>",
            inner_levels: 1,
            ..block(
                "block quotes around bold text",
                "<blockquote>",
                "</blockquote>",
                1,
            )
        },
        // Text after a block at the limit, and a link target holding text (counted as the
        // two levels of an anchor, which only an empty one becomes).
        Storage {
            inner: "<p>a</p><strong>x</strong>",
            inner_levels: 1,
            ..block(
                "block quotes around a paragraph and bold text",
                "<blockquote>",
                "</blockquote>",
                1,
            )
        },
        Storage {
            inner: "<a id=\"a\">t</a>",
            inner_levels: 1,
            ..block(
                "block quotes around a link target",
                "<blockquote>",
                "</blockquote>",
                1,
            )
        },
        // An anchor macro right in a quote, after text or alone: its Markdown, `<a id>`, is
        // in a paragraph, which gives up its `p` for the macro's two levels (it stayed an
        // `<a id>` element: the meaning changed).
        Storage {
            inner: "x<ac:structured-macro ac:name=\"anchor\"><ac:parameter ac:name=\"\">a</ac:parameter></ac:structured-macro>",
            inner_levels: 2,
            ..block(
                "block quotes around text and an anchor",
                "<blockquote>",
                "</blockquote>",
                1,
            )
        },
        Storage {
            inner: "<ac:structured-macro ac:name=\"anchor\"><ac:parameter ac:name=\"\">a</ac:parameter></ac:structured-macro>",
            inner_levels: 2,
            ..block(
                "block quotes around an anchor",
                "<blockquote>",
                "</blockquote>",
                1,
            )
        },
        // An expand's title counts no level of its own.
        bare(
            "expand macros around text",
            EXPAND,
            "</ac:rich-text-body></ac:structured-macro>",
            2,
        ),
        // An `<a>` without an `id` alone cannot be an anchor (it was counted as two levels).
        inline("links without a target", "<a>a ", " b</a>", 1),
        inline(
            "page links",
            "<ac:link><ri:page ri:content-title=\"T\" /><ac:link-body>a ",
            " b</ac:link-body></ac:link>",
            2,
        ),
        inline(
            "inline comments",
            "<ac:inline-comment-marker ac:ref=\"r\">a ",
            " b</ac:inline-comment-marker>",
            1,
        ),
        inline(
            "inline macros",
            "<ac:structured-macro ac:name=\"x\"><ac:rich-text-body>a ",
            " b</ac:rich-text-body></ac:structured-macro>",
            2,
        ),
        inline("unknown inline elements", "<x:mark>", "</x:mark>", 1),
        Storage {
            around: ("<h2>", "</h2>"),
            ..inline("heading spans", "<span class=\"s\">", "</span>", 1)
        },
        inline(
            "mixed inline",
            "<strong>a <em>b <span>c ",
            " d</span> e</em> f</strong>",
            3,
        ),
    ]
}

fn assert_too_deep(result: Result<impl std::fmt::Debug, ConvertError>, format: Format, what: &str) {
    match result {
        Err(ConvertError::TooDeep {
            format: f,
            limit,
            line,
            ..
        }) => {
            assert_eq!((f, limit), (format, MAX_DEPTH), "{what}");
            assert!(line >= 1, "{what}");
        }
        other => panic!("{what}: expected TooDeep, got {other:?}"),
    }
}

/// Storage → Markdown → storage keeps the document's meaning.
fn assert_round_trip(storage: &str, what: &str) {
    let md = storage_to_markdown(storage).unwrap_or_else(|e| panic!("{what}: {e}"));
    let back = markdown_to_storage(&md.output).unwrap_or_else(|e| panic!("{what}: back: {e}"));
    assert_eq!(
        normalized(storage).unwrap(),
        normalized(&back.output).unwrap(),
        "{what}: the round trip changed the document"
    );
    assert_eq!(
        census(storage).unwrap(),
        census(&back.output).unwrap(),
        "{what}"
    );
}

#[test]
fn storage_nested_100k_deep_is_refused_for_every_construct() {
    on_worker_stack(|| {
        for c in storage_constructs() {
            let doc = c.doc(HOSTILE / c.levels);
            assert_too_deep(storage_to_markdown(&doc), Format::Storage, c.name);
            assert_too_deep(
                run_convert(Format::Storage, Format::Storage, &doc, false),
                Format::Storage,
                c.name,
            );
            assert_too_deep(census(&doc), Format::Storage, c.name);
            assert_too_deep(normalized(&doc), Format::Storage, c.name);
        }
    });
}

#[test]
fn storage_at_the_limit_converts_and_round_trips() {
    on_worker_stack(|| {
        for c in storage_constructs() {
            let doc = c.doc(c.reps_at_limit());
            assert_round_trip(&doc, c.name);
            // One level more is refused.
            let deeper = c.doc(c.reps_at_limit() + 1);
            assert_too_deep(storage_to_markdown(&deeper), Format::Storage, c.name);
        }
    });
}

#[test]
fn too_deep_names_the_limit_and_the_place() {
    let doc = "<ul><li>".repeat(HOSTILE / 2);
    let err = storage_to_markdown(&doc).unwrap_err();
    // The 513th element is the `<ul>` of the 257th repetition.
    assert_eq!(
        err,
        ConvertError::TooDeep {
            format: Format::Storage,
            limit: MAX_DEPTH,
            line: 1,
            col: 256 * 8 + 1,
        }
    );
    assert_eq!(
        err.to_string(),
        "the storage input is nested deeper than 512 levels (at line 1, column 2049); \
         flatten it, or keep that part as storage"
    );
    let md = format!("\n{}x\n", "> ".repeat(HOSTILE));
    let err = markdown_to_storage(&md).unwrap_err();
    assert_eq!(
        err,
        ConvertError::TooDeep {
            format: Format::Markdown,
            limit: MAX_DEPTH,
            line: 2,
            col: 512 * 2 + 1,
        }
    );
}

/// Markdown constructs whose input grows linearly with the depth, as (name, document).
fn markdown_hostile() -> Vec<(&'static str, String)> {
    let n = HOSTILE;
    let wrap = |open: &str, inner: &str, close: &str| {
        format!("{}{inner}{}\n", open.repeat(n), close.repeat(n))
    };
    vec![
        ("block quotes", wrap("> ", "x", "")),
        ("bullet lists on one line", wrap("- ", "x", "")),
        ("ordered lists on one line", wrap("1. ", "x", "")),
        ("quotes in lists", wrap("> - ", "x", "")),
        ("emphasis", wrap("*a ", "x", " b*")),
        ("strong", wrap("**a ", "x", " b**")),
        ("strikethrough", wrap("~~a ", "x", " b~~")),
        ("images", wrap("![", "x", "](a.png)")),
        (
            "links around images",
            wrap("[![", "x", "](a.png)](https://example.com/)"),
        ),
        ("inline HTML", wrap("<span>", "x", "</span>")),
        ("HTML blocks", wrap("<div>\n", "x\n", "</div>\n")),
        (
            "placeholders",
            wrap(
                "<!--confluence <ac:structured-macro ac:name=\"panel\"><ac:rich-text-body>-->\n\n",
                "x\n\n",
                "<!--confluence </ac:rich-text-body></ac:structured-macro>-->\n\n",
            ),
        ),
        (
            "details",
            wrap(
                "<details>\n<summary>T</summary>\n\n",
                "x\n\n",
                "</details>\n\n",
            ),
        ),
    ]
}

#[test]
fn markdown_nested_100k_deep_is_refused_for_every_construct() {
    on_worker_stack(|| {
        for (name, md) in markdown_hostile() {
            assert_too_deep(markdown_to_storage(&md), Format::Markdown, name);
        }
        let (name, md) = &markdown_hostile()[0];
        assert_too_deep(
            run_convert(Format::Markdown, Format::Markdown, md, false),
            Format::Markdown,
            name,
        );
    });
}

/// Links cannot hold links in Markdown: brackets nested 100,000 deep are one link in text.
#[test]
fn markdown_brackets_100k_deep_are_text_and_one_link() {
    on_worker_stack(|| {
        let md = format!("{}x{}\n", "[".repeat(HOSTILE), "](u)".repeat(HOSTILE));
        let out = markdown_to_storage(&md).unwrap();
        assert!(
            out.output.contains("<a href=\"u\">x</a>"),
            "{}",
            &out.output[..200]
        );
    });
}

/// Constructs whose Markdown grows with the square of the depth (each line indents the
/// next), bounded by input size: a few MB reaches well past the limit.
#[test]
fn markdown_indented_nesting_is_refused_by_depth() {
    on_worker_stack(|| {
        let mut lists = String::new();
        for i in 0..1_400 {
            lists.push_str(&" ".repeat(2 * i));
            lists.push_str("- x\n");
        }
        assert!(lists.len() > 1_900_000, "{}", lists.len());
        assert_too_deep(
            markdown_to_storage(&lists),
            Format::Markdown,
            "indented lists",
        );
        let mut alerts = String::new();
        for i in 1..700 {
            alerts.push_str(&"> ".repeat(i));
            alerts.push_str("[!NOTE]\n");
        }
        assert_too_deep(
            markdown_to_storage(&alerts),
            Format::Markdown,
            "nested alerts",
        );
        let mut quotes = String::new();
        for i in 1..1_000 {
            quotes.push_str(&"> ".repeat(i));
            quotes.push_str("x\n");
        }
        assert_too_deep(
            markdown_to_storage(&quotes),
            Format::Markdown,
            "quote lines",
        );
    });
}

#[test]
fn markdown_at_the_limit_converts_and_is_stable() {
    on_worker_stack(|| {
        let deep = MAX_DEPTH - 1; // the innermost paragraph is the last level
        let cases = [
            ("block quotes", format!("{}x\n", "> ".repeat(deep))),
            (
                "emphasis",
                format!("{}x{}\n", "*a ".repeat(deep), " b*".repeat(deep)),
            ),
            (
                "strong",
                format!("{}x{}\n", "**a ".repeat(deep), " b**".repeat(deep)),
            ),
            (
                "inline HTML",
                format!("{}x{}\n", "<u>".repeat(deep), "</u>".repeat(deep)),
            ),
            // A list level is the list and its item: two.
            ("bullet lists", format!("{}x\n", "- ".repeat(MAX_DEPTH / 2))),
        ];
        for (name, md) in cases {
            let storage = markdown_to_storage(&md).unwrap_or_else(|e| panic!("{name}: {e}"));
            let md1 =
                storage_to_markdown(&storage.output).unwrap_or_else(|e| panic!("{name}: {e}"));
            let again = markdown_to_storage(&md1.output).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                normalized(&storage.output).unwrap(),
                normalized(&again.output).unwrap(),
                "{name}"
            );
            if name == "block quotes" {
                // One quote more and the paragraph is its text alone, as storage may hold it
                // (`block quotes around text` above); two more are refused.
                let one_more = markdown_to_storage(&format!("> {md}")).unwrap();
                assert!(one_more.output.contains("<blockquote>x</blockquote>"));
                let deeper = format!("> > {md}");
                assert_too_deep(markdown_to_storage(&deeper), Format::Markdown, name);
                // A second paragraph at that depth has no room.
                let two = format!(
                    "{}x\n{}\n{}y\n",
                    "> ".repeat(MAX_DEPTH),
                    ">".repeat(MAX_DEPTH),
                    "> ".repeat(MAX_DEPTH)
                );
                assert_too_deep(markdown_to_storage(&two), Format::Markdown, name);
            }
        }
    });
}

/// What the Markdown side writes is never deeper than the storage side reads: a panel is two
/// storage levels, so panels nested past half the limit are refused on the way in.
#[test]
fn markdown_never_writes_storage_the_reader_refuses() {
    on_worker_stack(|| {
        for levels in [MAX_DEPTH / 2 - 1, MAX_DEPTH / 2, MAX_DEPTH / 2 + 1] {
            let mut md = String::new();
            for i in 1..=levels {
                md.push_str(&"> ".repeat(i));
                md.push_str("[!NOTE]\n");
                md.push_str(&"> ".repeat(i));
                md.push('\n');
            }
            md.push_str(&"> ".repeat(levels));
            md.push_str("x\n");
            match markdown_to_storage(&md) {
                Ok(out) => {
                    storage_to_markdown(&out.output)
                        .unwrap_or_else(|e| panic!("{levels} panels written but not read: {e}"));
                }
                Err(e) => assert!(matches!(e, ConvertError::TooDeep { .. }), "{e}"),
            }
        }
    });
}

/// The same for directives that become more storage levels than their own: a figure (an image
/// and its caption), Cloud's panel (extension, node, content) and decision list (extension,
/// list node, item content), eight deep inside quotes that take the depth to the limit. They
/// counted one level each, and storage 2-3 levels past the limit was written.
#[test]
fn directives_never_write_storage_the_reader_refuses() {
    on_worker_stack(|| {
        let kinds = [
            ("figure", "figure", "![](attachment:a.png)\n\n", "x"),
            ("adf-panel", "adf-panel{panel-type=note}", "", "x"),
            // Each `::fallback` past the first is a `div` more around the content.
            (
                "adf-panel with two fallbacks",
                "adf-panel{panel-type=note}",
                "::fallback\n\n::fallback\n\n",
                "x",
            ),
            ("decision-list", "decision-list", "", "- d"),
            // Content right in a list-table or its row is wrapped in a row and a cell.
            ("list-table around text", "list-table", "", "x"),
            ("list-table rows of text", "list-table", "", "* x"),
        ];
        for (what, open, first, inner) in kinds {
            let mut body = String::new();
            for colons in (4..12).rev() {
                body.push_str(&format!("{}{open}\n\n{first}", ":".repeat(colons)));
            }
            body.push_str(inner);
            body.push_str("\n\n");
            for colons in 4..12 {
                body.push_str(&format!("{}\n\n", ":".repeat(colons)));
            }
            let (mut written, mut refused) = (0, 0);
            for quotes in 470..512 {
                let md: String = body
                    .lines()
                    .map(|l| format!("{}{l}\n", "> ".repeat(quotes)))
                    .collect();
                match markdown_to_storage(&md) {
                    Ok(out) => {
                        written += 1;
                        storage_to_markdown(&out.output).unwrap_or_else(|e| {
                            panic!("{what} in {quotes} quotes written but not read: {e}")
                        });
                    }
                    Err(e) => {
                        refused += 1;
                        assert!(matches!(e, ConvertError::TooDeep { .. }), "{e}");
                    }
                }
            }
            // The sweep crosses the limit.
            assert!(written > 0 && refused > 0, "{what}: {written} {refused}");
        }
    });
}
