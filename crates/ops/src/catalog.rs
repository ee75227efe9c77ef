//! The tool surface: eight tools, their actions, whether each writes, and the Confluence
//! operations each action calls (so the scopes it needs come from Atlassian's own table).

use conflux_catalog::{Operation, ScopeSet};

/// One action of one tool.
#[derive(Debug, Clone, Copy)]
pub struct ActionSpec {
    pub name: &'static str,
    /// Changes something in Confluence (left out in read-only mode).
    pub write: bool,
    /// Removes or overwrites content.
    pub destructive: bool,
    /// The operations the action calls, each the preferred one of its step.
    pub operations: &'static [Operation],
    pub summary: &'static str,
    /// Confluence Cloud offers no public API for what the action asks; it answers with that
    /// explanation (and what does exist) instead of a mysterious 401.
    pub no_public_api: bool,
    /// Whether the client may take another route for the same job (false where the other
    /// route would silently answer something else, e.g. child pages without the folders).
    pub fallback: bool,
}

/// One tool.
#[derive(Debug, Clone, Copy)]
pub struct ToolSpec {
    pub name: &'static str,
    pub actions: &'static [ActionSpec],
}

const fn read(
    name: &'static str,
    operations: &'static [Operation],
    summary: &'static str,
) -> ActionSpec {
    ActionSpec {
        name,
        write: false,
        destructive: false,
        operations,
        summary,
        no_public_api: false,
        fallback: true,
    }
}

const fn write(
    name: &'static str,
    operations: &'static [Operation],
    summary: &'static str,
) -> ActionSpec {
    ActionSpec {
        write: true,
        ..read(name, operations, summary)
    }
}

const fn destroy(
    name: &'static str,
    operations: &'static [Operation],
    summary: &'static str,
) -> ActionSpec {
    ActionSpec {
        destructive: true,
        ..write(name, operations, summary)
    }
}

/// A read that must use exactly its operations: no other route gives the same answer.
const fn read_exact(
    name: &'static str,
    operations: &'static [Operation],
    summary: &'static str,
) -> ActionSpec {
    ActionSpec {
        fallback: false,
        ..read(name, operations, summary)
    }
}

/// An action that explains why Confluence cannot do it (after checking what `operations` read).
const fn no_api(
    name: &'static str,
    operations: &'static [Operation],
    summary: &'static str,
) -> ActionSpec {
    ActionSpec {
        no_public_api: true,
        ..read(name, operations, summary)
    }
}

use Operation as O;

/// Every tool, in the order `tools/list` shows them.
pub const TOOLS: &[ToolSpec] = &[
    ToolSpec {
        name: "pages",
        actions: &[
            read(
                "list",
                &[O::GetPages],
                "pages filtered by spaceId, title, status",
            ),
            read(
                "get",
                &[O::GetPageById],
                "metadata; with bodyFormat the body too",
            ),
            read(
                "getBody",
                &[O::GetPageById],
                "the body in bodyFormat, capped by maxBytes",
            ),
            read(
                "outline",
                &[O::GetPageById],
                "heading tree with section ids and sizes",
            ),
            read(
                "getSection",
                &[O::GetPageById],
                "one section, by sectionId or heading",
            ),
            write(
                "create",
                &[O::CreatePage],
                "a new page (body or bodyFile, parentId)",
            ),
            destroy(
                "update",
                &[O::GetPageById, O::UpdatePage],
                "new title, body or parentId",
            ),
            destroy(
                "updateSection",
                &[O::GetPageById, O::UpdatePage],
                "replace one section's content, keeping its heading",
            ),
            destroy(
                "replace",
                &[O::GetPageById, O::UpdatePage],
                "find-and-replace; refused unless there are expectedCount matches",
            ),
            destroy(
                "delete",
                &[O::DeletePage],
                "move to the trash (purge: out of it)",
            ),
        ],
    },
    ToolSpec {
        name: "spaces",
        actions: &[
            read("list", &[O::GetSpacesV2], "spaces the account can see"),
            read("get", &[O::GetSpaceById], "one space by id or key"),
        ],
    },
    ToolSpec {
        name: "search",
        actions: &[read("cql", &[O::SearchByCQL], "CQL search with excerpts")],
    },
    ToolSpec {
        name: "content",
        actions: &[
            read(
                "children",
                &[O::GetPageDirectChildren],
                "direct children (pages, folders, ...)",
            ),
            read("ancestors", &[O::GetPageAncestors], "ancestors, root first"),
            read(
                "descendants",
                &[O::GetPageDescendants],
                "descendants down to depth",
            ),
            read_exact(
                "folders",
                &[O::GetPageDirectChildren],
                "direct children that are folders",
            ),
            read(
                "tree",
                &[O::GetSpaceById, O::GetPageById, O::GetPageDescendants],
                "a space's page tree from its homepage",
            ),
            write(
                "createFolder",
                &[O::CreateFolder],
                "a new folder (parentId)",
            ),
        ],
    },
    ToolSpec {
        name: "comments",
        actions: &[
            read(
                "getFooter",
                &[O::GetPageFooterComments, O::GetFooterCommentChildren],
                "footer comment threads",
            ),
            write(
                "addFooter",
                &[O::CreateFooterComment],
                "a footer comment, or a reply (parentCommentId)",
            ),
            read(
                "getInline",
                &[O::GetPageInlineComments, O::GetInlineCommentChildren],
                "inline comment threads",
            ),
        ],
    },
    ToolSpec {
        name: "labels",
        actions: &[
            read("getForPage", &[O::GetPageLabels], "labels of a page"),
            write(
                "addToPage",
                &[O::AddLabelsToContent],
                "add labels to a page",
            ),
        ],
    },
    ToolSpec {
        name: "attachments",
        actions: &[
            read(
                "listForPage",
                &[O::GetPageAttachments],
                "attachments of a page",
            ),
            read("get", &[O::GetAttachmentById], "metadata and download link"),
            read(
                "download",
                &[O::GetAttachmentById, O::DownloadAttatchment],
                "the bytes (base64 and a resource), capped by maxBytes",
            ),
            write(
                "upload",
                &[O::CreateAttachment],
                "attach a file (data or filePath)",
            ),
        ],
    },
    ToolSpec {
        name: "versions",
        actions: &[
            read(
                "listForPage",
                &[O::GetPageVersions],
                "versions, newest first",
            ),
            read("get", &[O::GetPageById], "the body at a version"),
            read("diff", &[O::GetPageById], "unified diff of two versions"),
        ],
    },
    ToolSpec {
        name: "databases",
        actions: &[
            read(
                "get",
                &[O::GetDatabaseById],
                "metadata (title, space, parent)",
            ),
            no_api(
                "entries",
                &[O::GetDatabaseById],
                "rows: no public API exists; says what does",
            ),
            write("create", &[O::CreateDatabase], "a new database (parentId)"),
            destroy(
                "delete",
                &[O::GetDatabaseById, O::DeleteDatabase],
                "delete a database",
            ),
        ],
    },
    ToolSpec {
        name: "connection",
        actions: &[read(
            "check",
            &[],
            "base URLs, scopes, each action's status and fix",
        )],
    },
];

