//! `${VAR}` references in header values and deployed containers' environment: their syntax
//! (checked when a plan is built) and their resolution from the environment (only when a run
//! starts), so a secret never passes through a workload file, a Plan or the history.
//! `${VAR:-default}` stands for `default` when `VAR` is not set.

use std::path::PathBuf;

use super::error::WorkloadError;
use super::plan::HeaderSpec;

impl HeaderSpec {
    /// The header's value with every `${VAR}` replaced by the variable's value from `env`.
    /// A variable that is not set is [`WorkloadError::MissingEnv`], naming the header and the
    /// variable, never a value.
    pub fn resolve(&self, env: impl Fn(&str) -> Option<String>) -> Result<String, WorkloadError> {
        // Checked when the plan was built; a hand-made HeaderSpec may still be malformed.
        let pieces = parse_env_refs(&self.value).map_err(|message| WorkloadError::Invalid {
            path: PathBuf::new(),
            line: None,
            column: None,
            field: format!("target.headers.{}", self.name),
            message,
        })?;
        fill(&pieces, &env).map_err(|var| WorkloadError::MissingEnv {
            header: self.name.clone(),
            var,
        })
    }

    /// The environment variables the value refers to (none if it is malformed).
    pub fn env_vars(&self) -> Vec<&str> {
        parse_env_refs(&self.value)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|piece| match piece {
                EnvPiece::Var { name, .. } => Some(name),
                EnvPiece::Literal(_) => None,
            })
            .collect()
    }
}

/// `text` with every `${VAR}` replaced by its value from `env` (or its `:-default`); the
/// name of the first variable that is not set and has no default otherwise. `text` must have
/// passed [`parse_env_refs`] (a malformed one is taken literally).
pub fn resolve_env_refs(
    text: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    match parse_env_refs(text) {
        Ok(pieces) => fill(&pieces, &env),
        Err(_) => Ok(text.to_owned()),
    }
}

fn fill(pieces: &[EnvPiece<'_>], env: &impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            EnvPiece::Literal(text) => out.push_str(text),
            EnvPiece::Var { name, default } => match (env(name), default) {
                (Some(value), _) => out.push_str(&value),
                (None, Some(default)) => out.push_str(default),
                (None, None) => return Err((*name).to_owned()),
            },
        }
    }
    Ok(out)
}

/// A piece of a header value: literal text or a `${VAR}` reference (`${VAR:-default}`).
pub(super) enum EnvPiece<'a> {
    Literal(&'a str),
    Var {
        name: &'a str,
        default: Option<&'a str>,
    },
}

/// Splits a header value into literal text and `${VAR}` references; a `$` not followed by
/// `{` is literal. A malformed reference is an error message.
pub(super) fn parse_env_refs(value: &str) -> Result<Vec<EnvPiece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find("${") {
        if open > 0 {
            pieces.push(EnvPiece::Literal(&rest[..open]));
        }
        let after = &rest[open + 2..];
        let close = after
            .find('}')
            .ok_or_else(|| "unclosed \"${\": expected ${NAME} with a closing brace".to_owned())?;
        let (var, default) = match after[..close].split_once(":-") {
            Some((var, default)) => (var, Some(default)),
            None => (&after[..close], None),
        };
        let mut chars = var.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_uppercase() || c == '_');
        if !first_ok || !chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
            return Err(format!(
                "expected an environment variable name like ${{STAGING_TOKEN}} \
                 or ${{NAME:-default}} (A-Z, 0-9 and '_', not starting with a digit), found \
                 ${{{}}}",
                &after[..close]
            ));
        }
        pieces.push(EnvPiece::Var { name: var, default });
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        pieces.push(EnvPiece::Literal(rest));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_references_split_from_literal_text() {
        let pieces = parse_env_refs("a ${X_1} $b ${Y}").unwrap();
        let vars: Vec<&str> = pieces
            .iter()
            .filter_map(|p| match p {
                EnvPiece::Var { name, .. } => Some(*name),
                EnvPiece::Literal(_) => None,
            })
            .collect();
        assert_eq!(vars, ["X_1", "Y"]);
        assert!(parse_env_refs("${1X}").is_err());
        assert!(parse_env_refs("${}").is_err());
    }

    #[test]
    fn a_default_stands_in_for_an_unset_variable_only() {
        let env = |var: &str| (var == "SET").then(|| "x".to_owned());
        assert_eq!(resolve_env_refs("a${SET:-d}b", env).unwrap(), "axb");
        assert_eq!(resolve_env_refs("a${UNSET:-d}b", env).unwrap(), "adb");
        assert_eq!(resolve_env_refs("${UNSET:-}", env).unwrap(), "");
        assert_eq!(resolve_env_refs("${UNSET}", env).unwrap_err(), "UNSET");
        assert!(parse_env_refs("${:-x}").is_err());
    }
}
