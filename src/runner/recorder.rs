//! The recorder: the single place events get their index and time. Taking both under one lock
//! makes index order agree with real-time order, which checkers rely on. Events go straight
//! into a buffered writer; a flusher pushes the buffer to the file at least every 100 ms, and
//! phase ends sync it to disk, so a `kill -9` of splitbrain loses at most the last 100 ms.

use std::fs::File;
use std::io;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::history::{Event, EventKind, Header, HistoryWriter, Name, Process, Value};

/// Live counts, read by the progress line without taking the recorder's lock.
#[derive(Debug, Default)]
pub struct Counts {
    pub invoked: AtomicU64,
    pub ok: AtomicU64,
    pub fail: AtomicU64,
    pub info: AtomicU64,
}

impl Counts {
    fn bump(&self, kind: EventKind) {
        let counter = match kind {
            EventKind::Invoke => &self.invoked,
            EventKind::Ok => &self.ok,
            EventKind::Fail => &self.fail,
            EventKind::Info => &self.info,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// (invoked, ok, fail, info) now.
    pub fn snapshot(&self) -> (u64, u64, u64, u64) {
        (
            self.invoked.load(Ordering::Relaxed),
            self.ok.load(Ordering::Relaxed),
            self.fail.load(Ordering::Relaxed),
            self.info.load(Ordering::Relaxed),
        )
    }
}

struct Inner {
    writer: HistoryWriter<BufWriter<File>>,
    next_index: u64,
    /// The first write error; once set, nothing more is written and the run stops.
    failed: Option<io::Error>,
}

/// Appends events to `history.jsonl` as they happen.
pub struct Recorder {
    inner: Mutex<Inner>,
    path: PathBuf,
    start: Instant,
    pub counts: Counts,
}

/// What one event says, before the recorder gives it an index and a time.
pub struct Record<'a> {
    pub process: Process,
    pub kind: EventKind,
    pub f: &'a Name,
    pub value: Value,
    pub error: Option<String>,
}

impl Recorder {
    /// Creates the history file (it must not exist) and writes its header.
    pub fn create(path: &Path, header: &Header) -> io::Result<Recorder> {
        let file = File::options().write(true).create_new(true).open(path)?;
        let writer = HistoryWriter::new(BufWriter::with_capacity(1 << 16, file), header)?;
        Ok(Recorder {
            inner: Mutex::new(Inner {
                writer,
                next_index: 0,
                failed: None,
            }),
            path: path.to_owned(),
            start: Instant::now(),
            counts: Counts::default(),
        })
    }

    /// The history file, to read back what was recorded so far (after [`Recorder::sync`]).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Nanoseconds since the run started.
    pub fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Records one event now and returns its index. A write error is kept and reported by
    /// [`Recorder::healthy`]; the event is still counted.
    pub fn record(&self, record: Record<'_>) -> u64 {
        let mut inner = self
            .inner
            .lock()
            .expect("recorder lock is never poisoned: no panics inside");
        let index = inner.next_index;
        inner.next_index += 1;
        let event = Event {
            index,
            time: self.now(),
            process: record.process,
            kind: record.kind,
            f: record.f.clone(),
            value: record.value,
            node: None,
            error: record.error,
        };
        if inner.failed.is_none()
            && let Err(e) = inner.writer.append(&event)
        {
            inner.failed = Some(e);
        }
        drop(inner);
        if record.process != Process::Nemesis {
            self.counts.bump(record.kind);
        }
        index
    }

    /// Pushes buffered events to the file (the flusher calls this every 100 ms).
    pub fn flush(&self) {
        self.with_writer(|w| w.flush());
    }

    /// Flushes and fsyncs: at phase ends and at exit.
    pub fn sync(&self) {
        self.with_writer(|w| w.sync());
    }

    fn with_writer(&self, op: impl FnOnce(&mut HistoryWriter<BufWriter<File>>) -> io::Result<()>) {
        let mut inner = self
            .inner
            .lock()
            .expect("recorder lock is never poisoned: no panics inside");
        if inner.failed.is_none()
            && let Err(e) = op(&mut inner.writer)
        {
            inner.failed = Some(e);
        }
    }

    /// `Err` with the first write error, if any write failed.
    pub fn healthy(&self) -> io::Result<()> {
        let inner = self
            .inner
            .lock()
            .expect("recorder lock is never poisoned: no panics inside");
        match &inner.failed {
            None => Ok(()),
            Some(e) => Err(io::Error::new(e.kind(), e.to_string())),
        }
    }

    /// How many events were recorded.
    pub fn event_count(&self) -> u64 {
        self.inner
            .lock()
            .expect("recorder lock is never poisoned: no panics inside")
            .next_index
    }
}
