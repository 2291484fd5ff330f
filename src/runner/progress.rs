//! The progress line while a run goes: phase, elapsed / total, ops/s, ok / fail / info. On a
//! terminal it is an indicatif bar; elsewhere (CI logs) a plain line every 10 seconds.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use tokio::task::JoinHandle;

use super::recorder::Recorder;

/// A running progress display; dropped or finished, it stops.
pub struct Progress {
    bar: ProgressBar,
    ticker: JoinHandle<()>,
}

impl Progress {
    /// Starts showing progress of a main phase of length `total`.
    pub fn start(recorder: Arc<Recorder>, total: Duration) -> Progress {
        let tty = std::io::stderr().is_terminal();
        let bar = if tty {
            ProgressBar::new(total.as_millis() as u64)
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>5} [{bar:30}] {elapsed_precise} / {len_s}  {msg}",
            )
            .expect("the template is valid")
            .with_key(
                "len_s",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0}s", state.len().unwrap_or(0) as f64 / 1000.0);
                },
            )
            .progress_chars("=> "),
        );
        bar.set_prefix("main");
        let ticker = tokio::spawn(tick(bar.clone(), recorder, tty));
        Progress { bar, ticker }
    }

    /// Names the phase now running.
    pub fn phase(&self, name: &'static str) {
        self.bar.set_prefix(name);
        if self.bar.is_hidden() {
            eprintln!("splitbrain: {name} phase");
        }
    }

    /// Stops the display, leaving the last line on screen.
    pub fn finish(self) {
        self.ticker.abort();
        self.bar.finish();
    }
}

async fn tick(bar: ProgressBar, recorder: Arc<Recorder>, tty: bool) {
    let start = Instant::now();
    let period = if tty {
        Duration::from_millis(250)
    } else {
        Duration::from_secs(10)
    };
    let mut last = (start, 0u64);
    loop {
        tokio::time::sleep(period).await;
        let (invoked, ok, fail, info) = recorder.counts.snapshot();
        let done = ok + fail + info;
        let now = Instant::now();
        let rate = (done - last.1) as f64 / now.duration_since(last.0).as_secs_f64();
        last = (now, done);
        let message = format!(
            "{rate:>7.0} ops/s  ok {ok}  fail {fail}  info {info}  in flight {}",
            invoked - done
        );
        if tty {
            bar.set_position(start.elapsed().as_millis() as u64);
            bar.set_message(message);
        } else {
            eprintln!(
                "splitbrain: {:>5.0}s  {message}",
                start.elapsed().as_secs_f64()
            );
        }
    }
}
