//! A kv get's response: what Porcupine's kv model reads. A key's value is a string that
//! starts empty, so an absent key (a `missing` status, or `null` at the pointer) is a get of
//! `""`, recorded as such; a value that is not a string is no kv value, and the get is `info`.

use super::Completion;
use super::http::excerpt;
use crate::history::Value;
use crate::workload::Extract;

/// What an `ok` read of a key the target says is missing returns: a register's nil, a kv
/// get's empty string.
pub(super) fn missing_value(extract: &Extract) -> Value {
    match extract {
        Extract::Kv(_) => Value::from(""),
        _ => Value::Nil,
    }
}

/// A kv get's value: the string at `pointer`; `null` is the empty string.
pub(super) fn get_value(json: &serde_json::Value, pointer: &str) -> Completion {
    match json.pointer(pointer) {
        Some(serde_json::Value::String(s)) => Completion::Ok(Some(Value::from(s.as_str()))),
        Some(serde_json::Value::Null) => Completion::Ok(Some(Value::from(""))),
        Some(other) => Completion::Info(format!(
            "a kv get expects a string (or null for an absent key) at JSON pointer {pointer:?}, \
             found {}",
            excerpt(&other.to_string())
        )),
        None => Completion::Info(format!(
            "ok status but the body has nothing at JSON pointer {pointer:?}: {}",
            excerpt(&json.to_string())
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_get_reads_a_string_and_null_as_the_empty_string() {
        let body = json!({"value": "x 1 yx 2 y"});
        assert_eq!(
            get_value(&body, "/value"),
            Completion::Ok(Some(Value::from("x 1 yx 2 y")))
        );
        let absent = json!({"value": null});
        assert_eq!(
            get_value(&absent, "/value"),
            Completion::Ok(Some(Value::from("")))
        );
        let missing = missing_value(&Extract::Kv("/value".into()));
        assert_eq!(missing, Value::from(""));
        assert_eq!(missing_value(&Extract::Register("/v".into())), Value::Nil);
    }

    #[test]
    fn a_get_of_a_number_or_of_nothing_is_info_naming_the_pointer() {
        for body in [json!({"value": 3}), json!({"data": "x 1 y"})] {
            let Completion::Info(why) = get_value(&body, "/value") else {
                panic!("expected info for {body}")
            };
            assert!(why.contains("\"/value\""), "{why}");
        }
    }
}
