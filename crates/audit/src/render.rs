//! The audit report as Markdown.

use std::fmt::Write as _;

use crate::AuditReport;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render_markdown(r: &AuditReport) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Confluence security posture\n");
    let _ = writeln!(
        o,
        "Site: {}  \nRead with: {}\n",
        r.site,
        r.credential_kind.describe()
    );

    let _ = writeln!(o, "## Spaces\n");
    if r.spaces.is_empty() {
        let _ = writeln!(o, "No space could be read.\n");
    } else {
        let _ = writeln!(
            o,
            "| space | type | anonymous read | guests | administrators | grants |"
        );
        let _ = writeln!(o, "|---|---|---|---|---|---|");
        for s in &r.spaces {
            let _ = writeln!(
                o,
                "| {} ({}) | {} | {} | {} | {} | {} |",
                cell(&s.name),
                cell(&s.key),
                s.space_type,
                if s.anonymous_read { "**yes**" } else { "no" },
                if s.guests.is_empty() {
                    "none".to_string()
                } else {
                    cell(&s.guests.join(", "))
                },
                if s.administrators.is_empty() {
                    "none".to_string()
                } else {
                    cell(&s.administrators.join(", "))
                },
                s.grants.len()
            );
        }
        let _ = writeln!(o);
        for s in &r.spaces {
            let _ = writeln!(o, "### {} ({})\n", cell(&s.name), cell(&s.key));
            for g in &s.grants {
                let who = match (&g.name, g.kind.as_str()) {
                    (Some(n), _) => format!("{n} ({})", g.who),
                    (None, "group") => format!("group {}", g.who),
                    (None, _) => g.who.clone(),
                };
                let _ = writeln!(o, "- {}: {}", cell(&who), g.operations.join(", "));
            }
            let _ = writeln!(o);
        }
    }

    let _ = writeln!(o, "## Groups\n");
    if r.groups.is_empty() {
        let _ = writeln!(o, "No group could be read.\n");
    }
    for g in &r.groups {
        let names: Vec<String> = g
            .members
            .iter()
            .map(|m| {
                if m.external {
                    format!("{} (guest)", m.display_name)
                } else {
                    m.display_name.clone()
                }
            })
            .collect();
        let _ = writeln!(
            o,
            "- **{}** ({} members): {}",
            cell(&g.name),
            g.members.len(),
            cell(&names.join(", "))
        );
    }
    let _ = writeln!(o);

    let _ = writeln!(o, "## Accounts with broad access\n");
    if r.broad_access.is_empty() {
        let _ = writeln!(
            o,
            "None: no account administers two or more spaces or reads every space.\n"
        );
    } else {
        let _ = writeln!(o, "| account | guest | administers | reads |");
        let _ = writeln!(o, "|---|---|---|---|");
        for b in &r.broad_access {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} of {} spaces |",
                cell(&b.display_name),
                if b.external { "yes" } else { "no" },
                if b.administers.is_empty() {
                    "none".to_string()
                } else {
                    b.administers.join(", ")
                },
                b.reads,
                b.spaces
            );
        }
        let _ = writeln!(o);
    }

    if !r.gaps.is_empty() {
        let _ = writeln!(o, "## Not readable with this credential\n");
        for g in &r.gaps {
            let _ = writeln!(o, "- {}: {} — {}", g.section, g.error, g.hint);
        }
        let _ = writeln!(o);
    }

    let _ = writeln!(o, "## Not covered: no public API\n");
    for n in r.not_covered {
        let _ = writeln!(o, "- **{}**: {}", n.item, n.why);
    }
    o
}
