//! Storage documents generated from a small grammar of what Confluence writes: paragraphs
//! (aligned, indented, with breaks and spaces at their edges), headings (aligned, or starting
//! with an anchor, image or status), lists and task lists whose items may start with a block,
//! tables with merged and coloured cells, with lists and blocks in cells, or kept as HTML;
//! panels, alerts and expands with parameters, layouts, code with a language and title,
//! noformat and other plain-text macros, preformatted text; emphasis, links to pages, spaces,
//! anchors, attachments and the web (entities, spaces, titles, smart links), mentions by id and
//! user name, statuses, jira issues and queries (also under the older name `jiraissues`),
//! anchors, emoticons with and without emoji attributes, inline comments, images with and
//! without captions, dates, macros inside text, spans, breaks; links inside links. And of text that Markdown reads as syntax (`*`, `_`,
//! `#`, `1.`, `|`, `:::`, `&lt;`, backslashes, tabs, line breaks).
//! Each must come back from storage → Markdown → storage with the same meaning
//! (`normalized`). The generator is seeded, so a run is the same on every machine; it leaves
//! out the constructs docs/convert.md lists as still open ("Markdown's own reading rules").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use conflux_convert::{markdown_to_storage, normalized, storage_to_markdown};

/// xorshift64*: enough randomness for shapes, and the same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Text pieces, many of them Markdown syntax when they land at the wrong place.
const TEXTS: &[&str] = &[
    "a",
    "b",
    " ",
    "x y",
    "*",
    "**",
    "_",
    "__",
    "a_b",
    "1.",
    "1)",
    "2.",
    "-",
    "+",
    "#",
    "##",
    "=",
    "---",
    "&lt;",
    "&lt;div&gt;",
    "&gt;",
    "&amp;",
    "&amp;copy;",
    ":",
    "::",
    ":::",
    "|",
    "\\",
    "`",
    "``",
    "[",
    "]",
    "[x]",
    "~",
    "~~",
    "\t",
    "\n",
    "é",
    "😀",
    "!",
    ".",
    "&nbsp;",
    "http://x.y",
    "{#id}",
    "{}",
    "{a=1}",
    ":smile:",
    "'",
    "\"",
    "(",
    ")",
    "$",
    "^",
    "@",
    "a.",
    "0",
    "9.",
];

const EMPHASIS: &[&str] = &["strong", "em", "del", "b", "i", "s", "u", "sub", "sup"];

struct Gen {
    rng: Rng,
    out: String,
}

impl Gen {
    fn text(&mut self) {
        for _ in 0..=self.rng.below(3) {
            let t = self.rng.pick(TEXTS);
            self.out.push_str(t);
        }
    }

    /// Text that starts and ends with a letter, where a construct must not be empty.
    fn word(&mut self) {
        self.out.push('w');
        self.text();
        self.out.push('w');
    }

    /// A [`Gen::word`] between `open` and `close`.
    fn word_in(&mut self, open: &str, close: &str) {
        self.out.push_str(open);
        self.word();
        self.out.push_str(close);
    }

    fn inlines(&mut self, depth: u32, in_link: bool) {
        for _ in 0..self.rng.below(5) {
            self.inline(depth, in_link);
        }
    }

