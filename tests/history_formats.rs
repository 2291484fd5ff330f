//! Reading and writing history files: splitbrain JSONL round trips, crash tolerance, error
//! positions, Jepsen EDN literals and op maps, elle-cli JSON, and the peer corpus.

use std::io::Write;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use splitbrain::history::{
    Event, EventKind, FORMAT_VERSION, Header, History, HistoryError, HistoryFormat, HistoryWriter,
    Process, Value, parse_edn_history, parse_edn_value, parse_json_history, read_history,
    write_edn,
};

fn header() -> Header {
    Header {
        splitbrain_history: FORMAT_VERSION,
        version: "0.1.0".into(),
        name: "orders-set".into(),
        model: "set".into(),
        model_options: serde_json::Map::new(),
        seed: 42,
        started_at: "2026-01-01T00:00:00Z".into(),
        workload: "name = \"orders-set\"\n".into(),
    }
}

fn event(index: u64, process: Process, kind: EventKind, f: &str, value: Value) -> Event {
    Event {
        index,
        time: index * 1000,
        process,
        kind,
        f: f.into(),
        value,
        node: None,
        error: None,
    }
}

fn every_value_shape() -> Vec<Value> {
    vec![
        Value::Nil,
        Value::Bool(true),
        Value::Int(i64::MIN),
        Value::Int(i64::MAX),
        Value::Float(-2.5e-300),
        Value::Str("tab\t quote\" newline\n unicode é ✓ \u{1F600}".into()),
        Value::list([1.into(), Value::list([]), Value::list(["x".into()])]),
        Value::Map(Box::new([
            ("k".into(), Value::list([1.into()])),
            ("".into(), Value::Nil),
        ])),
        Value::list([Value::list(["append".into(), "x".into(), 3.into()])]),
    ]
}

/// Writes `header` and `events` to a fresh file in `dir`.
fn write_history(dir: &Path, events: &[Event]) -> PathBuf {
    let path = dir.join("history.jsonl");
    let mut writer = HistoryWriter::create(&path, &header()).unwrap();
    for e in events {
        writer.append(e).unwrap();
    }
    writer.sync().unwrap();
    path
}

fn write_text(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn parse_err(
    result: Result<(History, splitbrain::history::ReadReport), HistoryError>,
) -> (u64, u64, String) {
    match result {
        Err(HistoryError::Parse {
            line,
            column,
            message,
            ..
        }) => (line, column, message),
        Err(other) => panic!("expected a parse error, got {other}"),
        Ok(_) => panic!("expected a parse error, got a history"),
    }
}

#[test]
fn jsonl_round_trip_keeps_every_value_shape() {
    let dir = tempfile::tempdir().unwrap();
    let mut events = Vec::new();
    for (i, value) in every_value_shape().into_iter().enumerate() {
        let p = Process::Client(i as u64);
        let base = events.len() as u64;
        let mut invoke = event(base, p, EventKind::Invoke, "add", value.clone());
        invoke.node = Some("orders-1".into());
        let mut done = event(base + 1, p, EventKind::Info, "add", value);
        done.error = Some("timeout after 2s".into());
        events.extend([invoke, done]);
    }
    let n = events.len() as u64;
    events.push(event(
        n,
        Process::Nemesis,
        EventKind::Info,
        "partition",
        Value::list(["n1".into()]),
    ));
    let path = write_history(dir.path(), &events);

    let (history, report) = read_history(&path).unwrap();
    let expected = History::from_events(Some(header()), events).unwrap();
    assert_eq!(report.format, HistoryFormat::Jsonl);
    assert!(!report.truncated_tail);
    assert_eq!(history.header, Some(header()));
    assert_eq!(history.ops, expected.ops);
    assert_eq!(history.nemesis, expected.nemesis);
    assert_eq!(history.event_count, expected.event_count);
}

#[test]
fn truncated_last_line_is_dropped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let events = [
        event(0, Process::Client(0), EventKind::Invoke, "add", 1.into()),
        event(1, Process::Client(0), EventKind::Ok, "add", 1.into()),
    ];
    let path = write_history(dir.path(), &events);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(br#"{"index":2,"time":5,"process":1,"type":"inv"#)
        .unwrap();

    let (history, report) = read_history(&path).unwrap();
    assert!(report.truncated_tail);
    assert!(
        report.warnings.iter().any(|w| w.contains("line 4")),
        "{:?}",
        report.warnings
    );
    assert_eq!(history.ops.len(), 1);
    assert_eq!(history.event_count, 2);
}

#[test]
fn bad_line_is_reported_with_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_history(
        dir.path(),
        &[event(
            0,
            Process::Client(0),
            EventKind::Invoke,
            "add",
            1.into(),
        )],
    );
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(
        "{\"index\":1,\"time\":5,\"process\":0,\"type\":\"ok\",\"f\":\"add\",\"value\":[1,}\n",
    );
    text.push_str("{\"index\":2,\"time\":6,\"process\":0,\"type\":\"ok\",\"f\":\"add\"}\n");
    std::fs::write(&path, &text).unwrap();
    let (line, column, message) = parse_err(read_history(&path));
    assert_eq!((line, column), (3, 66), "{message}"); // the `}` after `[1,`

    let lines: Vec<&str> = text.lines().take(2).collect();
    let bad_type = "{\"index\":1,\"time\":5,\"process\":0,\"type\":\"done\",\"f\":\"add\"}\n";
    std::fs::write(&path, format!("{}\n{}\n{bad_type}", lines[0], lines[1])).unwrap();
    let (line, _, message) = parse_err(read_history(&path));
    assert_eq!(line, 3);
    assert!(
        message.contains("`done`") && message.contains("`invoke`"),
        "{message}"
    );
}

