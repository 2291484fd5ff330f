//! The templated HTTP client: fills a workload operation's request template for an
//! invocation, sends it, and decides from the response whether the operation is `ok`, `fail`
//! or `info` (Jepsen's rule: when in doubt, `info`).
//!
//! - status in the op's `ok` set: `ok`, with the value read from the body where the op has one;
//! - status in the op's `fail` set: `fail` (the target documents it as "not applied");
//! - a connect error: `fail`, since nothing reached the system;
//! - anything else (another status, a timeout, a reset, an unreadable body, an `ok` body
//!   without the expected JSON): `info`.
//!
//! A view read (`f` = `view:NAME`) is `ok` on any 2xx, with the records at the view's
//! pointers (`{"records": [{"id": .., FIELD: ..}, ..]}`); a list or an id that is not there
//! is `info` naming the view, the pointer and the start of the response, never an empty list.
//!
//! A bank read (`Extract::Balances`) is the map account → balance of its records; a list,
//! an account or a balance that is not there is `info` naming the pointer and the start of
//! the response, never an empty or partial read.
//!
//! Header values may hold secrets (`${STAGING_TOKEN}`): they are resolved once, marked
//! sensitive, and scrubbed from every reason this client writes.

use std::collections::BTreeMap;
use std::io;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};

use super::{Completion, Invocation};
use crate::checker::relations::view_f;
use crate::history::Value;
use crate::workload::{Extract, HttpOp, HttpView, Plan, WorkloadError};

/// Resolved header values shorter than this are not scrubbed from reasons.
const MIN_SCRUBBED_LEN: usize = 6;

/// How much of a response an error reason quotes.
const EXCERPT_CHARS: usize = 160;

/// How long the preflight request may take.
const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the client cannot be used. The CLI maps `MissingEnv` and `Build` to exit code 3 (bad
/// input) and `Unreachable` to 4 (the system under test could not be reached).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A header refers to `${VAR}` and `VAR` is not set.
    #[error(
        "failed to resolve header {header}: environment variable {var} is not set \
         (the workload refers to it as ${{{var}}})"
    )]
    MissingEnv { header: String, var: String },
    /// The preflight request got no HTTP response at all.
    #[error(
        "failed to reach {url} (preflight GET {path}): {reason}; \
         is the system under test running?"
    )]
    Unreachable {
        url: String,
        path: String,
        reason: String,
    },
    /// The database's password refers to `${VAR}` and `VAR` is not set.
    #[error(
        "failed to resolve target.password: environment variable {var} is not set \
         (the workload refers to it as ${{{var}}})"
    )]
    MissingPassword { var: String },
    /// The database did not accept a connection, or its tables could not be made ready.
    #[error(
        "failed to reach PostgreSQL at {url}: {reason}; is it running \
         (scripts/setup.sh sets up the local test cluster)?"
    )]
    Database { url: String, reason: String },
    /// The HTTP client could not be built (a header value that is not a valid header value,
    /// the TLS setup).
    #[error("failed to build the HTTP client: {reason}")]
    Build { reason: String },
}

/// Sends a plan's operations over HTTP. Cheap to share: clone it or put it in an `Arc`;
/// the connection pool is shared either way.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    base_url: String,
    preflight: String,
    ops: BTreeMap<String, PreparedOp>,
    /// Views by their op name (`view:NAME`).
    views: BTreeMap<String, PreparedView>,
    /// Resolved header values, to scrub from reasons should one ever echo them.
    secrets: Vec<String>,
}

