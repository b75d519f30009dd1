//! The listed deviations: the table under "Conformance deviations" in
//! `crates/mesos-sim/README.md`, one row per difference the emulator keeps
//! on purpose, with its reason. A difference is listed when a row's
//! exchange is its exchange (or `*`), the row's path is its path or a
//! parent of it, and the row's difference is part of its text (or `*`).

use crate::compare::Difference;

#[derive(Debug, Clone)]
pub struct Listed {
    pub exchange: String,
    pub path: String,
    pub what: String,
    pub reason: String,
}

const HEADING: &str = "### Conformance deviations";

/// The rows of the table; panics with the file and line on a malformed
/// row (the table is ours: a broken row is a bug to fix at once).
pub fn read() -> Vec<Listed> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/mesos-sim/README.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let start = text
        .find(HEADING)
        .unwrap_or_else(|| panic!("{} has no \"{HEADING}\" section", path.display()));
    let first_line = text[..start].lines().count() + 1;
    let mut rows = Vec::new();
    for (i, line) in text[start..].lines().enumerate().skip(1) {
        if line.starts_with('#') {
            break;
        }
        let line = line.trim();
        if !line.starts_with('|') || line.starts_with("|---") || line.starts_with("| exchange") {
            continue;
        }
        let cells: Vec<String> = line
            .trim_matches('|')
            .split(" | ")
            .map(|c| c.trim().trim_matches('`').to_string())
            .collect();
        let [exchange, path_cell, what, reason] = cells.as_slice() else {
            panic!(
                "{}:{}: a deviation row needs 4 cells (exchange | path | difference | reason): {line}",
                path.display(),
                first_line + i
            );
        };
        assert!(
            !reason.is_empty(),
            "{}:{}: a listed deviation needs its reason",
            path.display(),
            first_line + i
        );
        rows.push(Listed {
            exchange: exchange.clone(),
            path: path_cell.clone(),
            what: what.clone(),
            reason: reason.clone(),
        });
    }
    rows
}

fn under(path: &str, parent: &str) -> bool {
    path == parent
        || (path.starts_with(parent)
            && matches!(path.as_bytes().get(parent.len()), Some(b'.') | Some(b'[')))
}

/// The row that lists `d`, if any.
pub fn listing<'a>(rows: &'a [Listed], d: &Difference) -> Option<&'a Listed> {
    rows.iter().find(|r| {
        (r.exchange == "*" || r.exchange == d.exchange)
            && under(&d.path, &r.path)
            && (r.what == "*" || d.what.contains(&r.what))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_lists_its_path_and_what_is_under_it() {
        let rows = vec![Listed {
            exchange: "operator GET_FLAGS".into(),
            path: "$.get_flags.flags".into(),
            what: "*".into(),
            reason: "r".into(),
        }];
        let d = |path: &str| Difference {
            exchange: "operator GET_FLAGS".into(),
            path: path.into(),
            what: "missing in mesos-sim".into(),
        };
        assert!(listing(&rows, &d("$.get_flags.flags")).is_some());
        assert!(listing(&rows, &d("$.get_flags.flags[*].name")).is_some());
        assert!(listing(&rows, &d("$.get_flags.flagsx")).is_none());
        assert!(listing(&rows, &d("$.get_flags")).is_none());
    }

    #[test]
    fn the_readme_table_reads() {
        for r in read() {
            assert!(
                !r.exchange.is_empty() && r.path.starts_with(['$', 's', 'h']),
                "{r:?}"
            );
        }
    }
}
