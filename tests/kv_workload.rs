//! `kind = "kv"` in a workload file: Porcupine's key-value store over HTTP. A valid file
//! becomes a plan whose gets read strings and whose puts and appends send "x N y" tokens on
//! keys recorded as `[key value]`; each mistake gives one message naming the file, the line,
//! the field and what was expected.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use splitbrain::checker::Model;
use splitbrain::generator::Generator;
use splitbrain::history::Value;
use splitbrain::workload::{Extract, Plan, ValueSpec};

const FILE: &str = "workloads/toyset-kv.toml";

/// The shipped kv workload; tests replace one part of it to break one thing.
const KV: &str = include_str!("../workloads/toyset-kv.toml");

/// `KV` with the first occurrence of `old` replaced by `new`.
fn kv_with(old: &str, new: &str) -> String {
    assert!(KV.contains(old), "KV has no {old:?}");
    KV.replacen(old, new, 1)
}

/// `KV` without the section `[model.ops.OP]`.
fn kv_without(op: &str) -> String {
    let start = KV.find(&format!("[model.ops.{op}]")).expect("a section");
    let end = KV[start..].find("\n\n").map_or(KV.len(), |n| start + n + 2);
    format!("{}{}", &KV[..start], &KV[end..])
}

fn parse(text: &str) -> Plan {
    Plan::from_toml(text, Path::new(FILE)).unwrap_or_else(|e| panic!("{e}"))
}

/// The message of `text`'s error, which must name the file, the line and column where `at`
/// (when given) is in `text`, at its `|`, and hold every one of `parts`.
fn assert_refused(text: &str, at: Option<&str>, parts: &[&str]) {
    let message = match Plan::from_toml(text, Path::new(FILE)) {
        Ok(_) => panic!("expected an error holding {parts:?}"),
        Err(e) => e.to_string(),
    };
    let place = at.map(|needle| {
        let (head, tail) = needle.split_once('|').expect("a | in the needle");
        let found = text
            .find(&format!("{head}{tail}"))
            .expect("the needle is in the text");
        let before = &text[..found + head.len()];
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        format!("{FILE}:{}:{column}:", before.matches('\n').count() + 1)
    });
    for part in [FILE].iter().chain(parts).chain(place.as_deref().iter()) {
        assert!(message.contains(part), "expected {part:?} in:\n{message}");
    }
}

fn mix_of(plan: &Plan) -> Vec<(&str, f64)> {
    plan.mix.iter().map(|(f, w)| (&**f, *w)).collect()
}

#[test]
fn a_kv_workload_gives_keys_fresh_tokens_bounds_and_a_get_that_reads_a_string() {
    let plan = parse(KV);
    let Model::Linear { bounds, .. } = &plan.model else {
        panic!("a linear model, found {}", plan.model)
    };
    assert_eq!(plan.model.name(), "kv");
    assert_eq!(bounds.time_per_key, Some(Duration::from_secs(30)));
    let tokens = None;
    assert_eq!(plan.values, ValueSpec::Kv { keys: 4, tokens });
    assert!(plan.independent_keys());
    assert_eq!(
        mix_of(&plan),
        [("get", 0.5), ("put", 0.25), ("append", 0.25)]
    );
    let get = &plan.ops["get"];
    assert_eq!(get.extract, Extract::Kv("/value".into()));
    assert_eq!(get.missing.0, [404]);
    assert_eq!(plan.ops["append"].extract, Extract::None);
}

#[test]
fn one_key_is_still_recorded_as_key_value_and_the_default_mix_has_every_op() {
    let text = kv_with("keys = 4", "values = { min = 0, max = 9 }").replacen(
        "mix = { get = 0.5, put = 0.25, append = 0.25 }\n",
        "",
        1,
    );
    let plan = parse(&text);
    let tokens = Some((0, 9));
    assert_eq!(plan.values, ValueSpec::Kv { keys: 1, tokens });
    assert!(plan.independent_keys(), "the kv checker reads [key value]");
    assert_eq!(
        mix_of(&plan),
        [("get", 0.5), ("put", 0.25), ("append", 0.25)]
    );
}

#[test]
fn every_put_and_append_sends_a_token_no_other_write_sends_and_gets_send_nothing() {
    let mut generator = Generator::new(&parse(KV));
    let (mut keys, mut sent, mut ops) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for _ in 0..3_000 {
        let (f, key, value) = generator.next_keyed();
        keys.insert(key.as_int().expect("an integer key"));
        match (&*f, value) {
            ("get", v) => assert!(v.is_nil()),
            (_, Value::Str(s)) => {
                let n = (s.strip_prefix("x ").and_then(|t| t.strip_suffix(" y")))
                    .and_then(|n| n.parse::<u64>().ok());
                assert!(n.is_some(), "{s:?} is not \"x N y\"");
                assert!(sent.insert(s.to_string()), "{s:?} sent twice");
            }
            (f, v) => panic!("{f} with {v}"),
        }
        ops.insert(f.to_string());
    }
    assert_eq!(keys.into_iter().collect::<Vec<_>>(), [0, 1, 2, 3]);
    assert_eq!(ops.len(), 3, "{ops:?}");
}

