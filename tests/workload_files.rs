//! The workload file format: every shipped example validates, and every kind of mistake
//! gives one message naming the file, the line and column, the field and what was expected.

use std::path::{Path, PathBuf};
use std::time::Duration;

use splitbrain::checker::Model;
use splitbrain::history::Value;
use splitbrain::nemesis::proxy::{Direction, Toxic};
use splitbrain::workload::{Extract, Plan, ValueSpec, WorkloadError};

const FILE: &str = "workloads/test.toml";

/// A valid set workload; tests replace one line of it to break one thing.
const BASE: &str = r#"name = "toyset-set"
seed = 42
time_limit = "10s"
concurrency = 8
rate = 200

[target]
base_url = "http://127.0.0.1:8080/"
headers = { Authorization = "Bearer ${STAGING_TOKEN}" }
preflight = "/health"

[model]
kind = "set"
mix = { add = 9, read = 1 }

[model.ops.add]
method = "put"
path = "/v1/items/{{value}}"
body = '{"data": {"n": {{value}}}}'
ok = [200, 201]
fail = [409, 422]
timeout = "2s"

[model.ops.read]
method = "GET"
path = "/v1/items"
records = "/data"
element = "/n"

[phases]
quiet = "0s"
final_reads = 3
"#;

fn parse(text: &str) -> Result<Plan, WorkloadError> {
    Plan::from_toml(text, Path::new(FILE))
}

/// `BASE` with the line starting `old` replaced by `new` (which may span lines or be empty).
fn with_line(old: &str, new: &str) -> String {
    let mut found = false;
    let lines: Vec<&str> = BASE
        .lines()
        .map(|line| {
            if line.starts_with(old) && !found {
                found = true;
                new
            } else {
                line
            }
        })
        .collect();
    assert!(found, "BASE has no line starting with {old:?}");
    lines.join("\n")
}

/// The error message for `text`, which must fail to validate.
fn error(text: &str) -> String {
    match parse(text) {
        Ok(plan) => panic!("expected an error, got a plan named {}", plan.name),
        Err(e) => e.to_string(),
    }
}

fn assert_contains(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(
            message.contains(part),
            "expected {part:?} in the message:\n{message}"
        );
    }
}

fn workload_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the workloads folder exists")
        .map(|entry| entry.expect("a readable folder entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_file_in_workloads_validates() {
    let files = workload_files();
    assert!(
        files.len() >= 4,
        "expected the four toyset examples, found {files:?}"
    );
    for file in files {
        let plan = Plan::from_file(&file).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.source.path, file);
        let text = std::fs::read_to_string(&file).expect("readable");
        assert!(
            text.starts_with('#') && text.contains("splitbrain run workloads/"),
            "{} should start with a comment saying how to run it",
            file.display()
        );
    }
}

#[test]
fn the_examples_cover_every_model_and_queue_is_fifo() {
    let models: Vec<Model> = workload_files()
        .iter()
        .map(|file| Plan::from_file(file).expect("valid").model)
        .collect();
    // mutex and multi-register run only as recorded histories (`splitbrain check --model
    // mutex`), not from a file.
    let history_only = ["mutex", "multi-register"];
    for name in Model::NAMES
        .iter()
        .filter(|name| !history_only.contains(name))
    {
        assert!(
            models.iter().any(|m| m.name() == *name),
            "no example for the {name} model"
        );
    }
    assert!(models.contains(&Model::Queue { fifo: true }));
}

#[test]
fn the_base_workload_validates_with_its_values_normalised() {
    let plan = parse(BASE).expect("valid");
    assert_eq!(plan.seed, 42);
    assert_eq!(plan.concurrency, 8);
    assert_eq!(plan.rate, Some(200.0));
    assert_eq!(plan.target.base_url, "http://127.0.0.1:8080");
    assert_eq!(plan.target.headers[0].value, "Bearer ${STAGING_TOKEN}");
    assert_eq!(plan.mix.len(), 2);
    assert_eq!((&*plan.mix[0].0, plan.mix[0].1), ("add", 0.9));
    assert!((plan.mix[1].1 - 0.1).abs() < 1e-12);
    assert_eq!(plan.values, ValueSpec::Unique);
    let add = &plan.ops["add"];
    assert_eq!(add.method, "PUT");
    assert_eq!(add.timeout, Duration::from_secs(2));
    assert_eq!(add.extract, Extract::None);
    assert_eq!(
        plan.ops["read"].extract,
        Extract::Records {
            records: "/data".into(),
            element: Some("/n".into())
        }
    );
    assert_eq!(plan.phases.quiet, Duration::ZERO);
}

#[test]
fn left_out_fields_take_their_documented_defaults() {
    let text = with_line("rate = 200", "");
    let text = text.replace("ok = [200, 201]\nfail = [409, 422]\ntimeout = \"2s\"\n", "");
    let text = text.replace("mix = { add = 9, read = 1 }", "");
    let text = text.replace("preflight = \"/health\"", "");
    let text = text.replace("seed = 42", "");
    let text = text[..text.find("[phases]").expect("has phases")].to_owned();
    let plan = parse(&text).expect("valid");
    assert_eq!(plan.rate, None);
    assert_eq!(plan.target.preflight, "/");
    let add = &plan.ops["add"];
    assert_eq!(add.timeout, Duration::from_secs(5));
    assert!(add.ok.contains(200) && add.ok.contains(204) && add.ok.contains(299));
    assert!(!add.ok.contains(300) && !add.ok.contains(199));
    assert!(add.fail.0.is_empty());
    assert_eq!(plan.mix[0].0.as_ref(), "add");
    assert_eq!(plan.phases.final_reads, 3);
    assert_eq!(plan.phases.quiet, Duration::from_secs(5));
}

#[test]
fn rate_zero_means_as_fast_as_the_workers_go() {
    let plan = parse(&with_line("rate = 200", "rate = 0")).expect("valid");
    assert_eq!(plan.rate, None);
}

#[test]
fn a_typo_in_a_field_names_the_file_line_and_expected_fields() {
    let message = error(&with_line("concurrency = 8", "concurency = 8"));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:4:1:",
            "concurency",
            "concurrency",
            "time_limit",
        ],
    );
    assert_eq!(
        message.lines().count(),
        1,
        "one line, not a dump:\n{message}"
    );
}

#[test]
fn a_typo_inside_an_op_section_names_its_line() {
    let message = error(&with_line("timeout = \"2s\"", "timout = \"2s\""));
    assert_contains(
        &message,
        &["workloads/test.toml:22:1:", "timout", "timeout"],
    );
}

#[test]
fn a_toml_syntax_error_names_the_line() {
    let message = error(&with_line("concurrency = 8", "concurrency = = 8"));
    assert_contains(&message, &["workloads/test.toml:4:"]);
}

