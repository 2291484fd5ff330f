//! Writing splitbrain's own `history.jsonl`: a [`Header`] line, then one [`Event`] a line,
//! appended as events happen. The writer issues one `write` per line, so a killed process
//! leaves at most one incomplete last line, which the reader (`jsonl_read`) tolerates.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::Serialize;

use super::{Event, Header};

/// Appends a history to `W`, one JSON line per event, through a reused buffer.
///
/// Floats that are not finite are written as `null` (JSON has no NaN); EDN maps whose keys
/// are not all strings are written as a list of `[key, value]` pairs.
#[derive(Debug)]
pub struct HistoryWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
}

impl<W: Write> HistoryWriter<W> {
    /// Starts a history: writes the header line.
    pub fn new(out: W, header: &Header) -> io::Result<HistoryWriter<W>> {
        let mut writer = HistoryWriter {
            out,
            buf: Vec::with_capacity(512),
        };
        writer.write_line(header)?;
        Ok(writer)
    }

    /// Appends one event as one line, in a single `write_all`.
    pub fn append(&mut self, event: &Event) -> io::Result<()> {
        self.write_line(event)
    }

    fn write_line<T: Serialize>(&mut self, item: &T) -> io::Result<()> {
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, item).map_err(io::Error::other)?;
        self.buf.push(b'\n');
        self.out.write_all(&self.buf)
    }

    /// Flushes whatever `W` buffers.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Gives back the underlying writer (unflushed if it buffers).
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl HistoryWriter<File> {
    /// Creates `path` and writes the header; refuses to overwrite an existing file.
    pub fn create(path: &Path, header: &Header) -> io::Result<HistoryWriter<File>> {
        let file = OpenOptions::new().write(true).create_new(true).open(path)?;
        HistoryWriter::new(file, header)
    }

    /// Makes everything appended so far durable (`fdatasync`).
    pub fn sync(&mut self) -> io::Result<()> {
        self.out.flush()?;
        self.out.sync_data()
    }
}

impl HistoryWriter<BufWriter<File>> {
    /// Flushes the buffer and makes everything appended so far durable (`fdatasync`).
    pub fn sync(&mut self) -> io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_data()
    }
}
