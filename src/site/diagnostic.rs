//! One finding about a site file, printed the way compilers print them
//! (`FILE:LINE:COLUMN: PATH: MESSAGE`) so editors and CI annotate the line.

use std::fmt;

use crate::site::source::Pos;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The site file as the user named it (or as found under `--sites`).
    pub file: String,
    pub pos: Pos,
    /// Field path such as `phones[3].mac`; empty for the whole file.
    pub path: String,
    pub message: String,
}

impl Diagnostic {
    pub fn error(file: &str, pos: Pos, path: &str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            file: file.to_owned(),
            pos,
            path: path.to_owned(),
            message: message.into(),
        }
    }

    pub fn warning(file: &str, pos: Pos, path: &str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(file, pos, path, message)
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The same finding as an error (`--strict`).
    pub fn into_error(self) -> Self {
        Self {
            severity: Severity::Error,
            ..self
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pos == Pos::NONE {
            write!(f, "{}: ", self.file)?;
        } else {
            write!(f, "{}:{}:{}: ", self.file, self.pos.line, self.pos.col)?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        f.write_str(&self.message)
    }
}