#[test]
fn a_wrong_type_names_the_line() {
    let message = error(&with_line("concurrency = 8", "concurrency = \"8\""));
    assert_contains(&message, &["workloads/test.toml:4:15:", "integer"]);
}

#[test]
fn a_bad_duration_names_the_field_and_the_expected_form() {
    let message = error(&with_line("timeout = \"2s\"", "timeout = \"2 fortnights\""));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:22:11:",
            "field model.ops.add.timeout",
            "expected a duration like \"2s\"",
            "found \"2 fortnights\"",
        ],
    );
}

#[test]
fn a_zero_time_limit_is_refused_but_a_zero_quiet_is_not() {
    let message = error(&with_line("time_limit", "time_limit = \"0s\""));
    assert_contains(&message, &["field time_limit", "above 0"]);
    assert!(parse(BASE).is_ok(), "BASE has quiet = \"0s\"");
}

#[test]
fn an_unknown_placeholder_is_named_with_the_valid_ones() {
    let message = error(&with_line(
        "path = \"/v1/items/",
        "path = \"/v1/items/{{vlaue}}\"",
    ));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:18:8:",
            "field model.ops.add.path",
            "{{vlaue}}",
            "{{value}}, {{key}}, {{process}}",
        ],
    );
}

#[test]
fn a_body_that_is_not_json_once_filled_is_refused() {
    let message = error(&with_line("body =", "body = '{\"n\": {{value}}'"));
    assert_contains(&message, &["field model.ops.add.body", "expected JSON"]);
}

#[test]
fn a_missing_op_section_names_the_section_the_model_needs() {
    let text = with_line("[model.ops.read]", "[model.ops.unused]");
    let text = text.replace("[model.ops.unused]", "");
    let cut = text.find("method = \"GET\"").expect("read op");
    let end = text.find("[phases]").expect("phases");
    let text = format!("{}{}", &text[..cut], &text[end..]);
    let message = error(&text);
    assert_contains(
        &message,
        &[
            "field model.ops.read",
            "missing section [model.ops.read]",
            "\"add\", \"read\"",
        ],
    );
}

#[test]
fn an_op_the_model_does_not_have_lists_the_valid_ones() {
    let text = format!("{BASE}\n[model.ops.remove]\nmethod = \"DELETE\"\npath = \"/v1/items\"\n");
    let message = error(&text);
    assert_contains(
        &message,
        &[
            "workloads/test.toml:",
            "field model.ops.remove",
            "the set model has no operation \"remove\"",
            "\"add\", \"read\"",
        ],
    );
}

#[test]
fn a_mix_op_the_model_does_not_have_is_refused() {
    let message = error(&with_line("mix =", "mix = { add = 1, dequeue = 1 }"));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:14:",
            "field model.mix.dequeue",
            "\"add\", \"read\"",
        ],
    );
}

#[test]
fn a_mix_of_only_zero_weights_is_refused() {
    let message = error(&with_line("mix =", "mix = { add = 0, read = 0 }"));
    assert_contains(&message, &["field model.mix", "above 0"]);
}

#[test]
fn a_status_in_both_ok_and_fail_is_refused() {
    let message = error(&with_line("fail = [409, 422]", "fail = [409, 201]"));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:21:8:",
            "field model.ops.add.fail",
            "status 201 is in both ok and fail",
        ],
    );
}

#[test]
fn a_status_outside_100_to_599_is_refused() {
    let message = error(&with_line("ok = [200, 201]", "ok = [200, 2001]"));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:20:12:",
            "field model.ops.add.ok",
            "2001",
        ],
    );
}

#[test]
fn a_base_url_without_a_scheme_is_refused() {
    let message = error(&with_line("base_url", "base_url = \"127.0.0.1:8080\""));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:8:12:",
            "field target.base_url",
            "http://",
            "found \"127.0.0.1:8080\"",
        ],
    );
    let message = error(&with_line("base_url", "base_url = \"http://\""));
    assert_contains(&message, &["field target.base_url", "with a host"]);
}

#[test]
fn a_malformed_env_reference_is_refused() {
    let message = error(&with_line(
        "headers",
        "headers = { Authorization = \"Bearer ${token}\" }",
    ));
    assert_contains(
        &message,
        &["field target.headers.Authorization", "${token}", "A-Z"],
    );
    let message = error(&with_line(
        "headers",
        "headers = { Authorization = \"Bearer ${TOKEN\" }",
    ));
    assert_contains(
        &message,
        &["field target.headers.Authorization", "unclosed"],
    );
}

#[test]
fn an_invalid_header_name_is_refused() {
    let message = error(&with_line("headers", "headers = { \"X Token\" = \"a\" }"));
    assert_contains(&message, &["field target.headers.X Token", "header name"]);
}

#[test]
fn a_read_without_a_pointer_and_a_write_with_one_are_refused() {
    let message = error(&with_line("records = \"/data\"", "").replace("element = \"/n\"", ""));
    assert_contains(&message, &["field model.ops.read", "missing records"]);
    let message = error(&with_line("timeout = \"2s\"", "value = \"/n\""));
    assert_contains(&message, &["field model.ops.add.value", "takes no records"]);
}

#[test]
fn a_pointer_without_a_leading_slash_is_refused() {
    let message = error(&with_line("records = \"/data\"", "records = \"data\""));
    assert_contains(
        &message,
        &["field model.ops.read.records", "JSON pointer", "\"data\""],
    );
}

#[test]
fn value_in_a_read_template_is_refused() {
    let message = error(&with_line(
        "path = \"/v1/items\"",
        "path = \"/v1/items?since={{value}}\"",
    ));
    assert_contains(&message, &["field model.ops.read.path", "carries no value"]);
}

#[test]
fn an_unknown_model_kind_lists_the_known_ones() {
    let message = error(&with_line("kind = \"set\"", "kind = \"sett\""));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:13:8:",
            "field model.kind",
            "\"set\", \"counter\", \"queue\", \"unique-ids\"",
        ],
    );
}

#[test]
fn fifo_outside_a_queue_is_refused() {
    let message = error(&with_line("kind = \"set\"", "kind = \"set\"\nfifo = true"));
    assert_contains(&message, &["field model.fifo", "queue"]);
}

#[test]
fn linearizable_sets_the_set_option_and_is_refused_elsewhere() {
    let text = with_line("kind = \"set\"", "kind = \"set\"\nlinearizable = true");
    let plan = Plan::from_toml(&text, Path::new("x.toml")).expect("valid");
    assert_eq!(plan.model, Model::Set { linearizable: true });
    assert_eq!(
        parse(BASE).expect("valid").model,
        Model::Set {
            linearizable: false
        }
    );
    let counter = with_line("kind = \"set\"", "kind = \"counter\"\nlinearizable = true");
    let message = error(&counter);
    assert_contains(&message, &["field model.linearizable", "set"]);
}

