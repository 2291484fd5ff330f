//! The templated HTTP client against tiny axum servers started by each test: how requests
//! are filled and how every kind of answer (or no answer) is classified ok / fail / info.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::{any, get};
use splitbrain::client::{ClientError, Completion, HttpClient, Invocation};
use splitbrain::history::Value;
use splitbrain::workload::{Extract, HeaderSpec, HttpOp, Plan, StatusSet, Template};

const SECRET: &str = "tok-5ecret-9f8e";

/// Serves `router` on a free local port; returns its base URL.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free port");
    let addr = listener.local_addr().expect("bound");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

/// A base URL where nothing listens.
async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free port");
    let addr = listener.local_addr().expect("bound");
    drop(listener);
    format!("http://{addr}")
}

fn op(
    method: &str,
    path: &str,
    body: Option<&str>,
    ok: &[u16],
    fail: &[u16],
    extract: Extract,
) -> HttpOp {
    HttpOp {
        base_url: None,
        method: method.to_owned(),
        path: Template::parse(path).expect("valid template"),
        body: body.map(|b| Template::parse(b).expect("valid template")),
        ok: StatusSet(ok.to_vec()),
        fail: StatusSet(fail.to_vec()),
        missing: StatusSet(Vec::new()),
        fail_means_ran: false,
        timeout: Duration::from_millis(500),
        extract,
    }
}

/// A plan sending to `base_url` with these ops (by name) and headers.
fn plan(base_url: &str, ops: Vec<(&str, HttpOp)>, headers: &[(&str, &str)]) -> Plan {
    let text = r#"
name = "t"
time_limit = "1s"
concurrency = 2
[target]
base_url = "http://127.0.0.1:1"
preflight = "/health"
[model]
kind = "unique-ids"
[model.ops.generate]
method = "POST"
path = "/ids"
value = "/id"
"#;
    let mut plan = Plan::from_toml(text, Path::new("test.toml")).expect("valid");
    plan.target.base_url = base_url.to_owned();
    plan.target.headers = headers
        .iter()
        .map(|(name, value)| HeaderSpec {
            name: (*name).to_owned(),
            value: (*value).to_owned(),
        })
        .collect();
    plan.ops = ops
        .into_iter()
        .map(|(name, op)| (name.to_owned(), op))
        .collect();
    plan
}

fn client(plan: &Plan) -> HttpClient {
    HttpClient::new(plan, |var| (var == "TOKEN").then(|| SECRET.to_owned())).expect("builds")
}

fn inv(f: &str, value: Value) -> Invocation {
    Invocation {
        f: f.into(),
        value,
        process: 4,
        key: Value::Nil,
    }
}

/// Sends one `f` op with `value` to a server answering every request with `router`.
async fn one(router: Router, op: HttpOp, value: Value) -> Completion {
    let base = serve(router).await;
    let plan = plan(&base, vec![("f", op)], &[]);
    client(&plan).invoke(&inv("f", value)).await
}

fn records() -> Extract {
    Extract::Records {
        records: "/data".into(),
        element: Some("/n".into()),
    }
}

