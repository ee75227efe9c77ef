//! Recursive-descent parser: `query := or [ORDER BY key (, key)*]`, `or := and (OR and)*`,
//! `and := not (AND not)*`, `not := NOT not | '(' or ')' | clause`. Values are typed by their
//! field here, so evaluation never meets a malformed date or an unknown function.

use crate::ast::{
    Clause, Expr, Field, FieldLookup, Kind, Op, OrderField, OrderKey, Value, is_keyword,
};
use crate::date::{DateFn, DateValue, parse_date, parse_offset};
use crate::error::{CqlError, CqlErrorKind};
use crate::lexer::{Sym, Tok, Token, lex};
use crate::{MAX_DEPTH, Query};

/// CQL functions that need context this engine does not have.
const UNSUPPORTED_FUNCTIONS: &[&str] = &[
    "currentspace",
    "currentcontent",
    "favouritespaces",
    "favoritespaces",
    "recentlyviewedcontent",
    "recentlyviewedspaces",
];

pub(crate) fn parse(input: &str) -> Result<Query, CqlError> {
    let toks = lex(input)?;
    let mut p = Parser {
        input,
        toks,
        pos: 0,
        depth: 0,
    };
    let expr = p.or("a condition (such as type = page)")?;
    let order = p.order_by()?;
    Ok(Query { expr, order })
}

struct Parser<'a> {
    input: &'a str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

