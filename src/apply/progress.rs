//! Progress display: a bar on a terminal, plain lines otherwise (CI logs).

use super::engine::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// Plain lines on standard error.
pub struct Lines;

impl Progress for Lines {
    fn line(&mut self, line: &str) {
        eprintln!("{line}");
    }
}

/// A bar of finished steps, with each event printed above it.
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    pub fn new() -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} steps {elapsed}")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Bar { bar }
    }
}

impl Default for Bar {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for Bar {
    fn line(&mut self, line: &str) {
        self.bar.println(line);
    }

    fn advance(&mut self, done: usize, total: usize) {
        self.bar.set_length(total as u64);
        self.bar.set_position(done as u64);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// The display that fits standard error.
pub fn for_stderr() -> Box<dyn Progress> {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        Box::new(Bar::new())
    } else {
        Box::new(Lines)
    }
}
