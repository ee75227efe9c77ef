use serde_json::json;

use super::{ToolDef, spec};
use crate::schema::*;

pub(crate) fn def() -> ToolDef {
    let mut params = vec![
        param(
            "id",
            string("listForPage, upload: the page id. get, download: the attachment id."),
            &["listForPage", "get", "download", "upload"],
        ),
        param(
            "pageId",
            string("download: the page holding the attachment, when Confluence does not say."),
            &[],
        ),
        param(
            "fileName",
            string("upload: the file name (defaults to filePath's)."),
            &[],
        ),
        param(
            "mediaType",
            string("upload: MIME type (default application/octet-stream)."),
            &[],
        ),
        param("data", string("upload: the file's bytes, base64."), &[]),
        param(
            "filePath",
            string(
                "upload: instead of data, a local file, relative to the server's --files-root directory; refused when there is none.",
            ),
            &[],
        ),
        param(
            "outputFile",
            string(
                "download: write the bytes to this local file, relative to the server's --files-root directory; refused when there is none.",
            ),
            &[],
        ),
        param("comment", string("upload: the attachment comment."), &[]),
        param(
            "maxBytes",
            integer(
                "download: refuse files larger than this (default 5 MiB).",
                1,
            ),
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
        description: "Page attachments: list, get metadata with the download link, download the bytes (base64 and an \
            embedded resource, size-capped), upload a file.",
        params,
        output,
    }
}
