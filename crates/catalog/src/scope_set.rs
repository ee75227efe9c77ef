use std::fmt;

use crate::{Scope, ScopeKind};

/// A set of [`Scope`]s as a bitset: copying, union and difference cost nothing, and the
/// "which scopes are missing" question is a set difference, never a string search.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ScopeSet(u128);

impl ScopeSet {
    pub const EMPTY: ScopeSet = ScopeSet(0);

    pub(crate) const fn from_bits(bits: u128) -> Self {
        ScopeSet(bits)
    }

    /// Every scope the table knows.
    pub fn all() -> Self {
        Scope::ALL.iter().copied().collect()
    }

    /// Parses Atlassian's space- or comma-separated scope string, returning the known scopes
    /// and, separately, the names the table does not know (`offline_access`, Jira scopes...).
    pub fn parse_lenient(s: &str) -> (ScopeSet, Vec<String>) {
        let mut set = ScopeSet::EMPTY;
        let mut unknown = Vec::new();
        for name in s
            .split([' ', ',', '\n', '\t'])
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            match Scope::from_name(name) {
                Some(scope) => set.insert(scope),
                None => unknown.push(name.to_string()),
            }
        }
        (set, unknown)
    }

    pub fn insert(&mut self, scope: Scope) {
        self.0 |= 1u128 << scope.index();
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & (1u128 << scope.index()) != 0
    }

    pub fn contains_all(self, other: ScopeSet) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    pub fn union(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 | other.0)
    }

    /// The scopes in both.
    pub fn intersection(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & other.0)
    }

    /// The scopes in `self` that are not in `other`.
    pub fn difference(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & !other.0)
    }

    /// Only the scopes of one kind.
    pub fn of_kind(self, kind: ScopeKind) -> ScopeSet {
        self.iter().filter(|s| s.kind() == kind).collect()
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL
            .iter()
            .copied()
            .filter(move |s| self.contains(*s))
    }

    /// Scope names, sorted.
    pub fn names(self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self.iter().map(Scope::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Space-separated, the form Atlassian's authorize URL and token responses use.
    pub fn to_scope_string(self) -> String {
        self.names().join(" ")
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut set = ScopeSet::EMPTY;
        for s in iter {
            set.insert(s);
        }
        set
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

impl serde::Serialize for ScopeSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.names())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_lenient_keeps_unknown_names_apart() {
        let (set, unknown) =
            ScopeSet::parse_lenient("read:page:confluence offline_access,read:jira-work");
        assert_eq!(set.names(), vec!["read:page:confluence"]);
        assert_eq!(unknown, vec!["offline_access", "read:jira-work"]);
    }

    #[test]
    fn set_algebra() {
        let a: ScopeSet = [Scope::ReadPageConfluence, Scope::WritePageConfluence]
            .into_iter()
            .collect();
        let b: ScopeSet = [Scope::ReadPageConfluence].into_iter().collect();
        assert!(a.contains_all(b));
        assert!(!b.contains_all(a));
        assert_eq!(a.difference(b).names(), vec!["write:page:confluence"]);
        assert_eq!(a.len(), 2);
        assert_eq!(a.of_kind(ScopeKind::Classic), ScopeSet::EMPTY);
    }
}