#[test]
fn a_mix_that_leaves_append_out_needs_no_append_section_and_draws_no_append() {
    let text = kv_without("append").replacen("append = 0.25", "append = 0", 1);
    let plan = parse(&text);
    assert_eq!(mix_of(&plan), [("get", 2.0 / 3.0), ("put", 1.0 / 3.0)]);
    assert!(!plan.ops.contains_key("append"));
    let mut generator = Generator::new(&plan);
    assert!((0..2_000).all(|_| &*generator.next_op().0 != "append"));
    let text = kv_without("append").replacen(", append = 0.25", "", 1);
    assert_eq!(parse(&text).mix.len(), 2);
}

#[test]
fn a_missing_op_section_names_it_and_how_to_leave_a_write_out() {
    let all = "\"get\", \"put\", \"append\"";
    let get = ["model.ops.get", "missing section [model.ops.get]", all];
    assert_refused(&kv_without("get"), None, &get);
    let put = [
        "model.ops.put",
        "missing section [model.ops.put]",
        "leave put out of mix",
    ];
    assert_refused(&kv_without("put"), None, &put);
}

#[test]
fn a_mix_without_gets_or_with_another_models_op_is_refused() {
    let mix = "{ get = 0.5, put = 0.25, append = 0.25 }";
    let no_get = "expected get with a weight above 0";
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "{ put = 0.5, append = 0.5 }",
            "mix = |{ put",
            &["field model.mix", no_get],
        ),
        (
            "{ get = 0, put = 1 }",
            "mix = |{ get = 0",
            &["field model.mix", "observe the store"],
        ),
        (
            "{ get = 1, read = 1 }",
            "{ get = 1, |read",
            &["no operation \"read\"", "\"get\", \"put\""],
        ),
        (
            "{ get = -1, put = 1 }",
            "get = |-1",
            &["model.mix.get", "expected a weight >= 0"],
        ),
    ];
    for (new, at, parts) in cases {
        assert_refused(&kv_with(mix, new), Some(at), parts);
    }
}

#[test]
fn kv_op_mistakes_name_the_file_line_field_and_what_was_expected() {
    let get_path = "path = \"/v1/kv/{{key}}\"";
    let put_body = "body = '{\"value\": {{value}}}'";
    let append_path = "path = \"/v1/kv/{{key}}/append\"";
    let value = "value = \"/value\"";
    // (replaced, replacement, where the error points in the new text, what it says)
    let cases: &[(&str, &str, Option<&str>, &[&str])] = &[
        (
            get_path,
            "path = \"/v1/kv/{{kye}}\"",
            Some("path = |\"/v1/kv/{{kye"),
            &["model.ops.get.path", "{{kye}}", "{{value}}, {{key}}"],
        ),
        (
            get_path,
            "path = \"/v1/kv/{{key}}?{{value}}\"",
            Some("path = |\"/v1/kv/{{key}}?"),
            &["model.ops.get.path", "carries no value"],
        ),
        (
            get_path,
            "path = \"/v1/kv/k\"",
            None,
            &["model.ops.get:", "keys = 4", "one key"],
        ),
        (
            put_body,
            "body = '{\"value\": \"x\"}'",
            None,
            &["model.ops.put", "a put must send its value"],
        ),
        (
            append_path,
            "path = \"/a?from={{from}}\"",
            Some("path = |\"/a?"),
            &[
                "model.ops.append.path",
                "{{from}} is a bank transfer's field",
            ],
        ),
        (
            "missing = [404]",
            "missing = [200]",
            Some("missing = |[200]"),
            &[
                "model.ops.get.missing",
                "status 200 is in missing and in ok",
            ],
        ),
        (
            put_body,
            "missing = [404]\nbody = '{\"value\": {{value}}}'",
            None,
            &["model.ops.put.missing", "applies only to", "kv get"],
        ),
        (
            value,
            "",
            None,
            &["model.ops.get", "missing value = \"/pointer\""],
        ),
        (
            value,
            "records = \"/value\"",
            Some("records = |\"/value\""),
            &["model.ops.get.records", "reads one value"],
        ),
        (
            value,
            "value = \"value\"",
            Some("value = |\"value\""),
            &["model.ops.get.value", "expected a JSON pointer"],
        ),
        (
            "keys = 4",
            "keys = 0",
            Some("keys = |0"),
            &["model.keys", "a whole number from 1"],
        ),
        (
            "keys = 4",
            "values = { min = 5, max = 1 }",
            Some("values = |{ min = 5"),
            &["model.values", "min <= max"],
        ),
    ];
    for (old, new, at, parts) in cases {
        assert_refused(&kv_with(old, new), *at, parts);
    }
}
