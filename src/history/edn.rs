//! A small EDN reader for Jepsen, Knossos and Elle histories (the `edn-format` spec, plus the
//! Clojure printer's habits that appear in real histories: `0x` hex integers, ratios,
//! `#object[...]`).
//!
//! EDN maps onto [`Value`] as the history needs it: keywords and symbols become strings
//! without the colon, characters become one-character strings, sets become sorted lists,
//! tagged literals (`#inst`, `#uuid`, `#object`, ...) become their inner value, `N` integers
//! that do not fit an `i64` and `M` decimals become floats.
//! Errors carry the line and column (from 1, columns count characters).

use super::Value;

/// A syntax error with its place in the text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct EdnError {
    pub line: u64,
    pub column: u64,
    pub message: String,
}

/// A place in the text: enough to report a line and column and to quote the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub offset: usize,
    pub line: u64,
    line_start: usize,
}

/// One map entry with the place its value starts and ends, so that a field with the wrong
/// content can be reported where it is.
#[derive(Clone, Debug)]
pub struct Entry {
    pub key: Value,
    pub value: Value,
    pub value_start: Pos,
    pub value_end: usize,
}

/// Reads one EDN value from `src`; only whitespace and comments may follow it.
pub fn parse_edn_value(src: &[u8]) -> Result<Value, EdnError> {
    let mut reader = EdnReader::new(src);
    let value = reader.read_value()?;
    if reader.skip_ws()?.is_some() {
        return Err(reader.error("expected the end of the text after the value"));
    }
    Ok(value)
}

/// A cursor over EDN text.
pub struct EdnReader<'a> {
    src: &'a [u8],
    pos: usize,
    line: u64,
    line_start: usize,
}

