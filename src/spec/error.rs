//! Errors in `environment.yml`, located by file, line and column.

use std::fmt;

/// A range of 1-based lines in the spec file, inclusive at both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceRange {
    pub start_line: u32,
    pub end_line: u32,
}

impl SourceRange {
    pub fn line(line: u32) -> Self {
        Self {
            start_line: line,
            end_line: line,
        }
    }
}

/// An invalid spec: what was expected, where, and one line of help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub file: String,
    /// 1-based line; 0 when the problem is not tied to a line.
    pub line: u32,
    /// 1-based column; 0 when unknown.
    pub column: u32,
    pub message: String,
    pub help: Option<String>,
}

impl SpecError {
    pub fn new(file: &str, line: u32, column: u32, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line,
            column,
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Returns the lines of the file to show beside the message.
    pub fn range(&self) -> Option<SourceRange> {
        (self.line > 0).then(|| SourceRange::line(self.line))
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, "{}: {}", self.file, self.message)?,
            (line, 0) => write!(f, "{}:{line}: {}", self.file, self.message)?,
            (line, column) => write!(f, "{}:{line}:{column}: {}", self.file, self.message)?,
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecError {}

/// Something in the spec that builds but is likely a mistake, found by a lint rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecWarning {
    /// Name of the rule, as the lint output and the documentation spell it.
    pub rule: &'static str,
    pub message: String,
    pub range: SourceRange,
    pub help: Option<String>,
}
