//! Opens a local file in headless Chromium and reports what a person opening it would have
//! met: console errors, uncaught exceptions, every network request, the DOM after the
//! page's scripts ran, how long the load took, and optionally a screenshot. The HTML report
//! must open from `file://`, offline, with no error and no request (issue 6); only a real
//! browser can show that.
//!
//! The browser is Debian's chromium (`/usr/bin/chromium`, installed by scripts/setup.sh;
//! `SPLITBRAIN_CHROMIUM` names another binary), never one downloaded at build or run time.
//! It is driven over the DevTools protocol by the synchronous `headless_chrome` crate: a
//! test needs no async runtime. Every wait is bounded ([`TIMEOUT`]), and the browser
//! process is killed when the [`Page`] drops, or when `open` panics half-way.
//!
//! ```ignore
//! mod common;
//! use common::browser;
//!
//! #[test]
//! fn report_opens_clean() {
//!     if !browser::available() {
//!         return;
//!     }
//!     let page = browser::open(&run_dir.join("report.html"), Some(&run_dir.join("report.png")));
//!     page.assert_clean();
//!     assert!(page.eval("document.querySelectorAll('.lane').length").as_u64() > Some(0));
//! }
//! ```
//!
//! Timing a big file (issue 6: a million ops' report loads in under 10 s): `open(..).load_ms`
//! is the browser's own navigation-to-load-end time, without the browser's start (about 1 s
//! here) or fetching the DOM back (seconds for tens of MB). A plain open costs about 2 s.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::{Log, Network, Page as Cdp, Runtime};
use headless_chrome::{Browser, LaunchOptions, Tab};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// Debian's chromium, where scripts/setup.sh installs it.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The bound on every wait: the browser's start, the load event, each DevTools call. Generous
/// because a report of a million operations must still load (issue 6 asks for under 10 s).
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The window, and so the screenshot: a laptop's first screen.
const WINDOW: (u32, u32) = (1280, 900);

/// Logged by the harness once the page has rendered; seeing it means every event before it
/// has been collected (a tab's events reach the listener in order).
const SETTLED: &str = "splitbrain-harness-settled";

/// What a headless Chromium met while opening one file. The fields are filled when the page
/// has loaded and painted (and again by [`Page::settle`]); [`Page::eval`] asks the live page
/// more.
pub struct Page {
    /// `console.error` and `console.assert` failures, and the browser's own error entries
    /// (a blocked or failed load, a Content-Security-Policy violation), one line each.
    pub console_errors: Vec<String>,
    /// Uncaught exceptions and unhandled promise rejections, with their stack where known.
    pub exceptions: Vec<String>,
    /// The URL of every network request the page started, other than the file itself and
    /// `data:` URLs. A request blocked by the page's CSP is listed too, when Chromium got as
    /// far as starting it, and its violation is in `console_errors` either way.
    pub requests: Vec<String>,
    /// Milliseconds from the start of navigation to the end of the load event, by the page's
    /// own Navigation Timing clock: the time a person waits for the file to open.
    pub load_ms: u64,
    /// `document.documentElement.outerHTML` once the page's scripts have run and it painted.
    pub dom: String,
    seen: Arc<Mutex<Seen>>,
    tab: Arc<Tab>,
    browser: Browser,
    /// The browser's profile; declared after `browser`, so it is removed after the kill.
    profile: tempfile::TempDir,
}

/// Events collected by the tab's listener while the page loads.
#[derive(Default)]
struct Seen {
    console_errors: Vec<String>,
    exceptions: Vec<String>,
    requests: Vec<String>,
    /// `(loader id, lifecycle event name)`, to wait for our navigation's own `load`.
    lifecycle: Vec<(String, String)>,
    /// How many times the page logged [`SETTLED`].
    settled: u64,
}

/// Whether a browser test can run. `false` (after saying so on stderr) only when chromium is
/// not installed and `SPLITBRAIN_REQUIRE_BROWSER` is unset; `.ci/run` sets it, so CI fails
/// rather than skips.
pub fn available() -> bool {
    if chromium().is_file() {
        return true;
    }
    let why = format!(
        "{} is not installed (bash scripts/setup.sh)",
        chromium().display()
    );
    assert!(
        std::env::var_os("SPLITBRAIN_REQUIRE_BROWSER").is_none(),
        "SPLITBRAIN_REQUIRE_BROWSER is set but {why}"
    );
    eprintln!("SKIPPED: browser test: {why}");
    false
}

/// The chromium binary: `SPLITBRAIN_CHROMIUM` or [`CHROMIUM`].
pub fn chromium() -> PathBuf {
    std::env::var_os("SPLITBRAIN_CHROMIUM").map_or_else(|| PathBuf::from(CHROMIUM), PathBuf::from)
}

