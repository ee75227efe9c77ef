//! Mentions with names: the converter writes a mention as `[@ACCOUNT_ID](confluence-user:ID)`;
//! a reader (or a model) wants `[@Display Name](confluence-user:ID)`. The names come from one
//! bulk lookup per body (v2 users-bulk, 250 ids a request), kept for a few minutes per site and
//! credential, so a page with twelve mentions costs one request, and the next page none. The
//! text after `@` is not stored: the name form converts back to the same mention.
//!
//! A credential that may not read users (no `read:user:confluence`) keeps the ids: the names
//! are a courtesy, never a reason for the read to fail.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use conflux_client::{Client, Credential};

/// How long a name is reused before it is asked again.
const TTL: Duration = Duration::from_secs(300);
/// Names kept at most (the oldest go first when full).
const CAPACITY: usize = 10_000;
/// Where a mention's link starts.
const USER_LINK: &str = "](confluence-user:";

/// `(credential key, account id)` → display name and when it was learned.
type Names = HashMap<(u64, String), (String, Instant)>;

static NAMES: LazyLock<Mutex<Names>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// One key per site and credential: names one credential may see are never shown to another.
fn credential_key(client: &Client) -> u64 {
    let mut h = DefaultHasher::new();
    match client.credential() {
        Credential::ApiToken(t) => ("api", t.site.as_str(), t.email).hash(&mut h),
        Credential::ScopedToken(t) => ("scoped", t.cloud_id.to_string(), t.email).hash(&mut h),
        Credential::OAuth(t) => ("oauth", t.cloud_id.to_string(), t.access.expose()).hash(&mut h),
        Credential::AccessToken(t) => {
            ("access", t.cloud_id.to_string(), t.token.expose()).hash(&mut h)
        }
    }
    h.finish()
}

/// The mentions of `markdown` whose text is still the bare `@ACCOUNT_ID`: `(start of the
/// text, end of the text, account id)`, the text's range including its `@`.
fn bare_mentions(markdown: &str) -> Vec<(usize, usize, String)> {
    let mut found = Vec::new();
    for (at, _) in markdown.match_indices(USER_LINK) {
        let rest = &markdown[at + USER_LINK.len()..];
        let Some(close) = rest.find(')') else {
            continue;
        };
        let id = percent_decode(&rest[..close]);
        let Some(open) = markdown[..at].rfind("[@") else {
            continue;
        };
        let text = &markdown[open + 2..at];
        if text == id {
            found.push((open + 1, at, id));
        }
    }
    found
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// A display name as link text: the brackets and backslashes that would end or bend it escaped.
fn link_text(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    for c in name.chars() {
        if matches!(c, '[' | ']' | '\\' | '*' | '_' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `markdown` with every bare mention named, as far as the credential may read the names.
pub(crate) async fn with_names(client: &Client, markdown: String) -> String {
    let mentions = bare_mentions(&markdown);
    if mentions.is_empty() {
        return markdown;
    }
    let key = credential_key(client);
    let now = Instant::now();
    let mut names: HashMap<String, String> = HashMap::new();
    let mut unknown: Vec<String> = Vec::new();
    {
        let cache = NAMES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (_, _, id) in &mentions {
            match cache.get(&(key, id.clone())) {
                Some((name, at)) if now.duration_since(*at) < TTL => {
                    names.insert(id.clone(), name.clone());
                }
                _ if !unknown.contains(id) => unknown.push(id.clone()),
                _ => {}
            }
        }
    }
    if !unknown.is_empty()
        && let Ok(users) = client.users().bulk(&unknown).await
    {
        let mut cache = NAMES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() + users.len() > CAPACITY {
            cache.retain(|_, (_, at)| now.duration_since(*at) < TTL);
            if cache.len() + users.len() > CAPACITY {
                cache.clear();
            }
        }
        for u in users {
            if u.display_name.is_empty() {
                continue;
            }
            cache.insert((key, u.account_id.clone()), (u.display_name.clone(), now));
            names.insert(u.account_id, u.display_name);
        }
    }
    let mut out = String::with_capacity(markdown.len() + mentions.len() * 8);
    let mut last = 0;
    for (start, end, id) in &mentions {
        if let Some(name) = names.get(id) {
            out.push_str(&markdown[last..*start]);
            out.push('@');
            out.push_str(&link_text(name));
            last = *end;
        }
    }
    out.push_str(&markdown[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_mentions_are_found_and_named_ones_left() {
        let md = "Ask [@557058:abc](confluence-user:557058%3Aabc) or \
                  [@Ann Lee](confluence-user:u2), see [@x](https://example.com) and [@u3](confluence-user:u3).";
        let found = bare_mentions(md);
        let ids: Vec<&str> = found.iter().map(|(_, _, id)| id.as_str()).collect();
        assert_eq!(ids, ["557058:abc", "u3"]);
        let (start, end, _) = &found[0];
        assert_eq!(&md[*start..*end], "@557058:abc");
    }

    #[test]
    fn names_cannot_break_the_link() {
        assert_eq!(link_text("A [b] *c*"), "A \\[b\\] \\*c\\*");
    }

    /// The named form converts back to the same mention as the bare one.
    #[test]
    fn named_mentions_convert_back_to_the_same_storage() {
        let bare = "Hi [@u1](confluence-user:u1)\n";
        let named = "Hi [@Ann \\[ops\\] Lee](confluence-user:u1)\n";
        let a = conflux_convert::markdown_to_storage(bare).map(|o| o.output);
        let b = conflux_convert::markdown_to_storage(named).map(|o| o.output);
        assert_eq!(a.ok(), b.ok());
    }
}