    fn inline(&mut self, depth: u32, in_link: bool) {
        let choice = if depth == 0 { 0 } else { self.rng.below(36) };
        match choice {
            0..=5 => self.text(),
            6..=9 => {
                let name = self.rng.pick(EMPHASIS);
                self.out.push_str(&format!("<{name}>"));
                self.inlines(depth - 1, in_link);
                self.out.push_str(&format!("</{name}>"));
            }
            10 => {
                self.out.push_str("<code>");
                self.out.push_str(&self.rng.pick(TEXTS).replace('\n', " "));
                self.out.push_str("</code>");
            }
            11 => self.out.push_str("<br />"),
            12 if !in_link => {
                self.out.push_str("<a href=\"https://x.y/a\">");
                self.word();
                self.inlines(depth - 1, true);
                self.out.push_str("</a>");
            }
            13 => {
                self.out.push_str("<span style=\"color: red;\">");
                self.word();
                self.inlines(depth - 1, in_link);
                self.out.push_str("</span>");
            }
            14 => self.out.push_str("<ac:emoticon ac:name=\"smile\" />"),
            15 => self.out.push_str(
                "<ac:structured-macro ac:name=\"status\"><ac:parameter ac:name=\"title\">OK</ac:parameter></ac:structured-macro>",
            ),
            17 => {
                self.out.push_str(
                    "<ac:link><ri:page ri:content-title=\"P\" /><ac:link-body>",
                );
                self.word();
                self.inlines(depth - 1, true);
                self.out.push_str("</ac:link-body></ac:link>");
            }
            18 => {
                self.out
                    .push_str("<ac:link><ri:user ri:account-id=\"u1\" /></ac:link>");
            }
            20 => {
                let image = self.rng.pick(&[
                    "<ac:image><ri:attachment ri:filename=\"f.png\" /></ac:image>",
                    "<ac:image ac:alt=\"a b\" ac:width=\"200\"><ri:url ri:value=\"https://x.y/i.png\" /></ac:image>",
                    "<ac:image ac:title=\"t\"><ri:attachment ri:filename=\"f g.png\"><ri:page ri:content-title=\"Other P\" /></ri:attachment></ac:image>",
                ]);
                self.out.push_str(image);
            }
            21 | 24 => {
                let open = self.rng.pick(&[
                    "<ac:link><ri:attachment ri:filename=\"f.pdf\" /><ac:plain-text-link-body><![CDATA[",
                    "<ac:link ac:anchor=\"s 1\"><ri:page ri:content-title=\"P\" ri:space-key=\"K\" /><ac:plain-text-link-body><![CDATA[",
                ]);
                self.word_in(open, "]]></ac:plain-text-link-body></ac:link>");
            }
            22 => self.out.push_str(self.rng.pick(&[
                "<ac:structured-macro ac:name=\"jira\"><ac:parameter ac:name=\"key\">DOC-1</ac:parameter><ac:parameter ac:name=\"server\">System JIRA</ac:parameter></ac:structured-macro>",
                "<ac:structured-macro ac:name=\"jira\"><ac:parameter ac:name=\"jqlQuery\">project = DOC</ac:parameter><ac:parameter ac:name=\"maximumIssues\">20</ac:parameter></ac:structured-macro>",
                "<ac:structured-macro ac:name=\"jiraissues\"><ac:parameter ac:name=\"jqlQuery\">project = \"A B\"  </ac:parameter></ac:structured-macro>",
            ])),
            23 => self.out.push_str(
                "<ac:structured-macro ac:name=\"anchor\"><ac:parameter ac:name=\"\">a1</ac:parameter></ac:structured-macro>",
            ),
            25 => self.out.push_str(self.rng.pick(&[
                "<ac:structured-macro ac:name=\"cheese\"><ac:parameter ac:name=\"x\">1 2</ac:parameter></ac:structured-macro>",
                "<ac:structured-macro ac:name=\"status\"><ac:parameter ac:name=\"colour\">Green</ac:parameter><ac:parameter ac:name=\"title\">D*ne</ac:parameter></ac:structured-macro>",
                "<time datetime=\"2026-01-02\" />",
                "<ac:emoticon ac:name=\"tick\" />",
            ])),
            27 => {
                self.out
                    .push_str("<ac:inline-comment-marker ac:ref=\"r1\">");
                self.word();
                self.inlines(depth - 1, in_link);
                self.out.push_str("</ac:inline-comment-marker>");
            }
            28 => self.out.push_str(self.rng.pick(&[
                "<ac:emoticon ac:name=\"smile\" ac:emoji-shortname=\":slight_smile:\" ac:emoji-id=\"1f642\" ac:emoji-fallback=\"🙂\" />",
                "<ac:emoticon ac:name=\"blue-star\" ac:emoji-shortname=\":star:\" />",
            ])),
            29 | 31 => {
                let open = self.rng.pick(&[
                    "<a href=\"https://x.y/a?b=1&amp;c=&lt;d&gt;#e\">",
                    "<a href=\"https://x.y/a b(c)\" title=\"T &quot;q&quot;\">",
                    "<a href=\"mailto:a@x.y\">",
                    // Smart links of Cloud's editor.
                    "<a href=\"https://x.y/s\" data-card-appearance=\"inline\">",
                    "<a href=\"https://x.y/s\" data-card-appearance=\"block\" data-layout=\"center\">",
                ]);
                self.word_in(open, "</a>");
            }
            32 => self.out.push_str(self.rng.pick(&[
                "<ac:structured-macro ac:name=\"status\"><ac:parameter ac:name=\"title\">A b</ac:parameter><ac:parameter ac:name=\"subtle\">true</ac:parameter></ac:structured-macro>",
                "<ac:link><ri:space ri:space-key=\"K\" /></ac:link>",
                "<ac:link><ri:page ri:content-title=\"P q\" ri:space-key=\"K\" /></ac:link>",
            ])),
            30 => self.out.push_str(
                "<ac:link><ri:user ri:username=\"jdoe\" /></ac:link>",
            ),
            26 => {
                self.out
                    .push_str("<span style=\"background-color: rgb(254,222,200);\">");
                self.word();
                self.inlines(depth - 1, in_link);
                self.out.push_str("</span>");
            }
            _ => self.text(),
        }
    }