#[test]
fn a_bad_name_and_a_bad_concurrency_are_refused() {
    let message = error(&with_line("name", "name = \"my set\""));
    assert_contains(
        &message,
        &["workloads/test.toml:1:8:", "field name", "\"my set\""],
    );
    let message = error(&with_line("concurrency", "concurrency = 0"));
    assert_contains(
        &message,
        &["field concurrency", "from 1 to 10000", "found 0"],
    );
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let err = Plan::from_file(Path::new("workloads/no-such-file.toml")).expect_err("no file");
    assert!(matches!(err, WorkloadError::Io { .. }));
    assert_contains(
        &err.to_string(),
        &["failed to read workload file workloads/no-such-file.toml"],
    );
}

#[test]
fn header_values_resolve_from_the_environment_only_when_asked() {
    let plan = parse(BASE).expect("valid");
    let header = &plan.target.headers[0];
    let secret = "s3cr3t-value";
    let resolved = header
        .resolve(|var| (var == "STAGING_TOKEN").then(|| secret.to_owned()))
        .expect("set");
    assert_eq!(resolved, format!("Bearer {secret}"));
    assert!(!format!("{plan:?}").contains(secret));
    let err = header.resolve(|_| None).expect_err("unset");
    assert_contains(
        &err.to_string(),
        &["header Authorization", "STAGING_TOKEN", "not set"],
    );
}

/// `BASE` with two process nodes and `nemesis` appended (a `[nemesis]` and its sub-tables).
fn with_nemesis(nemesis: &str) -> String {
    format!(
        "{BASE}\n[[nodes]]\nname = \"n1\"\ncommand = [\"toyset\", \"--listen\", \"127.0.0.1:8080\"]\n\
         [[nodes]]\nname = \"n2\"\ncommand = [\"toyset\", \"--listen\", \"127.0.0.1:8081\"]\n\n\
         {nemesis}"
    )
}

/// A proxy in front of n1, and a timeline that slows n1.
const PROXIED_SLOW: &str = r#"[[nemesis.timeline]]
at = "1s"
fault = "slow"
duration = "2s"
nodes = ["n1"]

[[nemesis.proxies]]
node = "n1"
listen = "127.0.0.1:18080"
upstream = "127.0.0.1:8080"
"#;

/// `file:line:column:` of the last occurrence of `needle` in `text` (what a test appended).
fn located(text: &str, needle: &str) -> String {
    let at = text.rfind(needle).expect("the needle is in the text");
    let line = text[..at].lines().count() + usize::from(text[..at].ends_with('\n'));
    let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("{FILE}:{line}:{column}:")
}

#[test]
fn proxies_make_slow_injectable_by_the_process_backend_with_a_default_latency() {
    let plan = parse(&with_nemesis(PROXIED_SLOW)).expect("valid");
    let nemesis = plan.nemesis.expect("a nemesis plan");
    assert_eq!(nemesis.proxies.len(), 1);
    assert_eq!(nemesis.proxies[0].node, "n1");
    assert_eq!(nemesis.proxies[0].listen.to_string(), "127.0.0.1:18080");
    assert_eq!(nemesis.proxies[0].upstream.to_string(), "127.0.0.1:8080");
    assert_eq!(nemesis.slow, splitbrain::nemesis::DEFAULT_SLOW);
    let slow = "[nemesis.slow]\ntoxic = \"latency\"\nlatency = \"200ms\"\njitter = \"50ms\"\n\
                direction = \"downstream\"";
    let plan = parse(&with_nemesis(&format!("{PROXIED_SLOW}\n{slow}"))).expect("valid");
    assert_eq!(
        plan.nemesis.expect("a nemesis plan").slow,
        Toxic::Latency {
            direction: Direction::Downstream,
            latency: Duration::from_millis(200),
            jitter: Duration::from_millis(50),
        }
    );
}

#[test]
fn slow_without_proxies_is_refused_and_names_proxies() {
    let text = with_nemesis("[nemesis]\nfaults = [\"slow\"]");
    assert_contains(
        &error(&text),
        &[
            &located(&text, "\"slow\"]"),
            "field nemesis.faults",
            "cannot inject slow",
            "[[nemesis.proxies]]",
        ],
    );
}

#[test]
fn a_proxy_for_an_unknown_node_lists_the_known_ones() {
    let text = with_nemesis(&PROXIED_SLOW.replace("node = \"n1\"", "node = \"n9\""));
    assert_contains(
        &error(&text),
        &[
            &located(&text, "\"n9\""),
            "field nemesis.proxies[0].node",
            "unknown node \"n9\": expected one of n1, n2",
        ],
    );
}

#[test]
fn proxy_addresses_must_be_an_ip_and_a_port_without_dns() {
    for (old, new, field) in [
        (
            "listen = \"127.0.0.1:18080\"",
            "listen = \"localhost:18080\"",
            "listen",
        ),
        (
            "upstream = \"127.0.0.1:8080\"",
            "upstream = \"127.0.0.1\"",
            "upstream",
        ),
        (
            "listen = \"127.0.0.1:18080\"",
            "listen = \"127.0.0.1:0\"",
            "listen",
        ),
    ] {
        let text = with_nemesis(&PROXIED_SLOW.replace(old, new));
        let value = new.split_once("= ").expect("a key and a value").1;
        assert_contains(
            &error(&text),
            &[
                &located(&text, value),
                &format!("field nemesis.proxies[0].{field}"),
                "expected an IP address and a port above 0",
                "no host names",
            ],
        );
    }
}

#[test]
fn two_proxies_on_the_same_listen_address_are_refused() {
    let second = "[[nemesis.proxies]]\nnode = \"n2\"\nlisten = \"127.0.0.1:18080\"\n\
                  upstream = \"127.0.0.1:8081\"";
    let text = with_nemesis(&format!("{PROXIED_SLOW}\n{second}"));
    let at = text
        .rfind("\"127.0.0.1:18080\"")
        .expect("the second listen");
    let line = text[..at].lines().count();
    assert_contains(
        &error(&text),
        &[
            &format!("{FILE}:{line}:10:"),
            "field nemesis.proxies[1].listen",
            "nemesis.proxies[0] already listens on 127.0.0.1:18080",
        ],
    );
}