/// Opens `path` in a new headless Chromium as `file://`, waits for its load event and two
/// painted frames, and collects what happened; saves a PNG of the window to `screenshot`.
/// Panics, naming the file, when the browser does not start, the file does not load within
/// [`TIMEOUT`], or a DevTools call fails.
pub fn open(path: &Path, screenshot: Option<&Path>) -> Page {
    let url = file_url(path);
    let profile = tempfile::tempdir().expect("create a temporary browser profile");
    let browser = launch(profile.path());
    let tab = browser.new_tab().expect("open a browser tab");
    tab.set_default_timeout(TIMEOUT);
    let seen = Arc::new(Mutex::new(Seen::default()));
    listen(&tab, &seen, &url);

    let started = Instant::now();
    let navigation = tab
        .call_method(Cdp::Navigate {
            url: url.clone(),
            referrer: None,
            transition_Type: None,
            frame_id: None,
            referrer_policy: None,
        })
        .unwrap_or_else(|e| panic!("navigate to {url}: {e}"));
    if let Some(error) = navigation.error_text {
        panic!("failed to open {url}: {error}");
    }
    let loader = navigation.loader_id.unwrap_or_default();
    wait_for(&seen, &url, "its load event", |s| {
        s.lifecycle
            .iter()
            .any(|(l, name)| *l == loader && name == "load")
    });
    let wall_ms = started.elapsed().as_millis() as u64;

    let mut page = Page {
        console_errors: Vec::new(),
        exceptions: Vec::new(),
        requests: Vec::new(),
        load_ms: 0,
        dom: String::new(),
        seen,
        tab,
        browser,
        profile,
    };
    page.settle();
    page.load_ms = page
        .eval("performance.getEntriesByType('navigation')[0]?.loadEventEnd")
        .as_f64()
        .map_or(wall_ms, |ms| ms.round() as u64);
    page.dom = page
        .eval("document.documentElement.outerHTML")
        .as_str()
        .expect("outerHTML is a string")
        .to_owned();
    if let Some(png) = screenshot {
        page.screenshot(png);
    }
    page
}

impl Page {
    /// Waits for two painted frames, then refreshes `console_errors`, `exceptions` and
    /// `requests` with everything the page did so far. `open` calls it; call it again after
    /// an [`eval`](Page::eval) that interacts (a click on a witness's link) to see what that
    /// caused.
    pub fn settle(&mut self) {
        let before = lock(&self.seen).settled;
        self.eval(&format!(
            "new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => \
             {{ console.debug('{SETTLED}'); done(true); }})))"
        ));
        let url = self.tab.get_url();
        wait_for(&self.seen, &url, "two painted frames", |s| {
            s.settled > before
        });
        let seen = lock(&self.seen);
        self.console_errors = seen.console_errors.clone();
        self.exceptions = seen.exceptions.clone();
        self.requests = seen.requests.clone();
    }

    /// Evaluates a JavaScript expression in the page (awaiting it when it is a promise) and
    /// returns its value as JSON (`undefined` as `null`). Panics when it throws.
    pub fn eval(&self, expression: &str) -> Value {
        let evaluated = self
            .tab
            .call_method(Runtime::Evaluate {
                expression: expression.to_owned(),
                object_group: None,
                include_command_line_api: None,
                silent: Some(true),
                context_id: None,
                return_by_value: Some(true),
                generate_preview: None,
                user_gesture: None,
                await_promise: Some(true),
                throw_on_side_effect: None,
                timeout: None,
                disable_breaks: None,
                repl_mode: None,
                allow_unsafe_eval_blocked_by_csp: None,
                unique_context_id: None,
                serialization_options: None,
            })
            .unwrap_or_else(|e| panic!("evaluate {expression}: {e}"));
        if let Some(details) = evaluated.exception_details {
            panic!("evaluate {expression}: {}", describe_exception(&details));
        }
        evaluated.result.value.unwrap_or(Value::Null)
    }

    /// Everything a clean page has none of, one line each: console errors, exceptions and
    /// requests, prefixed by their kind.
    pub fn problems(&self) -> Vec<String> {
        let tagged = |kind: &str, lines: &[String]| -> Vec<String> {
            lines.iter().map(|l| format!("{kind}: {l}")).collect()
        };
        [
            tagged("console error", &self.console_errors),
            tagged("exception", &self.exceptions),
            tagged("request", &self.requests),
        ]
        .concat()
    }

    /// Panics, listing them, unless the page had no console error, exception or request.
    pub fn assert_clean(&self) {
        let problems = self.problems();
        assert!(
            problems.is_empty(),
            "the page was not clean:\n{}",
            problems.join("\n")
        );
    }

    /// The browser's process id (killed when the page drops).
    pub fn pid(&self) -> u32 {
        self.browser
            .get_process_id()
            .expect("the harness launched this browser")
    }

    /// The browser's profile folder, which every Chromium process has on its command line.
    pub fn profile(&self) -> &Path {
        self.profile.path()
    }