/// The tool called `name`.
pub fn tool(name: &str) -> Option<&'static ToolSpec> {
    TOOLS.iter().find(|t| t.name == name)
}

impl ToolSpec {
    pub fn action(&self, name: &str) -> Option<&'static ActionSpec> {
        self.actions.iter().find(|a| a.name == name)
    }

    /// Action names offered in this mode.
    pub fn action_names(&self, read_only: bool) -> Vec<&'static str> {
        self.actions
            .iter()
            .filter(|a| !(read_only && a.write))
            .map(|a| a.name)
            .collect()
    }

    pub fn has_writes(&self) -> bool {
        self.actions.iter().any(|a| a.write)
    }

    pub fn has_destructive(&self) -> bool {
        self.actions.iter().any(|a| a.destructive)
    }
}

impl ActionSpec {
    /// Whether a credential holding exactly `granted` can perform the action: every step has
    /// an operation (the preferred one or a fallback) whose classic or granular scopes it holds.
    pub fn possible_with(&self, granted: ScopeSet) -> bool {
        self.operations.iter().all(|preferred| {
            let steps = if self.fallback {
                conflux_client::api::candidates::for_preferred(*preferred)
            } else {
                vec![*preferred]
            };
            steps
                .iter()
                .any(|op| matches!(op.check(granted), conflux_catalog::Verdict::Satisfied(_)))
        })
    }

    /// The granular scopes this action needs: each of its operations' granular set.
    pub fn scopes(&self) -> ScopeSet {
        self.operations
            .iter()
            .fold(ScopeSet::EMPTY, |acc, op| acc.union(op.info().granular))
    }
}

/// The granular scopes the named tools need (all tools when `tools` is empty), without write
/// actions when `read_only`.
pub fn scopes_for(tools: &[String], read_only: bool) -> ScopeSet {
    TOOLS
        .iter()
        .filter(|t| tools.is_empty() || tools.iter().any(|n| n == t.name))
        .flat_map(|t| t.actions.iter())
        .filter(|a| !(read_only && a.write))
        .fold(ScopeSet::EMPTY, |acc, a| acc.union(a.scopes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_scopes_hold_no_write_scope() {
        let ro = scopes_for(&[], true);
        assert!(!ro.is_empty());
        assert!(
            ro.names()
                .iter()
                .all(|s| !s.starts_with("write:") && !s.starts_with("delete:")),
            "{:?}",
            ro.names()
        );
        let full = scopes_for(&[], false);
        assert!(full.contains_all(ro));
        assert!(full.names().contains(&"write:page:confluence"));
        assert!(full.names().contains(&"delete:page:confluence"));
    }

    #[test]
    fn tool_filter_narrows_scopes() {
        let search = scopes_for(&["search".into()], true);
        assert_eq!(search.names(), vec!["read:content-details:confluence"]);
    }

    /// Every action that calls Confluence declares what it calls; only the connection check,
    /// which probes whatever the other actions need, declares nothing.
    #[test]
    fn every_action_has_scopes() {
        for t in TOOLS {
            for a in t.actions {
                if t.name == "connection" {
                    assert!(a.operations.is_empty());
                    continue;
                }
                assert!(!a.scopes().is_empty(), "{}.{}", t.name, a.name);
            }
        }
    }
}
