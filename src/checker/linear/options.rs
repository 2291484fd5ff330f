//! A linearizability model's options as a person names them: on the command line
//! (`--semantics`, `--init`, `--time-limit`, `--memo-limit`) and in a history header's
//! `model_options` (`semantics`, `init`, `time_limit`, `memo_limit`), so that re-checking a
//! saved run judges it as the run did.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde_json::{Map, Value as Json};

use super::model::RegValue;
use super::{Bounds, LinearModel, Semantics};

/// The options given, each `None` when not given (the model's own then holds).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinearOptions {
    /// `porcupine` ([`Semantics::PorcupineEtcd`]) or `knossos` ([`Semantics::Knossos`]).
    pub semantics: Option<SemanticsName>,
    /// The register's initial value under Knossos' semantics; `Some(None)` is nil.
    pub init: Option<RegValue>,
    /// [`Bounds::time_per_key`].
    pub time_limit: Option<TimeLimit>,
    /// [`Bounds::memo_per_key`].
    pub memo_limit: Option<usize>,
}

/// The names of the register [`Semantics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SemanticsName {
    Porcupine,
    Knossos,
}

impl SemanticsName {
    pub fn as_str(self) -> &'static str {
        match self {
            SemanticsName::Porcupine => "porcupine",
            SemanticsName::Knossos => "knossos",
        }
    }
}

impl FromStr for SemanticsName {
    type Err = String;
    fn from_str(s: &str) -> Result<SemanticsName, String> {
        match s {
            "porcupine" => Ok(SemanticsName::Porcupine),
            "knossos" => Ok(SemanticsName::Knossos),
            _ => Err("expected porcupine or knossos".to_owned()),
        }
    }
}

/// A time bound per key, or none (`none`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeLimit(pub Option<Duration>);

impl FromStr for TimeLimit {
    type Err = String;
    fn from_str(s: &str) -> Result<TimeLimit, String> {
        if s == "none" {
            return Ok(TimeLimit(None));
        }
        match humantime::parse_duration(s) {
            Ok(d) if !d.is_zero() => Ok(TimeLimit(Some(d))),
            Ok(_) => Err("expected a duration above zero (or none, for no limit)".to_owned()),
            Err(e) => Err(format!(
                "expected a duration such as 10s or 2m (or none): {e}"
            )),
        }
    }
}

impl fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(d) => write!(f, "{}", humantime::format_duration(d)),
            None => f.write_str("none"),
        }
    }
}

/// A register value as written on the command line: `nil` or an integer.
pub fn parse_init(s: &str) -> Result<RegValue, String> {
    match s {
        "nil" => Ok(None),
        _ => s
            .parse()
            .map(Some)
            .map_err(|_| format!("expected nil or an integer, found {s:?}")),
    }
}

/// Options that do not fit the model, or a header field that is not what it should be.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error(
        "--semantics and --init apply to register and cas-register (and --init, with knossos \
         semantics, to multi-register); {model} has one semantics: {what}"
    )]
    NoSemantics {
        model: &'static str,
        what: &'static str,
    },
    #[error(
        "--init {init} needs --semantics knossos: under porcupine semantics the register \
         starts nil (the key is missing)"
    )]
    InitWithPorcupine { init: i64 },
    #[error(
        "--semantics, --init, --time-limit and --memo-limit apply to the linearizability models \
         (register, cas-register, kv, mutex, multi-register), not to {model}"
    )]
    NotLinear { model: String },
    #[error(
        "failed to read the history header's model_options.{field}: expected {expected}, found {found}"
    )]
    Header {
        field: &'static str,
        expected: String,
        found: Json,
    },
}

impl LinearOptions {
    /// Whether no option was given.
    pub fn is_empty(&self) -> bool {
        *self == LinearOptions::default()
    }

    /// These options, with `fallback`'s where these give none. An init goes with its
    /// semantics: when these name semantics, `fallback`'s init is not taken.
    pub fn or(self, fallback: LinearOptions) -> LinearOptions {
        let init = match (self.semantics, self.init) {
            (None, None) => fallback.init,
            (_, init) => init,
        };
        LinearOptions {
            semantics: self.semantics.or(fallback.semantics),
            init,
            time_limit: self.time_limit.or(fallback.time_limit),
            memo_limit: self.memo_limit.or(fallback.memo_limit),
        }
    }

    /// Every option of `model` and `bounds`, as a header records them.
    pub fn of(model: LinearModel, bounds: Bounds) -> LinearOptions {
        let (semantics, init) = match semantics_of(model) {
            Some(Semantics::PorcupineEtcd) => (Some(SemanticsName::Porcupine), None),
            Some(Semantics::Knossos { init }) => (Some(SemanticsName::Knossos), Some(init)),
            None => (None, None),
        };
        LinearOptions {
            semantics,
            init,
            time_limit: Some(TimeLimit(bounds.time_per_key)),
            memo_limit: Some(bounds.memo_per_key),
        }
    }

