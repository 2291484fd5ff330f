//! Reading splitbrain's own `history.jsonl`: the header line, then one event a line. An
//! incomplete last line (the writer was killed mid-line) is dropped and reported in the
//! [`ReadReport`]; any other bad line is an error naming the line and column.
//!
//! Parsing is the cost, so it is spread over threads: one thread cuts the file into chunks of
//! whole lines, two parse chunks in turn, and the calling thread pairs the events in file
//! order. Each parser interns names on its own, so a name is allocated once per parser.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use serde::Deserialize;

use super::intern::Interner;
use super::read::{HistoryFormat, ReadReport, io_error, json_error, parse_error};
use super::{
    Event, EventKind, FORMAT_VERSION, Header, History, HistoryError, Pairer, Process, Value,
};

/// Bytes handed to a parser at a time.
const CHUNK: usize = 1 << 20;
/// Parser threads; the machines this runs on have two cores.
const PARSERS: usize = 2;

/// An event line with its names borrowed from the line, interned after parsing.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent<'a> {
    index: u64,
    time: u64,
    process: Process,
    #[serde(rename = "type")]
    kind: EventKind,
    #[serde(borrow)]
    f: Cow<'a, str>,
    #[serde(default)]
    value: Value,
    #[serde(default, borrow)]
    node: Option<Cow<'a, str>>,
    #[serde(default)]
    error: Option<String>,
}

impl RawEvent<'_> {
    fn into_event(self, names: &mut Interner) -> Event {
        Event {
            index: self.index,
            time: self.time,
            process: self.process,
            kind: self.kind,
            f: names.intern(&self.f),
            value: self.value,
            node: self.node.map(|n| names.intern(&n)),
            error: self.error,
        }
    }
}

/// A chunk's events; line numbers count from 1 within the chunk.
struct Parsed {
    events: Vec<Event>,
    lines: u64,
    /// The chunk's (and so the file's) last line was incomplete and did not parse.
    truncated: Option<u64>,
}

/// Reads a `history.jsonl` file.
pub fn read_jsonl(path: &Path) -> Result<(History, ReadReport), HistoryError> {
    let file = File::open(path).map_err(|source| io_error(path, source))?;
    read_jsonl_from(file, path)
}

/// Reads `history.jsonl` text from `input`; `path` names it in errors.
pub fn read_jsonl_from<R: Read + Send>(
    input: R,
    path: &Path,
) -> Result<(History, ReadReport), HistoryError> {
    let mut input = BufReader::with_capacity(1 << 16, input);
    let (header, header_lines) = read_header(&mut input, path)?;
    // Past the header, read straight into chunks: what the BufReader holds comes first.
    let buffered = input.buffer().to_vec();
    let input = input.into_inner();
    std::thread::scope(|scope| {
        let mut to_parsers = Vec::with_capacity(PARSERS);
        let mut from_parsers = Vec::with_capacity(PARSERS);
        for _ in 0..PARSERS {
            let (chunk_tx, chunk_rx) = sync_channel(2);
            let (parsed_tx, parsed_rx) = sync_channel(2);
            scope.spawn(move || parse_chunks(chunk_rx, parsed_tx, path));
            to_parsers.push(chunk_tx);
            from_parsers.push(parsed_rx);
        }
        scope.spawn(move || split_chunks(buffered, input, to_parsers));
        pair_in_order(from_parsers, header, header_lines, path)
    })
}

/// Cuts `carry` and then the input into chunks of whole lines and deals them to the parsers
/// in turn; the last chunk may end without a newline. Stops early when the reading side has
/// gone.
fn split_chunks<R: Read>(
    mut carry: Vec<u8>,
    mut input: R,
    parsers: Vec<SyncSender<io::Result<Vec<u8>>>>,
) {
    let mut next = 0;
    loop {
        let mut chunk = Vec::with_capacity(CHUNK + carry.len());
        chunk.append(&mut carry);
        let eof = match (&mut input).take(CHUNK as u64).read_to_end(&mut chunk) {
            Ok(n) => n < CHUNK,
            Err(e) => {
                let _ = parsers[next % PARSERS].send(Err(e));
                return;
            }
        };
        if !eof {
            match chunk.iter().rposition(|&b| b == b'\n') {
                Some(cut) => carry = chunk.split_off(cut + 1),
                None => {
                    // One line longer than a chunk: keep reading it.
                    carry = chunk;
                    continue;
                }
            }
        }
        if !chunk.is_empty() && parsers[next % PARSERS].send(Ok(chunk)).is_err() {
            return;
        }
        next += 1;
        if eof {
            return;
        }
    }
}

fn parse_chunks(
    chunks: Receiver<io::Result<Vec<u8>>>,
    parsed: SyncSender<Result<Parsed, HistoryError>>,
    path: &Path,
) {
    let mut names = Interner::default();
    for chunk in chunks {
        let result = match chunk {
            Ok(chunk) => parse_chunk(&chunk, &mut names, path),
            Err(source) => Err(io_error(path, source)),
        };
        if parsed.send(result).is_err() {
            return;
        }
    }
}

