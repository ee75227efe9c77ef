//! The parsed query and its normalised rendering. The rendering re-parses to an equal tree:
//! AND/OR chains are flat, and parentheses appear only where precedence needs them.

use std::fmt;

use crate::date::DateValue;
use crate::lexer::is_special;

/// A content field a clause can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Type,
    Space,
    Title,
    Text,
    SiteSearch,
    Label,
    Ancestor,
    Parent,
    Creator,
    Contributor,
    Created,
    LastModified,
    Id,
}

/// Real CQL fields this engine does not evaluate, so the error can say so.
const UNSUPPORTED_FIELDS: &[&str] = &[
    "macro",
    "mention",
    "favourite",
    "favorite",
    "watcher",
    "space.title",
    "space.type",
    "space.category",
    "user",
    "user.fullname",
    "user.accountid",
    "user.userkey",
];

/// What a field's values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Plain strings (type, space, label, …).
    Plain,
    /// Account ids; `currentUser()` allowed.
    User,
    /// Dates; date literals and date functions.
    Date,
    /// Content ids; numeric for `<`, `>` and friends.
    Id,
    /// Free-text search terms for `~`.
    Search,
}

/// Why a field name did not resolve.
pub(crate) enum FieldLookup {
    Unknown,
    Unsupported,
}

impl Field {
    /// Resolves a field name, ignoring case (`lastModified`, `Space.Key`).
    pub(crate) fn from_name(name: &str) -> Result<Self, FieldLookup> {
        let lower = name.to_ascii_lowercase();
        Ok(match lower.as_str() {
            "type" => Field::Type,
            "space" | "space.key" => Field::Space,
            "title" => Field::Title,
            "text" => Field::Text,
            "sitesearch" => Field::SiteSearch,
            "label" => Field::Label,
            "ancestor" => Field::Ancestor,
            "parent" => Field::Parent,
            "creator" => Field::Creator,
            "contributor" => Field::Contributor,
            "created" => Field::Created,
            "lastmodified" => Field::LastModified,
            "id" | "content" => Field::Id,
            other if UNSUPPORTED_FIELDS.contains(&other) => return Err(FieldLookup::Unsupported),
            _ => return Err(FieldLookup::Unknown),
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Field::Type => "type",
            Field::Space => "space",
            Field::Title => "title",
            Field::Text => "text",
            Field::SiteSearch => "siteSearch",
            Field::Label => "label",
            Field::Ancestor => "ancestor",
            Field::Parent => "parent",
            Field::Creator => "creator",
            Field::Contributor => "contributor",
            Field::Created => "created",
            Field::LastModified => "lastmodified",
            Field::Id => "id",
        }
    }

    pub(crate) fn kind(self) -> Kind {
        match self {
            Field::Creator | Field::Contributor => Kind::User,
            Field::Created | Field::LastModified => Kind::Date,
            Field::Id => Kind::Id,
            Field::Text | Field::SiteSearch => Kind::Search,
            _ => Kind::Plain,
        }
    }

    /// The operators Atlassian documents for the field (ids also compare numerically).
    pub(crate) fn allowed(self) -> &'static str {
        match self {
            Field::Title => "=, !=, ~, !~, IN, NOT IN",
            Field::Text | Field::SiteSearch => "~, !~",
            Field::Created | Field::LastModified => "=, !=, <, <=, >, >=",
            Field::Id => "=, !=, <, <=, >, >=, IN, NOT IN",
            _ => "=, !=, IN, NOT IN",
        }
    }

    pub(crate) fn allows(self, op: Op) -> bool {
        use Op::*;
        match self.kind() {
            Kind::Search => matches!(op, Contains | NotContains),
            Kind::Date => !matches!(op, Contains | NotContains | In | NotIn),
            Kind::Id => !matches!(op, Contains | NotContains),
            Kind::Plain if self == Field::Title => !matches!(op, Lt | Le | Gt | Ge),
            Kind::Plain | Kind::User => matches!(op, Eq | Ne | In | NotIn),
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Contains,
    NotContains,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
}

impl Op {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Contains => "~",
            Op::NotContains => "!~",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "IN",
            Op::NotIn => "NOT IN",
        }
    }
}