    /// `model` and `bounds` with these options applied.
    pub fn apply(
        &self,
        model: LinearModel,
        bounds: Bounds,
    ) -> Result<(LinearModel, Bounds), OptionsError> {
        let model = match semantics_of(model) {
            None if self.semantics.is_some() || self.init.is_some() => {
                return Err(no_semantics(model));
            }
            None => model,
            Some(current) => match (model, self.resolve(current)?) {
                (LinearModel::MultiRegister { .. }, Semantics::PorcupineEtcd) => {
                    return Err(no_semantics(model));
                }
                (model, semantics) => with_semantics(model, semantics),
            },
        };
        let mut bounds = bounds;
        if let Some(TimeLimit(time)) = self.time_limit {
            bounds.time_per_key = time;
        }
        if let Some(memo) = self.memo_limit {
            bounds.memo_per_key = memo;
        }
        Ok((model, bounds))
    }

    /// The semantics these options ask for, from the model's `current` ones.
    fn resolve(&self, current: Semantics) -> Result<Semantics, OptionsError> {
        let name = self.semantics.unwrap_or(match current {
            Semantics::PorcupineEtcd => SemanticsName::Porcupine,
            Semantics::Knossos { .. } => SemanticsName::Knossos,
        });
        match (name, self.init) {
            (SemanticsName::Porcupine, Some(Some(init))) => {
                Err(OptionsError::InitWithPorcupine { init })
            }
            (SemanticsName::Porcupine, _) => Ok(Semantics::PorcupineEtcd),
            (SemanticsName::Knossos, Some(init)) => Ok(Semantics::Knossos { init }),
            (SemanticsName::Knossos, None) => Ok(Semantics::Knossos {
                init: match current {
                    Semantics::Knossos { init } => init,
                    Semantics::PorcupineEtcd => None,
                },
            }),
        }
    }

    /// The options as a header's `model_options` entries.
    pub fn to_json(&self) -> Map<String, Json> {
        let mut map = Map::new();
        if let Some(semantics) = self.semantics {
            map.insert("semantics".into(), semantics.as_str().into());
        }
        if let Some(init) = self.init {
            map.insert("init".into(), init.map_or(Json::Null, Json::from));
        }
        if let Some(time) = self.time_limit {
            map.insert("time_limit".into(), time.to_string().into());
        }
        if let Some(memo) = self.memo_limit {
            map.insert("memo_limit".into(), memo.into());
        }
        map
    }

    /// The options a header's `model_options` gives (other entries are not these options').
    pub fn from_json(map: &Map<String, Json>) -> Result<LinearOptions, OptionsError> {
        let bad = |field: &'static str, expected: &str, found: &Json| OptionsError::Header {
            field,
            expected: expected.to_owned(),
            found: found.clone(),
        };
        let mut options = LinearOptions::default();
        if let Some(v) = map.get("semantics") {
            let name = v.as_str().and_then(|s| s.parse::<SemanticsName>().ok());
            options.semantics =
                Some(name.ok_or_else(|| bad("semantics", "porcupine or knossos", v))?);
        }
        if let Some(v) = map.get("init") {
            let init = match v {
                Json::Null => Some(None),
                v => v.as_i64().map(Some),
            };
            options.init = Some(init.ok_or_else(|| bad("init", "null or an integer", v))?);
        }
        if let Some(v) = map.get("time_limit") {
            let time = v.as_str().and_then(|s| s.parse::<TimeLimit>().ok());
            let expected = "a duration such as \"10s\", or \"none\"";
            options.time_limit = Some(time.ok_or_else(|| bad("time_limit", expected, v))?);
        }
        if let Some(v) = map.get("memo_limit") {
            let memo = v.as_u64().and_then(|m| usize::try_from(m).ok());
            let expected = "a non-negative integer";
            options.memo_limit = Some(memo.ok_or_else(|| bad("memo_limit", expected, v))?);
        }
        Ok(options)
    }
}

/// The register semantics of `model`, if it has any (a multi-register's are Knossos').
fn semantics_of(model: LinearModel) -> Option<Semantics> {
    match model {
        LinearModel::Register(s) | LinearModel::CasRegister(s) => Some(s),
        LinearModel::MultiRegister { init } => Some(Semantics::Knossos { init }),
        LinearModel::Kv | LinearModel::Mutex => None,
    }
}

fn with_semantics(model: LinearModel, semantics: Semantics) -> LinearModel {
    match model {
        LinearModel::Register(_) => LinearModel::Register(semantics),
        LinearModel::CasRegister(_) => LinearModel::CasRegister(semantics),
        LinearModel::MultiRegister { .. } => LinearModel::MultiRegister {
            init: semantics.init(),
        },
        LinearModel::Kv | LinearModel::Mutex => model,
    }
}

