//! Errors and warnings as users see them on standard error, through
//! miette: every failure is a `miette::Report`, and [`install`] makes this
//! module's handler the one that prints reports.
//!
//! A diagnostic that brings its own presentation (a code, labels into a
//! source file, related diagnostics: the deployment and properties files'
//! problems) is drawn by miette's graphical handler, snippet and help
//! included. Any other error is one `Error:` line with its message, then
//! one `caused by:` line per error of its `source()` chain that the lines
//! above do not already quote (most messages quote their cause), then its
//! help, if it has one. Nothing here adds text of its own to a message, so
//! what the errors redact (secrets) stays redacted.

use miette::{Diagnostic, MietteHandler, MietteHandlerOpts, ReportHandler};
use std::fmt;

/// Makes [`Handler`] print every report created from now on; `color`
/// false turns colours off in drawn diagnostics (NO_COLOR already does).
pub fn install(color: bool) {
    // Set once per process: a second call keeps the first handler.
    let _ = miette::set_hook(Box::new(move |_| Box::new(Handler::new(color))));
}

/// How reports are printed: see the module's documentation.
pub struct Handler {
    drawn: MietteHandler,
}

impl Handler {
    pub fn new(color: bool) -> Self {
        let opts = MietteHandlerOpts::new();
        let opts = if color { opts } else { opts.color(false) };
        Handler {
            drawn: opts.build(),
        }
    }
}

impl ReportHandler for Handler {
    fn debug(&self, error: &dyn Diagnostic, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            return fmt::Debug::fmt(error, f);
        }
        if is_drawn(error) {
            self.drawn.debug(error, f)
        } else {
            lines(error, f)
        }
    }
}

/// Whether miette's graphical handler draws it.
fn is_drawn(error: &dyn Diagnostic) -> bool {
    error.code().is_some()
        || error.labels().is_some()
        || error.source_code().is_some()
        || error.related().is_some()
}

/// `Error: message`, the causes not already said, the help.
fn lines(error: &dyn Diagnostic, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut said = error.to_string();
    write!(f, "Error: {said}")?;
    let mut cause = error.source();
    while let Some(e) = cause {
        let text = e.to_string();
        if !said.contains(&text) {
            write!(f, "\n  caused by: {text}")?;
            said.push('\n');
            said.push_str(&text);
        }
        cause = e.source();
    }
    if let Some(help) = error.help() {
        write!(f, "\n  help: {help}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the handler prints for `report`.
    fn shown(error: &dyn Diagnostic) -> String {
        struct Shown<'a>(&'a dyn Diagnostic);
        impl fmt::Display for Shown<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                Handler::new(false).debug(self.0, f)
            }
        }
        Shown(error).to_string()
    }

    #[derive(Debug, thiserror::Error)]
    #[error("cannot open the door: {source}")]
    struct Quoting {
        source: std::io::Error,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("cannot leave the house")]
    struct Silent {
        #[source]
        inner: Quoting,
    }

    #[derive(Debug, thiserror::Error, Diagnostic)]
    #[error("the key is missing")]
    #[diagnostic(help("look under the mat"))]
    struct WithHelp;

    fn locked() -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::PermissionDenied, "it is locked")
    }

    #[test]
    fn a_message_is_one_error_line() {
        let report = miette::Report::msg("no state at x.json");
        assert_eq!(shown(report.as_ref()), "Error: no state at x.json");
    }

    #[test]
    fn causes_follow_unless_the_message_quotes_them() {
        let quoting = miette::Report::from_err(Quoting { source: locked() });
        assert_eq!(
            shown(quoting.as_ref()),
            "Error: cannot open the door: it is locked"
        );
        let silent = miette::Report::from_err(Silent {
            inner: Quoting { source: locked() },
        });
        assert_eq!(
            shown(silent.as_ref()),
            "Error: cannot leave the house\n  caused by: cannot open the door: it is locked"
        );
    }

    #[test]
    fn help_is_kept() {
        assert_eq!(
            shown(&WithHelp),
            "Error: the key is missing\n  help: look under the mat"
        );
    }

    #[test]
    fn diagnostics_of_the_deployment_are_drawn_with_their_code() {
        let problem = crate::desired::diagnostic::Problem::error("desired::test", "bad value")
            .with_help("write a good one");
        let drawn = shown(&crate::desired::DesiredError::from(problem));
        assert!(drawn.starts_with("desired::test\n"), "{drawn}");
        assert!(drawn.contains("× bad value"), "{drawn}");
        assert!(drawn.contains("help: write a good one"), "{drawn}");
    }
}
