//! The key tables of `docs/deployment-file.md`, generated from [`SETTINGS`].

use super::{Fallback, SETTINGS, TABLES};

/// The marker opening a generated table in the docs: `<!-- settings: mesos -->`
/// (`top level`, a table name, or `properties` for the properties-only keys).
const BLOCK_START: &str = "<!-- settings: ";
const BLOCK_END: &str = "<!-- end of generated table -->";

/// The documentation table of `block`: a table of the deployment file, or
/// `properties` for the settings written in the properties file only.
pub fn docs_table(block: &str) -> Option<String> {
    if block == "properties" {
        let mut out = String::from("| property | meaning |\n|---|---|\n");
        for s in SETTINGS.iter().filter(|s| s.toml.is_none()) {
            let key = s.property.unwrap_or_default();
            out.push_str(&row(&[&format!("`{key}`"), s.doc]));
        }
        return Some(out);
    }
    let table = if block == "top level" { "" } else { block };
    if !TABLES.contains(&table) {
        return None;
    }
    let mut out =
        String::from("| key | type | default | property | meaning |\n|---|---|---|---|---|\n");
    for s in SETTINGS
        .iter()
        .filter(|s| s.toml.is_some_and(|(t, _)| t == table))
    {
        let (_, key) = s.toml.unwrap_or_default();
        let fallback = match s.fallback {
            Fallback::Required => "(required)".to_string(),
            Fallback::Value(v) => format!("`{v}`"),
            Fallback::Derived(text) => text.to_string(),
            Fallback::Unset => String::new(),
        };
        let property = s.property.map(|p| format!("`{p}`")).unwrap_or_default();
        out.push_str(&row(&[
            &format!("`{key}`"),
            s.ty.doc(),
            &fallback,
            &property,
            s.doc,
        ]));
    }
    Some(out)
}

/// A Markdown table row; an empty cell is written `| |`.
fn row(cells: &[&str]) -> String {
    let mut out = String::new();
    for c in cells {
        out.push_str("| ");
        if !c.is_empty() {
            out.push_str(c);
            out.push(' ');
        }
    }
    out.push_str("|\n");
    out
}

/// `text` (a Markdown document) with every generated table replaced by
/// the current one; an error names a marker that is unknown or unclosed.
pub fn refresh_docs(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(BLOCK_START) {
        let line_end = rest[at..]
            .find('\n')
            .map(|n| at + n + 1)
            .ok_or("a settings marker is the document's last line")?;
        let marker = rest[at..line_end].trim_end();
        let block = marker
            .strip_prefix(BLOCK_START)
            .and_then(|m| m.strip_suffix("-->"))
            .map(str::trim)
            .ok_or_else(|| format!("malformed marker {marker:?}"))?;
        let table = docs_table(block).ok_or_else(|| format!("unknown settings block {block:?}"))?;
        let end = rest[line_end..]
            .find(BLOCK_END)
            .map(|n| line_end + n)
            .ok_or_else(|| format!("{marker:?} has no {BLOCK_END:?} after it"))?;
        out.push_str(&rest[..line_end]);
        out.push_str(&table);
        rest = &rest[end..];
        out.push_str(&rest[..BLOCK_END.len()]);
        rest = &rest[BLOCK_END.len()..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed docs hold the tables generated from [`SETTINGS`]. Run
    /// with `UPDATE_DOCS=1` to rewrite them after changing a setting.
    #[test]
    fn the_docs_tables_are_generated_from_the_settings() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/deployment-file.md");
        let text = std::fs::read_to_string(&path).unwrap();
        let fresh = refresh_docs(&text).unwrap();
        for block in [
            "top level",
            "mesos",
            "alluxio",
            "master",
            "worker",
            "state",
            "properties",
        ] {
            assert!(
                text.contains(&format!("{BLOCK_START}{block} -->")),
                "docs/deployment-file.md lacks the {block} table"
            );
        }
        if fresh != text {
            if std::env::var_os("UPDATE_DOCS").is_some() {
                std::fs::write(&path, fresh).unwrap();
            } else {
                panic!("docs/deployment-file.md is out of date with the settings table (src/desired/settings/table.rs): run `UPDATE_DOCS=1 cargo test --lib settings` and commit the result");
            }
        }
    }

    #[test]
    fn markers_that_do_not_close_or_name_no_table_are_errors() {
        assert!(refresh_docs("<!-- settings: mesos -->\n| old |\n").is_err());
        assert!(
            refresh_docs("<!-- settings: nowhere -->\n<!-- end of generated table -->").is_err()
        );
        let fresh = refresh_docs(
            "a\n<!-- settings: state -->\n| old |\n<!-- end of generated table -->\nb\n",
        )
        .unwrap();
        assert!(
            fresh.starts_with("a\n<!-- settings: state -->\n| key |"),
            "{fresh}"
        );
        assert!(
            fresh.ends_with("|\n<!-- end of generated table -->\nb\n"),
            "{fresh}"
        );
        assert!(!fresh.contains("old"), "{fresh}");
    }
}
