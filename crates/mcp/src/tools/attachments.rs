use serde_json::json;

use super::{ToolDef, spec};
use crate::schema::*;

pub(crate) fn def() -> ToolDef {
    let mut params = vec![
        param(
            "id",
            string("Page id (listForPage, upload) or attachment id (get, download)."),
            &["listForPage", "get", "download", "upload"],
        ),
        param(
            "pageId",
            string("Page holding the attachment, if Confluence does not say."),
            &[],
        ),
        param("fileName", string("File name (default: filePath's)."), &[]),
        param("mediaType", string("MIME type."), &[]),
        param("data", string("File bytes, base64."), &[]),
        param(
            "filePath",
            string("Instead of data: a file under --files-root."),
            &[],
        ),
        param(
            "outputFile",
            string("Write the bytes to this file under --files-root."),
            &[],
        ),
        param("comment", string("Attachment comment."), &[]),
        param(
            "maxBytes",
            integer("Refuse larger files (default 5 MiB).", 1),
            &[],
        ),
    ];
    paging(&mut params);
    let mut output = listing(attachment_item(), "listForPage");
    output.extend([
        ("attachment", described(attachment_item(), "The attachment (get, download).")),
        ("mediaType", json!({ "type": "string", "description": "download: the bytes' MIME type." })),
        ("size", json!({ "type": "integer", "description": "download, upload: bytes." })),
        ("data", json!({ "type": "string", "description": "download: the bytes, base64 (unless outputFile)." })),
        ("file", json!({ "type": "string", "description": "download: where the bytes were written." })),
        ("id", json!({ "type": "string", "description": "upload: the new attachment id." })),
        ("pageId", json!({ "type": "string", "description": "upload: the page." })),
        ("title", json!({ "type": "string", "description": "upload: the file name." })),
    ]);
    ToolDef {
        spec: spec("attachments"),
        title: "Confluence attachments",
        description: "Page attachments.",
        params,
        output,
    }
}
