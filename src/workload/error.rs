//! What can be wrong with a workload: the file cannot be read, it is not valid TOML or not
//! the format, a field fails a check, or (at run time) a header names an environment variable
//! that is not set. The CLI maps all of them to exit code 3 (bad input).

use std::fmt;
use std::path::PathBuf;

/// A workload that cannot be run. Every message names the file and, where one is to blame,
/// the field (`model.ops.add.timeout`), its line and column, what was found and what was
/// expected. No message ever carries the value of an environment variable.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    #[error("failed to read workload file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A TOML syntax error, a wrong type, an unknown or missing field, or a failed check.
    #[error("{}", Located { path, line: *line, column: *column, field, message })]
    Invalid {
        path: PathBuf,
        /// Line from 1, where the offending text is known.
        line: Option<usize>,
        /// Column from 1 (in characters), where the offending text is known.
        column: Option<usize>,
        /// Dotted path of the field (`model.ops.add.timeout`); empty for a syntax error.
        field: String,
        message: String,
    },
    /// A header refers to `${VAR}` and `VAR` is not set in the environment.
    #[error(
        "failed to resolve header {header}: environment variable {var} is not set \
         (the workload refers to it as ${{{var}}})"
    )]
    MissingEnv { header: String, var: String },
}

/// `path:line:column: field F: message`, leaving out what is not known.
struct Located<'a> {
    path: &'a PathBuf,
    line: Option<usize>,
    column: Option<usize>,
    field: &'a str,
    message: &'a str,
}

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if !self.field.is_empty() {
            write!(f, ": field {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}