#[tokio::test]
async fn an_ok_read_gives_the_elements_of_its_records() {
    let router = Router::new().route(
        "/items",
        get(|| async { r#"{"data":[{"n":1},{"n":"x"},{"n":3}]}"# }),
    );
    let completion = one(
        router,
        op("GET", "/items", None, &[200], &[], records()),
        Value::Nil,
    )
    .await;
    let expected = Value::list([Value::Int(1), Value::from("x"), Value::Int(3)]);
    assert_eq!(completion, Completion::Ok(Some(expected)));
}

#[tokio::test]
async fn records_without_an_element_pointer_are_the_elements() {
    let router = Router::new().route("/items", get(|| async { "[4,5]" }));
    let extract = Extract::Records {
        records: String::new(),
        element: None,
    };
    let completion = one(
        router,
        op("GET", "/items", None, &[200], &[], extract),
        Value::Nil,
    )
    .await;
    assert_eq!(
        completion,
        Completion::Ok(Some(Value::list([Value::Int(4), Value::Int(5)])))
    );
}

#[tokio::test]
async fn an_ok_value_read_gives_the_value_at_the_pointer() {
    let router = Router::new().route("/counter", get(|| async { r#"{"value":{"total":17}}"# }));
    let extract = Extract::Value("/value/total".into());
    let completion = one(
        router,
        op("GET", "/counter", None, &[200], &[], extract),
        Value::Nil,
    )
    .await;
    assert_eq!(completion, Completion::Ok(Some(Value::Int(17))));
}

#[tokio::test]
async fn an_ok_write_keeps_the_invoked_value() {
    let router = Router::new().route(
        "/items/{n}",
        any(|| async { (StatusCode::CREATED, "not json") }),
    );
    let completion = one(
        router,
        op(
            "PUT",
            "/items/{{value}}",
            None,
            &[200, 201],
            &[],
            Extract::None,
        ),
        Value::Int(3),
    )
    .await;
    assert_eq!(completion, Completion::Ok(None));
}

#[tokio::test]
async fn a_fail_status_is_a_definite_fail() {
    let router = Router::new().route(
        "/pop",
        any(|| async { (StatusCode::NOT_FOUND, r#"{"error":"empty"}"#) }),
    );
    let extract = Extract::Value("/item".into());
    let completion = one(
        router,
        op("POST", "/pop", None, &[200], &[404], extract),
        Value::Nil,
    )
    .await;
    let Completion::Fail(reason) = completion else {
        panic!("expected fail, got {completion:?}")
    };
    assert!(reason.starts_with("status 404"), "{reason}");
}

#[tokio::test]
async fn a_500_is_info() {
    let router = Router::new().route(
        "/items",
        any(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
    );
    let completion = one(
        router,
        op("PUT", "/items", None, &[200], &[409], Extract::None),
        Value::Int(1),
    )
    .await;
    let Completion::Info(reason) = completion else {
        panic!("expected info, got {completion:?}")
    };
    assert!(reason.contains("status 500"), "{reason}");
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_is_info() {
    let router = Router::new()
        .route(
            "/items",
            any(|| async { (StatusCode::FOUND, [("location", "/elsewhere")]) }),
        )
        .route("/elsewhere", any(|| async { "ok" }));
    let completion = one(
        router,
        op("PUT", "/items", None, &[200], &[], Extract::None),
        Value::Int(1),
    )
    .await;
    assert!(
        matches!(&completion, Completion::Info(r) if r.contains("status 302")),
        "{completion:?}"
    );
}

#[tokio::test]
async fn a_response_slower_than_the_timeout_is_info() {
    let router = Router::new().route(
        "/slow",
        any(|| async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            "late"
        }),
    );
    let completion = one(
        router,
        op("POST", "/slow", None, &[200], &[], Extract::None),
        Value::Int(1),
    )
    .await;
    let Completion::Info(reason) = completion else {
        panic!("expected info, got {completion:?}")
    };
    assert!(reason.contains("timeout after 500ms"), "{reason}");
}

#[tokio::test]
async fn an_ok_body_that_is_not_json_is_info_naming_the_pointer() {
    let router = Router::new().route("/ids", any(|| async { "<html>oops</html>" }));
    let extract = Extract::Value("/id".into());
    let completion = one(
        router,
        op("POST", "/ids", None, &[200], &[], extract),
        Value::Nil,
    )
    .await;
    let Completion::Info(reason) = completion else {
        panic!("expected info, got {completion:?}")
    };
    assert!(
        reason.contains("not JSON") && reason.contains("\"/id\""),
        "{reason}"
    );
}

#[tokio::test]
async fn an_ok_body_without_the_pointer_is_info_naming_it() {
    let router = Router::new().route("/items", get(|| async { r#"{"data":[{"n":1},{"m":2}]}"# }));
    let completion = one(
        router,
        op("GET", "/items", None, &[200], &[], records()),
        Value::Nil,
    )
    .await;
    let Completion::Info(reason) = completion else {
        panic!("expected info, got {completion:?}")
    };
    assert!(
        reason.contains("record 1") && reason.contains("\"/n\""),
        "{reason}"
    );
}

#[tokio::test]
async fn a_closed_port_fails_preflight_with_a_helpful_message() {
    let base = closed_port().await;
    let plan = plan(&base, vec![], &[]);
    let err = client(&plan)
        .preflight()
        .await
        .expect_err("nothing listens");
    assert!(matches!(err, ClientError::Unreachable { .. }));
    let message = err.to_string();
    for part in [
        format!("failed to reach {base} (preflight GET /health)"),
        "connection refused".to_owned(),
        "is the system under test running?".to_owned(),
    ] {
        assert!(message.contains(&part), "expected {part:?} in {message}");
    }
}

#[tokio::test]
async fn any_http_answer_passes_preflight_even_a_404() {
    let base = serve(Router::new()).await;
    let plan = plan(&base, vec![], &[]);
    client(&plan).preflight().await.expect("a 404 is an answer");
}

#[tokio::test]
async fn an_op_to_a_closed_port_is_a_definite_fail() {
    let base = closed_port().await;
    let plan = plan(
        &base,
        vec![("f", op("PUT", "/x", None, &[200], &[], Extract::None))],
        &[],
    );
    let completion = client(&plan).invoke(&inv("f", Value::Int(1))).await;
    let Completion::Fail(reason) = completion else {
        panic!("expected fail, got {completion:?}")
    };
    assert!(reason.starts_with("connect: "), "{reason}");
}

#[tokio::test]
async fn header_env_references_are_sent_resolved_and_never_appear_in_reasons() {
    let router = Router::new().route(
        "/x",
        any(|headers: HeaderMap| async move {
            let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
            if auth == Some(&format!("Bearer {SECRET}")) {
                (StatusCode::INTERNAL_SERVER_ERROR, format!("echo: {SECRET}"))
            } else {
                (StatusCode::UNAUTHORIZED, String::new())
            }
        }),
    );
    let base = serve(router).await;
    let ops = vec![("f", op("POST", "/x", None, &[200], &[401], Extract::None))];
    let plan = plan(&base, ops, &[("Authorization", "Bearer ${TOKEN}")]);
    let client = client(&plan);
    let completion = client.invoke(&inv("f", Value::Int(1))).await;
    // 500 means the server saw the resolved header; 401 (fail) would mean it did not.
    let Completion::Info(reason) = &completion else {
        panic!("expected info, got {completion:?}")
    };
    assert!(reason.contains("status 500"), "{reason}");
    assert!(!format!("{completion:?} {client:?} {plan:?}").contains(SECRET));
}

#[tokio::test]
async fn a_missing_env_var_names_the_header_and_variable() {
    let plan = plan(
        "http://127.0.0.1:1",
        vec![],
        &[("X-Api-Key", "${NOT_SET_HERE}")],
    );
    let err = HttpClient::new(&plan, |_| None).expect_err("unset variable");
    assert!(
        matches!(&err, ClientError::MissingEnv { header, var } if header == "X-Api-Key" && var == "NOT_SET_HERE"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("environment variable NOT_SET_HERE is not set")
    );
}

/// A server that records each request's URI, content type and body, answering 200.
fn recorder(seen: Arc<Mutex<Vec<(String, String, String)>>>) -> Router {
    Router::new().fallback(any(move |uri: Uri, headers: HeaderMap, body: String| {
        let seen = Arc::clone(&seen);
        async move {
            let content_type = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            seen.lock()
                .expect("not poisoned")
                .push((uri.to_string(), content_type, body));
            StatusCode::OK
        }
    }))
}

#[tokio::test]
async fn path_placeholders_are_url_encoded() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let base = serve(recorder(Arc::clone(&seen))).await;
    let put = op(
        "PUT",
        "/k/{{value}}/p/{{process}}",
        None,
        &[200],
        &[],
        Extract::None,
    );
    let plan = plan(&base, vec![("f", put)], &[]);
    let client = client(&plan);
    assert_eq!(
        client.invoke(&inv("f", Value::from("a b/c?d"))).await,
        Completion::Ok(None)
    );
    assert_eq!(
        client.invoke(&inv("f", Value::Int(-12))).await,
        Completion::Ok(None)
    );
    let seen = seen.lock().expect("not poisoned");
    assert_eq!(seen[0].0, "/k/a%20b%2Fc%3Fd/p/4");
    assert_eq!(seen[1].0, "/k/-12/p/4");
    assert_eq!(seen[0].1, "", "no body, no content type");
}

#[tokio::test]
async fn a_base_url_path_prefix_and_a_query_string_are_kept() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let base = serve(recorder(Arc::clone(&seen))).await;
    let get = op(
        "GET",
        "/items/{{value}}?limit=5&x=a%20b",
        None,
        &[200],
        &[],
        Extract::None,
    );
    let plan = plan(&format!("{base}/api/v2"), vec![("f", get)], &[]);
    let client = client(&plan);
    assert_eq!(
        client.invoke(&inv("f", Value::Int(7))).await,
        Completion::Ok(None)
    );
    let seen = seen.lock().expect("not poisoned");
    assert_eq!(seen[0].0, "/api/v2/items/7?limit=5&x=a%20b");
}

#[tokio::test]
async fn body_placeholders_are_json_and_the_body_is_sent_as_json() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let base = serve(recorder(Arc::clone(&seen))).await;
    let post = op(
        "POST",
        "/q",
        Some(r#"{"item": {{value}}, "by": {{process}}}"#),
        &[200],
        &[],
        Extract::None,
    );
    let plan = plan(&base, vec![("f", post)], &[]);
    let client = client(&plan);
    assert_eq!(
        client.invoke(&inv("f", Value::Int(7))).await,
        Completion::Ok(None)
    );
    assert_eq!(
        client.invoke(&inv("f", Value::from("a\"b"))).await,
        Completion::Ok(None)
    );
    let seen = seen.lock().expect("not poisoned");
    assert_eq!(seen[0].1, "application/json");
    assert_eq!(seen[0].2, r#"{"item": 7, "by": 4}"#);
    assert_eq!(seen[1].2, r#"{"item": "a\"b", "by": 4}"#);
}

#[tokio::test]
async fn the_shipped_set_workload_works_against_a_toyset_like_server() {
    let items = Arc::new(Mutex::new(Vec::<i64>::new()));
    let put_items = Arc::clone(&items);
    let router = Router::new()
        .route(
            "/v1/items/{n}",
            axum::routing::put(move |axum::extract::Path(n): axum::extract::Path<i64>| {
                let items = Arc::clone(&put_items);
                async move {
                    items.lock().expect("not poisoned").push(n);
                    StatusCode::CREATED
                }
            }),
        )
        .route(
            "/v1/items",
            get(move || {
                let items = Arc::clone(&items);
                async move {
                    let list: Vec<String> = items
                        .lock()
                        .expect("not poisoned")
                        .iter()
                        .map(|n| format!(r#"{{"n":{n}}}"#))
                        .collect();
                    format!(r#"{{"data":[{}]}}"#, list.join(","))
                }
            }),
        )
        .route("/health", get(|| async { r#"{"status":"ok"}"# }));
    let base = serve(router).await;
    let mut plan = Plan::from_file(Path::new("workloads/toyset-set.toml")).expect("valid");
    plan.target.base_url = base;
    let client = client(&plan);
    client.preflight().await.expect("reachable");
    for n in [5, 6] {
        assert_eq!(
            client.invoke(&inv("add", Value::Int(n))).await,
            Completion::Ok(None)
        );
    }
    let read = client.invoke(&inv("read", Value::Nil)).await;
    assert_eq!(
        read,
        Completion::Ok(Some(Value::list([Value::Int(5), Value::Int(6)])))
    );
}

/// A register read of etcd's v2 shape: `/node/value`, 404 = missing.
fn register_read() -> HttpOp {
    let mut read = op(
        "GET",
        "/v2/keys/k",
        None,
        &[200],
        &[],
        Extract::Register("/node/value".into()),
    );
    read.missing = StatusSet(vec![404]);
    read
}

#[tokio::test]
async fn a_register_read_of_a_string_gives_its_integer() {
    let router = Router::new().route(
        "/v2/keys/k",
        get(|| async { r#"{"action":"get","node":{"key":"/k","value":"3"}}"# }),
    );
    let completion = one(router, register_read(), Value::Nil).await;
    assert_eq!(completion, Completion::Ok(Some(Value::Int(3))));
}

#[tokio::test]
async fn a_register_read_with_a_missing_status_is_ok_with_nil() {
    let router = Router::new().route(
        "/v2/keys/k",
        get(|| async {
            (
                StatusCode::NOT_FOUND,
                r#"{"errorCode":100,"message":"Key not found"}"#,
            )
        }),
    );
    let completion = one(router, register_read(), Value::Nil).await;
    assert_eq!(completion, Completion::Ok(Some(Value::Nil)));
}

#[tokio::test]
async fn a_register_read_of_something_not_an_integer_is_info() {
    let router = Router::new().route(
        "/v2/keys/k",
        get(|| async { r#"{"node":{"value":"three"}}"# }),
    );
    let completion = one(router, register_read(), Value::Nil).await;
    let Completion::Info(reason) = completion else {
        panic!("expected info, got {completion:?}")
    };
    assert!(reason.contains("expects an integer"), "{reason}");
    assert!(reason.contains("\"three\""), "{reason}");
}

#[tokio::test]
async fn a_register_read_slower_than_its_timeout_is_info() {
    let router = Router::new().route(
        "/v2/keys/k",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            r#"{"node":{"value":"1"}}"#
        }),
    );
    let completion = one(router, register_read(), Value::Nil).await;
    assert!(
        matches!(&completion, Completion::Info(r) if r.contains("timeout")),
        "{completion:?}"
    );
}

/// A cas of etcd's v2 shape: 412 (compare failed) and 404 (key missing) are definite fails.
fn cas() -> HttpOp {
    let mut cas = op(
        "PUT",
        "/v2/keys/k?prevValue={{from}}&value={{to}}",
        None,
        &[200],
        &[404, 412],
        Extract::None,
    );
    cas.fail_means_ran = true;
    cas
}

#[tokio::test]
async fn a_cas_fills_from_and_to_and_a_412_is_a_definite_fail() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let router = Router::new().route(
        "/v2/keys/k",
        any(move |uri: Uri| {
            let log = Arc::clone(&log);
            async move {
                log.lock().unwrap().push(uri.to_string());
                (
                    StatusCode::PRECONDITION_FAILED,
                    r#"{"errorCode":101,"message":"Compare failed"}"#,
                )
            }
        }),
    );
    let completion = one(router, cas(), Value::list([Value::Int(1), Value::Int(2)])).await;
    assert!(
        matches!(&completion, Completion::Fail(r) if r.contains("412")),
        "{completion:?}"
    );
    assert_eq!(*seen.lock().unwrap(), ["/v2/keys/k?prevValue=1&value=2"]);
}

#[tokio::test]
async fn a_cas_that_never_reached_the_system_is_info_not_a_compare_that_failed() {
    let base = closed_port().await;
    let plan = plan(&base, vec![("cas", cas())], &[]);
    let completion = client(&plan)
        .invoke(&inv("cas", Value::list([Value::Int(1), Value::Int(2)])))
        .await;
    assert!(
        matches!(&completion, Completion::Info(r) if r.contains("connect")),
        "{completion:?}"
    );
}
