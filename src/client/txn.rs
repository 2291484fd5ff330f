//! A txn's response over HTTP: the micro-ops sent, in the same order, each read filled in
//! (elle-cli's JSON form, `[["append", 1, 3], ["r", 2, [1, 3]]]`). The request carried them as
//! `{{value}}`; the service answers with them at the op's `value` pointer.
//!
//! The status said the txn committed, so it did; a response that does not give back what was
//! sent (another length, a micro-op's `f`, key or written value changed, a read of the wrong
//! shape) leaves what it read unknown, so the txn is `info`, naming the micro-op and quoting it.

use super::Completion;
use super::http::excerpt;
use crate::checker::elle::txn::Shape;
use crate::history::Value;

/// The completed txn at `pointer` in `json`, checked against the micro-ops `sent`.
pub(super) fn completed(
    json: &serde_json::Value,
    pointer: &str,
    sent: &Value,
    shape: Shape,
) -> Completion {
    let Some(found) = json.pointer(pointer) else {
        return Completion::Info(format!(
            "ok status but the body has nothing at JSON pointer {pointer:?}: {}",
            excerpt(&json.to_string())
        ));
    };
    let sent = sent.as_list().unwrap_or_default();
    let got = match found.as_array() {
        Some(got) if got.len() == sent.len() => got,
        _ => {
            return Completion::Info(format!(
                "ok status but JSON pointer {pointer:?} holds no list of {} micro-ops: {}",
                sent.len(),
                excerpt(&found.to_string())
            ));
        }
    };
    let mut ops = Vec::with_capacity(sent.len());
    for (i, (sent, got)) in sent.iter().zip(got).enumerate() {
        match micro_op(sent, got, shape) {
            Ok(op) => ops.push(op),
            Err(why) => {
                return Completion::Info(format!(
                    "ok status but micro-op {i} of the response {why}: sent {}, got {}",
                    serde_json::to_string(sent).expect("a Value always serializes to JSON"),
                    excerpt(&got.to_string())
                ));
            }
        }
    }
    Completion::Ok(Some(Value::list(ops)))
}

/// One completed micro-op: a write as sent, a read with what it read.
fn micro_op(sent: &Value, got: &serde_json::Value, shape: Shape) -> Result<Value, &'static str> {
    let sent_parts = sent.as_list().unwrap_or_default();
    let [f, key, value] = sent_parts else {
        return Err("answers a micro-op that was not sent as [f key value]");
    };
    let parts = match got.as_array() {
        Some(parts) if parts.len() == 3 => parts,
        _ => return Err("is not [f key value]"),
    };
    if Value::from_json(&parts[0]) != *f || Value::from_json(&parts[1]) != *key {
        return Err("names another function or key than the one sent");
    }
    let read = Value::from_json(&parts[2]);
    if f.as_str() != Some("r") {
        return match read == *value {
            true => Ok(sent.clone()),
            false => Err("writes another value than the one sent"),
        };
    }
    let fits = match shape {
        Shape::ListAppend => matches!(read, Value::Nil | Value::List(_)),
        Shape::RwRegister => !matches!(read, Value::List(_) | Value::Map(_)),
    };
    match fits {
        true => Ok(Value::list(vec![f.clone(), key.clone(), read])),
        false if shape == Shape::ListAppend => Err("reads something other than a list or null"),
        false => Err("reads a list or an object, not a register's value"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sent() -> Value {
        Value::from_json(&json!([["append", 1, 3], ["r", 1, null], ["r", 2, null]]))
    }

    #[test]
    fn reads_are_filled_in_from_the_response_and_writes_kept_as_sent() {
        let body = json!({"ops": [["append", 1, 3], ["r", 1, [2, 3]], ["r", 2, null]]});
        let Completion::Ok(Some(txn)) = completed(&body, "/ops", &sent(), Shape::ListAppend) else {
            panic!("expected ok")
        };
        let expected = json!([["append", 1, 3], ["r", 1, [2, 3]], ["r", 2, null]]);
        assert_eq!(txn, Value::from_json(&expected));
    }

    #[test]
    fn a_response_that_does_not_give_back_what_was_sent_is_info_naming_the_micro_op() {
        let cases = [
            (json!({"ops": [["append", 1, 3]]}), "no list of 3"),
            (json!({"other": 1}), "nothing at JSON pointer"),
            (
                json!({"ops": [["append", 1, 4], ["r", 1, []], ["r", 2, []]]}),
                "micro-op 0 of the response writes another value",
            ),
            (
                json!({"ops": [["append", 1, 3], ["r", 9, []], ["r", 2, []]]}),
                "micro-op 1 of the response names another function or key",
            ),
            (
                json!({"ops": [["append", 1, 3], ["r", 1, 7], ["r", 2, []]]}),
                "micro-op 1 of the response reads something other than a list",
            ),
        ];
        for (body, expected) in cases {
            let Completion::Info(why) = completed(&body, "/ops", &sent(), Shape::ListAppend) else {
                panic!("expected info for {body}")
            };
            assert!(why.contains(expected), "{why}");
        }
    }

    #[test]
    fn a_register_read_takes_a_scalar_or_null_and_refuses_a_list() {
        let sent = Value::from_json(&json!([["w", 1, 5], ["r", 1, null]]));
        let ok = json!([["w", 1, 5], ["r", 1, 5]]);
        assert!(matches!(
            completed(&ok, "", &sent, Shape::RwRegister),
            Completion::Ok(Some(_))
        ));
        let list = json!([["w", 1, 5], ["r", 1, [5]]]);
        assert!(matches!(
            completed(&list, "", &sent, Shape::RwRegister),
            Completion::Info(why) if why.contains("not a register's value")
        ));
    }
}