/// Files past one read chunk (1 MiB) are parsed in pieces; line numbers must still count
/// from the start of the file.
#[test]
fn errors_and_truncation_deep_in_a_large_file_name_the_file_line() {
    let dir = tempfile::tempdir().unwrap();
    let events: Vec<Event> = (0..40_000)
        .map(|i| {
            let kind = if i % 2 == 0 {
                EventKind::Invoke
            } else {
                EventKind::Ok
            };
            event(
                i,
                Process::Client(i / 2 % 7),
                kind,
                "add",
                Value::Int(i as i64 / 2),
            )
        })
        .collect();
    let path = write_history(dir.path(), &events);
    let good = std::fs::read_to_string(&path).unwrap();
    assert!(good.len() > 3 << 20, "the file must span several chunks");

    std::fs::write(
        &path,
        format!("{good}{{\"index\":40000,\"time\":1,\"process\":0,\"type\":\"inv"),
    )
    .unwrap();
    let (history, report) = read_history(&path).unwrap();
    assert_eq!(history.event_count, 40_000);
    assert_eq!(
        report.warnings,
        vec![
            "line 40002 is incomplete (the writer was stopped mid-line) and was dropped"
                .to_string()
        ]
    );

    std::fs::write(&path, format!("{good}{{\"index\":40000}}\n")).unwrap();
    let (line, column, message) = parse_err(read_history(&path));
    assert_eq!((line, column), (40_002, 15), "{message}"); // at the closing `}`
    assert!(message.contains("missing field"), "{message}");
}

#[test]
fn unknown_header_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_text(
        dir.path(),
        "history.jsonl",
        "{\"splitbrain_history\":99,\"version\":\"9.0.0\"}\n",
    );
    let (line, _, message) = parse_err(read_history(&path));
    assert_eq!(line, 1);
    assert!(
        message.contains("version 99") && message.contains("9.0.0"),
        "{message}"
    );
}

#[test]
fn jsonl_without_header_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        "{\"index\":0,\"time\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"add\",\"value\":1}\n";
    let path = write_text(dir.path(), "history.jsonl", text);
    let (line, _, message) = parse_err(read_history(&path));
    assert_eq!(line, 1);
    assert!(message.contains("splitbrain_history"), "{message}");
}

#[test]
fn edn_export_reads_back_as_the_same_history() {
    let mut events = Vec::new();
    for (i, value) in every_value_shape().into_iter().enumerate() {
        let p = Process::Client(i as u64);
        let base = events.len() as u64;
        let mut done = event(base + 1, p, EventKind::Fail, "txn", value.clone());
        done.error = Some("aborted: \"40001\"".into());
        done.node = Some("db-1".into());
        events.extend([event(base, p, EventKind::Invoke, "txn", value), done]);
    }
    let n = events.len() as u64;
    events.push(event(
        n,
        Process::Nemesis,
        EventKind::Info,
        "start-partition",
        Value::Nil,
    ));
    let mut out = Vec::new();
    write_edn(&mut out, &events).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("[[:append \"x\" 3]]"), "{text}");

    let (h, _) = parse_edn_history(text.as_bytes(), Path::new("export.edn")).unwrap();
    let expected = History::from_events(None, events).unwrap();
    assert_eq!(h.ops, expected.ops);
    assert_eq!(h.nemesis, expected.nemesis);
}