impl<'a> EdnReader<'a> {
    pub fn new(src: &'a [u8]) -> EdnReader<'a> {
        let bom = if src.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        EdnReader {
            src,
            pos: bom,
            line: 1,
            line_start: bom,
        }
    }

    /// The current place.
    pub fn here(&self) -> Pos {
        Pos {
            offset: self.pos,
            line: self.line,
            line_start: self.line_start,
        }
    }

    /// An error at `pos`.
    pub fn error_at(&self, pos: Pos, message: impl Into<String>) -> EdnError {
        let before = &self.src[pos.line_start..pos.offset.min(self.src.len())];
        let column = String::from_utf8_lossy(before).chars().count() as u64 + 1;
        EdnError {
            line: pos.line,
            column,
            message: message.into(),
        }
    }

    fn error(&self, message: impl Into<String>) -> EdnError {
        self.error_at(self.here(), message)
    }

    /// The source text from `start` to `end`, shortened for messages.
    pub fn quote(&self, start: Pos, end: usize) -> String {
        let text = String::from_utf8_lossy(&self.src[start.offset..end.min(self.src.len())]);
        match text.char_indices().nth(60) {
            Some((cut, _)) => format!("{}...", &text[..cut]),
            None => text.into_owned(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        if b == b'\n' {
            self.line += 1;
            self.line_start = self.pos;
        }
        Some(b)
    }

    /// Skips whitespace, commas, `;` comments and `#_` discarded forms; returns the next byte.
    pub fn skip_ws(&mut self) -> Result<Option<u8>, EdnError> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b'\x0c') => {
                    self.bump();
                }
                Some(b';') => {
                    while !matches!(self.peek(), None | Some(b'\n')) {
                        self.pos += 1;
                    }
                }
                Some(b'#') if self.src.get(self.pos + 1) == Some(&b'_') => {
                    self.pos += 2;
                    self.read_value()?;
                }
                other => return Ok(other),
            }
        }
    }

    /// Consumes `byte`, which the caller has just peeked.
    pub fn expect_byte(&mut self, byte: u8) {
        debug_assert_eq!(self.peek(), Some(byte));
        self.bump();
    }

    /// Reads the next value, which must be there.
    pub fn read_value(&mut self) -> Result<Value, EdnError> {
        let Some(b) = self.skip_ws()? else {
            return Err(self.error("expected a value, found the end of the file"));
        };
        match b {
            b'"' => self.read_string().map(Value::Str),
            b'[' => self.read_seq(b']').map(Value::List),
            b'(' => self.read_seq(b')').map(Value::List),
            b'{' => self.read_map(),
            b'#' => self.read_dispatch(),
            b'\\' => self.read_char(),
            b':' => {
                self.pos += 1;
                let start = self.here();
                let token = self.token();
                if token.is_empty() {
                    return Err(self.error_at(start, "expected a keyword name after `:`"));
                }
                Ok(Value::Str(token.into()))
            }
            b')' | b']' | b'}' => Err(self.error(format!(
                "unexpected `{}`: nothing is open here to close",
                b as char
            ))),
            _ => self.read_atom(),
        }
    }

    /// A token: everything up to the next delimiter.
    fn token(&mut self) -> &'a str {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if matches!(
                b,
                b' ' | b'\t'
                    | b'\n'
                    | b'\r'
                    | b','
                    | b'('
                    | b')'
                    | b'['
                    | b']'
                    | b'{'
                    | b'}'
                    | b'"'
                    | b';'
                    | b'\x0c'
            ) {
                break;
            }
            self.pos += 1;
        }
        // Delimiters are ASCII, so the cut is on a character boundary of valid UTF-8; invalid
        // UTF-8 degrades to an empty token and is reported by the caller.
        std::str::from_utf8(&self.src[start..self.pos]).unwrap_or("")
    }

    fn read_atom(&mut self) -> Result<Value, EdnError> {
        let start = self.here();
        let token = self.token();
        if token.is_empty() {
            self.pos = start.offset;
            return Err(self.error("expected a value, found a character that starts none"));
        }
        let first = token.as_bytes()[0];
        let second = token.as_bytes().get(1).copied();
        let numeric = first.is_ascii_digit()
            || (matches!(first, b'+' | b'-') && second.is_some_and(|b| b.is_ascii_digit()));
        if numeric {
            return parse_number(token).ok_or_else(|| {
                self.error_at(start, format!("expected a number, found `{token}`"))
            });
        }
        Ok(match token {
            "nil" => Value::Nil,
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            symbol => Value::Str(symbol.into()),
        })
    }

    fn read_string(&mut self) -> Result<Box<str>, EdnError> {
        let start = self.here();
        self.bump();
        let mut out = Vec::new();
        loop {
            let Some(b) = self.bump() else {
                return Err(self.error_at(start, "this string is never closed (no `\"`)"));
            };
            match b {
                b'"' => break,
                b'\\' => self.read_escape(&mut out)?,
                _ => out.push(b),
            }
        }
        String::from_utf8(out)
            .map(String::into_boxed_str)
            .map_err(|_| self.error_at(start, "this string is not valid UTF-8"))
    }

    fn read_escape(&mut self, out: &mut Vec<u8>) -> Result<(), EdnError> {
        let at = self.here();
        let c = match self.bump() {
            Some(b'n') => '\n',
            Some(b't') => '\t',
            Some(b'r') => '\r',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'u') => self.read_hex4(at)?,
            _ => {
                return Err(self.error_at(
                    at,
                    "expected an escape: \\n \\t \\r \\b \\f \\\" \\\\ or \\uXXXX",
                ));
            }
        };
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        Ok(())
    }

    fn read_hex4(&mut self, at: Pos) -> Result<char, EdnError> {
        let hex = self.src.get(self.pos..self.pos + 4).unwrap_or(b"");
        let c = std::str::from_utf8(hex)
            .ok()
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
            .ok_or_else(|| self.error_at(at, "expected four hex digits after \\u"))?;
        self.pos += 4;
        Ok(c)
    }

    fn read_char(&mut self) -> Result<Value, EdnError> {
        let start = self.here();
        self.pos += 1;
        // The character itself may be a delimiter (`\(`, `\ `), so take one first.
        let len = match self.peek() {
            Some(0..=0x7f) => 1,
            Some(0xc0..=0xdf) => 2,
            Some(0xe0..=0xef) => 3,
            _ => 4,
        };
        let end = (self.pos + len).min(self.src.len());
        let first = std::str::from_utf8(&self.src[self.pos..end]).ok();
        let Some(first) = first.and_then(|s| s.chars().next()) else {
            return Err(self.error_at(start, "expected a character after `\\`"));
        };
        self.pos += first.len_utf8();
        let tail = self.token();
        let c = match (first, tail) {
            (c, "") => c,
            ('n', "ewline") => '\n',
            ('s', "pace") => ' ',
            ('t', "ab") => '\t',
            ('r', "eturn") => '\r',
            ('b', "ackspace") => '\u{8}',
            ('f', "ormfeed") => '\u{c}',
            ('u', hex) if hex.len() == 4 => u32::from_str_radix(hex, 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| self.error_at(start, "expected \\uXXXX with four hex digits"))?,
            _ => {
                return Err(self.error_at(
                    start,
                    format!(
                        "expected a character such as \\a or \\newline, found `\\{first}{tail}`"
                    ),
                ));
            }
        };
        Ok(Value::Str(c.to_string().into_boxed_str()))
    }

    /// Reads the elements of a vector or list up to `close`.
    fn read_seq(&mut self, close: u8) -> Result<Box<[Value]>, EdnError> {
        let start = self.here();
        self.bump();
        let mut items = Vec::new();
        loop {
            match self.skip_ws()? {
                None => return Err(self.unclosed(start, close)),
                Some(b) if b == close => {
                    self.bump();
                    return Ok(items.into_boxed_slice());
                }
                Some(_) => items.push(self.read_value()?),
            }
        }
    }

    fn unclosed(&self, start: Pos, close: u8) -> EdnError {
        self.error_at(
            start,
            format!(
                "this is never closed: expected `{}` before the end of the file",
                close as char
            ),
        )
    }

    fn read_map(&mut self) -> Result<Value, EdnError> {
        let entries = self.read_map_entries()?;
        Ok(Value::Map(
            entries.into_iter().map(|e| (e.key, e.value)).collect(),
        ))
    }

    /// Reads a map (the next byte is `{`), keeping where each value is.
    pub fn read_map_entries(&mut self) -> Result<Vec<Entry>, EdnError> {
        let start = self.here();
        self.bump();
        let mut entries = Vec::with_capacity(8);
        loop {
            match self.skip_ws()? {
                None => return Err(self.unclosed(start, b'}')),
                Some(b'}') => {
                    self.bump();
                    return Ok(entries);
                }
                Some(_) => {}
            }
            let key = self.read_value()?;
            if matches!(self.skip_ws()?, Some(b'}') | None) {
                return Err(self.error(format!("expected a value for the map key {key}")));
            }
            let value_start = self.here();
            let value = self.read_value()?;
            entries.push(Entry {
                key,
                value,
                value_start,
                value_end: self.pos,
            });
        }
    }

    /// After `#`: a set, a symbolic value (`##Inf`) or a tagged literal.
    fn read_dispatch(&mut self) -> Result<Value, EdnError> {
        let start = self.here();
        self.pos += 1;
        match self.peek() {
            Some(b'{') => {
                let mut items = self.read_seq(b'}')?.into_vec();
                items.sort();
                items.dedup();
                Ok(Value::List(items.into_boxed_slice()))
            }
            Some(b'#') => {
                self.pos += 1;
                match self.token() {
                    "Inf" => Ok(Value::Float(f64::INFINITY)),
                    "-Inf" => Ok(Value::Float(f64::NEG_INFINITY)),
                    "NaN" => Ok(Value::Float(f64::NAN)),
                    other => Err(self.error_at(
                        start,
                        format!("expected ##Inf, ##-Inf or ##NaN, found `##{other}`"),
                    )),
                }
            }
            _ => {
                if self.token().is_empty() {
                    return Err(self.error_at(
                        start,
                        "expected a tag (`#inst`), a set (`#{`) or a discard (`#_`) after `#`",
                    ));
                }
                // A tagged literal: the inner value is what a checker can use.
                self.read_value()
            }
        }
    }
}