/// Leaves out the resolved header values.
impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("base_url", &self.base_url)
            .field("preflight", &self.preflight)
            .field("ops", &self.ops.keys().collect::<Vec<_>>())
            .field("views", &self.views.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// One op with its method and base URL parsed once.
#[derive(Clone, Debug)]
struct PreparedOp {
    method: Method,
    base: reqwest::Url,
    op: HttpOp,
}

/// One view with its method and base URL parsed once.
#[derive(Clone, Debug)]
struct PreparedView {
    name: String,
    method: Method,
    base: reqwest::Url,
    view: HttpView,
}

impl HttpClient {
    /// Builds the client for `plan`, resolving header `${VAR}`s through `env` (the runner
    /// passes `|v| std::env::var(v).ok()`). One connection pool sized for the plan's
    /// concurrency; no redirects followed, no retries, no proxy.
    pub fn new(
        plan: &Plan,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<HttpClient, ClientError> {
        let (headers, secrets) = resolve_headers(plan, &env)?;
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .pool_max_idle_per_host(plan.concurrency)
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .no_proxy()
            .build()
            .map_err(|e| ClientError::Build {
                reason: error_reason(&e),
            })?;
        let target = &plan.target.base_url;
        let mut ops = BTreeMap::new();
        for (name, op) in &plan.ops {
            let method = parse_method(&format!("operation {name}"), &op.method)?;
            let base = parse_base(op.base_url.as_ref().unwrap_or(target))?;
            let op = op.clone();
            ops.insert(name.clone(), PreparedOp { method, base, op });
        }
        let mut views = BTreeMap::new();
        for (name, view) in &plan.views {
            let prepared = PreparedView {
                name: name.clone(),
                method: parse_method(&format!("view {name}"), &view.method)?,
                base: parse_base(view.base_url.as_ref().unwrap_or(target))?,
                view: view.clone(),
            };
            views.insert(view_f(name), prepared);
        }
        parse_base(target)?;
        Ok(HttpClient {
            client,
            base_url: plan.target.base_url.clone(),
            preflight: plan.target.preflight.clone(),
            ops,
            views,
            secrets,
        })
    }

    /// Proves the target reachable before a run: any HTTP response will do, even a 404 or a
    /// 500; no response within 5 s is [`ClientError::Unreachable`].
    pub async fn preflight(&self) -> Result<(), ClientError> {
        let url = format!("{}{}", self.base_url, self.preflight);
        let sent = self
            .client
            .get(&url)
            .timeout(PREFLIGHT_TIMEOUT)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) => {
                let reason = if e.is_timeout() {
                    format!(
                        "no response within {}",
                        humantime::format_duration(PREFLIGHT_TIMEOUT)
                    )
                } else {
                    error_reason(&e)
                };
                Err(ClientError::Unreachable {
                    url: self.base_url.clone(),
                    path: self.preflight.clone(),
                    reason: self.scrub(reason),
                })
            }
        }
    }

    /// Sends the request for `inv` and classifies the outcome. Never panics and never
    /// returns an error: whatever happens becomes `ok`, `fail` or `info`.
    pub async fn invoke(&self, inv: &Invocation) -> Completion {
        if let Some(view) = self.views.get(&*inv.f) {
            return match self.read_view(view).await {
                Completion::Ok(value) => Completion::Ok(value),
                Completion::Fail(reason) => Completion::Fail(self.scrub(reason)),
                Completion::Info(reason) => Completion::Info(self.scrub(reason)),
            };
        }
        let Some(prepared) = self.ops.get(&*inv.f) else {
            // Nothing was sent, so the operation certainly did not happen.
            return Completion::Fail(format!(
                "the workload has no request for operation {:?}",
                inv.f
            ));
        };
        let completion = self.send(prepared, inv).await;
        match completion {
            Completion::Ok(value) => Completion::Ok(value),
            Completion::Fail(reason) => Completion::Fail(self.scrub(reason)),
            Completion::Info(reason) => Completion::Info(self.scrub(reason)),
        }
    }

    async fn send(&self, prepared: &PreparedOp, inv: &Invocation) -> Completion {
        let op = &prepared.op;
        let url = url_on(&prepared.base, &op.path.render_path(inv));
        let mut request = self
            .client
            .request(prepared.method.clone(), url)
            .timeout(op.timeout);
        if let Some(body) = &op.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.render_json(inv));
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                return match classify_send_error(&e, op.timeout) {
                    // The checker reads this op's fail as "ran and refused": not so here.
                    Completion::Fail(why) if op.fail_means_ran => {
                        Completion::Info(format!("{why} (a {} that never ran is no fail)", inv.f))
                    }
                    other => other,
                };
            }
        };
        let status = response.status();
        if op.fail.contains(status.as_u16()) {
            return Completion::Fail(status_reason(status));
        }
        if op.missing.contains(status.as_u16()) {
            // The target says the key is not there: a read of nil (a kv get of ""), which the
            // checker counts.
            return Completion::Ok(Some(super::kv::missing_value(&op.extract)));
        }
        if !op.ok.contains(status.as_u16()) {
            return Completion::Info(format!("unexpected {}", status_reason(status)));
        }
        if op.extract == Extract::None {
            return Completion::Ok(None);
        }
        match response.bytes().await {
            Ok(body) => extract(&op.extract, &body, &inv.value),
            Err(e) if e.is_timeout() => Completion::Info(format!(
                "timeout after {} while reading the response body of {}",
                humantime::format_duration(op.timeout),
                status_reason(status)
            )),
            Err(e) => Completion::Info(format!(
                "failed to read the response body of {}: {}",
                status_reason(status),
                error_reason(&e)
            )),
        }
    }

    /// Reads one view: any 2xx is `ok` with the records; anything else is `info`.
    async fn read_view(&self, prepared: &PreparedView) -> Completion {
        let view = &prepared.view;
        let response = self
            .client
            .request(prepared.method.clone(), url_on(&prepared.base, &view.path))
            .timeout(view.timeout)
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(e) => return classify_send_error(&e, view.timeout),
        };
        let status = response.status();
        if !status.is_success() {
            return Completion::Info(format!(
                "view {}: unexpected {}",
                prepared.name,
                status_reason(status)
            ));
        }
        match response.bytes().await {
            Ok(body) => match extract_view(&prepared.name, view, &body) {
                Ok(records) => Completion::Ok(Some(records)),
                Err(reason) => Completion::Info(reason),
            },
            Err(e) => Completion::Info(format!(
                "view {}: failed to read the response body of {}: {}",
                prepared.name,
                status_reason(status),
                error_reason(&e)
            )),
        }
    }

    /// Replaces every resolved header value in `reason` (a secret, perhaps) with `[redacted]`.
    fn scrub(&self, mut reason: String) -> String {
        for secret in &self.secrets {
            if reason.contains(secret.as_str()) {
                reason = reason.replace(secret.as_str(), "[redacted]");
            }
        }
        reason
    }
}

