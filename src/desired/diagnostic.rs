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
    /// What snippets draw: the text with long lines cut (see [`Clipped`]).
    named: NamedSource<String>,
    clipped: Clipped,
}

impl SourceFile {
    pub fn new(path: &Path, text: String) -> Arc<Self> {
        let clipped = Clipped::new(&text);
        Arc::new(SourceFile {
            path: path.to_path_buf(),
            named: NamedSource::new(path.display().to_string(), clipped.text.clone()),
            clipped,
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

/// Snippets draw whole lines; a 10 MB value on one line would be drawn
/// whole. Lines longer than twice this keep this many bytes and `…`.
const SHOWN_LINE_BYTES: usize = 120;

/// The text drawn in snippets, and how offsets of the file map into it.
struct Clipped {
    text: String,
    /// Per cut line: the file offset where the cut starts, the file offset
    /// where the line's content ends, and the drawn offset of the `…`.
    cuts: Vec<(usize, usize, usize)>,
}

impl Clipped {
    const MARK: &'static str = "…";

    fn new(text: &str) -> Self {
        let mut shown = String::with_capacity(text.len().min(1 << 20));
        let mut cuts = Vec::new();
        let mut start = 0;
        for line in text.split_inclusive('\n') {
            let content = line.strip_suffix('\n').unwrap_or(line);
            if content.len() > 2 * SHOWN_LINE_BYTES {
                let mut keep = SHOWN_LINE_BYTES;
                while !content.is_char_boundary(keep) {
                    keep -= 1;
                }
                shown.push_str(&content[..keep]);
                cuts.push((start + keep, start + content.len(), shown.len()));
                shown.push_str(Self::MARK);
                shown.push_str(&line[content.len()..]);
            } else {
                shown.push_str(line);
            }
            start += line.len();
        }
        Clipped { text: shown, cuts }
    }

    /// Where a file offset is drawn; an offset inside a cut falls on its `…`.
    fn offset(&self, at: usize) -> usize {
        let i = self.cuts.partition_point(|&(cut, _, _)| cut <= at);
        let Some(&(_, end, mark)) = i.checked_sub(1).map(|i| &self.cuts[i]) else {
            return at;
        };
        if at < end {
            mark
        } else {
            at - end + mark + Self::MARK.len()
        }
    }

    fn span(&self, span: &Range<usize>) -> Range<usize> {
        let start = self.offset(span.start);
        let end = self.offset(span.end).max(start);
        if end == start && span.end > span.start {
            start..start + Self::MARK.len()
        } else {
            start..end
        }
    }
}

impl fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SourceFile({})", self.path.display())
    }
}

/// The candidate closest to `key` (Jaro-Winkler similarity), when at
/// least `min_score` alike: the did-you-mean of unknown keys.
pub fn closest<'a>(key: &str, candidates: &[&'a str], min_score: f64) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(key, c), *c))
        .filter(|(score, _)| *score >= min_score)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
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
            LabeledSpan::new_with_span(Some(l.text.clone()), l.file.clipped.span(&l.span))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_in_snippets_and_spans_follow() {
        let long = "v".repeat(10_000);
        let text = format!("a = 1\nkey = \"{long}\"\nb = 2\n");
        let c = Clipped::new(&text);
        assert!(c.text.len() < 200, "{}", c.text);
        assert!(c.text.starts_with("a = 1\nkey = \"vvv"));
        assert!(c.text.ends_with("…\nb = 2\n"));
        // Before the cut: unchanged. Inside it: on the mark. After: shifted.
        assert_eq!(c.offset(3), 3);
        let key = text.find("key").unwrap();
        assert_eq!(c.offset(key), key);
        let mark = c.text.find('…').unwrap();
        assert_eq!(c.offset(key + 5_000), mark);
        let b = text.find("b = 2").unwrap();
        assert_eq!(&c.text[c.offset(b)..c.offset(b) + 5], "b = 2");
        // A span of the whole value (to the end of the line) takes in the mark.
        let value = key + 6..key + 6 + long.len() + 2;
        let shown = c.span(&value);
        assert_eq!(shown.start, value.start);
        assert_eq!(shown.end, mark + "…".len());
        // A span wholly inside the cut underlines the mark.
        assert_eq!(c.span(&(key + 500..key + 600)), mark..mark + "…".len());
    }

    #[test]
    fn short_lines_are_drawn_as_they_are() {
        let text = "x".repeat(2 * SHOWN_LINE_BYTES) + "\ny\n";
        let c = Clipped::new(&text);
        assert_eq!(c.text, text);
        assert_eq!(c.span(&(1..5)), 1..5);
    }
}