/// One operand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Str(String),
    /// `currentUser()`, resolved from [`crate::Context`] when evaluated.
    CurrentUser,
    Date(DateValue),
}

/// `field op value` or `field [NOT] IN (values)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clause {
    pub field: Field,
    pub op: Op,
    /// One value, except for IN and NOT IN.
    pub values: Vec<Value>,
}

/// A boolean combination of clauses. `And` and `Or` hold two or more children and never a
/// child of their own kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Clause(Clause),
}

impl Expr {
    /// Joins operands, flattening nested groups of the same kind so equal queries compare equal.
    pub(crate) fn join(items: Vec<Expr>, and: bool) -> Expr {
        let mut flat = Vec::with_capacity(items.len());
        for item in items {
            match (item, and) {
                (Expr::And(inner), true) | (Expr::Or(inner), false) => flat.extend(inner),
                (other, _) => flat.push(other),
            }
        }
        match flat.len() {
            1 => flat.pop().unwrap_or(Expr::And(Vec::new())),
            _ if and => Expr::And(flat),
            _ => Expr::Or(flat),
        }
    }
}

/// An ORDER BY key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrderField {
    Title,
    Created,
    LastModified,
    Id,
    Space,
    Type,
}

impl OrderField {
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "title" => OrderField::Title,
            "created" => OrderField::Created,
            "lastmodified" => OrderField::LastModified,
            "id" | "content" => OrderField::Id,
            "space" | "space.key" => OrderField::Space,
            "type" => OrderField::Type,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            OrderField::Title => "title",
            OrderField::Created => "created",
            OrderField::LastModified => "lastmodified",
            OrderField::Id => "id",
            OrderField::Space => "space",
            OrderField::Type => "type",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OrderKey {
    pub field: OrderField,
    pub desc: bool,
}

/// Words the parser reads as keywords when bare, so values spelled like them are quoted.
pub(crate) const KEYWORDS: &[&str] = &["and", "or", "not", "in", "order", "by", "asc", "desc"];

pub(crate) fn is_keyword(w: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(w))
}

/// Writes a string value bare when it lexes back as the same single word, quoted otherwise.
fn write_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    let bare = !s.is_empty()
        && !is_keyword(s)
        && !s
            .chars()
            .any(|c| is_special(c) || c.is_control() || c == '\\');
    if bare {
        return f.write_str(s);
    }
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => write_str(f, s),
            Value::CurrentUser => f.write_str("currentUser()"),
            Value::Date(d) => d.fmt(f),
        }
    }
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.field.name(), self.op.as_str())?;
        match self.op {
            Op::In | Op::NotIn => {
                f.write_str("(")?;
                for (i, v) in self.values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    v.fmt(f)?;
                }
                f.write_str(")")
            }
            // The parser gives every other operator exactly one value.
            _ => match self.values.first() {
                Some(v) => v.fmt(f),
                None => f.write_str("\"\""),
            },
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Clause(c) => c.fmt(f),
            Expr::Not(inner) => match **inner {
                Expr::Clause(_) | Expr::Not(_) => write!(f, "NOT {inner}"),
                _ => write!(f, "NOT ({inner})"),
            },
            Expr::And(items) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" AND ")?;
                    }
                    match e {
                        Expr::Or(_) => write!(f, "({e})")?,
                        _ => e.fmt(f)?,
                    }
                }
                Ok(())
            }
            Expr::Or(items) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" OR ")?;
                    }
                    e.fmt(f)?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for OrderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.field.name())?;
        if self.desc {
            f.write_str(" DESC")?;
        }
        Ok(())
    }
}