#[test]
fn slow_fields_that_do_not_belong_to_the_toxic_are_refused() {
    for (slow, field, wrong) in [
        ("toxic = \"reset\"\njitter = \"5ms\"", "jitter", "\"5ms\""),
        (
            "toxic = \"refuse\"\ndirection = \"both\"",
            "direction",
            "\"both\"",
        ),
        (
            "toxic = \"latency\"\nbytes_per_sec = 100",
            "bytes_per_sec",
            "100",
        ),
        (
            "toxic = \"bandwidth\"\nlatency = \"1s\"",
            "latency",
            "\"1s\"",
        ),
    ] {
        let text = with_nemesis(&format!("{PROXIED_SLOW}\n[nemesis.slow]\n{slow}"));
        assert_contains(
            &error(&text),
            &[
                &located(&text, wrong),
                &format!("field nemesis.slow.{field}"),
                &format!("remove {field}"),
            ],
        );
    }
}

#[test]
fn an_unknown_toxic_or_direction_lists_the_known_ones() {
    let text = with_nemesis(&format!("{PROXIED_SLOW}\n[nemesis.slow]\ntoxic = \"lag\""));
    assert_contains(
        &error(&text),
        &[
            &located(&text, "\"lag\""),
            "field nemesis.slow.toxic",
            "expected one of latency, reset, blackhole, refuse, bandwidth, found \"lag\"",
        ],
    );
    let text = with_nemesis(&format!(
        "{PROXIED_SLOW}\n[nemesis.slow]\ntoxic = \"reset\"\ndirection = \"sideways\""
    ));
    assert_contains(
        &error(&text),
        &[
            &located(&text, "\"sideways\""),
            "field nemesis.slow.direction",
            "expected one of upstream",
        ],
    );
}

#[test]
fn proxies_without_a_slow_fault_are_fine_but_a_slow_table_is_not() {
    let proxies_only = PROXIED_SLOW.replace("fault = \"slow\"", "fault = \"pause\"");
    let plan = parse(&with_nemesis(&proxies_only)).expect("proxies alone are valid");
    assert_eq!(plan.nemesis.expect("a nemesis plan").proxies.len(), 1);
    let text = with_nemesis(&format!(
        "{proxies_only}\n[nemesis.slow]\ntoxic = \"reset\""
    ));
    assert_contains(
        &error(&text),
        &[
            "field nemesis.slow:",
            "no slow fault is scheduled",
            "remove [nemesis.slow]",
        ],
    );
}

#[test]
fn a_slow_hook_and_proxies_together_are_refused_naming_which_to_remove() {
    // Staging nodes (no command), reached through hooks.
    let text = format!(
        "{BASE}\n[[nodes]]\nname = \"n1\"\n\n{PROXIED_SLOW}\n[nemesis.hooks.slow]\n\
         start = \"true\"\nheal = \"true\""
    );
    assert_contains(
        &error(&text),
        &[
            &located(&text, "slow]\nstart"),
            "field nemesis.hooks.slow",
            "not both",
            "remove [nemesis.hooks.slow]",
            "or [[nemesis.proxies]]",
        ],
    );
    // Without the hook, the proxies inject slow for staging nodes too.
    let plan = parse(&format!(
        "{BASE}\n[[nodes]]\nname = \"n1\"\n\n{PROXIED_SLOW}"
    ));
    assert!(plan.is_ok(), "{plan:?}");
}

/// A valid custom workload with views and relations; tests replace one line of it.
const VIEWS: &str = r#"name = "views"
time_limit = "10s"
concurrency = 4

[target]
base_url = "http://127.0.0.1:8080"

[model]
kind = "custom"
mix = { add = 0.9 }

[model.ops.add]
method = "POST"
path = "/items"
body = '{"id": {{value}}}'

[model.ops.pay]
base_url = "http://127.0.0.1:8082"
method = "POST"
path = "/payments"
body = '{"order_id": {{value}}}'

[views.primary]
path = "/items"
records = "/items"
id = "/id"
fields = { status = "/status", qty = "/qty" }

[views.replica]
base_url = "http://127.0.0.1:8081"
method = "get"
path = "/items"
records = ""
id = "/id"
fields = { status = "/status", qty = "/qty" }
timeout = "2s"
weight = 0.1

[views.payments]
path = "/payments"
records = "/data"
id = "/id"
fields = { order_id = "/order/id", state = "/state", ok = "/ok" }

[[relations]]
kind = "agree"
views = ["primary", "replica"]

[[relations]]
kind = "covers"
view = "replica"
op = "add"

[[relations]]
kind = "unique"
view = "payments"
key = "order_id"

[[relations]]
kind = "matches"
view = "primary"
filter = { status = "CONFIRMED" }
other = "payments"
other_filter = { state = "CAPTURED", ok = true }
key = "order_id"
expect = "one"

[[relations]]
kind = "conserved"
view = "primary"
fields = ["qty"]
total = 100
floor = 0

[phases]
converge_timeout = "20s"
poll_interval = "250ms"
"#;

/// `VIEWS` with the line starting `old` replaced by `new`.
fn views_with(old: &str, new: &str) -> String {
    let start = VIEWS
        .find(&format!("\n{old}"))
        .unwrap_or_else(|| panic!("VIEWS has no line starting with {old:?}"))
        + 1;
    let from = start + old.len();
    let end = VIEWS[from..].find('\n').map_or(VIEWS.len(), |i| from + i);
    format!("{}{new}{}", &VIEWS[..start], &VIEWS[end..])
}

