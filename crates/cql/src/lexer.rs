//! Splits CQL text into tokens with byte spans. Keywords stay words: only the parser knows
//! whether `and` is a keyword or a value.

use crate::error::{CqlError, CqlErrorKind};

/// A comparison operator as written with symbols (`IN` and `NOT IN` are words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sym {
    Eq,
    Ne,
    Contains,
    NotContains,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    Comma,
    Op(Sym),
    /// An unquoted run of characters: field name, keyword, bare value or function name.
    Word(String),
    /// A single- or double-quoted string, escapes resolved.
    Str(String),
    Eof,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Byte offset of the first character.
    pub start: usize,
}

/// Characters that end a bare word.
pub(crate) fn is_special(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '(' | ')' | ',' | '=' | '!' | '~' | '<' | '>' | '"' | '\''
        )
}

impl Tok {
    /// How the token reads in an error message ("found …").
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::Comma => "','".into(),
            Tok::Op(s) => format!("'{}'", s.as_str()),
            Tok::Word(w) => format!("'{}'", clip(w)),
            Tok::Str(s) => format!("the string \"{}\"", clip(s)),
            Tok::Eof => "end of input".into(),
        }
    }
}

impl Sym {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Sym::Eq => "=",
            Sym::Ne => "!=",
            Sym::Contains => "~",
            Sym::NotContains => "!~",
            Sym::Lt => "<",
            Sym::Le => "<=",
            Sym::Gt => ">",
            Sym::Ge => ">=",
        }
    }
}

/// Shortens long input echoed in messages.
fn clip(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

/// Tokenises `input`; the last token is always [`Tok::Eof`] at `input.len()`.
pub(crate) fn lex(input: &str) -> Result<Vec<Token>, CqlError> {
    let mut out = Vec::new();
    let mut it = input.char_indices().peekable();
    while let Some((start, c)) = it.next() {
        let tok = match c {
            c if c.is_whitespace() => continue,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            ',' => Tok::Comma,
            '=' => Tok::Op(Sym::Eq),
            '~' => Tok::Op(Sym::Contains),
            '<' | '>' => {
                let eq = it.next_if(|&(_, n)| n == '=').is_some();
                Tok::Op(match (c, eq) {
                    ('<', false) => Sym::Lt,
                    ('<', true) => Sym::Le,
                    ('>', false) => Sym::Gt,
                    _ => Sym::Ge,
                })
            }
            '!' => match it.peek() {
                Some(&(_, '=')) => {
                    it.next();
                    Tok::Op(Sym::Ne)
                }
                Some(&(_, '~')) => {
                    it.next();
                    Tok::Op(Sym::NotContains)
                }
                next => {
                    let found = match next {
                        Some(&(_, ch)) if ch.is_whitespace() => "whitespace".to_string(),
                        Some(&(_, ch)) => format!("'{ch}'"),
                        None => "end of input".to_string(),
                    };
                    let kind = CqlErrorKind::Expected {
                        expected: "'=' or '~' after '!' (to write != or !~)".into(),
                        found,
                    };
                    return Err(CqlError::new(kind, input, start));
                }
            },
            '"' | '\'' => Tok::Str(string(input, &mut it, start, c)?),
            _ => {
                let mut end = start + c.len_utf8();
                while let Some((i, n)) = it.next_if(|&(_, n)| !is_special(n)) {
                    end = i + n.len_utf8();
                }
                Tok::Word(input[start..end].to_string())
            }
        };
        out.push(Token { tok, start });
    }
    out.push(Token {
        tok: Tok::Eof,
        start: input.len(),
    });
    Ok(out)
}

/// Reads a quoted string whose opening `quote` is at `start`. Backslash escapes `\n`, `\t`,
/// `\r`; any other escaped character stands for itself (so `\"`, `\'` and `\\` work).
fn string(
    input: &str,
    it: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    start: usize,
    quote: char,
) -> Result<String, CqlError> {
    let mut s = String::new();
    loop {
        match it.next() {
            None => break,
            Some((_, c)) if c == quote => return Ok(s),
            Some((_, '\\')) => match it.next() {
                None => break,
                Some((_, 'n')) => s.push('\n'),
                Some((_, 't')) => s.push('\t'),
                Some((_, 'r')) => s.push('\r'),
                Some((_, other)) => s.push(other),
            },
            Some((_, c)) => s.push(c),
        }
    }
    Err(CqlError::new(
        CqlErrorKind::UnterminatedString { quote },
        input,
        start,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn symbols_words_and_strings() {
        use Tok::*;
        assert_eq!(
            toks(r#"a=b!=c~d!~e<f<=g>h>=i(j,'k\'l')"m\"n""#),
            vec![
                Word("a".into()),
                Op(Sym::Eq),
                Word("b".into()),
                Op(Sym::Ne),
                Word("c".into()),
                Op(Sym::Contains),
                Word("d".into()),
                Op(Sym::NotContains),
                Word("e".into()),
                Op(Sym::Lt),
                Word("f".into()),
                Op(Sym::Le),
                Word("g".into()),
                Op(Sym::Gt),
                Word("h".into()),
                Op(Sym::Ge),
                Word("i".into()),
                LParen,
                Word("j".into()),
                Comma,
                Str("k'l".into()),
                RParen,
                Str("m\"n".into()),
                Eof,
            ]
        );
    }

    #[test]
    fn words_keep_dots_dashes_and_stars() {
        assert_eq!(
            toks("space.key 2024-01-01 foo* ~x"),
            vec![
                Tok::Word("space.key".into()),
                Tok::Word("2024-01-01".into()),
                Tok::Word("foo*".into()),
                Tok::Op(Sym::Contains),
                Tok::Word("x".into()),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(
            toks(r#""a\nb\tc\\d\qe""#)[0],
            Tok::Str("a\nb\tc\\dqe".into())
        );
    }

    #[test]
    fn spans_are_byte_offsets() {
        let t = lex("é = 'x'").unwrap();
        assert_eq!(
            t.iter().map(|t| t.start).collect::<Vec<_>>(),
            vec![0, 3, 5, 8]
        );
    }

    #[test]
    fn unterminated_string_points_at_opening_quote() {
        let e = lex("title = \"abc").unwrap_err();
        assert_eq!(e.offset(), 8);
        assert_eq!(
            e.to_string(),
            "unterminated string: the \" opened here is never closed at line 1, column 9"
        );
        assert_eq!(lex("title = 'ab\\'").unwrap_err().offset(), 8);
    }

    #[test]
    fn lone_bang() {
        let e = lex("title ! x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected '=' or '~' after '!' (to write != or !~) but found whitespace at line 1, column 7"
        );
    }
}
