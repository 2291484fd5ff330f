//! Where a validation error points: the workload file, the field's dotted path, and the line
//! and column of the value, from a `toml::Spanned` span (or, for a TOML syntax error, from
//! the parser's own span).

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use toml::Spanned;

use super::error::WorkloadError;

/// The file being validated, to turn spans into line and column.
pub(super) struct Cx<'a> {
    path: &'a Path,
    text: &'a str,
}

impl<'a> Cx<'a> {
    pub(super) fn new(path: &'a Path, text: &'a str) -> Cx<'a> {
        Cx { path, text }
    }

    pub(super) fn at<T>(
        &self,
        value: &Spanned<T>,
        field: &str,
        message: impl Into<String>,
    ) -> WorkloadError {
        self.span(Some(value.span()), field, message.into())
    }

    /// An error naming a field that is not in the file (a default that does not fit).
    pub(super) fn plain(&self, field: &str, message: &str) -> WorkloadError {
        self.span(None, field, message.to_owned())
    }

    pub(super) fn span(
        &self,
        span: Option<Range<usize>>,
        field: &str,
        message: String,
    ) -> WorkloadError {
        let (line, column) = match span {
            Some(span) => {
                let (line, column) = line_column(self.text, span.start);
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        WorkloadError::Invalid {
            path: self.path.to_owned(),
            line,
            column,
            field: field.to_owned(),
            message,
        }
    }

    /// A TOML syntax or shape error (unknown field, wrong type, missing field).
    pub(super) fn syntax(&self, e: &toml::de::Error) -> WorkloadError {
        let message = e
            .message()
            .trim_end()
            .replace('\n', " ")
            .replace("expected i64", "expected an integer")
            .replace("expected u64", "expected an integer of 0 or more")
            .replace("expected f64", "expected a number")
            .replace("expected a sequence", "expected a list");
        let field = e
            .span()
            .map(|span| field_at(self.text, span.start))
            .unwrap_or_default();
        self.span(e.span(), &field, message)
    }

    pub(super) fn duration(
        &self,
        text: &Spanned<String>,
        field: &str,
        zero_ok: bool,
    ) -> Result<Duration, WorkloadError> {
        let found = text.get_ref();
        let parsed = humantime::parse_duration(found).map_err(|e| {
            self.at(
                text,
                field,
                format!("expected a duration like \"2s\", \"500ms\" or \"1m 30s\", found {found:?} ({e})"),
            )
        })?;
        if parsed.is_zero() && !zero_ok {
            return Err(self.at(
                text,
                field,
                format!("expected a duration above 0, found {found:?}"),
            ));
        }
        Ok(parsed)
    }

    pub(super) fn int_in(
        &self,
        n: &Spanned<i64>,
        field: &str,
        min: i64,
        max: i64,
    ) -> Result<i64, WorkloadError> {
        let value = *n.get_ref();
        if !(min..=max).contains(&value) {
            let range = if max == i64::MAX {
                format!("of {min} or more")
            } else {
                format!("from {min} to {max}")
            };
            return Err(self.at(
                n,
                field,
                format!("expected a whole number {range}, found {value}"),
            ));
        }
        Ok(value)
    }
}

/// The dotted path of the field written at `offset`: the enclosing `[table]` header and the
/// key on that line, as far as a line-based look can tell (for errors from the TOML parser,
/// which knows the span but not the path).
fn field_at(text: &str, offset: usize) -> String {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or_default().trim();
    let header = |l: &str| {
        let l = l.trim();
        let inner = l.strip_prefix('[')?.split(']').next()?;
        Some(inner.trim().to_owned())
    };
    let table = text[..line_start].lines().rev().find_map(header);
    let key = match header(line) {
        Some(own) => return own,
        None => line
            .split_once('=')
            .map(|(k, _)| k.trim().trim_matches(['"', '\'']).to_owned()),
    };
    [table, key]
        .into_iter()
        .flatten()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(".")
}

/// Line and column (both from 1, the column in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_from_one_in_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, text.find('"').unwrap()), (2, 6));
    }

    #[test]
    fn field_at_joins_the_table_header_and_the_key() {
        let text = "name = 1\n[model.ops.add]\nmethod = \"PUT\"\ntimout = 2\n";
        assert_eq!(
            field_at(text, text.find("timout").unwrap()),
            "model.ops.add.timout"
        );
        assert_eq!(field_at(text, 0), "name");
        assert_eq!(
            field_at(text, text.find("[model").unwrap() + 1),
            "model.ops.add"
        );
    }
}