fn parse_chunk(chunk: &[u8], names: &mut Interner, path: &Path) -> Result<Parsed, HistoryError> {
    let mut parsed = Parsed {
        events: Vec::with_capacity(chunk.len() / 64),
        lines: 0,
        truncated: None,
    };
    // Validating UTF-8 once per chunk is cheaper than once per string; a chunk that is not
    // UTF-8 goes line by line so the bad line is the one reported.
    match std::str::from_utf8(chunk) {
        Ok(text) => {
            for line in text.split_inclusive('\n') {
                parsed.line(line.as_bytes(), Some(line), names, path)?;
            }
        }
        Err(_) => {
            for line in chunk.split_inclusive(|&b| b == b'\n') {
                parsed.line(line, None, names, path)?;
            }
        }
    }
    Ok(parsed)
}

impl Parsed {
    /// Parses one line (with its newline, if it has one); `text` is the same line when it is
    /// known to be UTF-8.
    fn line(
        &mut self,
        raw: &[u8],
        text: Option<&str>,
        names: &mut Interner,
        path: &Path,
    ) -> Result<(), HistoryError> {
        self.lines += 1;
        let complete = raw.last() == Some(&b'\n');
        let len = raw.len()
            - raw
                .iter()
                .rev()
                .take_while(|&&b| b == b'\n' || b == b'\r')
                .count();
        if raw[..len].iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let event = match text {
            Some(text) => serde_json::from_str::<RawEvent<'_>>(&text[..len]),
            None => serde_json::from_slice::<RawEvent<'_>>(&raw[..len]),
        };
        match event {
            Ok(event) => self.events.push(event.into_event(names)),
            Err(_) if !complete => self.truncated = Some(self.lines),
            Err(e) => return Err(json_error(path, self.lines, &e)),
        }
        Ok(())
    }
}

/// Receives parsed chunks in file order and pairs their events.
fn pair_in_order(
    parsers: Vec<Receiver<Result<Parsed, HistoryError>>>,
    header: Header,
    mut lines_before: u64,
    path: &Path,
) -> Result<(History, ReadReport), HistoryError> {
    let mut report = ReadReport::new(HistoryFormat::Jsonl);
    let mut pairer = Pairer::default();
    // Chunk k went to parser k % PARSERS; the first parser with nothing more means no chunk k.
    for k in 0.. {
        let Ok(parsed) = parsers[k % PARSERS].recv() else {
            break;
        };
        let parsed = parsed.map_err(|e| shift_line(e, lines_before, path))?;
        for event in parsed.events {
            pairer.push(event)?;
        }
        if let Some(line) = parsed.truncated {
            report.truncated_tail = true;
            report.warnings.push(format!(
                "line {} is incomplete (the writer was stopped mid-line) and was dropped",
                lines_before + line
            ));
        }
        lines_before += parsed.lines;
    }
    Ok((pairer.finish(Some(header)), report))
}

/// A parse error's line counted from the start of the file instead of its chunk.
fn shift_line(err: HistoryError, lines_before: u64, path: &Path) -> HistoryError {
    match err {
        HistoryError::Parse {
            line,
            column,
            message,
            ..
        } => parse_error(path, lines_before + line, column, message),
        other => other,
    }
}

/// Reads the first non-blank line, which must be a header of a version this reader knows;
/// returns it and how many lines it took.
fn read_header<R: BufRead>(input: &mut R, path: &Path) -> Result<(Header, u64), HistoryError> {
    const EXPECTED: &str = "expected the header line {\"splitbrain_history\": 1, ...}";
    let mut buf = Vec::new();
    let mut line = 0;
    loop {
        buf.clear();
        let n = input
            .read_until(b'\n', &mut buf)
            .map_err(|source| io_error(path, source))?;
        if n == 0 {
            let message = format!("the file is empty; {EXPECTED}");
            return Err(parse_error(path, line.max(1), 1, message));
        }
        line += 1;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if buf.last() != Some(&b'\n') {
            let message = format!("the header line is incomplete; {EXPECTED}");
            return Err(parse_error(path, line, 1, message));
        }
        return Ok((parse_header(&buf, path, line)?, line));
    }
}

fn parse_header(text: &[u8], path: &Path, line: u64) -> Result<Header, HistoryError> {
    /// Just enough of a header to know whether it is one, and which version.
    #[derive(Deserialize)]
    struct Probe {
        splitbrain_history: Option<serde_json::Value>,
        version: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_slice(text).map_err(|e| json_error(path, line, &e))?;
    let message = match probe.splitbrain_history {
        Some(v) if v.as_u64() == Some(u64::from(FORMAT_VERSION)) => {
            return serde_json::from_slice(text).map_err(|e| json_error(path, line, &e));
        }
        None => "expected the header line {\"splitbrain_history\": 1, ...} first, found a line \
                 without \"splitbrain_history\" (a splitbrain history.jsonl starts with its \
                 header; Jepsen-style JSON ops belong in a .json file)"
            .to_string(),
        Some(v) => {
            let by = match probe.version.as_ref().and_then(|v| v.as_str()) {
                Some(version) => format!(" (written by splitbrain {version})"),
                None => String::new(),
            };
            format!(
                "unsupported history format version {v}{by}: expected \"splitbrain_history\": \
                 {FORMAT_VERSION}, the only version this splitbrain reads"
            )
        }
    };
    Err(parse_error(path, line, 1, message))
}