#[test]
fn views_relations_and_a_custom_model_validate_into_the_plan() {
    use splitbrain::checker::relations::{Compare, Expect, Filter, Relation, When};
    use splitbrain::history::Value;
    let plan = parse(VIEWS).expect("valid");
    assert_eq!(
        plan.model,
        Model::Custom {
            ops: vec!["add".into(), "pay".into()]
        }
    );
    assert_eq!(plan.values, ValueSpec::Unique);
    assert_eq!(plan.ops["add"].base_url, None);
    assert_eq!(
        plan.ops["pay"].base_url.as_deref(),
        Some("http://127.0.0.1:8082")
    );
    let primary = &plan.views["primary"];
    assert_eq!(
        (primary.base_url.as_deref(), primary.method.as_str()),
        (None, "GET")
    );
    assert_eq!(primary.timeout, Duration::from_secs(5));
    assert_eq!(primary.weight, 0.0);
    assert_eq!(
        primary.fields,
        [
            ("qty".into(), "/qty".into()),
            ("status".into(), "/status".into())
        ]
    );
    let replica = &plan.views["replica"];
    assert_eq!(replica.base_url.as_deref(), Some("http://127.0.0.1:8081"));
    assert_eq!(
        (replica.records.as_str(), replica.timeout),
        ("", Duration::from_secs(2))
    );
    // The view's weight joins the model's mix in the same units: 0.9 : 0.1.
    let mix: Vec<(&str, f64)> = plan.mix.iter().map(|(f, w)| (&**f, *w)).collect();
    assert_eq!(mix.len(), 2);
    assert_eq!(mix[0].0, "add");
    assert!((mix[0].1 - 0.9).abs() < 1e-12 && (mix[1].1 - 0.1).abs() < 1e-12);
    assert_eq!(mix[1].0, "view:replica");
    assert_eq!(
        plan.relations,
        [
            Relation::Agree {
                views: vec!["primary".into(), "replica".into()],
                compare: Compare::Records
            },
            Relation::Covers {
                view: "replica".into(),
                op: "add".into(),
                filter: Filter::default()
            },
            Relation::Unique {
                view: "payments".into(),
                key: Some("order_id".into())
            },
            Relation::Matches {
                view: "primary".into(),
                filter: Filter(vec![("status".into(), vec![Value::from("CONFIRMED")])]),
                other: "payments".into(),
                other_filter: Filter(vec![
                    ("ok".into(), vec![Value::Bool(true)]),
                    ("state".into(), vec![Value::from("CAPTURED")])
                ]),
                key: "order_id".into(),
                expect: Expect::One
            },
            Relation::Conserved {
                view: "primary".into(),
                fields: vec!["qty".into()],
                total: 100,
                floor: Some(0),
                when: When::Always
            },
        ]
    );
    assert_eq!(plan.phases.converge_timeout, Duration::from_secs(20));
    assert_eq!(plan.phases.poll_interval, Duration::from_millis(250));
}

#[test]
fn phase_settings_for_convergence_default_to_30s_and_500ms() {
    let plan = parse(BASE).expect("valid");
    assert_eq!(plan.phases.converge_timeout, Duration::from_secs(30));
    assert_eq!(plan.phases.poll_interval, Duration::from_millis(500));
    assert!(plan.views.is_empty() && plan.relations.is_empty());
}

#[test]
fn agree_compares_ids_by_default_when_a_view_declares_no_fields() {
    use splitbrain::checker::relations::{Compare, Relation};
    // The replica without fields.
    let at = VIEWS.find("[views.replica]").expect("has a replica");
    let (head, tail) = VIEWS.split_at(at);
    let tail = tail.replacen("fields = { status = \"/status\", qty = \"/qty\" }\n", "", 1);
    let text = format!("{head}{tail}");
    let plan = parse(&text).expect("valid");
    assert!(matches!(
        &plan.relations[0],
        Relation::Agree {
            compare: Compare::Ids,
            ..
        }
    ));
    let explicit = text.replacen(
        "views = [\"primary\", \"replica\"]",
        "views = [\"primary\", \"replica\"]\ncompare = \"records\"",
        1,
    );
    assert_contains(
        &error(&explicit),
        &[
            "field relations[0].compare",
            "view \"replica\" declares none",
            "compare = \"ids\"",
        ],
    );
}

#[test]
fn a_relation_naming_an_unknown_view_lists_the_views() {
    let message = error(&views_with("view = \"replica\"", "view = \"replika\""));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:51:8:",
            "field relations[1].view",
            "no view named \"replika\"",
            "\"payments\", \"primary\", \"replica\"",
        ],
    );
}

#[test]
fn a_relation_naming_an_undeclared_field_lists_the_views_fields() {
    let message = error(&views_with("key = \"order_id\"", "key = \"order\""));
    assert_contains(
        &message,
        &[
            "field relations[2].key",
            "view \"payments\" declares no field \"order\"",
            "its fields are \"ok\", \"order_id\", \"state\"",
        ],
    );
    let message = error(&views_with(
        "filter = { status",
        "filter = { stat = \"CONFIRMED\" }",
    ));
    assert_contains(
        &message,
        &["field relations[3].filter", "declares no field \"stat\""],
    );
}

#[test]
fn a_filter_value_may_be_a_list_meaning_one_of_in_matches_and_covers() {
    use splitbrain::checker::relations::{Filter, Relation};
    use splitbrain::history::Value;
    let text = views_with(
        "filter = { status",
        "filter = { status = [\"CONFIRMED\", \"CANCELLED\"], qty = 1 }",
    );
    let text = text.replacen(
        "op = \"add\"",
        "op = \"add\"\nfilter = { status = [\"DONE\", 7, true] }",
        1,
    );
    let plan = parse(&text).expect("valid");
    let Relation::Covers { filter, .. } = &plan.relations[1] else {
        panic!("relations[1] is covers: {:?}", plan.relations[1])
    };
    assert_eq!(
        filter,
        &Filter(vec![(
            "status".into(),
            vec![Value::from("DONE"), Value::Int(7), Value::Bool(true)]
        )])
    );
    let Relation::Matches { filter, .. } = &plan.relations[3] else {
        panic!("relations[3] is matches: {:?}", plan.relations[3])
    };
    assert_eq!(
        filter,
        &Filter(vec![
            ("qty".into(), vec![Value::Int(1)]),
            (
                "status".into(),
                vec![Value::from("CONFIRMED"), Value::from("CANCELLED")]
            ),
        ])
    );
}

#[test]
fn an_empty_filter_list_or_a_list_item_that_is_not_a_scalar_is_refused() {
    let message = error(&views_with("filter = { status", "filter = { status = [] }"));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:62:21:",
            "field relations[3].filter.status",
            "found an empty list",
        ],
    );
    let message = error(&views_with(
        "other_filter =",
        "other_filter = { state = [\"CAPTURED\", [\"x\"]] }",
    ));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:64:",
            "field relations[3].other_filter.state",
            "found an array as item 2",
        ],
    );
    let message = error(&views_with(
        "op = \"add\"",
        "op = \"add\"\nfilter = { status = { a = 1 } }",
    ));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:53:",
            "field relations[1].filter.status",
            "or a list of them, found a table",
        ],
    );
    let message = error(&views_with(
        "op = \"add\"",
        "op = \"add\"\nfilter = { stat = \"DONE\" }",
    ));
    assert_contains(
        &message,
        &["field relations[1].filter", "declares no field \"stat\""],
    );
}

#[test]
fn conserved_takes_when_always_or_settled() {
    use splitbrain::checker::relations::{Relation, When};
    let when = |plan: &Plan| match &plan.relations[4] {
        Relation::Conserved { when, .. } => *when,
        other => panic!("relations[4] is conserved: {other:?}"),
    };
    let settled = views_with("floor = 0", "floor = 0\nwhen = \"settled\"");
    assert_eq!(when(&parse(&settled).expect("valid")), When::Settled);
    let always = views_with("floor = 0", "floor = 0\nwhen = \"always\"");
    assert_eq!(when(&parse(&always).expect("valid")), When::Always);
    let message = error(&views_with("floor = 0", "floor = 0\nwhen = \"eventually\""));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:74:8:",
            "field relations[4].when",
            "expected \"always\" (every read) or \"settled\"",
            "found \"eventually\"",
        ],
    );
    let message = error(&views_with(
        "op = \"add\"",
        "op = \"add\"\nwhen = \"settled\"",
    ));
    assert_contains(
        &message,
        &[
            "field relations[1].when",
            "when does not apply to kind = \"covers\"",
        ],
    );
}

