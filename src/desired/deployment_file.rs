//! Reading the TOML deployment file into located entries.
//!
//! Values are kept as `toml::Value` with their spans and typed later (in
//! `load`), so that a wrong type gets our own message naming the key and
//! the expected form. Unknown keys are rejected here, at every level, with
//! a did-you-mean suggestion.

use crate::desired::diagnostic::{Problem, SourceFile};
use crate::desired::secrets::is_secret_key;
use crate::desired::settings::{self, Setting};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use toml::Spanned;

/// One `key = value` of the deployment file.
#[derive(Debug, Clone)]
pub struct TomlEntry {
    pub key_span: Range<usize>,
    pub value: toml::Value,
    pub span: Range<usize>,
}

/// The deployment file, read and checked for unknown keys.
#[derive(Debug)]
pub struct DeploymentFile {
    pub file: Arc<SourceFile>,
    /// Entries by table (`""` for the top level) and key.
    pub tables: BTreeMap<&'static str, BTreeMap<String, TomlEntry>>,
}

impl DeploymentFile {
    pub fn get(&self, table: &str, key: &str) -> Option<&TomlEntry> {
        self.tables.get(table).and_then(|t| t.get(key))
    }

    /// The entry of `setting`, if the file writes it.
    pub fn get_setting(&self, setting: &Setting) -> Option<&TomlEntry> {
        let (table, key) = setting.toml?;
        self.get(table, key)
    }
}

type RawTable = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    name: Option<Spanned<toml::Value>>,
    mesos: Option<RawTable>,
    alluxio: Option<RawTable>,
    master: Option<RawTable>,
    worker: Option<RawTable>,
    state: Option<RawTable>,
}

/// Masks what looks like a secret value (`password = "..."`) so that a
/// diagnostic quoting the line cannot show it. Line based: it runs before
/// parsing, so it also protects syntax-error snippets.
fn mask_secret_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let masked = line.split_once('=').and_then(|(k, v)| {
            let key = k.trim().trim_matches(|c| c == '"' || c == '\'');
            let body = v.trim_end_matches(['\n', '\r']);
            (key != "secret_file" && !key.starts_with('#') && is_secret_key(key))
                .then(|| format!("{k}={}{}", "*".repeat(body.len()), &v[body.len()..]))
        });
        out.push_str(masked.as_deref().unwrap_or(line));
    }
    out
}

/// The key of `table` closest to `key`, if close enough.
fn suggestion(key: &str, candidates: &[&str]) -> Option<String> {
    super::diagnostic::closest(key, candidates, 0.8).map(str::to_string)
}

fn table_name(t: &str) -> String {
    if t.is_empty() {
        "the top level".into()
    } else {
        format!("[{t}]")
    }
}

fn unknown_key_problem(
    file: &Arc<SourceFile>,
    table: &str,
    key: &str,
    span: Range<usize>,
) -> Problem {
    let known = settings::toml_keys(table);
    let help = if let Some(s) = suggestion(key, &known) {
        format!("did you mean `{s}`?")
    } else if let Some(other) = settings::TABLES
        .iter()
        .find(|t| **t != table && !t.is_empty() && settings::toml_keys(t).contains(&key))
    {
        format!("`{key}` belongs in [{other}]")
    } else if key.starts_with("alluxio.") {
        format!(
            "Alluxio property keys go in the site properties file; in {} the keys are: {}",
            table_name(table),
            known.join(", ")
        )
    } else {
        format!(
            "the keys of {} are: {}",
            table_name(table),
            known.join(", ")
        )
    };
    Problem::error(
        "desired::unknown_key",
        format!("unknown key `{key}` in {}", table_name(table)),
    )
    .with_help(help)
    .with_label(file, span, "unknown key")
}