#[test]
fn edn_reads_every_literal_kind() {
    let cases: &[(&str, Value)] = &[
        ("nil", Value::Nil),
        ("true", Value::Bool(true)),
        ("false", Value::Bool(false)),
        ("-42", Value::Int(-42)),
        ("42N", Value::Int(42)),
        ("3.25", Value::Float(3.25)),
        ("1.5M", Value::Float(1.5)),
        ("-1e3", Value::Float(-1000.0)),
        (r#""a\"b\\c\n\t\u00e9""#, Value::Str("a\"b\\c\n\té".into())),
        (r"\a", Value::Str("a".into())),
        (r"\newline", Value::Str("\n".into())),
        (":foo", Value::Str("foo".into())),
        (":jepsen/foo", Value::Str("jepsen/foo".into())),
        ("some-symbol", Value::Str("some-symbol".into())),
        ("[1 :a]", Value::list([1.into(), "a".into()])),
        ("(1, 2)", Value::list([1.into(), 2.into()])),
        ("#{3 1 2}", Value::list([1.into(), 2.into(), 3.into()])),
        (
            "{:a 1 2 [3]}",
            Value::Map(Box::new([
                ("a".into(), 1.into()),
                (2.into(), Value::list([3.into()])),
            ])),
        ),
        (
            r#"#inst "2026-01-01T00:00:00Z""#,
            Value::Str("2026-01-01T00:00:00Z".into()),
        ),
        (
            r#"#uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6""#,
            Value::Str("f81d4fae-7dec-11d0-a765-00a0c91e6bf6".into()),
        ),
        (
            "#object[Foo 0x1f {:a 1}]",
            Value::list([
                "Foo".into(),
                31.into(),
                Value::Map(Box::new([("a".into(), 1.into())])),
            ]),
        ),
        (
            "; comment\n [1 #_ 2 #_[x y] 3] ; trailing",
            Value::list([1.into(), 3.into()]),
        ),
    ];
    for (text, expected) in cases {
        let value = parse_edn_value(text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(&value, expected, "{text}");
    }
}

#[test]
fn edn_syntax_error_names_line_and_column() {
    let err = parse_edn_value(b"[1\n 2 \"unterminated]").unwrap_err();
    assert_eq!((err.line, err.column), (2, 4), "{err}");
    let err = parse_edn_value(b"{:a 1 :b}").unwrap_err();
    assert!(err.message.contains("value for the map key"), "{err}");
}

#[test]
fn edn_history_in_both_shapes_reads_alike() {
    let per_line = "; a Jepsen history\n\
        {:process 0, :type :invoke, :f :add, :value 1, :time 10, :node \"n1\"}\n\
        {:process :nemesis, :type :info, :f :start, :value [\"n1\" \"n2\"], :time 11}\n\
        {:process 0, :type :fail, :f :add, :value 1, :time 12,\n  :error [:timeout 2000]}\n";
    let vector = format!("[{}]", per_line.replace("; a Jepsen history", ""));
    for text in [per_line.to_string(), vector] {
        let (h, report) = parse_edn_history(text.as_bytes(), Path::new("h.edn")).unwrap();
        assert_eq!(report.format, HistoryFormat::Edn);
        assert!(
            report.warnings.iter().any(|w| w.contains(":index")),
            "{:?}",
            report.warnings
        );
        assert_eq!(h.ops.len(), 1);
        assert_eq!(h.nemesis.len(), 1);
        let op = &h.ops[0];
        assert_eq!((op.invoke, op.complete, op.invoke_time), (0, Some(2), 10));
        assert_eq!(op.error(), Some("[\"timeout\" 2000]"));
        assert_eq!(op.node().map(|n| &**n), Some("n1"));
    }
}

#[test]
fn edn_op_with_unknown_type_says_what_was_expected() {
    let text =
        "{:process 0, :type :invoke, :f :add, :value 1}\n{:process 0, :type :done, :f :add}\n";
    let (line, column, message) = parse_err(parse_edn_history(text.as_bytes(), Path::new("h.edn")));
    assert_eq!((line, column), (2, 20));
    assert_eq!(
        message,
        "expected :type to be one of :invoke :ok :fail :info, found :done"
    );
}

#[test]
fn edn_op_without_time_keeps_file_order() {
    let text = "[{:process 1 :type :invoke :f :read}\n {:process 1 :type :ok :f :read :value 3}]";
    let (h, report) = parse_edn_history(text.as_bytes(), Path::new("h.edn")).unwrap();
    assert!(
        report.warnings.iter().any(|w| w.contains(":time")),
        "{:?}",
        report.warnings
    );
    assert_eq!((h.ops[0].invoke_time, h.ops[0].complete_time), (0, Some(1)));
    assert_eq!(h.ops[0].value, Value::Int(3));
}

#[test]
fn json_array_of_op_objects_reads_like_edn() {
    let text = r#"[{"process":0,"type":"invoke","f":"add","value":1,"extra":{"x":1}},
        {"process":"nemesis","type":"info","f":"kill","value":null},
        {"process":0,"type":"ok","f":"add","value":1,"error":null}]"#;
    let (h, report) = parse_json_history(text.as_bytes(), Path::new("h.json")).unwrap();
    assert_eq!(report.format, HistoryFormat::Json);
    assert_eq!((h.ops.len(), h.nemesis.len()), (1, 1));
    assert_eq!(h.ops[0].complete, Some(2));

    let bad = r#"[{"process":0,"type":"done","f":"add"}]"#;
    let (line, _, message) = parse_err(parse_json_history(bad.as_bytes(), Path::new("h.json")));
    assert_eq!(line, 1);
    assert!(message.contains("found \"done\""), "{message}");
}

/// The peer corpus: every EDN and JSON history parses, with the manifest's count of
/// invocations (client ops, nemesis excluded, `:fail` included), which is `ops.len()`.
#[test]
fn every_edn_and_json_corpus_file_parses_with_its_manifest_op_count() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let Ok(manifest) = std::fs::read_to_string(corpus.join("MANIFEST.tsv")) else {
        eprintln!("SKIPPED: peer corpus not found at {}", corpus.display());
        return;
    };
    let mut checked = 0;
    let mut failures = Vec::new();
    for row in manifest.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        let (file, n_ops, format) = (cols[0], cols[5], cols[6]);
        if !(format.starts_with("edn") || format.starts_with("json")) {
            continue;
        }
        let expected: usize = n_ops.parse().unwrap();
        checked += 1;
        match read_history(&corpus.join(file)) {
            Ok((h, _)) if h.ops.len() == expected => {}
            Ok((h, _)) => failures.push(format!(
                "{file}: {} ops, manifest says {expected}",
                h.ops.len()
            )),
            Err(e) => failures.push(format!("{file}: {e}")),
        }
    }
    assert!(checked >= 140, "only {checked} corpus files checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn arbitrary_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |x| x.is_finite())
            .prop_map(Value::Float),
        any::<String>().prop_map(|s| Value::Str(s.into())),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::list),
            // JSON objects have string keys; that is the map shape JSONL keeps.
            prop::collection::vec((any::<String>(), inner), 0..6).prop_map(|entries| {
                Value::Map(
                    entries
                        .into_iter()
                        .map(|(k, v)| (Value::Str(k.into()), v))
                        .collect(),
                )
            }),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_values_round_trip_through_jsonl(value in arbitrary_value()) {
        let mut out = Vec::new();
        let mut writer = HistoryWriter::new(&mut out, &header()).unwrap();
        writer.append(&event(0, Process::Client(0), EventKind::Invoke, "w", value.clone())).unwrap();
        writer.append(&event(1, Process::Client(0), EventKind::Ok, "w", Value::Nil)).unwrap();
        let (h, _) = splitbrain::history::read_jsonl_from(&out[..], Path::new("mem")).unwrap();
        prop_assert_eq!(&h.ops[0].value, &value);
        // Value's equality treats 1 and 1.0 alike; the text must round trip too.
        prop_assert_eq!(serde_json::to_string(&h.ops[0].value).unwrap(), serde_json::to_string(&value).unwrap());
    }
}

