//! The simulator's own reading of Atlassian's scope table (`crates/catalog/data/scopes.tsv`).
//!
//! Deliberately independent of `conflux-catalog`: the client checks scopes with that crate, the
//! simulator with this module, so a bug in one cannot hide the same bug in the other.

use std::collections::BTreeSet;

const TSV: &str = include_str!("../../catalog/data/scopes.tsv");

/// One operation of the table.
#[derive(Clone, Debug)]
pub(crate) struct OpRow {
    pub v2: bool,
    pub method: String,
    pub template: String,
    pub operation_id: String,
    pub classic: Vec<String>,
    pub granular: Vec<String>,
    pub deprecated: bool,
}

impl OpRow {
    /// OpenAPI `security` semantics: all classic scopes, or all granular scopes. A row with no
    /// scopes at all is not opened by any scoped credential.
    pub fn satisfied_by(&self, granted: &BTreeSet<String>) -> bool {
        let all = |set: &[String]| !set.is_empty() && set.iter().all(|s| granted.contains(s));
        all(&self.classic) || all(&self.granular)
    }
}

/// The parsed table plus a path-template matcher.
#[derive(Debug)]
pub(crate) struct ScopeTable {
    rows: Vec<OpRow>,
}

impl ScopeTable {
    pub fn load() -> ScopeTable {
        let mut lines = TSV.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
        let col = |name: &str| header.iter().position(|h| *h == name);
        let cols = (
            col("api"),
            col("method"),
            col("path"),
            col("operationId"),
            col("classic_scopes"),
            col("granular_scopes"),
            col("deprecated"),
        );
        let mut rows = Vec::new();
        if let (Some(a), Some(m), Some(p), Some(o), Some(c), Some(g), Some(d)) = cols {
            for line in lines {
                let f: Vec<&str> = line.split('\t').collect();
                let get = |i: usize| f.get(i).copied().unwrap_or("");
                let split = |s: &str| -> Vec<String> {
                    s.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect()
                };
                rows.push(OpRow {
                    v2: get(a) == "v2",
                    method: get(m).to_string(),
                    template: get(p).to_string(),
                    operation_id: get(o).to_string(),
                    classic: split(get(c)),
                    granular: split(get(g)),
                    deprecated: !get(d).trim().is_empty(),
                });
            }
        }
        ScopeTable { rows }
    }

    /// The operation `method path` is, if the table has it. Literal segments beat `{param}`s,
    /// so `/content/search` is `searchContentByCQL`, not `getContentById`.
    pub fn find(&self, method: &str, path: &str) -> Option<&OpRow> {
        best_match(
            self.rows
                .iter()
                .filter(|r| r.method == method)
                .map(|r| (r.template.as_str(), r)),
            path,
        )
        .map(|(row, _)| row)
    }

    /// Every granular scope in the table (classic scopes excluded).
    pub fn granular_scopes(&self) -> BTreeSet<String> {
        self.rows
            .iter()
            .flat_map(|r| r.granular.iter().cloned())
            .collect()
    }

    /// Every scope in the table, both families.
    pub fn all_scopes(&self) -> BTreeSet<String> {
        self.rows
            .iter()
            .flat_map(|r| r.granular.iter().chain(r.classic.iter()).cloned())
            .collect()
    }
}

/// Matches `path` against `{param}` templates; the most specific wins (first differing segment
/// literal over parameter). Returns the winner and its percent-decoded parameters.
pub(crate) fn best_match<'a, T>(
    candidates: impl Iterator<Item = (&'a str, T)>,
    path: &str,
) -> Option<(T, Vec<(String, String)>)> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    type Best<T> = (Vec<bool>, T, Vec<(String, String)>);
    let mut best: Option<Best<T>> = None;
    for (template, item) in candidates {
        let tsegs: Vec<&str> = template.split('/').collect();
        if tsegs.len() != segs.len() {
            continue;
        }
        let mut shape = Vec::with_capacity(tsegs.len());
        let mut params = Vec::new();
        let mut ok = true;
        for (t, s) in tsegs.iter().zip(&segs) {
            if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                if s.is_empty() {
                    ok = false;
                    break;
                }
                let value = percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned();
                params.push((name.to_string(), value));
                shape.push(false);
            } else if t == s {
                shape.push(true);
            } else {
                ok = false;
                break;
            }
        }
        if !ok {
            continue;
        }
        // Lexicographic on "literal here?": true > false, so more literal-first wins.
        if best.as_ref().is_none_or(|(b, _, _)| shape > *b) {
            best = Some((shape, item, params));
        }
    }
    best.map(|(_, item, params)| (item, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_segments_win() {
        let t = ScopeTable::load();
        let op = t.find("GET", "/wiki/rest/api/content/search").unwrap();
        assert_eq!(op.operation_id, "searchContentByCQL");
        let op = t.find("GET", "/wiki/rest/api/content/123").unwrap();
        assert_eq!(op.operation_id, "getContentById");
        assert!(op.deprecated);
        let op = t
            .find("GET", "/wiki/rest/api/content/1/child/page")
            .unwrap();
        assert_eq!(op.operation_id, "getContentChildrenByType");
        let op = t
            .find("GET", "/wiki/rest/api/content/1/child/attachment")
            .unwrap();
        assert_eq!(op.operation_id, "getAttachments");
    }

    #[test]
    fn unknown_paths_and_database_rows_are_absent() {
        let t = ScopeTable::load();
        assert!(t.find("GET", "/wiki/api/v2/databases/1/entries").is_none());
        assert!(
            t.find("GET", "/wiki/download/attachments/1/a.txt")
                .is_none()
        );
        assert!(t.find("PATCH", "/wiki/api/v2/pages/1").is_none());
    }

    #[test]
    fn either_family_satisfies() {
        let t = ScopeTable::load();
        let op = t.find("GET", "/wiki/rest/api/search").unwrap();
        let g = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert!(op.satisfied_by(&g(&["search:confluence"])));
        assert!(op.satisfied_by(&g(&["read:content-details:confluence"])));
        assert!(!op.satisfied_by(&g(&["read:page:confluence"])));
        let empty = t.find("GET", "/wiki/api/v2/admin-key").unwrap();
        assert!(!empty.satisfied_by(&t.all_scopes()));
    }

    #[test]
    fn params_are_decoded() {
        let (_, params) =
            best_match([("/a/{x}/b", ())].into_iter(), "/a/hello%20world.txt/b").unwrap();
        assert_eq!(
            params,
            vec![("x".to_string(), "hello world.txt".to_string())]
        );
    }
}
