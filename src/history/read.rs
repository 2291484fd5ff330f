//! Which format a history file is in, and the one entry point that reads any of them:
//! splitbrain's `history.jsonl`, Jepsen/Knossos/Elle EDN, and elle-cli JSON.
//! The content decides; the extension only breaks ties (an empty file, an empty vector).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::{History, HistoryError};

/// The formats [`read_history`] understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryFormat {
    /// splitbrain's own `history.jsonl`: a header line, then one event a line.
    Jsonl,
    /// Jepsen's `history.edn`: one op map a form, or one vector/list of op maps.
    Edn,
    /// elle-cli's JSON: an array of op objects (or op objects one after another).
    Json,
}

/// What a reader noticed besides the history itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadReport {
    pub format: HistoryFormat,
    /// The last line was incomplete (the writer was killed mid-line) and was dropped.
    pub truncated_tail: bool,
    /// Gaps that were filled (missing `:time`, `:index`, ...) and lines that were dropped, in
    /// words for the user.
    pub warnings: Vec<String>,
}

impl ReadReport {
    /// A report with nothing to say yet.
    pub fn new(format: HistoryFormat) -> ReadReport {
        ReadReport {
            format,
            truncated_tail: false,
            warnings: Vec::new(),
        }
    }
}

/// Reads a history in any supported format, detected from the content.
pub fn read_history(path: &Path) -> Result<(History, ReadReport), HistoryError> {
    match detect_format(path)? {
        HistoryFormat::Jsonl => super::jsonl_read::read_jsonl(path),
        HistoryFormat::Edn => super::edn_history::read_edn(path),
        HistoryFormat::Json => super::json_ops::read_json(path),
    }
}

/// The format of the file at `path`, from its first bytes, else from its extension.
pub fn detect_format(path: &Path) -> Result<HistoryFormat, HistoryError> {
    let mut head = Vec::with_capacity(4096);
    File::open(path)
        .and_then(|f| f.take(4096).read_to_end(&mut head))
        .map_err(|source| io_error(path, source))?;
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if let Some(format) = detect_from_content(&head, extension) {
        return Ok(format);
    }
    match extension {
        "jsonl" => Ok(HistoryFormat::Jsonl),
        "json" => Ok(HistoryFormat::Json),
        "edn" | "clj" | "txt" => Ok(HistoryFormat::Edn),
        _ => Err(parse_error(
            path,
            1,
            1,
            "cannot tell the format: expected a splitbrain history.jsonl (header line \
             {\"splitbrain_history\": 1, ...}), a Jepsen EDN history ({:process 0, :type \
             :invoke, ...}) or an elle-cli JSON array ([{\"process\": 0, \"type\": \"invoke\", ...}])",
        )),
    }
}

fn detect_from_content(head: &[u8], extension: &str) -> Option<HistoryFormat> {
    let rest = skip_blank(head);
    match rest.first()? {
        b';' | b'#' | b':' => Some(HistoryFormat::Edn),
        b'{' => match skip_blank(&rest[1..]).first()? {
            b'"' if first_line_has(rest, b"\"splitbrain_history\"") => Some(HistoryFormat::Jsonl),
            // Event-shaped lines without our header: ours only if the name says so (the
            // JSONL reader then asks for the header); otherwise foreign JSON ops.
            b'"' if extension == "jsonl" => Some(HistoryFormat::Jsonl),
            b'"' => Some(HistoryFormat::Json),
            _ => Some(HistoryFormat::Edn),
        },
        b'[' | b'(' => {
            let inner = skip_blank(&rest[1..]);
            match (inner.first()?, skip_blank(inner.get(1..)?).first()) {
                (b'{', Some(b'"')) => Some(HistoryFormat::Json),
                (b'{', Some(_)) => Some(HistoryFormat::Edn),
                _ => None,
            }
        }
        _ => None,
    }
}

fn first_line_has(text: &[u8], needle: &[u8]) -> bool {
    let line = text.split(|&b| b == b'\n').next().unwrap_or(text);
    line.windows(needle.len()).any(|w| w == needle)
}

/// `bytes` after any whitespace (and a UTF-8 byte-order mark).
fn skip_blank(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b','))
        .unwrap_or(bytes.len());
    &bytes[start..]
}

pub(crate) fn io_error(path: &Path, source: std::io::Error) -> HistoryError {
    HistoryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn parse_error(
    path: &Path,
    line: u64,
    column: u64,
    message: impl Into<String>,
) -> HistoryError {
    HistoryError::Parse {
        path: PathBuf::from(path),
        line,
        column,
        message: message.into(),
    }
}

/// A serde_json error as a parse error at `line` of the file; serde_json counts lines and
/// columns within the text it was given, and appends them to its message, which we drop.
pub(crate) fn json_error(path: &Path, first_line: u64, err: &serde_json::Error) -> HistoryError {
    let mut message = err.to_string();
    if let Some(cut) = message.rfind(" at line ") {
        message.truncate(cut);
    }
    let line = first_line + (err.line() as u64).saturating_sub(1);
    parse_error(path, line, err.column().max(1) as u64, message)
}
