//! Which format a history file is in, and the one entry point that reads any of them:
//! splitbrain's `history.jsonl`, Jepsen/Knossos/Elle EDN, elle-cli JSON, Jepsen's console log
//! lines and Porcupine's kv logs. The content decides; the extension only breaks ties (an
//! empty file, an empty vector).

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
    /// Jepsen's console log: `INFO  jepsen.util - 3 :ok :cas [3 0]` op lines among others
    /// (Porcupine's and Horn & Kroening's etcd logs).
    JepsenLog,
    /// Porcupine's kv log: one EDN op map a line with `:key` beside `:value`, read as the
    /// value `[key value]`.
    PorcupineKv,
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
        HistoryFormat::JepsenLog => super::logs::read_jepsen_log(path),
        HistoryFormat::PorcupineKv => super::logs::read_kv_log(path),
    }
}

/// The format of the file at `path`, from its first bytes, else from its extension.
pub fn detect_format(path: &Path) -> Result<HistoryFormat, HistoryError> {
    let mut head = Vec::with_capacity(HEAD);
    File::open(path)
        .and_then(|f| f.take(HEAD as u64).read_to_end(&mut head))
        .map_err(|source| io_error(path, source))?;
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let found = detect_from_content(&head, extension)
        .or_else(|| has_log_op_line(&head).then_some(HistoryFormat::JepsenLog));
    if let Some(format) = found {
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
             :invoke, ...}), an elle-cli JSON array ([{\"process\": 0, \"type\": \"invoke\", ...}]), \
             a Jepsen console log (INFO  jepsen.util - 0 :invoke :read nil) or a Porcupine kv \
             log ({:process 0, :type :invoke, :f :get, :key \"5\", :value nil})",
        )),
    }
}

/// How much of a file format detection reads: a raw Jepsen console log may print a few
/// kilobytes of set-up before its first op line.
const HEAD: usize = 64 * 1024;

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
            _ if is_kv_line(rest) => Some(HistoryFormat::PorcupineKv),
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

/// Whether the first line is a whole EDN op map with a `:key` (Porcupine's kv log).
fn is_kv_line(text: &[u8]) -> bool {
    let line = text.split(|&b| b == b'\n').next().unwrap_or(text);
    match super::parse_edn_value(line) {
        Ok(super::Value::Map(entries)) => {
            let has = |name: &str| entries.iter().any(|(k, _)| k.as_str() == Some(name));
            has("key") && has("type")
        }
        _ => false,
    }
}

/// Whether a line of `head` is a Jepsen console log op line (`jepsen.util - 3 :ok ...`).
fn has_log_op_line(head: &[u8]) -> bool {
    head.split(|&b| b == b'\n')
        .filter_map(|line| std::str::from_utf8(line).ok())
        .any(super::logs::is_log_op_line)
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