#[test]
fn a_missing_key_names_what_the_kind_takes() {
    let message = error(&views_with("op = \"add\"", ""));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:49:1:",
            "field relations[1].op",
            "missing op: kind = \"covers\" needs it",
            "\"view\", \"op\"",
        ],
    );
    let message = error(&views_with("total = 100", ""));
    assert_contains(&message, &["field relations[4].total", "missing total"]);
}

#[test]
fn a_key_of_another_kind_is_refused() {
    let message = error(&views_with(
        "op = \"add\"",
        "op = \"add\"\nkey = \"status\"",
    ));
    assert_contains(
        &message,
        &[
            "field relations[1].key",
            "key does not apply to kind = \"covers\", which takes \"view\", \"op\"",
        ],
    );
}

#[test]
fn an_unknown_relation_kind_lists_the_kinds() {
    let message = error(&views_with("kind = \"agree\"", "kind = \"agrees\""));
    assert_contains(
        &message,
        &[
            "field relations[0].kind",
            "\"agree\", \"covers\", \"unique\", \"matches\", \"conserved\"",
            "found \"agrees\"",
        ],
    );
}

#[test]
fn agree_needs_two_views() {
    let message = error(&views_with("views = [\"primary\"", "views = [\"primary\"]"));
    assert_contains(
        &message,
        &["field relations[0].views", "two or more views, found 1"],
    );
}

#[test]
fn covers_names_one_of_the_models_ops() {
    let message = error(&views_with("op = \"add\"", "op = \"remove\""));
    assert_contains(
        &message,
        &[
            "field relations[1].op",
            "the custom model has no operation \"remove\"",
            "\"add\", \"pay\"",
        ],
    );
}

#[test]
fn a_view_path_takes_no_placeholders() {
    let message = error(&views_with(
        "[views.payments]\npath",
        "[views.payments]\npath = \"/payments/{{value}}\"",
    ));
    assert_contains(
        &message,
        &["field views.payments.path", "takes no {{...}} placeholders"],
    );
}

#[test]
fn view_weights_timeouts_pointers_and_urls_are_checked() {
    let cases = [
        (
            "weight = 0.1",
            "weight = -1",
            "views.replica.weight",
            "a weight >= 0",
        ),
        (
            "timeout = \"2s\"",
            "timeout = \"soon\"",
            "views.replica.timeout",
            "a duration",
        ),
        (
            "records = \"/data\"",
            "records = \"data\"",
            "views.payments.records",
            "JSON pointer",
        ),
        (
            "base_url = \"http://127.0.0.1:8081\"",
            "base_url = \"127.0.0.1:8081\"",
            "views.replica.base_url",
            "http://",
        ),
        (
            "base_url = \"http://127.0.0.1:8082\"",
            "base_url = \"ftp://x\"",
            "model.ops.pay.base_url",
            "http://",
        ),
        (
            "converge_timeout",
            "converge_timeout = \"0s\"",
            "phases.converge_timeout",
            "above 0",
        ),
        (
            "poll_interval",
            "poll_interval = \"fast\"",
            "phases.poll_interval",
            "a duration",
        ),
    ];
    for (old, new, field, expected) in cases {
        let message = error(&views_with(old, new));
        assert_contains(&message, &[&format!("field {field}"), expected]);
    }
}

#[test]
fn a_filter_value_must_be_a_scalar_or_a_list_of_scalars() {
    let message = error(&views_with(
        "filter = { status",
        "filter = { status = { is = \"A\" } }",
    ));
    assert_contains(
        &message,
        &["field relations[3].filter.status", "found a table"],
    );
}

#[test]
fn a_custom_model_needs_relations_and_a_mix() {
    let without = VIEWS[..VIEWS.find("[[relations]]").expect("has relations")].to_owned();
    assert_contains(
        &error(&without),
        &[
            "workloads/test.toml:",
            "field relations",
            "kind = \"custom\" has no checker of its own",
        ],
    );
    let message = error(&views_with("mix = { add = 0.9 }", ""));
    assert_contains(
        &message,
        &["field model.mix", "missing mix", "\"add\", \"pay\""],
    );
}

/// A valid bank workload; tests replace one line of it to break one thing.
const BANK: &str = r#"name = "bank"
time_limit = "10s"
concurrency = 4

[target]
base_url = "http://127.0.0.1:8090"

[model]
kind = "bank"
mix = { transfer = 0.8, read = 0.2 }
accounts = [0, 1, 2, 3, 4]
total = 500
max_amount = 5
negative_allowed = false

[model.ops.transfer]
method = "POST"
path = "/transfer"
body = '{"from": {{from}}, "to": {{to}}, "amount": {{amount}}}'
ok = [200]
fail = [409]

[model.ops.read]
method = "GET"
path = "/accounts"
records = "/accounts"
account = "/id"
balance = "/balance"
"#;

/// `BANK` with the line starting `old` replaced by `new`.
fn bank_with(old: &str, new: &str) -> String {
    let line = BANK
        .lines()
        .find(|line| line.starts_with(old))
        .unwrap_or_else(|| panic!("BANK has no line starting with {old:?}"));
    BANK.replacen(line, new, 1)
}

#[test]
fn a_bank_workload_validates_into_transfers_balances_and_the_models_options() {
    let plan = parse(BANK).expect("valid");
    assert_eq!(
        plan.model,
        Model::Bank {
            total: Some(500),
            negative_allowed: false
        }
    );
    assert_eq!(
        plan.values,
        ValueSpec::Transfers {
            accounts: (0..5).map(Value::Int).collect(),
            max_amount: 5
        }
    );
    assert_eq!(
        plan.ops["read"].extract,
        Extract::Balances {
            records: "/accounts".into(),
            account: "/id".into(),
            balance: "/balance".into()
        }
    );
    assert_eq!(plan.ops["transfer"].extract, Extract::None);
    assert_eq!(plan.ops["transfer"].fail.0, [409]);
    assert_eq!((&*plan.mix[0].0, plan.mix[0].1), ("transfer", 0.8));
}