fn no_semantics(model: LinearModel) -> OptionsError {
    let what = match model {
        LinearModel::Mutex => "Knossos' mutex: free at the start, failed ops did not happen",
        LinearModel::MultiRegister { .. } => {
            "Knossos' (failed ops did not happen, nil reads constrain nothing; --init sets every key's start)"
        }
        _ => "Porcupine's kv model: each key a string starting empty",
    };
    OptionsError::NoSemantics {
        model: model.name(),
        what,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAS: LinearModel = LinearModel::CasRegister(Semantics::PorcupineEtcd);

    #[test]
    fn knossos_semantics_start_nil_unless_init_is_given() {
        let knossos = LinearOptions {
            semantics: Some(SemanticsName::Knossos),
            ..Default::default()
        };
        let (model, _) = knossos.apply(CAS, Bounds::default()).unwrap();
        assert_eq!(
            model,
            LinearModel::CasRegister(Semantics::Knossos { init: None })
        );
        let init = LinearOptions {
            init: Some(Some(0)),
            ..knossos
        };
        let (model, _) = init.apply(CAS, Bounds::default()).unwrap();
        assert_eq!(
            model,
            LinearModel::CasRegister(Semantics::Knossos { init: Some(0) })
        );
    }

    #[test]
    fn an_init_without_knossos_semantics_is_refused() {
        let options = LinearOptions {
            init: Some(Some(0)),
            ..Default::default()
        };
        let err = options.apply(CAS, Bounds::default()).unwrap_err();
        assert_eq!(err, OptionsError::InitWithPorcupine { init: 0 });
        assert!(err.to_string().contains("--semantics knossos"), "{err}");
    }

    #[test]
    fn kv_refuses_semantics_but_takes_bounds() {
        let semantics = LinearOptions {
            semantics: Some(SemanticsName::Knossos),
            ..Default::default()
        };
        let err = semantics.apply(LinearModel::Kv, Bounds::default());
        assert!(matches!(
            err,
            Err(OptionsError::NoSemantics { model: "kv", .. })
        ));
        let bounds = LinearOptions {
            time_limit: Some("10s".parse().unwrap()),
            memo_limit: Some(5),
            ..Default::default()
        };
        let (_, applied) = bounds.apply(LinearModel::Kv, Bounds::default()).unwrap();
        assert_eq!(applied.time_per_key, Some(Duration::from_secs(10)));
        assert_eq!(applied.memo_per_key, 5);
    }

    #[test]
    fn options_round_trip_through_a_header() {
        let model = LinearModel::Register(Semantics::Knossos { init: Some(0) });
        let bounds = Bounds {
            time_per_key: None,
            ..Bounds::default()
        };
        let options = LinearOptions::of(model, bounds);
        let json = options.to_json();
        assert_eq!(json["semantics"], "knossos");
        assert_eq!(json["time_limit"], "none");
        let back = LinearOptions::from_json(&json).unwrap();
        assert_eq!(back, options);
        let defaults = LinearModel::Register(Semantics::PorcupineEtcd);
        assert_eq!(back.apply(defaults, Bounds::default()), Ok((model, bounds)));
    }

    #[test]
    fn a_header_field_of_the_wrong_type_is_named() {
        let json = serde_json::json!({"time_limit": 10});
        let err = LinearOptions::from_json(json.as_object().unwrap()).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("model_options.time_limit"), "{message}");
    }

    #[test]
    fn the_command_lines_semantics_drop_the_headers_init() {
        let cli = LinearOptions {
            semantics: Some(SemanticsName::Porcupine),
            ..Default::default()
        };
        let header = LinearOptions {
            semantics: Some(SemanticsName::Knossos),
            init: Some(Some(0)),
            memo_limit: Some(7),
            ..Default::default()
        };
        let merged = cli.or(header);
        assert_eq!(merged.init, None);
        assert_eq!(merged.memo_limit, Some(7));
        assert!(merged.apply(CAS, Bounds::default()).is_ok());
    }

    #[test]
    fn time_limits_parse_as_durations_or_none() {
        assert_eq!("none".parse(), Ok(TimeLimit(None)));
        assert_eq!(
            "1m 30s".parse(),
            Ok(TimeLimit(Some(Duration::from_secs(90))))
        );
        assert!("0s".parse::<TimeLimit>().is_err());
        assert!("soon".parse::<TimeLimit>().is_err());
        assert_eq!(parse_init("nil"), Ok(None));
        assert_eq!(parse_init("-3"), Ok(Some(-3)));
        assert!(parse_init("zero").is_err());
    }
}