proptest! {
    #[test]
    fn arbitrary_values_round_trip_through_edn_export(value in arbitrary_value(), f in "[a-z][a-z-]{0,8}") {
        let events = [
            event(0, Process::Client(3), EventKind::Invoke, &f, value.clone()),
            event(1, Process::Client(3), EventKind::Info, &f, Value::Nil),
        ];
        let mut out = Vec::new();
        write_edn(&mut out, &events).unwrap();
        let (h, _) = parse_edn_history(&out, Path::new("mem.edn")).unwrap();
        prop_assert_eq!(&h.ops[0].value, &value);
        prop_assert_eq!(&*h.ops[0].f, f.as_str());
    }
}

#[test]
fn jepsen_console_logs_and_porcupine_kv_logs_are_told_from_their_content() {
    let dir = tempfile::tempdir().unwrap();
    let preamble = "lein test jepsen.system.etcd-test\n".repeat(200);
    let cases = [
        (
            "etcd.txt",
            format!(
                "{preamble}INFO  jepsen.util - 4\t:invoke\t:read\tnil\nINFO  jepsen.util - 4 :ok :read 3\n"
            ),
            HistoryFormat::JepsenLog,
        ),
        (
            "kv",
            "{:process 0, :type :invoke, :f :put, :key \"5\", :value \"x\"}\n\
             {:process 0, :type :ok, :f :put, :key \"5\", :value \"x\"}\n"
                .to_owned(),
            HistoryFormat::PorcupineKv,
        ),
    ];
    for (name, text, format) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let (h, report) = read_history(&path).unwrap();
        assert_eq!(report.format, format, "{name}");
        assert_eq!(h.ops.len(), 1, "{name}");
    }
    let (h, _) = read_history(&dir.path().join("kv")).unwrap();
    assert_eq!(h.ops[0].value, Value::list(["5".into(), "x".into()]));
}