#[test]
fn a_bank_takes_string_accounts_and_defaults_to_the_first_reads_total_and_5_at_most() {
    let text = bank_with("accounts", r#"accounts = ["alice", "bob"]"#)
        .replace("total = 500\n", "")
        .replace("max_amount = 5\n", "")
        .replace("negative_allowed = false\n", "");
    let plan = parse(&text).expect("valid");
    assert_eq!(
        plan.model,
        Model::Bank {
            total: None,
            negative_allowed: false
        }
    );
    assert_eq!(
        plan.values,
        ValueSpec::Transfers {
            accounts: vec![Value::from("alice"), Value::from("bob")],
            max_amount: 5
        }
    );
    let allowed = parse(&bank_with("negative_allowed", "negative_allowed = true")).expect("valid");
    assert_eq!(
        allowed.model,
        Model::Bank {
            total: Some(500),
            negative_allowed: true
        }
    );
}

#[test]
fn bank_accounts_are_required_at_least_two_distinct_and_integers_or_strings() {
    let message = error(&bank_with("accounts", ""));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:",
            "field model.accounts",
            "missing accounts",
        ],
    );
    let message = error(&bank_with("accounts", "accounts = [7]"));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:11:12:",
            "field model.accounts",
            "at least two",
            "found 1",
        ],
    );
    let message = error(&bank_with("accounts", r#"accounts = [0, 1, "0"]"#));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:11:19:",
            "field model.accounts[2]",
            "account 0 is listed twice (also accounts[0])",
        ],
    );
    let message = error(&bank_with("accounts", "accounts = [0, 1.5]"));
    assert_contains(
        &message,
        &[
            "field model.accounts[1]",
            "integer or a non-empty string",
            "1.5",
        ],
    );
}

#[test]
fn max_amount_must_be_at_least_1() {
    let message = error(&bank_with("max_amount", "max_amount = 0"));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:13:14:",
            "field model.max_amount",
            "1 or more",
            "found 0",
        ],
    );
}

#[test]
fn bank_options_on_another_model_are_refused_naming_bank() {
    for (line, field) in [
        ("accounts = [0, 1]", "model.accounts"),
        ("total = 10", "model.total"),
        ("max_amount = 2", "model.max_amount"),
        ("negative_allowed = true", "model.negative_allowed"),
    ] {
        let message = error(&with_line(
            "kind = \"set\"",
            &format!("kind = \"set\"\n{line}"),
        ));
        assert_contains(
            &message,
            &[
                "workloads/test.toml:14:",
                &format!("field {field}"),
                "applies only to kind = \"bank\", not \"set\"",
            ],
        );
    }
}

#[test]
fn a_bank_read_needs_records_account_and_balance_and_takes_no_element() {
    let message = error(&bank_with("account = ", ""));
    assert_contains(
        &message,
        &["field model.ops.read", "missing account = \"/pointer\""],
    );
    let message = error(&bank_with("balance = ", ""));
    assert_contains(
        &message,
        &["field model.ops.read", "missing balance = \"/pointer\""],
    );
    let message = error(&bank_with("records = ", ""));
    assert_contains(&message, &["field model.ops.read", "missing records"]);
    let message = error(&bank_with(
        "balance = ",
        "balance = \"/balance\"\nelement = \"/x\"",
    ));
    assert_contains(
        &message,
        &["field model.ops.read.element", "not element or value"],
    );
    let message = error(&bank_with("account = ", "account = \"id\""));
    assert_contains(
        &message,
        &["field model.ops.read.account", "JSON pointer", "\"id\""],
    );
}

#[test]
fn account_and_balance_pointers_belong_to_the_bank_read_only() {
    let message = error(&with_line("element = \"/n\"", "account = \"/id\""));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:28:11:",
            "field model.ops.read.account",
            "pointers of a bank's read",
        ],
    );
    let message = error(&bank_with("fail = [409]", "fail = [409]\nbalance = \"/b\""));
    assert_contains(
        &message,
        &[
            "field model.ops.transfer.balance",
            "pointers of a bank's read",
        ],
    );
}

#[test]
fn value_modulo_n_fills_a_custom_ops_body_and_path_with_the_value_mod_n() {
    use splitbrain::client::Invocation;
    use splitbrain::history::Value;
    let text = VIEWS.replacen(
        "body = '{\"id\": {{value}}}'",
        "body = '{\"id\": {{value}}, \"customer\": \"c{{value % 7}}\", \"amount\": {{value%150}}}'",
        1,
    );
    let text = text.replacen("path = \"/items\"", "path = \"/items/{{ value % 4 }}\"", 1);
    let plan = parse(&text).expect("valid");
    let add = &plan.ops["add"];
    let inv = Invocation {
        f: "add".into(),
        value: Value::Int(303),
        process: 0,
        key: Value::Nil,
    };
    assert_eq!(
        add.body.as_ref().expect("a body").render_json(&inv),
        r#"{"id": 303, "customer": "c2", "amount": 3}"#
    );
    assert_eq!(add.path.render_path(&inv), "/items/3");
}

#[test]
fn value_modulo_n_needs_n_of_2_or_more_and_an_integer_value() {
    for (modulus, found) in [("1", "\"1\""), ("0", "\"0\""), ("x", "\"x\"")] {
        let message = error(&VIEWS.replacen(
            "body = '{\"id\": {{value}}}'",
            &format!("body = '{{\"id\": {{{{value}}}}, \"c\": {{{{value % {modulus}}}}}}}'"),
            1,
        ));
        assert_contains(
            &message,
            &[
                "workloads/test.toml:15:8:",
                "field model.ops.add.body",
                &format!("must be an integer >= 2, found {found}"),
            ],
        );
    }
    let message = error(&with_line(
        "path = \"/v1/items\"",
        "path = \"/v1/items?shard={{value % 3}}\"",
    ));
    assert_contains(&message, &["field model.ops.read.path", "carries no value"]);
    let message = error(&bank_with(
        "path = \"/transfer\"",
        "path = \"/transfer/{{value % 3}}\"",
    ));
    assert_contains(
        &message,
        &[
            "field model.ops.transfer.path",
            "{{value % 3}} needs an integer value",
        ],
    );
}

#[test]
fn transfer_placeholders_belong_to_the_bank_transfer_only() {
    let message = error(&with_line(
        "body =",
        "body = '{\"data\": {\"n\": {{value}}, \"from\": {{from}}}}'",
    ));
    assert_contains(
        &message,
        &[
            "workloads/test.toml:19:8:",
            "field model.ops.add.body",
            "{{from}} is a bank transfer's field",
        ],
    );
    let message = error(&bank_with(
        "path = \"/accounts\"",
        "path = \"/accounts?n={{amount}}\"",
    ));
    assert_contains(
        &message,
        &[
            "field model.ops.read.path",
            "{{amount}} is a bank transfer's field",
        ],
    );
    let path = bank_with(
        "path = \"/transfer\"",
        "path = \"/transfer/{{from}}/{{to}}\"",
    );
    assert!(
        parse(&path).is_ok(),
        "transfer fields in the transfer's path"
    );
    let message = error(&bank_with("body =", "body = '{\"from\": \"{{from}}\"}'"));
    assert_contains(
        &message,
        &["field model.ops.transfer.body", "expected JSON"],
    );
}