/// `base` with a rendered path (and query) appended.
fn url_on(base: &reqwest::Url, rendered: &str) -> reqwest::Url {
    let (path, query) = match rendered.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rendered, None),
    };
    let mut url = base.clone();
    url.set_path(&format!("{}{path}", base.path().trim_end_matches('/')));
    url.set_query(query);
    url
}

fn parse_method(what: &str, method: &str) -> Result<Method, ClientError> {
    Method::from_bytes(method.as_bytes()).map_err(|_| ClientError::Build {
        reason: format!("{what}: {method:?} is not an HTTP method"),
    })
}

fn parse_base(base_url: &str) -> Result<reqwest::Url, ClientError> {
    reqwest::Url::parse(base_url).map_err(|e| ClientError::Build {
        reason: format!("base_url {base_url:?}: {e}"),
    })
}

/// A view's `ok` value, `{"records": [{"id": .., FIELD: ..}, ..]}`, from a response body; or
/// why it cannot be had, naming the view, the pointer and the start of what was there.
fn extract_view(name: &str, view: &HttpView, body: &[u8]) -> Result<Value, String> {
    let json: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "view {name}: the response is not JSON ({e}): {}",
            excerpt(&String::from_utf8_lossy(body))
        )
    })?;
    let Some(list) = json
        .pointer(&view.records)
        .and_then(serde_json::Value::as_array)
    else {
        let found = match json.pointer(&view.records) {
            Some(_) => "is not a list",
            None => "matches nothing",
        };
        return Err(format!(
            "view {name}: records pointer {:?} {found} in the response: {}",
            view.records,
            excerpt(&json.to_string())
        ));
    };
    let mut records = Vec::with_capacity(list.len());
    for (i, record) in list.iter().enumerate() {
        let id = match record.pointer(&view.id) {
            Some(id) if !id.is_null() => Value::from_json(id),
            _ => {
                return Err(format!(
                    "view {name}: record {i} of the list at {:?} has no id at pointer {:?}: {}",
                    view.records,
                    view.id,
                    excerpt(&record.to_string())
                ));
            }
        };
        let mut entries = vec![(Value::from("id"), id)];
        for (field, pointer) in &view.fields {
            let value = record.pointer(pointer).map_or(Value::Nil, Value::from_json);
            entries.push((Value::from(field.as_str()), value));
        }
        records.push(Value::Map(entries.into()));
    }
    Ok(Value::Map(
        vec![(Value::from("records"), Value::list(records))].into(),
    ))
}