/// Parses an EDN number token, or `None` if it is not one.
fn parse_number(token: &str) -> Option<Value> {
    if let Some(decimal) = token.strip_suffix('M') {
        return decimal.parse::<f64>().ok().map(Value::Float);
    }
    let int = token.strip_suffix('N').unwrap_or(token);
    let (negative, digits) = match int.as_bytes()[0] {
        b'-' => (true, &int[1..]),
        b'+' => (false, &int[1..]),
        _ => (false, int),
    };
    if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        let n = i64::from_str_radix(hex, 16).ok()?;
        return Some(Value::Int(if negative { -n } else { n }));
    }
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        return Some(match int.parse::<i64>() {
            Ok(n) => Value::Int(n),
            // An integer past i64 (Clojure's BigInt): keep its magnitude.
            Err(_) => Value::Float(int.parse::<f64>().ok()?),
        });
    }
    if let Some((num, den)) = token.split_once('/') {
        let (num, den) = (num.parse::<f64>().ok()?, den.parse::<f64>().ok()?);
        return Some(Value::Float(num / den));
    }
    token.parse::<f64>().ok().map(Value::Float)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Value {
        EdnReader::new(text.as_bytes()).read_value().unwrap()
    }

    #[test]
    fn reads_numbers_in_every_notation() {
        assert_eq!(read("-12"), Value::Int(-12));
        assert_eq!(read("7N"), Value::Int(7));
        assert_eq!(read("0x1f"), Value::Int(31));
        assert_eq!(read("1.5M"), Value::Float(1.5));
        assert_eq!(read("1/4"), Value::Float(0.25));
        assert_eq!(read("2e3"), Value::Float(2000.0));
        assert_eq!(read("99999999999999999999N"), Value::Float(1e20));
    }

    #[test]
    fn unclosed_vector_is_reported_where_it_opens() {
        let err = EdnReader::new(b"\n  [1 2").read_value().unwrap_err();
        assert_eq!((err.line, err.column), (2, 3), "{err:?}");
    }
}
