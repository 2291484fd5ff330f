//! `${VAR}` references in header values: their syntax (checked when a plan is built) and
//! their resolution from the environment (only when a run starts), so a secret never passes
//! through a workload file, a Plan or the history.

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
        let mut out = String::with_capacity(self.value.len());
        for piece in pieces {
            match piece {
                EnvPiece::Literal(text) => out.push_str(text),
                EnvPiece::Var(var) => match env(var) {
                    Some(value) => out.push_str(&value),
                    None => {
                        return Err(WorkloadError::MissingEnv {
                            header: self.name.clone(),
                            var: var.to_owned(),
                        });
                    }
                },
            }
        }
        Ok(out)
    }

    /// The environment variables the value refers to (none if it is malformed).
    pub fn env_vars(&self) -> Vec<&str> {
        parse_env_refs(&self.value)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|piece| match piece {
                EnvPiece::Var(var) => Some(var),
                EnvPiece::Literal(_) => None,
            })
            .collect()
    }
}

/// A piece of a header value: literal text or a `${VAR}` reference.
pub(super) enum EnvPiece<'a> {
    Literal(&'a str),
    Var(&'a str),
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
        let var = &after[..close];
        let mut chars = var.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_uppercase() || c == '_');
        if !first_ok || !chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
            return Err(format!(
                "expected an environment variable name like ${{STAGING_TOKEN}} \
                 (A-Z, 0-9 and '_', not starting with a digit), found ${{{var}}}"
            ));
        }
        pieces.push(EnvPiece::Var(var));
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
                EnvPiece::Var(v) => Some(*v),
                EnvPiece::Literal(_) => None,
            })
            .collect();
        assert_eq!(vars, ["X_1", "Y"]);
        assert!(parse_env_refs("${1X}").is_err());
        assert!(parse_env_refs("${}").is_err());
    }
}
