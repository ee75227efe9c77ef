use super::{ToolDef, spec};
use crate::schema::*;

pub(crate) fn def() -> ToolDef {
    let mut params = vec![
        param("id", string("Page id."), &["getFooter", "getInline"]),
        param(
            "parentCommentId",
            string("Reply to this footer comment."),
            &[],
        ),
        param(
            "body",
            string("Comment text in bodyFormat."),
            &["addFooter"],
        ),
        param(
            "bodyFormat",
            enumeration(
                &["markdown", "storage", "atlas_doc_format", "view"],
                "Body format in and out (default markdown).",
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
        description: "Page comments, as threads with author and date.",
        params,
        output,
    }
}
