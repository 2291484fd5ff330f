//! A transactional model's options as a person names them: on the command line
//! (`--consistency-models`, `--time-limit`) and in a history header's `model_options`
//! (`consistency_models`, `time_limit`), so that re-checking a saved run judges it as the run
//! did.

use serde_json::{Map, Value as Json};

use super::Options;
use super::consistency::{ALIASES, MODELS, is_model};
use crate::checker::linear::{OptionsError, TimeLimit};

/// The options given, each `None` when not given (the model's own then holds).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ElleOptions {
    /// [`Options::models`].
    pub models: Option<Vec<String>>,
    /// [`Options::time_per_component`].
    pub time_limit: Option<TimeLimit>,
}

/// The models a person may name, for an error message.
fn known_models() -> String {
    let names: Vec<&str> = MODELS.iter().map(|&(m, _)| m).collect();
    let aliases: Vec<&str> = ALIASES.iter().map(|&(a, _)| a).collect();
    format!(
        "{} (or Elle's other names for them: {})",
        names.join(", "),
        aliases.join(", ")
    )
}

/// `read-committed,snapshot-isolation`: consistency model names, each one Elle knows.
pub fn parse_models(s: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = s
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Err(format!("expected one or more of {}", known_models()));
    }
    match names.iter().find(|n| !is_model(n)) {
        Some(unknown) => Err(format!(
            "unknown consistency model {unknown:?}: expected one or more of {}",
            known_models()
        )),
        None => Ok(names),
    }
}

impl ElleOptions {
    /// Whether no option was given.
    pub fn is_empty(&self) -> bool {
        *self == ElleOptions::default()
    }

    /// These options, with `fallback`'s where these give none.
    pub fn or(self, fallback: ElleOptions) -> ElleOptions {
        ElleOptions {
            models: self.models.or(fallback.models),
            time_limit: self.time_limit.or(fallback.time_limit),
        }
    }

    /// `options` in full, as a run records them.
    pub fn of(options: &Options) -> ElleOptions {
        ElleOptions {
            models: Some(options.models.clone()),
            time_limit: Some(TimeLimit(options.time_per_component)),
        }
    }

    /// `options` with these applied.
    pub fn apply(&self, mut options: Options) -> Options {
        if let Some(models) = &self.models {
            options.models = models.clone();
        }
        if let Some(TimeLimit(limit)) = self.time_limit {
            options.time_per_component = limit;
        }
        options
    }

    /// The options as a header's `model_options` entries.
    pub fn to_json(&self) -> Map<String, Json> {
        let mut map = Map::new();
        if let Some(models) = &self.models {
            map.insert("consistency_models".into(), Json::from(models.clone()));
        }
        if let Some(time) = self.time_limit {
            map.insert("time_limit".into(), time.to_string().into());
        }
        map
    }

    /// The options a header's `model_options` gives (other entries are not these options').
    pub fn from_json(map: &Map<String, Json>) -> Result<ElleOptions, OptionsError> {
        let bad = |field: &'static str, expected: String, found: &Json| OptionsError::Header {
            field,
            expected,
            found: found.clone(),
        };
        let mut options = ElleOptions::default();
        if let Some(v) = map.get("consistency_models") {
            let names = v.as_array().map(|names| {
                names
                    .iter()
                    .map(|n| n.as_str().filter(|n| is_model(n)).map(str::to_owned))
                    .collect::<Option<Vec<String>>>()
            });
            let expected = format!("a list of {}", known_models());
            options.models = Some(
                names
                    .flatten()
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| bad("consistency_models", expected, v))?,
            );
        }
        if let Some(v) = map.get("time_limit") {
            let limit = v.as_str().and_then(|s| s.parse::<TimeLimit>().ok());
            let expected = "a duration such as 10s, or none".to_owned();
            options.time_limit = Some(limit.ok_or_else(|| bad("time_limit", expected, v))?);
        }
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::checker::elle::txn::Shape;

    #[test]
    fn models_are_checked_by_name() {
        assert_eq!(
            parse_models("read-committed, serializable").unwrap(),
            ["read-committed", "serializable"]
        );
        let error = parse_models("serialisable").unwrap_err();
        assert!(error.contains("\"serialisable\""), "{error}");
        assert!(error.contains("strict-serializable"), "{error}");
        assert!(parse_models(" , ").is_err());
    }

    #[test]
    fn options_round_trip_through_a_header() {
        let mut options = Options::new(Shape::RwRegister);
        options.models = vec!["snapshot-isolation".into()];
        options.time_per_component = Some(Duration::from_secs(3));
        let json = ElleOptions::of(&options).to_json();
        let read = ElleOptions::from_json(&json).unwrap();
        assert_eq!(read.apply(Options::new(Shape::RwRegister)), options);
    }

    #[test]
    fn a_bad_header_field_is_named() {
        let mut map = Map::new();
        map.insert("consistency_models".into(), Json::from(vec!["acid"]));
        let message = ElleOptions::from_json(&map).unwrap_err().to_string();
        assert!(
            message.contains("model_options.consistency_models"),
            "{message}"
        );
        assert!(message.contains("\"acid\""), "{message}");
    }

    #[test]
    fn the_command_line_wins_over_the_header() {
        let given = ElleOptions {
            models: Some(vec!["serializable".into()]),
            time_limit: None,
        };
        let recorded = ElleOptions {
            models: Some(vec!["read-committed".into()]),
            time_limit: Some(TimeLimit(None)),
        };
        let merged = given.or(recorded);
        assert_eq!(merged.models.unwrap(), ["serializable"]);
        assert_eq!(merged.time_limit, Some(TimeLimit(None)));
    }
}
