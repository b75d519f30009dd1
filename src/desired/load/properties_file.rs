//! The properties file: read within its size limit, secrets masked
//! before any diagnostic can show them, duplicates and near-miss keys
//! warned about; and the site properties handed to the tasks.

use super::*;

/// Properties files are UTF-8 in practice; Java reads them as ISO-8859-1,
/// so a file that is not valid UTF-8 is decoded that way.
pub(super) fn decode_properties(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes)
        .unwrap_or_else(|e| e.into_bytes().into_iter().map(char::from).collect())
}

/// The key of `known` (the property keys alluxio-mesos reads) that `key`
/// is one or two edits away from (a typo, a transposition), if any.
pub(super) fn near_miss(key: &str, known: &[&'static str]) -> Option<&'static str> {
    known
        .iter()
        .map(|c| (strsim::osa_distance(key, c), *c))
        .filter(|(d, _)| (1..=2).contains(d))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

impl Context<'_> {
    pub(super) fn read_properties(&mut self) -> Option<PathBuf> {
        let given = self.toml_path(&settings::SITE_PROPERTIES);
        let default = settings::SITE_PROPERTIES.default_text();
        let (path, at) = match given {
            Some((p, f)) => (p, Some(f)),
            None if self.failed(&settings::SITE_PROPERTIES) => return None,
            None => (self.base.join(default), None),
        };
        let text = match crate::limits::read(&path, crate::limits::SITE_PROPERTIES) {
            Ok(bytes) => decode_properties(bytes),
            Err(ReadError::TooLarge { limit }) => {
                let (place, help) = match &at {
                    Some(f) => (
                        format!(" (set by site_properties in {})", f.place.clone().unwrap_or_default()),
                        "point `alluxio.site_properties` (relative to the deployment file) at the Alluxio site properties file",
                    ),
                    None => (
                        " (the default, as `alluxio.site_properties` is not set)".to_string(),
                        "set site_properties in [alluxio] to the Alluxio site properties file",
                    ),
                };
                let label = at.as_ref().and_then(|f| f.at.clone());
                self.failed.insert("properties".into());
                self.error(
                    Problem::error(
                        "desired::properties_too_large",
                        format!(
                            "the site properties file {} is larger than {}{place}: a site properties file holds a few hundred properties at most",
                            path.display(),
                            size_text(limit)
                        ),
                    )
                    .with_help(help)
                    .with_located(label.as_ref()),
                );
                return None;
            }
            Err(ReadError::Io(e)) => {
                let why = if e.kind() == std::io::ErrorKind::NotFound {
                    "does not exist".to_string()
                } else {
                    format!("cannot be read: {e}")
                };
                let (message, help) = match &at {
                    Some(f) => (
                        format!("the site properties file {} {why} (set by site_properties in {})", path.display(), f.place.clone().unwrap_or_default()),
                        "fix `alluxio.site_properties` (relative to the deployment file) or create the file".to_string(),
                    ),
                    None => (
                        format!("the site properties file {} {why} (the default, as `alluxio.site_properties` is not set)", path.display()),
                        format!("create {default} beside the deployment file, or set site_properties in [alluxio]"),
                    ),
                };
                let label = at.as_ref().and_then(|f| f.at.clone());
                self.failed.insert("properties".into());
                self.error(
                    Problem::error("desired::missing_properties", message)
                        .with_help(help)
                        .with_located(label.as_ref()),
                );
                return None;
            }
        };
        let entries = match properties::parse(&text) {
            Ok(e) => e,
            Err(err) => {
                self.failed.insert("properties".into());
                let file = SourceFile::new(
                    &path,
                    properties::mask_secret_lines(&text, &self.secret_keys),
                );
                self.error(
                    Problem::error(
                        "desired::properties_syntax",
                        format!(
                            "invalid properties file {}: {}",
                            path.display(),
                            err.message
                        ),
                    )
                    .with_help("write \\u followed by four hex digits, e.g. \\u00e9")
                    .with_label(
                        &file,
                        err.offset..err.offset + err.len,
                        "here",
                    ),
                );
                return None;
            }
        };
        // Mask secret values (same byte length, line breaks kept) before any diagnostic can show them.
        let mut shown = text.into_bytes();
        for e in entries
            .iter()
            .filter(|e| self.secret_keys.is_secret(&e.key))
        {
            for b in &mut shown[e.value_span.clone()] {
                if *b != b'\n' && *b != b'\r' {
                    *b = b'*';
                }
            }
        }
        // Spans fall on character boundaries, so this stays valid UTF-8; lossy only for certainty.
        let shown = String::from_utf8_lossy(&shown).into_owned();
        let file = SourceFile::new(&path, shown);
        let mut last = BTreeMap::new();
        for (i, e) in entries.iter().enumerate() {
            if let Some(prev) = last.insert(e.key.clone(), i) {
                let before: &PropertyEntry = &entries[prev];
                if before.value != e.value {
                    self.warnings.push(
                        Problem::warning(
                            "desired::duplicate_property",
                            format!(
                                "`{}` is set twice in {}, on lines {} and {}; the later one wins",
                                e.key,
                                path.display(),
                                before.line,
                                e.line
                            ),
                        )
                        .with_help("delete the line that should not apply")
                        .with_label(&file, before.key_span.clone(), "first set here")
                        .with_label(
                            &file,
                            e.key_span.clone(),
                            "and again here",
                        ),
                    );
                }
            }
        }
        self.props = Some(Props {
            file,
            entries,
            last,
        });
        Some(path)
    }

    pub(super) fn warn_unknown_integration_keys(&mut self) {
        let Some(props) = &self.props else { return };
        let known = settings::known_properties();
        let mut warnings = Vec::new();
        for e in &props.entries {
            let k = e.key.as_str();
            let ours = [
                "alluxio.integration.mesos.",
                "alluxio.integration.master.",
                "alluxio.integration.worker.",
            ]
            .iter()
            .any(|p| k.starts_with(p));
            if known.contains(&k) {
                continue;
            }
            if !ours {
                // Any other Alluxio key may be meant for Alluxio itself; only
                // a near miss of a key this tool reads (a typo or two) is
                // worth a word, since the tool then silently uses a default.
                if let Some(c) = near_miss(k, &known) {
                    warnings.push(
                        Problem::warning(
                            "desired::misspelt_property",
                            format!("`{k}` is not a property alluxio-mesos reads, so the default of `{c}` applies"),
                        )
                        .with_help(format!("did you mean `{c}`? (the keys alluxio-mesos reads are in docs/deployment-file.md)"))
                        .with_label(&props.file, e.key_span.clone(), "near miss"),
                    );
                }
                continue;
            }
            let help = match crate::desired::diagnostic::closest(k, &known, 0.9) {
                Some(c) => format!("did you mean `{c}`?"),
                None => "see the property table in docs/deployment-file.md".into(),
            };
            warnings.push(
                Problem::warning(
                    "desired::unknown_property",
                    format!("unknown property `{k}` is ignored by alluxio-mesos"),
                )
                .with_help(help)
                .with_label(&props.file, e.key_span.clone(), "unknown property"),
            );
        }
        self.warnings.extend(warnings);
    }

    /// The properties file, with TOML-given settings under their Alluxio
    /// keys and the ramdisk always written (Mesos accounts for it, so the
    /// worker must use exactly that size). The framework secret is left out:
    /// tasks do not need it.
    pub(super) fn site(&self, ramdisk: Option<ByteSize>) -> SiteProperties {
        let mut site = SiteProperties::new(self.secret_keys.clone());
        if let Some(props) = &self.props {
            for (k, &i) in &props.last {
                if k != SECRET_PROPERTY {
                    site.insert(k.clone(), props.entries[i].value.clone());
                }
            }
        }
        for (k, v) in &self.toml_site {
            site.insert(k.clone(), v.clone());
        }
        if let Some(r) = ramdisk {
            if !self.toml_site.contains_key("alluxio.worker.memory.size")
                && site.get("alluxio.worker.memory.size").is_none()
            {
                site.insert("alluxio.worker.memory.size", r.to_string());
            }
        }
        site
    }
}