fn kw(t: &Tok, word: &str) -> bool {
    matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case(word))
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // The lexer always ends with Eof and `bump` never moves past it.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn peek2(&self) -> &Tok {
        self.toks.get(self.pos + 1).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn at_kw(&self, word: &str) -> bool {
        kw(&self.peek().tok, word)
    }

    fn error(&self, kind: CqlErrorKind, offset: usize) -> CqlError {
        CqlError::new(kind, self.input, offset)
    }

    /// "expected {what} but found {the next token}", at the next token.
    fn expected(&self, what: impl Into<String>) -> CqlError {
        let t = self.peek();
        let kind = CqlErrorKind::Expected {
            expected: what.into(),
            found: t.tok.describe(),
        };
        self.error(kind, t.start)
    }

    fn enter(&mut self, at: usize) -> Result<(), CqlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(CqlErrorKind::TooDeep { limit: MAX_DEPTH }, at));
        }
        Ok(())
    }

    fn or(&mut self, what: &str) -> Result<Expr, CqlError> {
        let mut items = vec![self.and(what)?];
        while self.at_kw("or") {
            self.bump();
            items.push(self.and("a condition after OR")?);
        }
        Ok(Expr::join(items, false))
    }

    fn and(&mut self, what: &str) -> Result<Expr, CqlError> {
        let mut items = vec![self.not(what)?];
        while self.at_kw("and") {
            self.bump();
            items.push(self.not("a condition after AND")?);
        }
        Ok(Expr::join(items, true))
    }

    fn not(&mut self, what: &str) -> Result<Expr, CqlError> {
        if !self.at_kw("not") {
            return self.primary(what);
        }
        let t = self.bump();
        self.enter(t.start)?;
        let inner = self.not("a condition after NOT")?;
        self.depth -= 1;
        Ok(Expr::Not(Box::new(inner)))
    }

    fn primary(&mut self, what: &str) -> Result<Expr, CqlError> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::LParen => {
                self.bump();
                self.enter(t.start)?;
                let e = self.or("a condition after '('")?;
                match self.peek().tok {
                    Tok::RParen => {
                        self.bump();
                        self.depth -= 1;
                        Ok(e)
                    }
                    Tok::Eof => Err(self.error(CqlErrorKind::UnclosedParen, t.start)),
                    _ => Err(self.expected("AND, OR or ')'")),
                }
            }
            Tok::Word(w)
                if !["and", "or", "order"]
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(w)) =>
            {
                self.clause(w, t.start)
            }
            _ => Err(self.expected(what)),
        }
    }

    fn clause(&mut self, name: &str, start: usize) -> Result<Expr, CqlError> {
        let field = Field::from_name(name).map_err(|why| {
            let name = name.to_string();
            let kind = match why {
                FieldLookup::Unknown => CqlErrorKind::UnknownField { name },
                FieldLookup::Unsupported => CqlErrorKind::UnsupportedField { name },
            };
            self.error(kind, start)
        })?;
        self.bump();
        let op_at = self.peek().start;
        let op = match self.peek().tok {
            Tok::Op(sym) => match sym {
                Sym::Eq => Op::Eq,
                Sym::Ne => Op::Ne,
                Sym::Contains => Op::Contains,
                Sym::NotContains => Op::NotContains,
                Sym::Lt => Op::Lt,
                Sym::Le => Op::Le,
                Sym::Gt => Op::Gt,
                Sym::Ge => Op::Ge,
            },
            ref t if kw(t, "in") => Op::In,
            ref t if kw(t, "not") && kw(self.peek2(), "in") => Op::NotIn,
            _ => {
                let what = format!("an operator after '{name}' (one of {})", field.allowed());
                return Err(self.expected(what));
            }
        };
        if !field.allows(op) {
            let kind = CqlErrorKind::OperatorNotAllowed {
                field: field.name().into(),
                op: op.as_str().into(),
                allowed: field.allowed(),
            };
            return Err(self.error(kind, op_at));
        }
        self.bump();
        if op == Op::NotIn {
            self.bump();
        }
        let values = match op {
            Op::In | Op::NotIn => self.list(field, op)?,
            _ => vec![self.value(field, op, &format!("a value after '{}'", op.as_str()))?],
        };
        Ok(Expr::Clause(Clause { field, op, values }))
    }

    fn list(&mut self, field: Field, op: Op) -> Result<Vec<Value>, CqlError> {
        let open = self.peek().start;
        if self.peek().tok != Tok::LParen {
            return Err(self.expected(format!("'(' after {}", op.as_str())));
        }
        self.bump();
        self.enter(open)?;
        let mut values = vec![self.value(field, op, "a value after '('")?];
        loop {
            match self.peek().tok {
                Tok::Comma => {
                    self.bump();
                    values.push(self.value(field, op, "a value after ','")?);
                }
                Tok::RParen => {
                    self.bump();
                    self.depth -= 1;
                    return Ok(values);
                }
                Tok::Eof => return Err(self.error(CqlErrorKind::UnclosedParen, open)),
                _ => return Err(self.expected(format!("',' or ')' in the {} list", op.as_str()))),
            }
        }
    }

    fn value(&mut self, field: Field, op: Op, what: &str) -> Result<Value, CqlError> {
        let t = self.peek().clone();
        match t.tok {
            Tok::Word(ref w) if self.peek2() == &Tok::LParen => self.function(field, w, t.start),
            Tok::Word(ref w) if is_keyword(w) => {
                Err(self.expected(format!("{what} (quote it to search for the word {w})")))
            }
            Tok::Word(s) | Tok::Str(s) => {
                let v = self.typed(field, op, s, t.start)?;
                self.bump();
                Ok(v)
            }
            Tok::LParen if !matches!(op, Op::In | Op::NotIn) => {
                Err(self.expected(format!("{what} (use IN (…) to match a list)")))
            }
            _ => Err(self.expected(what)),
        }
    }

    /// Checks a literal against its field's kind.
    fn typed(&self, field: Field, op: Op, s: String, at: usize) -> Result<Value, CqlError> {
        match field.kind() {
            Kind::Date => match parse_date(&s) {
                Some(d) => Ok(Value::Date(d)),
                None => Err(self.error(CqlErrorKind::BadDate { value: s }, at)),
            },
            Kind::Id
                if matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge)
                    && (s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit())) =>
            {
                Err(self.expected(format!("a numeric content id after '{}'", op.as_str())))
            }
            _ => Ok(Value::Str(s)),
        }
    }

    /// `name(args)`; the name token is next, followed by '('.
    fn function(&mut self, field: Field, name: &str, start: usize) -> Result<Value, CqlError> {
        let date_fn = DateFn::from_name(name);
        let is_user = name.eq_ignore_ascii_case("currentUser");
        if date_fn.is_none() && !is_user {
            let lower = name.to_ascii_lowercase();
            let name = name.to_string();
            let kind = if UNSUPPORTED_FUNCTIONS.contains(&lower.as_str()) {
                CqlErrorKind::UnsupportedFunction { name }
            } else {
                CqlErrorKind::UnknownFunction { name }
            };
            return Err(self.error(kind, start));
        }
        let canonical = date_fn.map_or("currentUser", DateFn::name).to_string();
        let fits = if is_user {
            field.kind() == Kind::User
        } else {
            field.kind() == Kind::Date
        };
        if !fits {
            let hint = if is_user {
                "; currentUser() works with creator and contributor"
            } else {
                "; date functions work with created and lastmodified"
            };
            let kind = CqlErrorKind::FunctionNotAllowed {
                function: canonical,
                field: field.name().into(),
                hint,
            };
            return Err(self.error(kind, start));
        }
        self.bump();
        let open = self.bump().start;
        let mut args = Vec::new();
        if self.peek().tok == Tok::RParen {
            self.bump();
        } else {
            loop {
                let t = self.peek().clone();
                match t.tok {
                    Tok::Word(s) | Tok::Str(s) => args.push((s, t.start)),
                    Tok::Eof => return Err(self.error(CqlErrorKind::UnclosedParen, open)),
                    _ => return Err(self.expected(format!("an argument for {canonical}()"))),
                }
                self.bump();
                match self.peek().tok {
                    Tok::Comma => {
                        self.bump();
                    }
                    Tok::RParen => {
                        self.bump();
                        break;
                    }
                    Tok::Eof => return Err(self.error(CqlErrorKind::UnclosedParen, open)),
                    _ => {
                        return Err(self
                            .expected(format!("',' or ')' after the argument of {canonical}()")));
                    }
                }
            }
        }
        let too_many = |problem| CqlErrorKind::FunctionArguments {
            function: canonical.clone(),
            problem,
        };
        match (date_fn, args.as_slice()) {
            (None, []) => Ok(Value::CurrentUser),
            (None, [(_, at), ..]) => Err(self.error(too_many("takes no arguments"), *at)),
            (Some(func), []) => Ok(Value::Date(DateValue::Func { func, offset: None })),
            (Some(func), [(arg, at)]) => match parse_offset(arg) {
                Some(o) => Ok(Value::Date(DateValue::Func {
                    func,
                    offset: Some(o),
                })),
                None => Err(self.error(CqlErrorKind::BadOffset { value: arg.clone() }, *at)),
            },
            (Some(_), [_, (_, at), ..]) => Err(self.error(
                too_many("takes at most one argument, an offset such as \"-4w\""),
                *at,
            )),
        }
    }

    fn order_by(&mut self) -> Result<Vec<OrderKey>, CqlError> {
        let mut keys = Vec::new();
        if !self.at_kw("order") {
            return match self.peek().tok {
                Tok::Eof => Ok(keys),
                Tok::RParen => Err(self.error(CqlErrorKind::UnopenedParen, self.peek().start)),
                _ => Err(self.expected("AND, OR, ORDER BY or the end of the query")),
            };
        }
        self.bump();
        if !self.at_kw("by") {
            return Err(self.expected("BY after ORDER"));
        }
        self.bump();
        loop {
            let t = self.peek().clone();
            let Tok::Word(name) = &t.tok else {
                return Err(self.expected("a field to order by"));
            };
            let Some(field) = OrderField::from_name(name) else {
                return Err(self.error(CqlErrorKind::BadOrderField { name: name.clone() }, t.start));
            };
            self.bump();
            let desc = if self.at_kw("desc") {
                self.bump();
                true
            } else {
                if self.at_kw("asc") {
                    self.bump();
                }
                false
            };
            keys.push(OrderKey { field, desc });
            match self.peek().tok {
                Tok::Comma => {
                    self.bump();
                }
                Tok::Eof => return Ok(keys),
                _ => return Err(self.expected("ASC, DESC, ',' or the end of the query")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e}")).to_string()
    }

    /// Parses `s`, expecting an error; returns (message, column).
    fn err(s: &str) -> (String, usize) {
        let e = parse(s).map(|q| q.to_string()).unwrap_err();
        (e.to_string(), e.column())
    }

    #[test]
    fn normalises_spelling_and_case() {
        assert_eq!(norm("TYPE=page"), "type = page");
        assert_eq!(
            norm("Space.Key = DEV and lastModified > '2024/1/2'"),
            "space = DEV AND lastmodified > \"2024-01-02\""
        );
        assert_eq!(norm("content = 12 or ID != 13"), "id = 12 OR id != 13");
        assert_eq!(
            norm("label not in (a, \"b c\") and label in ('and')"),
            "label NOT IN (a, \"b c\") AND label IN (\"and\")"
        );
        assert_eq!(norm("title ~ 'it\\'s'"), "title ~ \"it's\"");
        assert_eq!(
            norm(r#"text ~ "\"exact phrase\"""#),
            r#"text ~ "\"exact phrase\"""#
        );
        assert_eq!(norm("sitesearch ~ foo"), "siteSearch ~ foo");
        assert_eq!(norm("created >= now('-4w')"), "created >= now(\"-4w\")");
        assert_eq!(norm("created >= NOW(-4w)"), "created >= now(\"-4w\")");
        assert_eq!(norm("created < \"-1d\""), "created < now(\"-1d\")");
        assert_eq!(norm("created = startofday()"), "created = startOfDay()");
        assert_eq!(
            norm("lastmodified <= endOfMonth(\"1M\")"),
            "lastmodified <= endOfMonth(\"+1M\")"
        );
        assert_eq!(norm("creator = CURRENTUSER()"), "creator = currentUser()");
        assert_eq!(
            norm("contributor in (currentUser(), abc)"),
            "contributor IN (currentUser(), abc)"
        );
        assert_eq!(
            norm("type = page order by Title, created DESC, id asc"),
            "type = page ORDER BY title, created DESC, id"
        );
    }

    #[test]
    fn precedence_not_over_and_over_or() {
        assert_eq!(
            norm("type = a OR type = b AND type = c"),
            "type = a OR type = b AND type = c"
        );
        assert_eq!(
            norm("(type = a OR type = b) AND type = c"),
            "(type = a OR type = b) AND type = c"
        );
        assert_eq!(
            norm("NOT type = a AND type = b"),
            "NOT type = a AND type = b"
        );
        assert_eq!(
            norm("NOT (type = a AND type = b)"),
            "NOT (type = a AND type = b)"
        );
        assert_eq!(norm("not not type = a"), "NOT NOT type = a");
        // Redundant parentheses disappear, nested groups of one kind flatten.
        assert_eq!(norm("((type = a))"), "type = a");
        assert_eq!(
            norm("type = a and (type = b and (type = c))"),
            "type = a AND type = b AND type = c"
        );
        assert_eq!(
            norm("type = a or (type = b or type = c)"),
            "type = a OR type = b OR type = c"
        );
        let tree = parse("a1 = x").err().map(|e| e.column());
        assert_eq!(tree, Some(1));
        let q = parse("type = a OR type = b AND NOT type = c").unwrap();
        let Expr::Or(items) = &q.expr else {
            panic!("{q:?}")
        };
        assert!(matches!(&items[1], Expr::And(v) if matches!(v[1], Expr::Not(_))));
    }

    #[test]
    fn values_quote_only_when_needed() {
        assert_eq!(norm("title = \"\""), "title = \"\"");
        assert_eq!(norm("title = 'a b'"), "title = \"a b\"");
        assert_eq!(norm("title = 'a\\\\b'"), "title = \"a\\\\b\"");
        assert_eq!(norm("title = 'x(y)'"), "title = \"x(y)\"");
        assert_eq!(norm("title = 'Or'"), "title = \"Or\"");
        assert_eq!(norm("title = \"line\\nbreak\""), "title = \"line\\nbreak\"");
        assert_eq!(norm("space = \"~abc\""), "space = \"~abc\"");
        assert_eq!(norm("title = 'pré-1.0_x'"), "title = pré-1.0_x");
    }

    #[test]
    fn expected_value_at_end() {
        assert_eq!(
            err("space.key ="),
            (
                "expected a value after '=' but found end of input at line 1, column 12".into(),
                12
            )
        );
        assert_eq!(err("label in (a,").1, 13);
        assert_eq!(
            err("label in (a,").0,
            "expected a value after ',' but found end of input at line 1, column 13"
        );
        assert_eq!(
            err("label = (a)").0,
            "expected a value after '=' (use IN (…) to match a list) but found '(' at line 1, column 9"
        );
        assert_eq!(
            err("title = AND").0,
            "expected a value after '=' (quote it to search for the word AND) but found 'AND' at line 1, column 9"
        );
    }

    #[test]
    fn unknown_and_unsupported_fields() {
        let (msg, col) = err("type = page AND foo = bar");
        assert!(
            msg.starts_with("unknown field 'foo'; known fields are type, space"),
            "{msg}"
        );
        assert!(msg.ends_with("at line 1, column 17"), "{msg}");
        assert_eq!(col, 17);
        let (msg, col) = err("macro = toc");
        assert!(
            msg.starts_with("field 'macro' is valid CQL but not supported here"),
            "{msg}"
        );
        assert_eq!(col, 1);
    }

    #[test]
    fn operator_not_allowed_for_field() {
        assert_eq!(
            err("label ~ x"),
            ("operator '~' cannot be used with field 'label'; use one of =, !=, IN, NOT IN at line 1, column 7".into(), 7)
        );
        assert_eq!(
            err("text = x").0,
            "operator '=' cannot be used with field 'text'; use one of ~, !~ at line 1, column 6"
        );
        assert_eq!(err("created in (x)").1, 9);
        assert_eq!(err("title > x").1, 7);
        assert_eq!(
            err("creator not in x").0,
            "expected '(' after NOT IN but found 'x' at line 1, column 16"
        );
        assert_eq!(
            err("label is x").0,
            "expected an operator after 'label' (one of =, !=, IN, NOT IN) but found 'is' at line 1, column 7"
        );
        assert_eq!(
            err("id > abc").0,
            "expected a numeric content id after '>' but found 'abc' at line 1, column 6"
        );
    }

    #[test]
    fn unterminated_strings() {
        assert_eq!(
            err("title = 'abc"),
            (
                "unterminated string: the ' opened here is never closed at line 1, column 9".into(),
                9
            )
        );
        assert_eq!(
            err("type = page\n  AND title ~ \"x").0,
            "unterminated string: the \" opened here is never closed at line 2, column 15"
        );
    }

    #[test]
    fn unbalanced_parentheses() {
        assert_eq!(
            err("(type = page"),
            (
                "unbalanced parentheses: this '(' is never closed at line 1, column 1".into(),
                1
            )
        );
        assert_eq!(
            err("type = page)"),
            (
                "unbalanced parentheses: this ')' has no matching '(' at line 1, column 12".into(),
                12
            )
        );
        assert_eq!(
            err("label in (a, b"),
            (
                "unbalanced parentheses: this '(' is never closed at line 1, column 10".into(),
                10
            )
        );
        assert_eq!(
            err("created > now('-1d'"),
            (
                "unbalanced parentheses: this '(' is never closed at line 1, column 14".into(),
                14
            )
        );
        assert_eq!(
            err("(type = a type = b)").0,
            "expected AND, OR or ')' but found 'type' at line 1, column 11"
        );
        assert_eq!(
            err("()").0,
            "expected a condition after '(' but found ')' at line 1, column 2"
        );
    }

    #[test]
    fn dangling_and_or_not() {
        assert_eq!(
            err("type = page AND"),
            (
                "expected a condition after AND but found end of input at line 1, column 16".into(),
                16
            )
        );
        assert_eq!(
            err("type = page or "),
            (
                "expected a condition after OR but found end of input at line 1, column 16".into(),
                16
            )
        );
        assert_eq!(
            err("type = page AND OR type = x").0,
            "expected a condition after AND but found 'OR' at line 1, column 17"
        );
        assert_eq!(
            err("NOT").0,
            "expected a condition after NOT but found end of input at line 1, column 4"
        );
        assert_eq!(
            err("OR type = x").0,
            "expected a condition (such as type = page) but found 'OR' at line 1, column 1"
        );
        assert_eq!(
            err("").0,
            "expected a condition (such as type = page) but found end of input at line 1, column 1"
        );
        assert_eq!(
            err("type = a type = b").0,
            "expected AND, OR, ORDER BY or the end of the query but found 'type' at line 1, column 10"
        );
    }

    #[test]
    fn bad_dates_and_offsets() {
        let (msg, col) = err("created > 2024-13-01");
        assert!(
            msg.starts_with("invalid date '2024-13-01'; use \"yyyy-MM-dd\""),
            "{msg}"
        );
        assert_eq!(col, 11);
        assert_eq!(err("lastmodified = 'yesterday'").1, 16);
        let (msg, col) = err("created > now(\"4x\")");
        assert!(
            msg.starts_with("invalid date offset '4x'; use a number and a unit"),
            "{msg}"
        );
        assert_eq!(col, 15);
        assert_eq!(
            err("created > now('-1d', '2d')").0,
            "function 'now()' takes at most one argument, an offset such as \"-4w\" at line 1, column 22"
        );
        assert_eq!(
            err("creator = currentUser(x)").0,
            "function 'currentUser()' takes no arguments at line 1, column 23"
        );
        assert_eq!(
            err("created > now(,)").0,
            "expected an argument for now() but found ',' at line 1, column 15"
        );
    }

    #[test]
    fn functions() {
        let (msg, col) = err("space = mySpace()");
        assert!(
            msg.starts_with(
                "unknown function 'mySpace()'; known functions are currentUser(), now()"
            ),
            "{msg}"
        );
        assert_eq!(col, 9);
        let (msg, col) = err("space in (DEV, currentSpace())");
        assert!(
            msg.starts_with("function 'currentSpace()' is valid CQL but not supported here"),
            "{msg}"
        );
        assert_eq!(col, 16);
        assert_eq!(
            err("created = currentUser()").0,
            "function 'currentUser()' cannot be used with field 'created'; currentUser() works with creator and contributor at line 1, column 11"
        );
        assert_eq!(
            err("creator = now()").0,
            "function 'now()' cannot be used with field 'creator'; date functions work with created and lastmodified at line 1, column 11"
        );
    }

    #[test]
    fn order_by() {
        assert_eq!(
            err("type = page ORDER title").0,
            "expected BY after ORDER but found 'title' at line 1, column 19"
        );
        assert_eq!(
            err("type = page ORDER BY").0,
            "expected a field to order by but found end of input at line 1, column 21"
        );
        assert_eq!(
            err("type = page order by label"),
            ("cannot order by 'label'; use title, created, lastmodified, id, space or type at line 1, column 22".into(), 22)
        );
        assert_eq!(
            err("type = page order by title up").0,
            "expected ASC, DESC, ',' or the end of the query but found 'up' at line 1, column 28"
        );
        assert_eq!(
            err("ORDER BY title").0,
            "expected a condition (such as type = page) but found 'ORDER' at line 1, column 1"
        );
        let q = parse("type = page order by space.key desc, lastModified").unwrap();
        assert_eq!(q.order.len(), 2);
        assert!(q.order[0].desc && !q.order[1].desc);
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}type = page{}", "(".repeat(65), ")".repeat(65));
        assert_eq!(
            err(&deep).0,
            "query is nested deeper than 64 levels of parentheses or NOT at line 1, column 65"
        );
        let ok = format!("{}type = page{}", "(".repeat(64), ")".repeat(64));
        assert_eq!(norm(&ok), "type = page");
        assert!(
            err(&"NOT ".repeat(100_000))
                .0
                .starts_with("query is nested deeper than 64 levels")
        );
    }

    #[test]
    fn columns_count_chars_not_bytes() {
        let q = "title = 'éé' AND";
        assert_eq!(
            err(q),
            (
                "expected a condition after AND but found end of input at line 1, column 17".into(),
                17
            )
        );
        assert_eq!(parse(q).unwrap_err().offset(), 18);
    }
}
