//! Exit codes: the one table that `--help`, the README and every command
//! use. A code tells whether the cluster matches the deployment, so CI can
//! trust it.

/// Success: nothing to do, or everything done.
pub const OK: i32 = 0;
/// An error, or an apply/destroy that ended with something desired not
/// running (unplaceable, failed, timed out) after doing all it could.
pub const ERROR: i32 = 1;
/// `plan --detailed-exitcode`: live differs from desired.
pub const CHANGES: i32 = 2;
/// Interrupted by Ctrl-C (as shells report SIGINT).
pub const INTERRUPTED: i32 = 130;

/// How an apply or destroy ended.
pub enum RunEnd<'a> {
    /// The plan was not approved: nothing was done.
    Cancelled,
    Ran(&'a crate::apply::summary::RunSummary),
}

/// The exit code of apply and destroy.
pub fn of_run(end: RunEnd) -> i32 {
    match end {
        RunEnd::Cancelled => ERROR,
        RunEnd::Ran(s) if s.interrupted => INTERRUPTED,
        RunEnd::Ran(s) if s.complete() => OK,
        RunEnd::Ran(_) => ERROR,
    }
}

/// Every exit code with its meaning, in the order they are documented.
pub const TABLE: [(i32, &str); 4] = [
    (
        OK,
        "success: `plan --detailed-exitcode` found live matching desired; `apply`/`destroy` left the cluster matching the plan's goal",
    ),
    (
        ERROR,
        "error (a command line that does not parse included); or `apply`/`destroy` ended with a desired task not running (unplaceable, failed, timed out) after doing all it could",
    ),
    (
        CHANGES,
        "`plan --detailed-exitcode`: live differs from desired (changes pending, unplaceable tasks included, changes left out by `--target` too), and nothing else; with `--refresh-only`: Mesos drifted from the state",
    ),
    (
        INTERRUPTED,
        "interrupted (Ctrl-C): in-flight steps were recorded in the state; run `plan` to see what is left",
    ),
];

/// The table for `--help`.
pub fn help_text() -> String {
    let mut s = String::from("Exit codes:\n");
    for (code, meaning) in TABLE {
        s.push_str(&format!("  {code:>3}  {}\n", meaning.replace('`', "")));
    }
    s
}

/// The table for the README (a test checks the README holds exactly this).
pub fn markdown_table() -> String {
    let mut s = String::from("| exit code | meaning |\n|---|---|\n");
    for (code, meaning) in TABLE {
        s.push_str(&format!("| {code} | {meaning} |\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_readme_holds_the_exit_code_table() {
        let readme = include_str!("../../README.md");
        assert!(
            readme.contains(&super::markdown_table()),
            "README.md must contain, verbatim:\n{}",
            super::markdown_table()
        );
    }
}
