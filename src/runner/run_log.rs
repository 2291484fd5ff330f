//! `run.log`: what the runner did and when, for the person reading the run folder later.
//! Never holds a secret: header values are resolved inside the client and not logged.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

/// An append-only, timestamped log file.
#[derive(Debug)]
pub struct RunLog {
    file: Mutex<File>,
    start: Instant,
}

impl RunLog {
    /// Creates the log file.
    pub fn create(path: &Path) -> io::Result<RunLog> {
        Ok(RunLog {
            file: Mutex::new(File::create(path)?),
            start: Instant::now(),
        })
    }

    /// Appends a line, prefixed with the seconds since the log began. Logging never fails a
    /// run: a write error is ignored here (the history is what matters).
    pub fn line(&self, message: impl std::fmt::Display) {
        let elapsed = self.start.elapsed().as_secs_f64();
        let mut file = self.file.lock().expect("log lock is never poisoned");
        let _ = writeln!(file, "[{elapsed:9.3}s] {message}");
    }
}
