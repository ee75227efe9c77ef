//! The parse error: what was wrong, and where (byte offset, 1-based line and column).

/// The fields this engine evaluates, listed in error messages so the fix is one read away.
pub(crate) const KNOWN_FIELDS: &str = "type, space, space.key, title, text, siteSearch, label, \
     ancestor, parent, creator, contributor, created, lastmodified, id, content";

/// The functions this engine evaluates.
pub(crate) const KNOWN_FUNCTIONS: &str = "currentUser(), now(), startOfDay(), startOfWeek(), \
     startOfMonth(), startOfYear(), endOfDay(), endOfWeek(), endOfMonth(), endOfYear()";

const DATE_FORMATS: &str = "\"yyyy-MM-dd\", \"yyyy/MM/dd\", \"yyyy-MM-dd HH:mm\", \
     \"yyyy/MM/dd HH:mm\" or a relative date such as \"-4w\"";

/// A CQL query that could not be parsed.
///
/// Its `Display` reads like `expected a value after '=' but found end of input at line 1,
/// column 7`, so it can go straight into a 400 response body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at line {line}, column {column}")]
#[non_exhaustive]
pub struct CqlError {
    kind: CqlErrorKind,
    offset: usize,
    line: usize,
    column: usize,
}

impl CqlError {
    /// Builds an error at byte `offset` of `input`; line and column count chars, from 1.
    pub(crate) fn new(kind: CqlErrorKind, input: &str, offset: usize) -> Self {
        let offset = floor_char_boundary(input, offset.min(input.len()));
        let before = &input[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Self {
            kind,
            offset,
            line,
            column,
        }
    }

    /// What went wrong, for callers that want to branch on it.
    pub fn kind(&self) -> &CqlErrorKind {
        &self.kind
    }

    /// Byte offset into the query where the problem starts.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// 1-based line of the problem.
    pub fn line(&self) -> usize {
        self.line
    }

    /// 1-based column of the problem, counted in chars (not bytes).
    pub fn column(&self) -> usize {
        self.column
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The kinds of parse error. Each message says what was expected and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CqlErrorKind {
    /// The grammar wanted one thing and the query had another (including a dangling AND/OR).
    #[error("expected {expected} but found {found}")]
    Expected {
        /// What the parser was looking for, e.g. "a value after '='".
        expected: String,
        /// What it saw instead, e.g. "end of input" or "'AND'".
        found: String,
    },
    /// A quoted string with no closing quote; the position is the opening quote.
    #[error("unterminated string: the {quote} opened here is never closed")]
    UnterminatedString {
        /// The quote character that opened the string.
        quote: char,
    },
    /// A `(` without its `)`; the position is the `(`.
    #[error("unbalanced parentheses: this '(' is never closed")]
    UnclosedParen,
    /// A `)` without its `(`.
    #[error("unbalanced parentheses: this ')' has no matching '('")]
    UnopenedParen,
    /// A field name CQL does not have.
    #[error("unknown field '{name}'; known fields are {KNOWN_FIELDS}")]
    UnknownField {
        /// The name as written.
        name: String,
    },
    /// A real CQL field that this engine does not evaluate.
    #[error(
        "field '{name}' is valid CQL but not supported here; supported fields are {KNOWN_FIELDS}"
    )]
    UnsupportedField {
        /// The name as written.
        name: String,
    },
    /// An operator the field does not accept, such as `label ~ x`.
    #[error("operator '{op}' cannot be used with field '{field}'; use one of {allowed}")]
    OperatorNotAllowed {
        /// The field, in canonical spelling.
        field: String,
        /// The operator, in canonical spelling.
        op: String,
        /// The operators the field accepts.
        allowed: &'static str,
    },
    /// A function CQL does not have.
    #[error("unknown function '{name}()'; known functions are {KNOWN_FUNCTIONS}")]
    UnknownFunction {
        /// The name as written.
        name: String,
    },
    /// A real CQL function that this engine does not evaluate (it needs context we lack).
    #[error(
        "function '{name}()' is valid CQL but not supported here; supported functions are {KNOWN_FUNCTIONS}"
    )]
    UnsupportedFunction {
        /// The name as written.
        name: String,
    },
    /// A function of the wrong kind for the field, such as `created = currentUser()`.
    #[error("function '{function}()' cannot be used with field '{field}'{hint}")]
    FunctionNotAllowed {
        /// The function, in canonical spelling.
        function: String,
        /// The field, in canonical spelling.
        field: String,
        /// What the field does take, if it takes any function.
        hint: &'static str,
    },
    /// A function called with the wrong arguments.
    #[error("function '{function}()' {problem}")]
    FunctionArguments {
        /// The function, in canonical spelling.
        function: String,
        /// What is wrong, e.g. "takes no arguments".
        problem: &'static str,
    },
    /// A date value in none of the accepted formats, or not a real date.
    #[error("invalid date '{value}'; use {DATE_FORMATS}")]
    BadDate {
        /// The value as written.
        value: String,
    },
    /// A date function offset that is not a signed number and a unit.
    #[error(
        "invalid date offset '{value}'; use a number and a unit, such as \"-4w\" or \"+1d\" \
         (units: y, M, w, d, h, m)"
    )]
    BadOffset {
        /// The offset as written.
        value: String,
    },
    /// An ORDER BY key this engine cannot sort on.
    #[error("cannot order by '{name}'; use title, created, lastmodified, id, space or type")]
    BadOrderField {
        /// The name as written.
        name: String,
    },
    /// Parentheses or NOTs nested deeper than [`MAX_DEPTH`](crate::MAX_DEPTH); the position
    /// is the first `(` or `NOT` past the limit.
    #[error("query is nested deeper than {limit} levels of parentheses or NOT")]
    TooDeep {
        /// The nesting limit, [`MAX_DEPTH`](crate::MAX_DEPTH).
        limit: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_counts_lines_and_chars() {
        let input = "type = page\nAND tïtle = ";
        let off = input.len();
        let e = CqlError::new(
            CqlErrorKind::Expected {
                expected: "x".into(),
                found: "end of input".into(),
            },
            input,
            off,
        );
        assert_eq!((e.line(), e.column(), e.offset()), (2, 13, off));
        assert!(e.to_string().ends_with("at line 2, column 13"), "{e}");
    }

    #[test]
    fn offset_inside_a_char_is_moved_to_its_start() {
        let e = CqlError::new(CqlErrorKind::UnclosedParen, "é(", 1);
        assert_eq!((e.offset(), e.column()), (0, 1));
    }
}