/// A register read's value: the integer at `pointer`, or a string holding one (etcd's v2 API
/// stores strings: `"3"`); `null` is nil. Anything else is `info`: a read the checker could
/// not place must not become a wrong value.
fn register_value(json: &serde_json::Value, pointer: &str) -> Completion {
    let found = match json.pointer(pointer) {
        Some(serde_json::Value::Null) => return Completion::Ok(Some(Value::Nil)),
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(_) => None,
        None => {
            return Completion::Info(format!(
                "ok status but the body has nothing at JSON pointer {pointer:?}: {}",
                excerpt(&json.to_string())
            ));
        }
    };
    match found {
        Some(i) => Completion::Ok(Some(Value::Int(i))),
        None => Completion::Info(format!(
            "a register read expects an integer (or a string of one) at JSON pointer \
             {pointer:?}, found {}",
            excerpt(
                &json
                    .pointer(pointer)
                    .map(ToString::to_string)
                    .unwrap_or_default()
            )
        )),
    }
}

/// The first characters of a response, for an error reason.
pub(super) fn excerpt(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// Resolves the plan's headers; returns them (marked sensitive) and the values that came
/// from the environment, to scrub.
fn resolve_headers(
    plan: &Plan,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(HeaderMap, Vec<String>), ClientError> {
    let mut headers = HeaderMap::new();
    let mut secrets = Vec::new();
    for spec in &plan.target.headers {
        let value = spec.resolve(env).map_err(|e| match e {
            WorkloadError::MissingEnv { header, var } => ClientError::MissingEnv { header, var },
            other => ClientError::Build {
                reason: other.to_string(),
            },
        })?;
        let name =
            HeaderName::from_bytes(spec.name.as_bytes()).map_err(|_| ClientError::Build {
                reason: format!("{:?} is not a valid header name", spec.name),
            })?;
        let mut header_value = HeaderValue::from_str(&value).map_err(|_| ClientError::Build {
            // Never the value itself: it may be a secret.
            reason: format!(
                "the value of header {} is not a valid header value once its environment \
                 variables are filled (a newline or control character, perhaps)",
                spec.name
            ),
        })?;
        header_value.set_sensitive(true);
        headers.insert(name, header_value);
        secrets.extend(spec.env_vars().into_iter().filter_map(env));
        if !spec.env_vars().is_empty() {
            secrets.push(value);
        }
    }
    // A short value ("1", a tenant id) is no secret worth hiding, and scrubbing it would
    // mangle reasons ("status 401" with a value of "1").
    secrets.retain(|s| s.len() >= MIN_SCRUBBED_LEN);
    Ok((headers, secrets))
}

/// A request that failed before any response: a connect error means nothing reached the
/// system (`fail`); anything later (a timeout, a reset) may have applied (`info`).
fn classify_send_error(e: &reqwest::Error, timeout: Duration) -> Completion {
    if e.is_connect() {
        Completion::Fail(format!("connect: {}", error_reason(e)))
    } else if e.is_timeout() {
        Completion::Info(format!(
            "timeout after {}",
            humantime::format_duration(timeout)
        ))
    } else {
        Completion::Info(error_reason(e))
    }
}

/// Reads an `ok` response's value (`sent`: the invoked one). The op happened either way; a
/// body that does not give the value makes the result unknown to us, so `info`.
fn extract(how: &Extract, body: &[u8], sent: &Value) -> Completion {
    let json: serde_json::Value = match serde_json::from_slice(body) {
        Ok(json) => json,
        Err(e) => {
            return Completion::Info(format!(
                "ok status but the body is not JSON ({e}), so the value at {} is unknown",
                pointer_name(how)
            ));
        }
    };
    match how {
        Extract::None => Completion::Ok(None),
        Extract::Value(pointer) => match json.pointer(pointer) {
            Some(found) => Completion::Ok(Some(Value::from_json(found))),
            None => Completion::Info(format!(
                "ok status but the body has nothing at JSON pointer {pointer:?}"
            )),
        },
        Extract::Register(pointer) => register_value(&json, pointer),
        Extract::Kv(pointer) => super::kv::get_value(&json, pointer),
        Extract::Txn { pointer, shape } => super::txn::completed(&json, pointer, sent, *shape),
        Extract::Records { records, element } => {
            extract_records(&json, records, element.as_deref())
        }
        Extract::Balances {
            records,
            account,
            balance,
        } => match extract_balances(&json, records, account, balance) {
            Ok(balances) => Completion::Ok(Some(balances)),
            Err(reason) => Completion::Info(reason),
        },
    }
}

/// A bank read's value, the map account → balance (a `null` balance as nil); or why it cannot
/// be had, naming the pointer and quoting what was there. Accounts are keyed by their text
/// (`0` → `"0"`, `"a"` → `"a"`), as in elle-cli's JSON histories: a history's JSON object needs
/// string keys, and the bank checker takes `"0"` and `0` for the same account.
fn extract_balances(
    json: &serde_json::Value,
    records: &str,
    account: &str,
    balance: &str,
) -> Result<Value, String> {
    let Some(list) = json.pointer(records).and_then(serde_json::Value::as_array) else {
        let found = match json.pointer(records) {
            Some(_) => "is not a list",
            None => "matches nothing",
        };
        return Err(format!(
            "ok status but records pointer {records:?} {found} in the response: {}",
            excerpt(&json.to_string())
        ));
    };
    let mut balances: Vec<(Value, Value)> = Vec::with_capacity(list.len());
    for (i, record) in list.iter().enumerate() {
        let missing = |what: &str, pointer: &str| {
            format!(
                "ok status but record {i} of the list at {records:?} has no {what} at pointer \
                 {pointer:?}: {}",
                excerpt(&record.to_string())
            )
        };
        let id = match record.pointer(account) {
            Some(serde_json::Value::String(id)) => id.clone(),
            Some(id) if id.is_i64() => id.to_string(),
            _ => return Err(missing("account id (an integer or a string)", account)),
        };
        let amount = match record.pointer(balance) {
            Some(serde_json::Value::Null) => Value::Nil,
            Some(b) if b.is_i64() => Value::from_json(b),
            Some(_) => return Err(missing("integer balance", balance)),
            None => return Err(missing("balance", balance)),
        };
        let id = Value::from(id.as_str());
        if let Some((Value::Str(text), _)) = balances.iter().find(|(seen, _)| seen == &id) {
            return Err(format!(
                "ok status but account {text} appears twice in the list at {records:?}: {}",
                excerpt(&record.to_string())
            ));
        }
        balances.push((id, amount));
    }
    Ok(Value::Map(balances.into()))
}

fn extract_records(json: &serde_json::Value, records: &str, element: Option<&str>) -> Completion {
    let Some(list) = json.pointer(records).and_then(serde_json::Value::as_array) else {
        return Completion::Info(format!(
            "ok status but the body has no list at JSON pointer {records:?}"
        ));
    };
    let Some(element) = element else {
        return Completion::Ok(Some(Value::list(list.iter().map(Value::from_json))));
    };
    let mut elements = Vec::with_capacity(list.len());
    for (i, record) in list.iter().enumerate() {
        match record.pointer(element) {
            Some(found) => elements.push(Value::from_json(found)),
            None => {
                return Completion::Info(format!(
                    "ok status but record {i} of the list at {records:?} has nothing at \
                     JSON pointer {element:?}"
                ));
            }
        }
    }
    Completion::Ok(Some(Value::list(elements)))
}

fn pointer_name(how: &Extract) -> String {
    match how {
        Extract::None => "(none)".to_owned(),
        Extract::Value(pointer)
        | Extract::Register(pointer)
        | Extract::Kv(pointer)
        | Extract::Txn { pointer, .. } => format!("JSON pointer {pointer:?}"),
        Extract::Records {
            records,
            element: None,
        } => format!("JSON pointer {records:?}"),
        Extract::Records {
            records,
            element: Some(element),
        } => format!("JSON pointers {records:?} / {element:?}"),
        Extract::Balances {
            records,
            account,
            balance,
        } => format!("JSON pointers {records:?} / {account:?}, {balance:?}"),
    }
}

/// `status 409` or `status 409 Conflict`.
fn status_reason(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(text) => format!("status {} {text}", status.as_u16()),
        None => format!("status {}", status.as_u16()),
    }
}

/// The most specific words for a transport error: the innermost cause, with common I/O
/// errors in plain words ("connection refused"), without reqwest's URL prefix.
fn error_reason(e: &reqwest::Error) -> String {
    let mut innermost: &dyn std::error::Error = e;
    while let Some(source) = innermost.source() {
        if let Some(io) = source.downcast_ref::<io::Error>() {
            return io_reason(io);
        }
        innermost = source;
    }
    innermost.to_string()
}

fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        io::ErrorKind::ConnectionReset => "connection reset".to_owned(),
        io::ErrorKind::ConnectionAborted => "connection aborted".to_owned(),
        io::ErrorKind::TimedOut => "timed out".to_owned(),
        io::ErrorKind::UnexpectedEof => "connection closed before the response ended".to_owned(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn view(records: &str, id: &str, fields: &[(&str, &str)]) -> HttpView {
        HttpView {
            base_url: None,
            method: "GET".into(),
            path: "/items".into(),
            records: records.into(),
            id: id.into(),
            fields: fields
                .iter()
                .map(|(f, p)| ((*f).to_owned(), (*p).to_owned()))
                .collect(),
            timeout: Duration::from_secs(1),
            weight: 0.0,
        }
    }

    fn records(value: &Value) -> String {
        serde_json::to_string(value).expect("values serialise")
    }

    #[test]
    fn a_view_read_gives_each_record_its_id_and_declared_fields() {
        let body = br#"{"data": {"items": [{"id": 1, "s": {"v": "A"}, "q": 2}, {"id": "2"}]}}"#;
        let v = view("/data/items", "/id", &[("status", "/s/v"), ("qty", "/q")]);
        let value = extract_view("orders", &v, body).expect("extracts");
        assert_eq!(
            records(&value),
            r#"{"records":[{"id":1,"status":"A","qty":2},{"id":"2","status":null,"qty":null}]}"#
        );
    }

    #[test]
    fn empty_pointers_take_the_body_as_the_list_and_the_record_as_the_id() {
        let value = extract_view("ids", &view("", "", &[]), b"[3, 1, 2]").expect("extracts");
        assert_eq!(
            records(&value),
            r#"{"records":[{"id":3},{"id":1},{"id":2}]}"#
        );
        let empty = extract_view("ids", &view("", "", &[]), b"[]").expect("extracts");
        assert_eq!(records(&empty), r#"{"records":[]}"#);
    }

    #[test]
    fn a_records_pointer_that_matches_nothing_is_an_error_naming_view_and_pointer() {
        let why = extract_view("replica", &view("/items", "/id", &[]), br#"{"itmes": []}"#)
            .expect_err("no list at /items");
        assert!(why.contains("view replica"), "{why}");
        assert!(why.contains(r#""/items" matches nothing"#), "{why}");
        assert!(
            why.contains(r#"{"itmes":[]}"#),
            "an excerpt of the response: {why}"
        );
        let why = extract_view("replica", &view("/items", "/id", &[]), br#"{"items": 3}"#)
            .expect_err("not a list");
        assert!(why.contains("is not a list"), "{why}");
    }

    #[test]
    fn a_record_without_an_id_is_an_error_not_a_skipped_record() {
        let body = br#"{"items": [{"id": 1}, {"ident": 2}]}"#;
        let why = extract_view("primary", &view("/items", "/id", &[]), body)
            .expect_err("record 1 has no id");
        assert!(why.contains("view primary: record 1"), "{why}");
        assert!(why.contains(r#"no id at pointer "/id""#), "{why}");
        assert!(why.contains(r#"{"ident":2}"#), "{why}");
    }

    fn balances(body: &str) -> Result<Value, String> {
        let json = serde_json::from_str(body).expect("test bodies are JSON");
        extract_balances(&json, "/accounts", "/id", "/balance")
    }

    #[test]
    fn a_bank_read_is_the_map_of_each_records_account_to_its_balance() {
        let value =
            balances(r#"{"accounts": [{"id": 0, "balance": 100}, {"id": "b", "balance": null}]}"#)
                .expect("extracts");
        assert_eq!(records(&value), r#"{"0":100,"b":null}"#);
        assert_eq!(records(&balances(r#"{"accounts": []}"#).unwrap()), "{}");
    }

    #[test]
    fn a_bank_read_without_its_list_account_or_balance_is_an_error_naming_the_pointer() {
        let why = balances(r#"{"acounts": []}"#).expect_err("no list");
        assert!(
            why.contains(r#"records pointer "/accounts" matches nothing"#),
            "{why}"
        );
        assert!(why.contains(r#"{"acounts":[]}"#), "{why}");
        let why = balances(r#"{"accounts": [{"id": 0, "balance": 1}, {"balance": 2}]}"#)
            .expect_err("no id");
        assert!(why.contains(r#"record 1 of the list at "/accounts" has no account id (an integer or a string) at pointer "/id""#), "{why}");
        assert!(why.contains(r#"{"balance":2}"#), "{why}");
        let why = balances(r#"{"accounts": [{"id": 0, "bal": 1}]}"#).expect_err("no balance");
        assert!(why.contains(r#"no balance at pointer "/balance""#), "{why}");
        let why = balances(r#"{"accounts": [{"id": 0, "balance": "1"}]}"#).expect_err("a string");
        assert!(why.contains("no integer balance"), "{why}");
        let why = balances(r#"{"accounts": [{"id": 0, "balance": 1}, {"id": "0", "balance": 1}]}"#)
            .expect_err("twice");
        assert!(why.contains("account 0 appears twice"), "{why}");
    }

    #[test]
    fn a_body_that_is_not_json_is_an_error_quoting_its_start() {
        let long = "<html>".repeat(100);
        let why = extract_view("v", &view("", "", &[]), long.as_bytes()).expect_err("not JSON");
        assert!(why.contains("view v: the response is not JSON"), "{why}");
        assert!(why.ends_with('…') && why.len() < 400, "{why}");
    }
}