/// A valid cas-register workload on etcd's v2 API; tests replace one part to break one thing.
const REGISTER: &str = r#"name = "etcd"
time_limit = "10s"
concurrency = 4

[target]
base_url = "http://127.0.0.1:2379"

[model]
kind = "cas-register"
keys = 3
values = { min = 0, max = 2 }
time_limit_per_key = "20s"

[model.ops.read]
method = "GET"
path = "/v2/keys/r{{key}}?quorum=true"
ok = [200]
missing = [404]
value = "/node/value"

[model.ops.write]
method = "PUT"
path = "/v2/keys/r{{key}}?value={{value}}"
ok = [200, 201]

[model.ops.cas]
method = "PUT"
path = "/v2/keys/r{{key}}?prevValue={{from}}&value={{to}}"
ok = [200]
fail = [404, 412]
"#;

/// `REGISTER` with the first occurrence of `old` replaced by `new`.
fn register_with(old: &str, new: &str) -> String {
    assert!(REGISTER.contains(old), "REGISTER has no {old:?}");
    REGISTER.replacen(old, new, 1)
}

#[test]
fn a_cas_register_workload_gives_keys_values_bounds_and_the_default_mix() {
    let plan = parse(REGISTER).expect("valid");
    let Model::Linear { bounds, .. } = &plan.model else {
        panic!("a linear model, found {}", plan.model)
    };
    assert_eq!(plan.model.name(), "cas-register");
    assert_eq!(bounds.time_per_key, Some(Duration::from_secs(20)));
    assert_eq!(
        plan.values,
        ValueSpec::Register {
            keys: 3,
            min: 0,
            max: 2
        }
    );
    assert!(plan.independent_keys());
    let mix: Vec<(&str, f64)> = plan.mix.iter().map(|(f, w)| (&**f, *w)).collect();
    assert_eq!(mix, [("read", 0.5), ("write", 0.25), ("cas", 0.25)]);
    let read = &plan.ops["read"];
    assert_eq!(read.extract, Extract::Register("/node/value".into()));
    assert_eq!(read.missing.0, [404]);
    assert!(plan.ops["cas"].fail_means_ran);
    assert!(!plan.ops["write"].fail_means_ran);
}

#[test]
fn a_register_with_one_key_records_plain_values_and_has_defaults() {
    let text = register_with("keys = 3\nvalues = { min = 0, max = 2 }\n", "")
        .replace("kind = \"cas-register\"", "kind = \"register\"");
    let text = text[..text.find("[model.ops.cas]").unwrap()].to_owned();
    let plan = parse(&text).expect("valid");
    assert_eq!(
        plan.values,
        ValueSpec::Register {
            keys: 1,
            min: 0,
            max: 4
        }
    );
    assert!(!plan.independent_keys());
    let mix: Vec<(&str, f64)> = plan.mix.iter().map(|(f, w)| (&**f, *w)).collect();
    assert_eq!(mix, [("read", 0.5), ("write", 0.5)]);
}

#[test]
fn history_only_models_are_refused_naming_the_models_that_run() {
    for kind in ["mutex", "multi-register"] {
        let message = error(&register_with(
            "kind = \"cas-register\"",
            &format!("kind = \"{kind}\""),
        ));
        assert_contains(
            &message,
            &[
                FILE,
                ":9:8",
                "model.kind",
                &format!("splitbrain check --model {kind}"),
                "\"register\", \"cas-register\" and \"kv\" can",
            ],
        );
    }
}

#[test]
fn register_workload_mistakes_name_the_file_line_field_and_what_was_expected() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "keys = 3",
            "keys = 0",
            &[":10:8", "model.keys", "expected a whole number from 1"],
        ),
        (
            "values = { min = 0, max = 2 }",
            "values = { min = 3, max = 2 }",
            &[":11:10", "model.values", "min <= max"],
        ),
        (
            "time_limit_per_key = \"20s\"",
            "time_limit_per_key = \"soon\"",
            &[":12:22", "model.time_limit_per_key"],
        ),
        (
            "missing = [404]",
            "missing = [200]",
            &[
                ":18:11",
                "model.ops.read.missing",
                "status 200 is in missing and in ok",
            ],
        ),
        (
            "ok = [200, 201]",
            "ok = [200, 201]\nmissing = [404]",
            &["model.ops.write.missing", "applies only to a register's"],
        ),
        (
            "/v2/keys/r{{key}}?prevValue={{from}}&value={{to}}",
            "/v2/keys/r{{key}}?prevValue={{from}}&value={{value}}",
            &[":28:8", "model.ops.cas.path", "use {{from}}\n"],
        ),
        (
            "/v2/keys/r{{key}}?value={{value}}",
            "/v2/keys/r{{key}}?value=1",
            &[
                "model.ops.write:",
                "model.ops.write",
                "a write must send its value",
            ],
        ),
        (
            "/v2/keys/r{{key}}?quorum=true",
            "/v2/keys/r?quorum=true",
            &["model.ops.read:", "model.ops.read", "keys = 3", "{{key}}"],
        ),
        (
            "/v2/keys/r{{key}}?value={{value}}",
            "/v2/keys/r{{key}}?value={{from}}",
            &[
                "model.ops.write.path",
                "{{from}} is a bank transfer's field",
            ],
        ),
        (
            "value = \"/node/value\"",
            "records = \"/node\"",
            &["model.ops.read.records", "reads one value"],
        ),
    ];
    for (old, new, parts) in cases {
        let message = error(&register_with(old, new));
        let mut all = vec![FILE];
        all.extend(parts.iter().map(|p| p.trim_end_matches('\n')));
        assert_contains(&message, &all);
    }
}

#[test]
fn register_options_on_another_model_are_errors_naming_the_model() {
    let message = error(&with_line("kind = \"set\"", "kind = \"set\"\nkeys = 2"));
    assert_contains(
        &message,
        &[
            FILE,
            "model.keys",
            "applies only to kind = \"register\", \"cas-register\" or \"kv\", not \"set\"",
        ],
    );
    let message = error(&with_line(
        "kind = \"set\"",
        "kind = \"set\"\nvalues = { min = 0, max = 1 }",
    ));
    assert_contains(
        &message,
        &[
            FILE,
            "model.values",
            "\"counter\", \"register\", \"cas-register\" or \"kv\"",
        ],
    );
}
