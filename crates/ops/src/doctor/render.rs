//! The doctor report as text for people.

use std::fmt::Write as _;

use super::{Report, ScopeSource, Status};

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::MissingScopes => "MISSING SCOPES",
        Status::Forbidden => "FORBIDDEN",
        Status::Unsupported => "UNSUPPORTED",
        Status::Error => "UNKNOWN",
    }
}

/// A table a person reads top to bottom: credential, routes, scopes, actions, the fix.
pub fn render_text(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "Credential: {}", r.credential_kind.describe());
    if let Some(c) = &r.cloud_id {
        let _ = writeln!(o, "Cloud id:   {c}");
    }
    let _ = writeln!(o, "\nBase URLs");
    for route in &r.routes {
        let status = route
            .status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "-".into());
        let mark = if route.accepts { "accepts" } else { "refuses" };
        let _ = writeln!(
            o,
            "  {:<8} {:<7} {:>4}  {}  ({})",
            route.route, mark, status, route.url, route.detail
        );
    }
    let _ = writeln!(o, "\nScopes");
    match (&r.granted_scopes, r.scope_source) {
        (_, ScopeSource::Unscoped) => {
            let _ = writeln!(o, "  unscoped: the account's own permissions apply");
        }
        (Some(g), source) => {
            let from = match source {
                ScopeSource::Grant => "granted",
                ScopeSource::Configured => "configured",
                _ => "proven by probes",
            };
            let _ = writeln!(
                o,
                "  {from}: {}",
                if g.is_empty() {
                    "(none)".to_string()
                } else {
                    g.join(" ")
                }
            );
            if !r.proven_missing.is_empty() {
                let _ = writeln!(o, "  proven missing: {}", r.proven_missing.join(" "));
            }
        }
        (None, _) => {
            let _ = writeln!(o, "  unknown");
        }
    }
    if r.scope_source == ScopeSource::Inferred {
        let _ = writeln!(
            o,
            "  gateway checks scopes first: {}",
            match r.scope_check_first {
                Some(true) => "yes (write probes are conclusive)",
                Some(false) => "no (write probes cannot tell)",
                None => "could not tell",
            }
        );
    }
    let _ = writeln!(o, "\nTool actions");
    for a in &r.actions {
        let mut line = format!(
            "  {:<12} {:<14} {:<15}",
            a.tool,
            a.action,
            status_word(a.status)
        );
        if !a.missing_scopes.is_empty() {
            let _ = write!(line, " add {}", a.missing_scopes.join(", "));
            if !a.classic_alternative.is_empty() {
                let _ = write!(line, " (or classic {})", a.classic_alternative.join(", "));
            }
        } else if !a.detail.is_empty() {
            let _ = write!(line, " {}", a.detail);
        }
        let _ = writeln!(o, "{}", line.trim_end());
    }
    let ok = r.actions.iter().filter(|a| a.status == Status::Ok).count();
    let _ = writeln!(
        o,
        "\n{ok} of {} actions work with this credential.",
        r.actions.len()
    );
    if !r.scopes_to_add.is_empty() {
        let _ = writeln!(
            o,
            "To make every action work, add: {}",
            r.scopes_to_add.join(" ")
        );
        if let Some(w) = &r.where_to_add {
            let _ = writeln!(o, "Where: {w}");
        }
    }
    for s in &r.optional_scopes {
        let _ = writeln!(o, "Optional: {} gives {}.", s.scope, s.gives);
    }
    o
}
