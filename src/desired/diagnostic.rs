//! Located diagnostics for the deployment file and the properties file.
//!
//! A [`Problem`] has a message, a help line with the fix, and labels that
//! point into source files. miette draws one source file per diagnostic, so
//! labels in a second file (a setting given in both the TOML file and the
//! properties file) become a related diagnostic; the message names both
//! places as `file:line` as well, for plain-text readers.
//!
//! Secret values never reach a diagnostic: messages never quote them and the
//! source text kept here has secret property values masked.

use miette::{Diagnostic, LabeledSpan, NamedSource, Severity, SourceCode};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file as shown in diagnostics (secret values masked with `*`).
pub struct SourceFile {
    path: PathBuf,
    text: String,
    named: NamedSource<String>,
}

impl SourceFile {
    pub fn new(path: &Path, text: String) -> Arc<Self> {
        Arc::new(SourceFile {
            path: path.to_path_buf(),
            named: NamedSource::new(path.display().to_string(), text.clone()),
            text,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The text as shown (secrets masked).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    /// `path:line` of a byte offset, for messages.
    pub fn at(&self, offset: usize) -> String {
        format!("{}:{}", self.path.display(), self.line_col(offset).0)
    }
}

impl fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SourceFile({})", self.path.display())
    }
}

/// A span of a source file with a short note.
#[derive(Debug, Clone)]
pub struct Label {
    pub file: Arc<SourceFile>,
    pub span: Range<usize>,
    pub text: String,
}

/// Where a label points, for tests and plain-text output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub text: String,
}

/// One error or warning about the deployment.
#[derive(Debug, Clone)]
pub struct Problem {
    severity: Severity,
    code: &'static str,
    message: String,
    help: Option<String>,
    labels: Vec<Label>,
    /// Labels in other files than the first label's, as related diagnostics.
    elsewhere: Vec<Problem>,
}

impl Problem {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Error,
            code,
            message: message.into(),
            help: None,
            labels: Vec::new(),
            elsewhere: Vec::new(),
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(code, message)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_label(
        mut self,
        file: &Arc<SourceFile>,
        span: Range<usize>,
        text: impl Into<String>,
    ) -> Self {
        let label = Label {
            file: file.clone(),
            span,
            text: text.into(),
        };
        let same_file = |l: &Label| Arc::ptr_eq(&l.file, file);
        if self.labels.first().is_none_or(same_file) {
            self.labels.push(label);
        } else if let Some(other) = self
            .elsewhere
            .iter_mut()
            .find(|p| p.labels.first().is_some_and(same_file))
        {
            other.labels.push(label);
        } else {
            let mut other = Problem::error(self.code, format!("see also {}", file.path.display()));
            other.severity = Severity::Advice;
            other.labels.push(label);
            self.elsewhere.push(other);
        }
        self
    }

    pub fn with_located(self, at: Option<&Label>) -> Self {
        match at {
            Some(l) => {
                let (file, span, text) = (l.file.clone(), l.span.clone(), l.text.clone());
                self.with_label(&file, span, text)
            }
            None => self,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn help_text(&self) -> Option<&str> {
        self.help.as_deref()
    }

    pub fn code_name(&self) -> &'static str {
        self.code
    }

    /// Every label, in this file and in others, as file/line/column.
    pub fn locations(&self) -> Vec<Location> {
        self.labels
            .iter()
            .chain(self.elsewhere.iter().flat_map(|p| p.labels.iter()))
            .map(|l| {
                let (line, column) = l.file.line_col(l.span.start);
                Location {
                    path: l.file.path.clone(),
                    line,
                    column,
                    text: l.text.clone(),
                }
            })
            .collect()
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.labels
            .first()
            .map(|l| &l.file.named as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().map(|l| {
            LabeledSpan::new_with_span(Some(l.text.clone()), l.span.clone())
        })))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.elsewhere.is_empty() {
            return None;
        }
        Some(Box::new(
            self.elsewhere.iter().map(|p| p as &dyn Diagnostic),
        ))
    }
}

/// Why a deployment did not load: one or more problems, all errors.
#[derive(Debug, Clone)]
pub struct DesiredError {
    problems: Vec<Problem>,
}

impl DesiredError {
    /// Panics on an empty list: there is no error without a problem.
    pub fn new(problems: Vec<Problem>) -> Self {
        assert!(!problems.is_empty(), "a DesiredError needs a problem");
        DesiredError { problems }
    }

    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    fn single(&self) -> Option<&Problem> {
        match self.problems.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

impl From<Problem> for DesiredError {
    fn from(p: Problem) -> Self {
        DesiredError::new(vec![p])
    }
}

impl fmt::Display for DesiredError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.single() {
            Some(p) => fmt::Display::fmt(p, f),
            None => write!(f, "the deployment has {} problems", self.problems.len()),
        }
    }
}

impl std::error::Error for DesiredError {}

impl Diagnostic for DesiredError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        match self.single() {
            Some(p) => p.code(),
            None => Some(Box::new("desired::invalid")),
        }
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.single().and_then(|p| p.help())
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.single().and_then(|p| p.source_code())
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.single().and_then(|p| p.labels())
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        match self.single() {
            Some(p) => p.related(),
            None => Some(Box::new(self.problems.iter().map(|p| p as &dyn Diagnostic))),
        }
    }
}
