//! v1 people calls outside the content service: CQL user search (`/search/user`) and the group
//! picker (`/group/picker`).
//!
//! User CQL takes only the user fields (as Cloud's endpoint documents): `type = user`,
//! `user` / `user.accountid` with `=`, `!=`, `in (…)`, and `user.fullname ~ "text"` (words of
//! the display name, `*` wildcards), joined by `AND` / `OR` (AND binds tighter), without
//! parentheses. Anything else is a 400 naming what was not understood.

use serde_json::{Value, json};

use crate::handler::Ctx;
use crate::http::{ApiErr, ApiResult, err, v1_page};
use crate::state::{State, User, iso};

/// One comparison of user CQL.
#[derive(Debug, PartialEq)]
enum Clause {
    /// `type = user` (always true here).
    TypeUser,
    AccountIn(Vec<String>, bool),
    NameLike(String),
}

/// Clauses in disjunctive form: any group whose clauses all hold.
type Query = Vec<Vec<Clause>>;

fn tokens(cql: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = cql.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '"' | '\'' => {
                chars.next();
                let mut s = String::from("\"");
                loop {
                    match chars.next() {
                        Some(x) if x == c => break,
                        Some('\\') => s.extend(chars.next()),
                        Some(x) => s.push(x),
                        None => return Err("an unterminated string".into()),
                    }
                }
                out.push(s);
            }
            '(' | ')' | ',' | '~' => {
                out.push(c.to_string());
                chars.next();
            }
            '=' | '!' => {
                chars.next();
                if c == '!' {
                    if chars.next() != Some('=') {
                        return Err("'!' without '='".into());
                    }
                    out.push("!=".into());
                } else {
                    out.push("=".into());
                }
            }
            _ => {
                let mut s = String::new();
                while let Some(&x) = chars.peek() {
                    if x.is_whitespace() || "()=!,~\"'".contains(x) {
                        break;
                    }
                    s.push(x);
                    chars.next();
                }
                out.push(s);
            }
        }
    }
    Ok(out)
}

/// A literal: a quoted string (its text) or a bare word.
fn literal(t: Option<&String>) -> Result<String, String> {
    match t {
        Some(t) if t.starts_with('"') => Ok(t[1..].to_string()),
        Some(t) if !t.is_empty() && !"(),=~".contains(t.as_str()) => Ok(t.clone()),
        _ => Err("a value".into()),
    }
}

fn parse(cql: &str) -> Result<Query, String> {
    let toks = tokens(cql)?;
    let mut i = 0;
    let mut query: Query = vec![Vec::new()];
    loop {
        let field = toks
            .get(i)
            .map(|f| f.to_ascii_lowercase())
            .ok_or("a field")?;
        let op = toks.get(i + 1).map(|o| o.to_ascii_lowercase());
        i += 2;
        let clause = match (field.as_str(), op.as_deref()) {
            ("type", Some("=")) => {
                let v = literal(toks.get(i))?;
                i += 1;
                if !v.eq_ignore_ascii_case("user") {
                    return Err(format!("type {v:?} (only users are searched here)"));
                }
                Clause::TypeUser
            }
            ("user" | "user.accountid", Some(op @ ("=" | "!="))) => {
                let v = literal(toks.get(i))?;
                i += 1;
                Clause::AccountIn(vec![v], op == "!=")
            }
            ("user" | "user.accountid", Some(op @ ("in" | "not"))) => {
                let negate = op == "not";
                if negate {
                    if toks.get(i).map(|t| t.to_ascii_lowercase()).as_deref() != Some("in") {
                        return Err("NOT IN".into());
                    }
                    i += 1;
                }
                if toks.get(i).map(String::as_str) != Some("(") {
                    return Err("'(' after IN".into());
                }
                i += 1;
                let mut ids = Vec::new();
                loop {
                    ids.push(literal(toks.get(i))?);
                    i += 1;
                    match toks.get(i).map(String::as_str) {
                        Some(",") => i += 1,
                        Some(")") => {
                            i += 1;
                            break;
                        }
                        _ => return Err("',' or ')' in the IN list".into()),
                    }
                }
                Clause::AccountIn(ids, negate)
            }
            ("user.fullname", Some("~")) => {
                let v = literal(toks.get(i))?;
                i += 1;
                Clause::NameLike(v)
            }
            (f, _) => {
                return Err(format!(
                    "{f:?} with this operator (user search takes type, user, user.accountid and user.fullname)"
                ));
            }
        };
        if let Some(group) = query.last_mut() {
            group.push(clause);
        }
        match toks.get(i).map(|t| t.to_ascii_lowercase()).as_deref() {
            None => break,
            Some("and") => i += 1,
            Some("or") => {
                i += 1;
                query.push(Vec::new());
            }
            Some(other) => return Err(format!("AND or OR, not {other:?}")),
        }
    }
    Ok(query)
}