    fn blocks(&mut self, depth: u32) {
        for _ in 0..=self.rng.below(3) {
            self.block(depth);
        }
    }

    /// A list item or task body: text first (an item that starts empty or with a block is
    /// a case still open), then maybe blocks.
    fn item_body(&mut self, depth: u32) {
        if depth > 0 && self.rng.chance(15) {
            self.blocks(depth - 1);
            return;
        }
        self.word();
        self.inlines(2, false);
        if depth > 0 && self.rng.chance(40) {
            self.blocks(depth - 1);
        }
    }

    fn block(&mut self, depth: u32) {
        let choice = if depth == 0 {
            self.rng.below(3)
        } else {
            self.rng.below(32)
        };
        match choice {
            0 | 1 => {
                self.out.push_str("<p>");
                self.inlines(3, false);
                self.out.push_str("</p>");
            }
            2 => {
                let level = 1 + self.rng.below(6);
                self.out.push_str(&format!("<h{level}>"));
                self.inlines(2, false);
                self.out.push_str(&format!("</h{level}>"));
            }
            3 | 4 => {
                let (open, close) = if self.rng.chance(50) {
                    ("<ul>", "</ul>")
                } else {
                    (
                        self.rng
                            .pick(&["<ol>", "<ol start=\"3\">", "<ol start=\"0\">"]),
                        "</ol>",
                    )
                };
                self.out.push_str(open);
                for _ in 0..=self.rng.below(3) {
                    self.out.push_str("<li>");
                    self.item_body(depth - 1);
                    self.out.push_str("</li>");
                }
                self.out.push_str(close);
            }
            5 => {
                self.out.push_str("<ac:task-list>");
                for _ in 0..=self.rng.below(2) {
                    let status = self.rng.pick(&["complete", "incomplete"]);
                    self.out.push_str(&format!(
                        "<ac:task><ac:task-status>{status}</ac:task-status><ac:task-body>"
                    ));
                    self.item_body(depth - 1);
                    self.out.push_str("</ac:task-body></ac:task>");
                }
                self.out.push_str("</ac:task-list>");
            }
            6 => {
                let cols = 1 + self.rng.below(2);
                self.out.push_str("<table><tbody><tr>");
                for _ in 0..cols {
                    self.out.push_str("<th>");
                    self.inlines(1, false);
                    self.out.push_str("</th>");
                }
                self.out.push_str("</tr>");
                for _ in 0..=self.rng.below(2) {
                    self.out.push_str("<tr>");
                    for _ in 0..cols {
                        self.out.push_str("<td>");
                        if self.rng.chance(20) {
                            self.blocks(depth - 1);
                        } else {
                            self.inlines(2, false);
                        }
                        self.out.push_str("</td>");
                    }
                    self.out.push_str("</tr>");
                }
                self.out.push_str("</tbody></table>");
            }
            7 => {
                self.out.push_str(
                    "<ac:structured-macro ac:name=\"code\"><ac:plain-text-body><![CDATA[",
                );
                let body = format!("{}{}", self.rng.pick(TEXTS), self.rng.pick(TEXTS));
                self.out.push_str(&body.replace("]]>", "]] >"));
                self.out
                    .push_str("]]></ac:plain-text-body></ac:structured-macro>");
            }
            8 => {
                let name = self
                    .rng
                    .pick(&["info", "panel", "expand", "note", "excerpt"]);
                self.out.push_str(&format!(
                    "<ac:structured-macro ac:name=\"{name}\"><ac:rich-text-body><p>w</p>"
                ));
                self.blocks(depth - 1);
                self.out
                    .push_str("</ac:rich-text-body></ac:structured-macro>");
            }
            9 => {
                self.out.push_str("<blockquote><p>w</p>");
                self.blocks(depth - 1);
                self.out.push_str("</blockquote>");
            }
            10 => self.out.push_str("<hr />"),
            11 => {
                self.out.push_str(
                    "<ac:layout><ac:layout-section ac:type=\"two_equal\"><ac:layout-cell><p>w</p>",
                );
                self.blocks(depth - 1);
                self.out
                    .push_str("</ac:layout-cell><ac:layout-cell><p>w</p>");
                self.blocks(depth - 1);
                self.out
                    .push_str("</ac:layout-cell></ac:layout-section></ac:layout>");
            }
            12 => {
                self.out.push_str("<p style=\"text-align: center;\">");
                self.inlines(2, false);
                self.out.push_str("</p>");
            }
            13 => self.out.push_str("<ac:structured-macro ac:name=\"toc\" />"),
            14 => {
                let open = self.rng.pick(&[
                    "<ac:structured-macro ac:name=\"panel\"><ac:parameter ac:name=\"bgColor\">#E3FCEF</ac:parameter><ac:parameter ac:name=\"title\">A b</ac:parameter>",
                    "<ac:structured-macro ac:name=\"info\"><ac:parameter ac:name=\"title\">T</ac:parameter><ac:parameter ac:name=\"icon\">false</ac:parameter>",
                    "<ac:structured-macro ac:name=\"expand\"><ac:parameter ac:name=\"title\">More *here*</ac:parameter>",
                ]);
                self.out.push_str(open);
                self.out.push_str("<ac:rich-text-body><p>w</p>");
                self.blocks(depth - 1);
                self.out
                    .push_str("</ac:rich-text-body></ac:structured-macro>");
            }
            15 => {
                let lang = self.rng.pick(&["python", "c++", "text"]);
                self.out.push_str(&format!(
                    "<ac:structured-macro ac:name=\"code\"><ac:parameter ac:name=\"language\">{lang}</ac:parameter><ac:parameter ac:name=\"title\">t.py</ac:parameter><ac:plain-text-body><![CDATA["
                ));
                let body = format!("{}\n{}", self.rng.pick(TEXTS), self.rng.pick(TEXTS));
                self.out.push_str(&body.replace("]]>", "]] >"));
                self.out
                    .push_str("]]></ac:plain-text-body></ac:structured-macro>");
            }
            16 => {
                self.word_in(
                    "<ac:image><ri:attachment ri:filename=\"f.png\" /><ac:caption><p>",
                    "</p></ac:caption></ac:image>",
                );
            }
            17 => {
                let level = 1 + self.rng.below(3);
                let align = self.rng.pick(&["center", "right"]);
                self.out
                    .push_str(&format!("<h{level} style=\"text-align: {align};\">"));
                self.word();
                self.inlines(1, false);
                self.out.push_str(&format!("</h{level}>"));
            }
            18 => {
                self.out.push_str("<table><tbody><tr><th colspan=\"2\">");
                self.word();
                self.out.push_str("</th></tr><tr><td>");
                self.inlines(2, false);
                self.out
                    .push_str("</td><td style=\"background-color: #eee;\">");
                if self.rng.chance(50) {
                    self.blocks(depth - 1);
                } else {
                    self.inlines(2, false);
                }
                self.out.push_str("</td></tr></tbody></table>");
            }
            19 | 29 => {
                // Plain-text macros, with parameters or without.
                self.out.push_str(self.rng.pick(&[
                    "<ac:structured-macro ac:name=\"noformat\"><ac:plain-text-body><![CDATA[",
                    "<ac:structured-macro ac:name=\"plantuml\"><ac:parameter ac:name=\"atlassian-macro-output-type\">INLINE</ac:parameter><ac:plain-text-body><![CDATA[",
                ]));
                self.out
                    .push_str(&self.rng.pick(TEXTS).replace("]]>", "]] >"));
                self.out
                    .push_str("]]></ac:plain-text-body></ac:structured-macro>");
            }
            21 => {
                self.out.push_str("<pre>");
                self.out
                    .push_str(&self.rng.pick(TEXTS).replace('<', "&lt;"));
                self.out.push_str("</pre>");
            }
            22 => {
                self.out.push_str("<table><tbody><tr><th>");
                self.word();
                self.out.push_str("</th></tr><tr><td><ac:task-list><ac:task><ac:task-status>incomplete</ac:task-status><ac:task-body>");
                self.item_body(depth - 1);
                self.out
                    .push_str("</ac:task-body></ac:task></ac:task-list></td></tr></tbody></table>");
            }
            20 => {
                self.out.push_str("<p style=\"margin-left: 30.0px;\">");
                self.word();
                self.inlines(2, false);
                self.out.push_str("</p>");
            }
            23 => {
                // A macro with parameters, a rich body and blocks in it.
                self.out.push_str(
                    "<ac:structured-macro ac:name=\"details\"><ac:parameter ac:name=\"id\">d 1</ac:parameter><ac:rich-text-body>",
                );
                self.blocks(depth - 1);
                self.out
                    .push_str("</ac:rich-text-body></ac:structured-macro>");
            }
            24 => {
                // Paragraphs with breaks and spaces at their edges.
                self.out
                    .push_str(self.rng.pick(&["<p><br />", "<p>&nbsp;", "<p> ", "<p>\n"]));
                self.inlines(2, false);
                self.out.push_str(
                    self.rng
                        .pick(&["<br /></p>", "&nbsp;</p>", " </p>", "</p>"]),
                );
            }
            25 => {
                self.out.push_str("<table><tbody><tr><td>");
                self.blocks(depth - 1);
                self.out.push_str("</td><td><ul><li>");
                self.item_body(depth - 1);
                self.out.push_str("</li></ul></td></tr></tbody></table>");
            }
            26 => {
                self.out.push_str("<ul><li>");
                self.word();
                self.out.push_str(
                    "<ac:structured-macro ac:name=\"expand\"><ac:rich-text-body><p>w</p>",
                );
                self.blocks(depth - 1);
                self.out
                    .push_str("</ac:rich-text-body></ac:structured-macro></li></ul>");
            }
            28 => {
                // A table whose header cells come after a body row (kept as HTML).
                self.out.push_str("<table><tbody><tr><td>");
                self.inlines(2, false);
                self.out.push_str("</td></tr><tr><th>");
                self.word();
                self.out.push_str("</th></tr></tbody></table>");
            }
            27 => {
                let level = 1 + self.rng.below(6);
                self.out.push_str(&format!("<h{level}>"));
                self.out.push_str(self.rng.pick(&[
                    "<ac:structured-macro ac:name=\"anchor\"><ac:parameter ac:name=\"\">h</ac:parameter></ac:structured-macro>",
                    "<ac:image><ri:attachment ri:filename=\"f.png\" /></ac:image>",
                    "<ac:structured-macro ac:name=\"status\"><ac:parameter ac:name=\"title\">OK</ac:parameter></ac:structured-macro>",
                ]));
                self.word();
                self.out.push_str(&format!("</h{level}>"));
            }
            _ => self.word_in("<p>", "</p>"),
        }
    }
}

fn document(seed: u64) -> String {
    let mut g = Gen {
        rng: Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
        out: String::new(),
    };
    g.blocks(3);
    g.out
}

/// How many documents a run checks (about a second in a debug build).
const DOCS: u64 = 1500;

#[test]
fn generated_documents_keep_their_meaning() {
    let mut failures = Vec::new();
    for seed in 0..DOCS {
        let storage = document(seed);
        let md = storage_to_markdown(&storage).expect("converts").output;
        let back = markdown_to_storage(&md).expect("converts back").output;
        if normalized(&back).unwrap() != normalized(&storage).unwrap() {
            failures.push(format!(
                "seed {seed}\nstorage:  {storage:?}\nmarkdown: {md:?}\nback:     {back:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {DOCS} documents changed meaning; the first:\n{}",
        failures.len(),
        failures[0]
    );
}
