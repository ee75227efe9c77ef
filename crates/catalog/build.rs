// Writing to a String cannot fail, and a malformed table should stop the build loudly.
#![allow(clippy::unwrap_used)]

//! Generates `Scope` and `Operation` from `data/scopes.tsv`, the table derived from Atlassian's
//! OpenAPI documents. Nothing here is typed by hand: change the table, and the code follows.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::{env, fs, path::Path};

struct Row {
    api: String,
    method: String,
    path: String,
    operation_id: String,
    classic: Vec<String>,
    granular: Vec<String>,
    summary: String,
    deprecated: bool,
}

fn camel(s: &str) -> String {
    let mut out = String::new();
    for part in s
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

fn split_scopes(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// The same rule as make_scopes.py: classic scopes are Atlassian's coarse Confluence scopes.
fn is_classic(scope: &str) -> bool {
    matches!(
        scope,
        "readonly:content.attachment:confluence"
            | "search:confluence"
            | "manage:confluence-configuration"
    ) || {
        let mut parts = scope.splitn(2, ':');
        let verb = parts.next().unwrap_or("");
        let rest = parts.next().unwrap_or("");
        matches!(verb, "read" | "write" | "manage" | "search" | "delete")
            && (rest == "confluence" || rest.starts_with("confluence-"))
    }
}

fn main() {
    let manifest = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let table = Path::new(&manifest).join("data/scopes.tsv");
    println!("cargo:rerun-if-changed={}", table.display());
    let text = fs::read_to_string(&table).expect("data/scopes.tsv is part of the crate");

    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .expect("table has a header")
        .split('\t')
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .expect("known column")
    };
    let (c_api, c_method, c_path, c_op) =
        (col("api"), col("method"), col("path"), col("operationId"));
    let (c_classic, c_granular, c_summary, c_dep) = (
        col("classic_scopes"),
        col("granular_scopes"),
        col("summary"),
        col("deprecated"),
    );

    let rows: Vec<Row> = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let get = |i: usize| f.get(i).copied().unwrap_or("").to_string();
            Row {
                api: get(c_api),
                method: get(c_method),
                path: get(c_path),
                operation_id: get(c_op),
                classic: split_scopes(&get(c_classic)),
                granular: split_scopes(&get(c_granular)),
                summary: get(c_summary),
                deprecated: !get(c_dep).trim().is_empty(),
            }
        })
        .collect();

    // Scopes: every name either column mentions, in sorted order; the index is the bit in ScopeSet.
    let mut scopes = BTreeSet::new();
    for r in &rows {
        scopes.extend(r.classic.iter().cloned());
        scopes.extend(r.granular.iter().cloned());
    }
    let scopes: Vec<String> = scopes.into_iter().collect();
    assert!(
        scopes.len() <= 128,
        "ScopeSet is a u128 bitset; the table has {} scopes",
        scopes.len()
    );
    let mut scope_names = BTreeMap::new();
    for s in &scopes {
        let name = camel(s);
        if let Some(prev) = scope_names.insert(name.clone(), s.clone()) {
            panic!("scopes {prev} and {s} both map to variant {name}");
        }
    }
    let scope_index: BTreeMap<&str, usize> = scopes
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();

    // Operation variants: operationId in CamelCase; where v1 and v2 share an id, both get the api suffix.
    let mut id_count: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rows {
        *id_count.entry(r.operation_id.as_str()).or_default() += 1;
    }
    let variant = |r: &Row| {
        let base = camel(&r.operation_id);
        if id_count[r.operation_id.as_str()] > 1 {
            format!("{base}{}", r.api.to_uppercase())
        } else {
            base
        }
    };

    let mut out = String::new();
    writeln!(
        out,
        "/// A Confluence scope named in Atlassian's OpenAPI documents."
    )
    .unwrap();
    writeln!(
        out,
        "#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]"
    )
    .unwrap();
    writeln!(out, "#[non_exhaustive]\npub enum Scope {{").unwrap();
    for s in &scopes {
        writeln!(out, "    /// `{s}`\n    {},", camel(s)).unwrap();
    }
    writeln!(out, "}}\n").unwrap();
    writeln!(out, "impl Scope {{").unwrap();
    writeln!(out, "    /// Every scope, in index order.").unwrap();
    writeln!(out, "    pub const ALL: &'static [Scope] = &[").unwrap();
    for s in &scopes {
        writeln!(out, "        Scope::{},", camel(s)).unwrap();
    }
    writeln!(out, "    ];\n").unwrap();
    writeln!(out, "    /// The scope as Atlassian spells it.").unwrap();
    writeln!(
        out,
        "    pub const fn as_str(self) -> &'static str {{\n        match self {{"
    )
    .unwrap();
    for s in &scopes {
        writeln!(out, "            Scope::{} => {s:?},", camel(s)).unwrap();
    }
    writeln!(out, "        }}\n    }}\n").unwrap();
    writeln!(
        out,
        "    /// Whether this is a classic (coarse) or a granular scope."
    )
    .unwrap();
    writeln!(
        out,
        "    pub const fn kind(self) -> ScopeKind {{\n        match self {{"
    )
    .unwrap();
    for s in &scopes {
        let kind = if is_classic(s) { "Classic" } else { "Granular" };
        writeln!(out, "            Scope::{} => ScopeKind::{kind},", camel(s)).unwrap();
    }
    writeln!(out, "        }}\n    }}\n").unwrap();
    writeln!(
        out,
        "    pub(crate) const fn index(self) -> u32 {{\n        match self {{"
    )
    .unwrap();
    for (i, s) in scopes.iter().enumerate() {
        writeln!(out, "            Scope::{} => {i},", camel(s)).unwrap();
    }
    writeln!(out, "        }}\n    }}\n").unwrap();
    writeln!(
        out,
        "    /// The scope Atlassian spells `name`, if the table knows it."
    )
    .unwrap();
    writeln!(
        out,
        "    pub fn from_name(name: &str) -> Option<Scope> {{\n        match name {{"
    )
    .unwrap();
    for s in &scopes {
        writeln!(out, "            {s:?} => Some(Scope::{}),", camel(s)).unwrap();
    }
    writeln!(out, "            _ => None,\n        }}\n    }}\n}}\n").unwrap();

    let set_expr = |list: &[String]| {
        let bits: u128 = list
            .iter()
            .fold(0, |acc, s| acc | (1u128 << scope_index[s.as_str()]));
        format!("ScopeSet::from_bits({bits}u128)")
    };

    writeln!(
        out,
        "/// A Confluence Cloud REST operation, one per row of Atlassian's OpenAPI documents."
    )
    .unwrap();
    writeln!(
        out,
        "#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]"
    )
    .unwrap();
    writeln!(out, "#[non_exhaustive]\npub enum Operation {{").unwrap();
    for r in &rows {
        writeln!(
            out,
            "    /// {} `{} {}` ({}): {}",
            r.api,
            r.method,
            r.path,
            r.operation_id,
            r.summary.replace('`', "'")
        )
        .unwrap();
        writeln!(out, "    {},", variant(r)).unwrap();
    }
    writeln!(out, "}}\n").unwrap();

    writeln!(
        out,
        "pub(crate) static OPERATIONS: &[(Operation, OperationInfo)] = &["
    )
    .unwrap();
    for r in &rows {
        let api = if r.api == "v1" {
            "ApiVersion::V1"
        } else {
            "ApiVersion::V2"
        };
        writeln!(
            out,
            "    (Operation::{}, OperationInfo {{ api: {api}, method: Method::{}, path: {:?}, operation_id: {:?}, summary: {:?}, classic: {}, granular: {}, deprecated: {} }}),",
            variant(r),
            camel(&r.method.to_lowercase()),
            r.path,
            r.operation_id,
            r.summary,
            set_expr(&r.classic),
            set_expr(&r.granular),
            r.deprecated
        )
        .unwrap();
    }
    writeln!(out, "];").unwrap();

    let dest = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("generated.rs");
    fs::write(dest, out).expect("OUT_DIR is writable");
}
