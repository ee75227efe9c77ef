use super::{ToolDef, spec};
use crate::schema::*;

pub(crate) fn def() -> ToolDef {
    let mut params = vec![
        param(
            "id",
            string("Page id (getFooter, getInline, addFooter)."),
            &["getFooter", "getInline"],
        ),
        param(
            "parentCommentId",
            string("addFooter: reply to this footer comment."),
            &[],
        ),
        param(
            "body",
            string("addFooter: the comment, in bodyFormat (Markdown by default)."),
            &["addFooter"],
        ),
        param(
            "bodyFormat",
            enumeration(
                &["markdown", "storage", "atlas_doc_format", "view"],
                "Format of comment bodies in and out (default markdown).",
            ),
            &[],
        ),
    ];
    paging(&mut params);
    let mut output = listing(comment_item(), "getFooter, getInline");
    output.push((
        "comment",
        described(comment_item(), "The new comment (addFooter)."),
    ));
    ToolDef {
        spec: spec("comments"),
        title: "Confluence comments",
        description: "Page comments: read footer and inline comments as threads (replies under their comment, with author and date), add a footer comment or a reply (parentCommentId).",
        params,
        output,
    }
}