/// Turns a toml/serde error into a located problem.
fn toml_problem(file: &Arc<SourceFile>, err: &toml::de::Error) -> Problem {
    let msg = err.message().trim().to_string();
    let span = err.span().unwrap_or(0..0);
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or_default();
        return unknown_key_problem(file, "", key, span);
    }
    if msg.starts_with("invalid type") && msg.contains("expected a map") {
        let key = file_text_key_before(file, span.start);
        return Problem::error("desired::wrong_type", format!("`{key}` must be a table"))
            .with_help(format!(
                "write it as a section: [{key}] on its own line, then its keys"
            ))
            .with_label(file, span, "expected a table");
    }
    if msg.starts_with("invalid type") {
        return Problem::error("desired::wrong_type", msg)
            .with_help("see docs/deployment-file.md for the type of each key")
            .with_label(file, span, "wrong type");
    }
    Problem::error("desired::toml_syntax", format!("invalid TOML: {msg}"))
        .with_help("fix the TOML syntax at the marked place")
        .with_label(file, span, "here")
}

/// The key whose value starts at `offset` (`mesos = 5` -> `mesos`), best effort.
fn file_text_key_before(file: &SourceFile, offset: usize) -> String {
    let text = &file.text()[..offset.min(file.text().len())];
    let line = text.rsplit('\n').next().unwrap_or_default();
    line.split('=')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Reads and checks the deployment file. Unknown keys are all reported.
pub fn read(path: &Path) -> Result<DeploymentFile, Vec<Problem>> {
    let text = crate::limits::read_to_string(path, crate::limits::DEPLOYMENT_FILE).map_err(|e| {
        vec![match e {
            crate::limits::ReadError::TooLarge { limit } => Problem::error(
                "desired::deployment_file_too_large",
                format!(
                    "the deployment file {} is larger than {}: a deployment file holds a few kilobytes of settings",
                    path.display(),
                    crate::limits::size_text(limit)
                ),
            )
            .with_help("check that -c names the deployment TOML file (default ./alluxio-mesos.toml)"),
            crate::limits::ReadError::Io(e) => Problem::error(
                "desired::no_deployment_file",
                format!("cannot read the deployment file {}: {e}", path.display()),
            )
            .with_help("pass the deployment file with -c FILE (default ./alluxio-mesos.toml)"),
        }]
    })?;
    let file = SourceFile::new(path, mask_secret_lines(&text));
    let raw: RawFile = toml::from_str(&text).map_err(|e| vec![toml_problem(&file, &e)])?;
    let mut tables = BTreeMap::new();
    let mut problems = Vec::new();
    let mut top = BTreeMap::new();
    if let Some(name) = raw.name {
        let span = name.span();
        top.insert(
            "name".to_string(),
            TomlEntry {
                key_span: span.clone(),
                value: name.into_inner(),
                span,
            },
        );
    }
    tables.insert("", top);
    let sections = [
        ("mesos", raw.mesos),
        ("alluxio", raw.alluxio),
        ("master", raw.master),
        ("worker", raw.worker),
        ("state", raw.state),
    ];
    for (table, entries) in sections {
        let known = settings::toml_keys(table);
        let mut out = BTreeMap::new();
        for (key, value) in entries.into_iter().flatten() {
            let key_span = key.span();
            let key = key.into_inner();
            if !known.contains(&key.as_str()) {
                problems.push(unknown_key_problem(&file, table, &key, key_span));
                continue;
            }
            let span = value.span();
            out.insert(
                key,
                TomlEntry {
                    key_span,
                    value: value.into_inner(),
                    span,
                },
            );
        }
        tables.insert(table, out);
    }
    if problems.is_empty() {
        Ok(DeploymentFile { file, tables })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_known_key() {
        assert_eq!(
            suggestion("cout", &["count", "cpus"]).as_deref(),
            Some("count")
        );
        assert_eq!(
            suggestion("ramdsk", &["ramdisk", "mem"]).as_deref(),
            Some("ramdisk")
        );
        assert_eq!(suggestion("zzzz", &["count", "cpus"]), None);
    }

    #[test]
    fn masks_secret_looking_values_but_not_paths() {
        let t = "password = \"hunter2\"\nsecret_file = \"s.txt\"\nname = \"x\"\n";
        let m = mask_secret_lines(t);
        assert!(!m.contains("hunter2"));
        assert!(m.contains("s.txt"));
        assert_eq!(m.len(), t.len());
    }
}