/// Whether a display name matches `~ text`: every word of the text starts a word of the name
/// (case-insensitive; `*` is a wildcard).
fn name_like(name: &str, text: &str) -> bool {
    let words: Vec<String> = name.split_whitespace().map(|w| w.to_lowercase()).collect();
    text.split_whitespace().all(|t| {
        let t = t.to_lowercase();
        let t = t.trim_matches('*');
        words.iter().any(|w| w.contains(t))
    })
}

fn holds(c: &Clause, u: &User) -> bool {
    match c {
        Clause::TypeUser => true,
        Clause::AccountIn(ids, negate) => ids.contains(&u.account_id) != *negate,
        Clause::NameLike(text) => name_like(&u.display_name, text),
    }
}

/// `GET /search/user?cql=`: the site's active users a user CQL query matches, as search
/// results (`user` filled, `entityType: user`). `sitePermissionTypeFilter`: `none` (default,
/// licensed users: no guests), `externalCollaborator` (guests only) or `all`.
pub(crate) fn search_user(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let started = std::time::Instant::now();
    let Some(cql) = ctx
        .req
        .q("cql")
        .filter(|c| !c.trim().is_empty())
        .map(String::from)
    else {
        return err(400, "The CQL query parameter 'cql' is required.");
    };
    let query = parse(&cql)
        .map_err(|e| ApiErr::Status(400, format!("Could not parse cql : {cql} (expected {e})")))?;
    let filter = ctx.req.q("sitePermissionTypeFilter").unwrap_or("none");
    let guests = match filter {
        "none" => Some(false),
        "externalCollaborator" => Some(true),
        "all" => None,
        other => return err(400, format!("Invalid sitePermissionTypeFilter {other:?}.")),
    };
    ctx.checkpoint()?;
    let now = st.now_ms();
    let items: Vec<Value> = st
        .users
        .iter()
        .filter(|u| !u.disabled && guests.is_none_or(|g| u.guest == g))
        .filter(|u| query.iter().any(|group| group.iter().all(|c| holds(c, u))))
        .map(|u| {
            json!({
                "user": crate::v1::user_v1(st, &u.account_id),
                "title": u.display_name,
                "excerpt": "",
                "url": format!("/people/{}", u.account_id),
                "breadcrumbs": [],
                "entityType": "user",
                "iconCssClass": "aui-icon content-type-profile",
                "lastModified": iso(now),
                "score": 0.0,
            })
        })
        .collect();
    let total = items.len();
    let extra = json!({
        "totalSize": total,
        "cqlQuery": cql,
        "searchDuration": started.elapsed().as_millis() as u64,
    });
    v1_page(ctx.req, ctx.site(), items, extra)
}

/// `GET /group/picker?query=`: groups whose name contains the query (case-insensitive), by
/// name; `shouldReturnTotalSize=true` adds `totalSize`.
pub(crate) fn group_picker(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let Some(q) = ctx.req.q("query").map(str::to_lowercase) else {
        return err(400, "The query parameter 'query' is required.");
    };
    ctx.checkpoint()?;
    let mut groups: Vec<_> = st
        .groups
        .iter()
        .filter(|g| g.name.to_lowercase().contains(&q))
        .collect();
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    let total = groups.len();
    let items = groups
        .into_iter()
        .map(|g| {
            json!({"type": "group", "name": g.name, "id": g.id,
            "_links": {"self": format!("{}/wiki/rest/api/group/by-id?id={}", ctx.site(), g.id)}})
        })
        .collect();
    let extra = if ctx.req.q_bool("shouldReturnTotalSize") {
        json!({"totalSize": total})
    } else {
        json!({})
    };
    crate::http::v1_page_with(ctx.req, ctx.site(), items, extra, 200, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_cql() {
        assert_eq!(
            parse(r#"type = user AND user.fullname ~ "ada""#).unwrap(),
            vec![vec![Clause::TypeUser, Clause::NameLike("ada".into())]]
        );
        assert_eq!(
            parse(r#"user.accountid in ("a", 'b') or user != c"#).unwrap(),
            vec![
                vec![Clause::AccountIn(vec!["a".into(), "b".into()], false)],
                vec![Clause::AccountIn(vec!["c".into()], true)]
            ]
        );
        assert!(parse("type = page").is_err());
        assert!(parse("title ~ x").is_err());
        assert!(parse(r#"user.fullname ~ "open"#).is_err());
        assert!(name_like("Ada Lovelace", "love*"));
        assert!(name_like("Ada Lovelace", "ada lov"));
        assert!(!name_like("Ada Lovelace", "bob"));
    }
}