    /// Saves a PNG of the window (the page's first screen) to `path`.
    pub fn screenshot(&self, path: &Path) {
        let png = self
            .tab
            .capture_screenshot(Cdp::CaptureScreenshotFormatOption::Png, None, None, true)
            .unwrap_or_else(|e| panic!("capture a screenshot for {}: {e}", path.display()));
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

/// Starts chromium headless with its profile in `profile`. No sandbox: Chromium refuses it
/// as root (CI runs as root), and it only ever opens our own local files.
fn launch(profile: &Path) -> Browser {
    let options = LaunchOptions::default_builder()
        .path(Some(chromium()))
        .headless(true)
        .sandbox(false)
        .window_size(Some(WINDOW))
        .port(Some(0)) // Chromium picks a free port: no race between parallel tests
        .user_data_dir(Some(profile.to_path_buf()))
        .idle_browser_timeout(TIMEOUT)
        .build()
        .expect("browser launch options are complete");
    Browser::new(options).unwrap_or_else(|e| panic!("start {} headless: {e}", chromium().display()))
}

/// Enables the DevTools domains whose events the harness collects, and collects them.
fn listen(tab: &Tab, seen: &Arc<Mutex<Seen>>, url: &str) {
    let into = Arc::clone(seen);
    let own_url = url.to_owned();
    tab.add_event_listener(Arc::new(move |event: &Event| {
        collect(&mut lock(&into), event, &own_url);
    }))
    .expect("add a DevTools event listener");
    tab.enable_runtime()
        .expect("enable DevTools Runtime events");
    tab.enable_log().expect("enable DevTools Log events");
    tab.call_method(Network::Enable {
        max_total_buffer_size: None,
        max_resource_buffer_size: None,
        max_post_data_size: None,
        report_direct_socket_traffic: None,
        enable_durable_messages: None,
    })
    .expect("enable DevTools Network events");
}

/// Files one DevTools event where it belongs; ignores the rest.
fn collect(seen: &mut Seen, event: &Event, own_url: &str) {
    match event {
        Event::RuntimeConsoleAPICalled(e) => {
            use Runtime::ConsoleAPICalledEventTypeOption as Type;
            let text = e
                .params
                .args
                .iter()
                .map(describe)
                .collect::<Vec<_>>()
                .join(" ");
            match e.params.Type {
                Type::Error | Type::Assert => seen.console_errors.push(text),
                Type::Debug if text == SETTLED => seen.settled += 1,
                _ => {}
            }
        }
        Event::LogEntryAdded(e) if e.params.entry.level == Log::LogEntryLevel::Error => {
            let entry = &e.params.entry;
            let at = entry
                .url
                .as_deref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default();
            seen.console_errors
                .push(format!("{:?}: {}{at}", entry.source, entry.text));
        }
        Event::RuntimeExceptionThrown(e) => {
            seen.exceptions
                .push(describe_exception(&e.params.exception_details));
        }
        Event::NetworkRequestWillBeSent(e) => {
            let requested = &e.params.request.url;
            if requested != own_url && !requested.starts_with("data:") {
                seen.requests.push(requested.clone());
            }
        }
        Event::PageLifecycleEvent(e) => {
            let p = &e.params;
            seen.lifecycle.push((p.loader_id.clone(), p.name.clone()));
        }
        _ => {}
    }
}

/// Polls the collected events until `done`, at most [`TIMEOUT`].
fn wait_for(seen: &Mutex<Seen>, url: &str, what: &str, done: impl Fn(&Seen) -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !done(&lock(seen)) {
        assert!(
            Instant::now() < deadline,
            "{url}: no {what} within {TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn lock(seen: &Mutex<Seen>) -> MutexGuard<'_, Seen> {
    seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A console argument as the console would print it.
fn describe(arg: &Runtime::RemoteObject) -> String {
    match &arg.value {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => arg
            .description
            .clone()
            .unwrap_or_else(|| format!("{:?}", arg.Type)),
    }
}

/// An exception's message and stack (the thrown object's description), and where it was
/// thrown.
fn describe_exception(details: &Runtime::ExceptionDetails) -> String {
    let thrown = details
        .exception
        .as_ref()
        .and_then(|e| e.description.clone());
    let at = details.url.as_deref().unwrap_or("");
    let line = details.line_number + 1;
    match thrown {
        Some(thrown) => format!("{}: {thrown} ({at}:{line})", details.text),
        None => format!("{} ({at}:{line})", details.text),
    }
}

/// The `file://` URL of `path`, made absolute, with each byte outside a URL path's safe set
/// percent-encoded (Chromium reports requests by this exact spelling).
fn file_url(path: &Path) -> String {
    const PATH: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let absolute = std::fs::canonicalize(path)
        .unwrap_or_else(|e| panic!("failed to open {} in the browser: {e}", path.display()));
    let text = absolute.to_str().expect("test files have UTF-8 paths");
    format!("file://{}", utf8_percent_encode(text, PATH))
}
