//! From the deployment file and the site properties to a validated [`Desired`].
//!
//! Every setting may come from the TOML file or from its Alluxio 1.x
//! property key. Each is read from both places, typed, and compared: equal
//! values are fine, different ones are an error naming both places. Errors
//! are collected so that one run shows all of them.

use crate::desired::constraint::{parse_constraint, Constraint};
use crate::desired::deployment_file::{self, DeploymentFile, TomlEntry};
use crate::desired::diagnostic::{DesiredError, Label, Problem, SourceFile};
use crate::desired::kinds::{
    type_name, Kind, Unfit, BOOL, COUNT, CPUS, DURATION, HEALTH_CHECK, KEY_PATTERNS, PORT, SIZE,
    TEXT, WORKER_COUNT,
};
use crate::desired::locator::{parse_master_locator, MASTER_FORMS};
use crate::desired::properties::{self, PropertyEntry};
use crate::desired::secrets::{Secret, SecretKeys, SiteProperties};
use crate::desired::size::ByteSize;
use crate::desired::{
    AlluxioSource, Desired, Install, JdkSource, MasterSpec, MesosSettings, SourceFiles,
    WorkerCount, WorkerSpec,
};
use crate::limits::{size_text, ReadError};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A loaded deployment and the warnings found on the way (print them with miette).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub desired: Desired,
    /// Problems that do not stop the deployment (all of warning severity).
    pub warnings: Vec<Problem>,
}

/// The property holding the framework secret (AlluxioFramework's place for it).
pub const SECRET_PROPERTY: &str = "alluxio.integration.mesos.secret";
/// The environment variable that may hold the framework secret.
pub const SECRET_ENV: &str = "ALLUXIO_MESOS_SECRET";
/// Where the site properties are looked for, relative to the deployment file.
pub const DEFAULT_SITE_PROPERTIES: &str = "alluxio-site.properties";
const DEFAULT_FAILOVER_TIMEOUT: Duration = Duration::from_secs(4 * 7 * 24 * 3600);

/// Loads and validates a deployment, reading the process environment.
/// Warnings are dropped: use [`load_with_warnings`] to show them.
pub fn load(deployment: &Path) -> Result<Desired, DesiredError> {
    load_with_warnings(deployment).map(|l| l.desired)
}

/// Loads and validates a deployment, reading the process environment.
pub fn load_with_warnings(deployment: &Path) -> Result<Loaded, DesiredError> {
    load_with_env(deployment, &|k| match k {
        // CI containers and cron often set no USER: the account of the
        // effective uid is who runs us, as `id -un` says.
        ACCOUNT_OF_EUID => effective_user_name(),
        k => std::env::var(k).ok(),
    })
}

/// Only `[state] url` of a deployment file, for the commands that need
/// nothing else (`state`, `output`, `force-unlock`): `Some(None)` when it
/// has none. `None`: the file does not read or the URL is invalid; loading
/// it in full reports why, located.
pub fn state_location_of(deployment: &Path) -> Option<Option<crate::state::StateLocation>> {
    let toml = deployment_file::read(deployment).ok()?;
    let Some(e) = toml.get("state", "url") else {
        return Some(None);
    };
    let text = e.value.as_str()?;
    crate::state::StateLocation::parse(text).ok().map(Some)
}

/// The pseudo variable `env` answers with the account name of the
/// effective uid, the last fallback for the tasks' user.
pub const ACCOUNT_OF_EUID: &str = "(account of the effective uid)";

/// The account name of the effective uid, from the password database.
pub fn effective_user_name() -> Option<String> {
    #[cfg(unix)]
    {
        // SAFETY: getpwuid_r writes into our buffers only, within their
        // lengths, and `result` points into `pwd` when set.
        unsafe {
            let uid = libc::geteuid();
            let mut pwd: libc::passwd = std::mem::zeroed();
            let mut buf = vec![0u8; 16 * 1024];
            let mut result: *mut libc::passwd = std::ptr::null_mut();
            let rc = libc::getpwuid_r(
                uid,
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            );
            if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
                return None;
            }
            let name = std::ffi::CStr::from_ptr(pwd.pw_name)
                .to_string_lossy()
                .into_owned();
            (!name.is_empty()).then_some(name)
        }
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Loads and validates a deployment with `env` standing in for the
/// environment (`ALLUXIO_MESOS_SECRET`, `USER`, `LOGNAME`).
pub fn load_with_env(
    deployment: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Loaded, DesiredError> {
    let toml = deployment_file::read(deployment).map_err(DesiredError::new)?;
    let base = deployment.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut cx = Context {
        toml: &toml,
        base,
        props: None,
        errors: Vec::new(),
        warnings: Vec::new(),
        failed: HashSet::new(),
        toml_site: BTreeMap::new(),
        secret_keys: SecretKeys::default(),
        toml_names: BTreeMap::new(),
    };
    let desired = cx.build(deployment, env);
    match desired {
        Some(d) if cx.errors.is_empty() => Ok(Loaded {
            desired: d,
            warnings: cx.warnings,
        }),
        _ if cx.errors.is_empty() => Err(DesiredError::new(vec![Problem::error(
            "desired::internal",
            "the deployment could not be assembled, but no problem was recorded (a bug in alluxio-mesos)",
        )])),
        _ => Err(DesiredError::new(cx.errors)),
    }
}

/// The site properties file: entries in order and the last value of each key.
struct Props {
    file: Arc<SourceFile>,
    entries: Vec<PropertyEntry>,
    last: BTreeMap<String, usize>,
}

impl Props {
    fn get(&self, key: &str) -> Option<&PropertyEntry> {
        self.last.get(key).map(|&i| &self.entries[i])
    }
}

/// A setting's value and where it was written (None: the default).
#[derive(Debug, Clone)]
struct Found<T> {
    value: T,
    at: Option<Label>,
    /// `file:line` for messages; None for the default.
    place: Option<String>,
}

impl<T> Found<T> {
    fn default(value: T) -> Self {
        Found {
            value,
            at: None,
            place: None,
        }
    }
}

struct Context<'a> {
    toml: &'a DeploymentFile,
    base: PathBuf,
    props: Option<Props>,
    errors: Vec<Problem>,
    warnings: Vec<Problem>,
    /// Settings (`table.key` or property key) whose value was invalid, so
    /// that no second error says they are missing.
    failed: HashSet<String>,
    /// Settings given in the TOML file, under their property keys, for the site.
    toml_site: BTreeMap<String, String>,
    /// Which property keys are secrets (read before the properties file).
    secret_keys: SecretKeys,
    /// The `table.key` of each setting given in the TOML file, by property key.
    toml_names: BTreeMap<String, String>,
}

fn dotted(table: &str, key: &str) -> String {
    if table.is_empty() {
        key.to_string()
    } else {
        format!("{table}.{key}")
    }
}

impl Context<'_> {
    fn toml_label(&self, e: &TomlEntry, text: &str) -> Label {
        Label {
            file: self.toml.file.clone(),
            span: e.span.clone(),
            text: text.into(),
        }
    }

    fn toml_place(&self, e: &TomlEntry) -> Option<String> {
        Some(self.toml.file.at(e.span.start))
    }

    fn prop_label(&self, e: &PropertyEntry, text: &str) -> Label {
        let props = self.props.as_ref().expect("properties read");
        Label {
            file: props.file.clone(),
            span: e.value_span.clone(),
            text: text.into(),
        }
    }

    fn prop_place(&self, e: &PropertyEntry) -> Option<String> {
        let props = self.props.as_ref().expect("properties read");
        Some(format!("{}:{}", props.file.path().display(), e.line))
    }

    fn read_toml<T>(&mut self, table: &str, key: &str, kind: &Kind<T>) -> Option<Found<T>> {
        let e = self.toml.get(table, key)?.clone();
        let name = dotted(table, key);
        match (kind.from_toml)(&e.value) {
            Ok(value) => Some(Found {
                value,
                at: Some(self.toml_label(&e, "set here")),
                place: self.toml_place(&e),
            }),
            Err(unfit) => {
                let (code, message, label) = match unfit {
                    Unfit::Type => (
                        "desired::wrong_type",
                        format!(
                            "`{name}` must be {}, not {}",
                            kind.expected,
                            type_name(&e.value)
                        ),
                        format!("expected {}", kind.expected),
                    ),
                    Unfit::Bad(why) => (
                        "desired::invalid_value",
                        format!("invalid `{name}`: {why}"),
                        "invalid value".to_string(),
                    ),
                };
                let label = self.toml_label(&e, &label);
                self.errors.push(
                    Problem::error(code, message)
                        .with_help(kind.help)
                        .with_located(Some(&label)),
                );
                self.failed.insert(name);
                None
            }
        }
    }

    fn read_prop<T>(&mut self, key: &str, kind: &Kind<T>) -> Option<Found<T>> {
        let e = self.props.as_ref()?.get(key)?.clone();
        match (kind.from_text)(&e.value) {
            Ok(value) => Some(Found {
                value,
                at: Some(self.prop_label(&e, "set here")),
                place: self.prop_place(&e),
            }),
            Err(why) => {
                let why = if self.secret_keys.is_secret(key) {
                    format!("the value is not {}", kind.expected)
                } else {
                    why
                };
                let label = self.prop_label(&e, "invalid value");
                self.errors.push(
                    Problem::error("desired::invalid_value", format!("invalid `{key}`: {why}"))
                        .with_help(kind.help)
                        .with_located(Some(&label)),
                );
                self.failed.insert(key.to_string());
                None
            }
        }
    }

    /// A setting given in the TOML file, the properties file, or both.
    fn setting<T: PartialEq + Clone>(
        &mut self,
        table: &str,
        key: &str,
        prop: &str,
        kind: &Kind<T>,
    ) -> Option<Found<T>> {
        let t = self.read_toml(table, key, kind);
        let p = self.read_prop(prop, kind);
        if let Some(t) = &t {
            self.toml_site
                .insert(prop.to_string(), (kind.show)(&t.value));
            self.toml_names.insert(prop.to_string(), dotted(table, key));
        }
        match (t, p) {
            (Some(t), Some(p)) if t.value != p.value => {
                let name = dotted(table, key);
                let (a, b) = if self.secret_keys.is_secret(prop) {
                    (String::new(), String::new())
                } else {
                    (
                        format!(" = {}", (kind.show)(&t.value)),
                        format!(" = {}", (kind.show)(&p.value)),
                    )
                };
                let in_file = |f: &Found<T>| f.place.clone().unwrap_or_default();
                let mut problem = Problem::error(
                    "desired::conflict",
                    format!(
                        "`{name}` is set twice with different values: {name}{a} in {}, and {prop}{b} in {}",
                        in_file(&t),
                        in_file(&p)
                    ),
                )
                .with_help(format!(
                    "keep one of them: `{name}` in the deployment file or `{prop}` in the properties file"
                ));
                if let Some(l) = &t.at {
                    problem = problem.with_located(Some(&Label {
                        text: format!("`{name}` set here"),
                        ..l.clone()
                    }));
                }
                if let Some(l) = &p.at {
                    problem = problem.with_located(Some(&Label {
                        text: format!("and `{prop}` here"),
                        ..l.clone()
                    }));
                }
                self.errors.push(problem);
                self.failed.insert(name);
                None
            }
            (Some(t), _) => Some(t),
            (None, p) => p,
        }
    }

    fn setting_or<T: PartialEq + Clone>(
        &mut self,
        table: &str,
        key: &str,
        prop: &str,
        kind: &Kind<T>,
        default: T,
    ) -> Found<T> {
        self.setting(table, key, prop, kind)
            .unwrap_or_else(|| Found::default(default))
    }

    fn error(&mut self, p: Problem) {
        self.errors.push(p);
    }

    /// A path from the TOML file, relative to the deployment file's directory.
    fn toml_path(&mut self, table: &str, key: &str) -> Option<(PathBuf, Found<String>)> {
        let f = self.read_toml(table, key, &TEXT)?;
        Some((self.base.join(&f.value), f))
    }

    /// A path that must exist (ca_cert, local_cluster).
    fn existing_path(&mut self, table: &str, key: &str, what: &str) -> Option<PathBuf> {
        let (path, f) = self.toml_path(table, key)?;
        if path.is_file() {
            return Some(path);
        }
        self.error(
            Problem::error(
                "desired::missing_file",
                format!("the {what} {} does not exist", path.display()),
            )
            .with_help(format!(
                "fix `{}` (paths are relative to the deployment file)",
                dotted(table, key)
            ))
            .with_located(f.at.as_ref()),
        );
        None
    }

    fn read_properties(&mut self) -> Option<PathBuf> {
        let given = self.toml_path("alluxio", "site_properties");
        let (path, at) = match given {
            Some((p, f)) => (p, Some(f)),
            None if self.failed.contains("alluxio.site_properties") => return None,
            None => (self.base.join(DEFAULT_SITE_PROPERTIES), None),
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
                        format!("create {DEFAULT_SITE_PROPERTIES} beside the deployment file, or set site_properties in [alluxio]"),
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

    fn build(
        &mut self,
        deployment: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Desired> {
        let name = self.read_toml("", "name", &TEXT);
        if name.is_none() && !self.failed.contains("name") {
            self.error(
                Problem::error(
                    "desired::missing_name",
                    format!("the deployment file {} has no `name`", deployment.display()),
                )
                .with_help("add name = \"alluxio\" at the top of the file (it also names the Mesos framework)"),
            );
        }
        self.secret_keys = self.secret_patterns();
        let properties_path = self.read_properties();

        let mesos = self.mesos(name.as_ref().map(|n| n.value.clone()), env);
        let install = self.install();
        let zookeeper = self.zookeeper();
        let master = self.master(zookeeper.is_some());
        let worker = self.worker();
        if let (Some(m), Some(w)) = (&master, &worker) {
            self.check_ports(m, w);
        }
        self.warn_unknown_integration_keys();
        let site = self.site(worker.as_ref().map(|w| w.0.ramdisk));
        let state = self.state_location();

        Some(Desired {
            name: name?.value,
            mesos: mesos?,
            install: install?,
            master: master?.0,
            worker: worker?.0,
            zookeeper,
            site,
            setting_names: std::mem::take(&mut self.toml_names),
            state: state?,
            files: SourceFiles {
                deployment: deployment.to_path_buf(),
                properties: properties_path?,
            },
        })
    }

    /// `[state] url`: where the state lives (`None`: the default file).
    /// `Some(None)` is "no [state] url"; `None` is an error reported.
    fn state_location(&mut self) -> Option<Option<crate::state::StateLocation>> {
        let Some(f) = self.read_toml("state", "url", &TEXT) else {
            return (!self.failed.contains("state.url")).then_some(None);
        };
        match crate::state::StateLocation::parse(&f.value) {
            Ok(l) => Some(Some(l)),
            Err(why) => {
                self.error(
                    Problem::error("desired::invalid_value", format!("invalid `state.url`: {why}"))
                        .with_help("a ZooKeeper URL such as zk://zk1:2181,zk2:2181/alluxio-mesos/<deployment>, or a file path")
                        .with_located(f.at.as_ref()),
                );
                self.failed.insert("state.url".into());
                None
            }
        }
    }

    fn mesos(
        &mut self,
        name: Option<String>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Option<MesosSettings> {
        let master = self.read_toml("mesos", "master", &TEXT).and_then(|f| {
            match parse_master_locator(&f.value) {
                Ok(m) => Some(m),
                Err(why) => {
                    self.error(
                        Problem::error(
                            "desired::invalid_value",
                            format!("invalid `mesos.master`: {why}"),
                        )
                        .with_help(MASTER_FORMS)
                        .with_located(f.at.as_ref()),
                    );
                    self.failed.insert("mesos.master".into());
                    None
                }
            }
        });
        let framework_name = self
            .read_toml("mesos", "framework_name", &TEXT)
            .map(|f| f.value);
        let principal = self.setting_or(
            "mesos",
            "principal",
            "alluxio.integration.mesos.principal",
            &TEXT,
            "alluxio".into(),
        );
        let role = self.setting_or(
            "mesos",
            "role",
            "alluxio.integration.mesos.role",
            &TEXT,
            "*".into(),
        );
        let user = self.setting("mesos", "user", "alluxio.integration.mesos.user", &TEXT);
        let user = match user {
            Some(u) => Some(u.value),
            None if self.failed.contains("mesos.user")
                || self.failed.contains("alluxio.integration.mesos.user") =>
            {
                None
            }
            None => match env("USER")
                .filter(|u| !u.trim().is_empty())
                .or_else(|| env("LOGNAME"))
                .filter(|u| !u.trim().is_empty())
                .or_else(|| env(ACCOUNT_OF_EUID))
                .filter(|u| !u.trim().is_empty())
            {
                Some(u) => Some(u),
                None => {
                    self.error(
                        Problem::error("desired::missing_user", "no user to run the tasks as: neither `mesos.user` nor `alluxio.integration.mesos.user` is set, USER, LOGNAME and the effective uid's account name are all unknown")
                            .with_help("set user = \"alluxio\" in [mesos] (the Unix user the tasks run as on the agents)"),
                    );
                    None
                }
            },
        };
        let failover = self.read_toml("mesos", "failover_timeout", &DURATION);
        let failover_timeout = match failover {
            Some(f) if f.value.is_zero() => {
                self.error(
                    Problem::error("desired::invalid_value", "`mesos.failover_timeout` must be longer than 0")
                        .with_help("the CLI disconnects after every apply and Mesos kills the tasks of a framework when its failover timeout ends: keep the default \"4w\" or use a long duration")
                        .with_located(f.at.as_ref()),
                );
                None
            }
            Some(f) => Some(f.value),
            None if self.failed.contains("mesos.failover_timeout") => None,
            None => Some(DEFAULT_FAILOVER_TIMEOUT),
        };
        let ca_cert = self.existing_path("mesos", "ca_cert", "CA certificate");
        let local_cluster = self.existing_path("mesos", "local_cluster", "local cluster file");
        if let (Some(_), Some(m)) = (&local_cluster, &master) {
            if *m != crate::desired::MasterLocator::Local {
                let e = self.toml.get("mesos", "local_cluster").cloned();
                let label = e.map(|e| self.toml_label(&e, "only used by master = \"local\""));
                self.warnings.push(
                    Problem::warning(
                        "desired::unused_setting",
                        "`mesos.local_cluster` is ignored unless mesos.master = \"local\"",
                    )
                    .with_help("remove local_cluster, or set master = \"local\"")
                    .with_located(label.as_ref()),
                );
            }
        }
        let secret = self.secret(env);
        let framework_name = framework_name.or(name)?;
        Some(MesosSettings {
            master,
            framework_name,
            principal: Some(principal.value),
            secret: secret?,
            role: role.value,
            user: user?,
            failover_timeout: failover_timeout?,
            ca_cert,
            local_cluster,
        })
    }

    /// The framework secret: `[mesos] secret_file`, else `ALLUXIO_MESOS_SECRET`,
    /// else the property (with a warning). Outer None: an error was reported.
    fn secret(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Option<Option<Secret>> {
        let from_prop = self
            .props
            .as_ref()
            .and_then(|p| p.get(SECRET_PROPERTY))
            .filter(|e| !e.value.is_empty())
            .cloned();
        let prop_label = from_prop
            .as_ref()
            .map(|e| self.prop_label(e, "the secret is here"));
        let from_file = match self.toml_path("mesos", "secret_file") {
            Some((path, f)) => {
                match crate::limits::read_to_string(&path, crate::limits::SECRET_FILE) {
                    Ok(s) => {
                        let s = s.strip_suffix('\n').unwrap_or(&s);
                        let s = s.strip_suffix('\r').unwrap_or(s);
                        if s.is_empty() {
                            self.error(
                            Problem::error("desired::empty_secret", format!("the secret file {} is empty", path.display()))
                                .with_help("write the framework secret into the file, or remove secret_file")
                                .with_located(f.at.as_ref()),
                        );
                            return None;
                        }
                        Some(Secret::new(s))
                    }
                    Err(ReadError::TooLarge { limit }) => {
                        self.error(
                        Problem::error("desired::secret_file_too_large", format!("the secret file {} is larger than {}: a secret file holds one secret", path.display(), size_text(limit)))
                            .with_help("point `mesos.secret_file` at a file that holds only the framework secret")
                            .with_located(f.at.as_ref()),
                    );
                        return None;
                    }
                    Err(ReadError::Io(e)) => {
                        self.error(
                        Problem::error("desired::missing_file", format!("cannot read the secret file {}: {e}", path.display()))
                            .with_help("fix `mesos.secret_file` (relative to the deployment file) or create the file")
                            .with_located(f.at.as_ref()),
                    );
                        return None;
                    }
                }
            }
            None if self.failed.contains("mesos.secret_file") => return None,
            None => None,
        };
        let from_env = env(SECRET_ENV).filter(|s| !s.is_empty()).map(Secret::new);
        let chosen = from_file.or(from_env);
        if from_prop.is_some() {
            let (message, help) = if chosen.is_some() {
                (
                    format!("`{SECRET_PROPERTY}` is ignored: the secret from [mesos] secret_file or {SECRET_ENV} takes precedence"),
                    format!("remove `{SECRET_PROPERTY}` from the properties file"),
                )
            } else {
                (
                    format!("the framework secret is in the properties file (`{SECRET_PROPERTY}`), which is usually under version control"),
                    format!("move it to a file named by secret_file in [mesos] (kept out of version control), or to the {SECRET_ENV} environment variable"),
                )
            };
            self.warnings.push(
                Problem::warning("desired::secret_in_properties", message)
                    .with_help(help)
                    .with_located(prop_label.as_ref()),
            );
        }
        Some(chosen.or_else(|| from_prop.map(|e| Secret::new(e.value))))
    }

    /// `[alluxio] secret_properties`: keys (with `*` wildcards) of
    /// properties to treat as secrets besides those the built-in rule knows.
    fn secret_patterns(&mut self) -> SecretKeys {
        SecretKeys::new(
            self.read_toml("alluxio", "secret_properties", &KEY_PATTERNS)
                .map(|f| f.value)
                .unwrap_or_default(),
        )
    }

    fn install(&mut self) -> Option<Install> {
        let jar = self.setting(
            "alluxio",
            "jar_url",
            "alluxio.integration.mesos.alluxio.jar.url",
            &TEXT,
        );
        let home = self.setting("alluxio", "home", "alluxio.home", &TEXT);
        let jdk_url = self.setting(
            "alluxio",
            "jdk_url",
            "alluxio.integration.mesos.jdk.url",
            &TEXT,
        );
        let jdk_path = self.setting(
            "alluxio",
            "jdk_path",
            "alluxio.integration.mesos.jdk.path",
            &TEXT,
        );
        let alluxio = match jar {
            Some(j) if j.value.eq_ignore_ascii_case("LOCAL") => match home {
                Some(h) => Some(AlluxioSource::Local { home: h.value }),
                None if self.failed.contains("alluxio.home") => None,
                None => {
                    self.error(
                        Problem::error("desired::local_without_home", "Alluxio is LOCAL but `alluxio.home` is not set: where is it installed on the agents?")
                            .with_help("set alluxio.home=/opt/alluxio in the properties file (or home in [alluxio]) to the install path on every agent")
                            .with_located(j.at.as_ref()),
                    );
                    None
                }
            },
            Some(j) if j.value.contains(char::is_whitespace) => {
                self.error(
                    Problem::error("desired::invalid_value", "the Alluxio tarball URL contains whitespace")
                        .with_help("write LOCAL or a URL Mesos can fetch, such as https://downloads.example.com/alluxio-1.8.2-bin.tar.gz")
                        .with_located(j.at.as_ref()),
                );
                None
            }
            Some(j) => Some(AlluxioSource::Tarball { url: j.value }),
            None if self.failed.contains("alluxio.jar_url")
                || self
                    .failed
                    .contains("alluxio.integration.mesos.alluxio.jar.url")
                || self.failed.contains("properties") =>
            {
                None
            }
            None => {
                self.error(
                    Problem::error("desired::missing_jar_url", "`alluxio.integration.mesos.alluxio.jar.url` is not set: where does Alluxio come from on the agents?")
                        .with_help("either set alluxio.integration.mesos.alluxio.jar.url=LOCAL together with alluxio.home=<install path on every agent>, or set it to the URL of an Alluxio tarball for Mesos to fetch (jar_url in [alluxio] works too)"),
                );
                None
            }
        };
        let jdk = match jdk_url {
            None if self.failed.contains("alluxio.jdk_url")
                || self.failed.contains("alluxio.integration.mesos.jdk.url") =>
            {
                None
            }
            None => Some(JdkSource::Local),
            Some(u) if u.value.eq_ignore_ascii_case("LOCAL") => Some(JdkSource::Local),
            Some(u) => match jdk_path {
                Some(p) => Some(JdkSource::Download {
                    url: u.value,
                    path: p.value,
                }),
                None if self.failed.contains("alluxio.jdk_path")
                    || self.failed.contains("alluxio.integration.mesos.jdk.path") =>
                {
                    None
                }
                None => {
                    self.error(
                        Problem::error("desired::jdk_without_path", "a JDK URL is set but `alluxio.integration.mesos.jdk.path` is not: which directory does the tarball unpack to?")
                            .with_help("set alluxio.integration.mesos.jdk.path to the directory the JDK tarball unpacks to (it becomes JAVA_HOME), e.g. jdk1.8.0_151; or set the JDK URL to LOCAL")
                            .with_located(u.at.as_ref()),
                    );
                    None
                }
            },
        };
        Some(Install {
            alluxio: alluxio?,
            jdk: jdk?,
        })
    }

    /// `alluxio.zookeeper.address` when ZooKeeper is enabled.
    fn zookeeper(&mut self) -> Option<String> {
        let enabled = self.read_prop("alluxio.zookeeper.enabled", &BOOL);
        let address = self.read_prop("alluxio.zookeeper.address", &TEXT);
        match (enabled, address) {
            (Some(e), Some(a)) if e.value => Some(a.value),
            (Some(e), None) if e.value => {
                if self.failed.insert("alluxio.zookeeper.address".into()) {
                    self.error(
                        Problem::error("desired::zookeeper_without_address", "`alluxio.zookeeper.enabled` is true but `alluxio.zookeeper.address` is not set")
                            .with_help("set alluxio.zookeeper.address=zk1:2181,zk2:2181,zk3:2181 in the properties file")
                            .with_located(e.at.as_ref()),
                    );
                }
                None
            }
            (_, Some(a)) => {
                self.warnings.push(
                    Problem::warning("desired::unused_setting", "`alluxio.zookeeper.address` is ignored because `alluxio.zookeeper.enabled` is not true")
                        .with_help("set alluxio.zookeeper.enabled=true to use ZooKeeper, or remove the address")
                        .with_located(a.at.as_ref()),
                );
                None
            }
            _ => None,
        }
    }

    fn constraints(&mut self, table: &str) -> Option<Option<Constraint>> {
        let Some(e) = self.toml.get(table, "constraints").cloned() else {
            return Some(None);
        };
        let f = self.read_toml(
            table,
            "constraints",
            &Kind {
                from_toml: |v| match v {
                    toml::Value::String(s) => Ok(s.clone()),
                    _ => Err(Unfit::Type),
                },
                ..TEXT
            },
        )?;
        match parse_constraint(&f.value) {
            Ok(c) => Some(Some(c)),
            Err(err) => {
                // Point inside the string when its source text is the value itself (no escapes).
                let raw = &self.toml.file.text()[e.span.clone()];
                let span = if raw.len() == f.value.len() + 2 && raw[1..raw.len() - 1] == f.value {
                    let at = e.span.start + 1 + err.offset;
                    at..(at + 1).min(e.span.end - 1).max(at)
                } else {
                    e.span.clone()
                };
                let file = self.toml.file.clone();
                self.error(
                    Problem::error("desired::invalid_constraint", format!("invalid `{table}.constraints`: {}", err.message))
                        .with_help("write attribute tests name:value joined by & (and), | (or), ! (not) and parentheses, e.g. \"rack:r1 & !zone:z2\"")
                        .with_label(&file, span, "here"),
                );
                None
            }
        }
    }

    fn master(&mut self, zookeeper: bool) -> Option<(MasterSpec, Vec<PortUse>)> {
        let count = self.setting_or(
            "master",
            "count",
            "alluxio.integration.mesos.master.node.count",
            &COUNT,
            1,
        );
        let cpus = self.setting_or(
            "master",
            "cpus",
            "alluxio.integration.master.resource.cpu",
            &CPUS,
            1.0,
        );
        let mem = self.setting_or(
            "master",
            "mem",
            "alluxio.integration.master.resource.mem",
            &SIZE,
            ByteSize::from_mb(1024),
        );
        let rpc = self.setting_or("master", "rpc_port", "alluxio.master.port", &PORT, 19998);
        let web = self.setting_or(
            "master",
            "web_port",
            "alluxio.master.web.port",
            &PORT,
            19999,
        );
        let name = self.setting_or(
            "master",
            "name",
            "alluxio.integration.mesos.master.name",
            &TEXT,
            "AlluxioMaster".into(),
        );
        let hostname = self.read_toml("master", "hostname", &TEXT);
        let command = self.read_toml("master", "command", &TEXT).map(|f| f.value);
        let health_check = self
            .read_toml("master", "health_check", &HEALTH_CHECK)
            .map(|f| f.value);
        let constraints = self.constraints("master");
        let mut ok = self.nonzero_mem("master.mem", &mem);
        if count.value == 0 {
            ok = false;
            self.error(
                Problem::error(
                    "desired::no_masters",
                    "the master count is 0: Alluxio needs at least one master",
                )
                .with_help("set count = 1 in [master] (or more, with ZooKeeper)")
                .with_located(count.at.as_ref()),
            );
        } else if count.value > 1
            && !zookeeper
            && !self.failed.contains("alluxio.zookeeper.address")
        {
            ok = false;
            self.error(
                Problem::error("desired::masters_without_zookeeper", format!("{} masters need ZooKeeper, which is not enabled", count.value))
                    .with_help("set alluxio.zookeeper.enabled=true and alluxio.zookeeper.address=zk1:2181,zk2:2181,zk3:2181 in the properties file, or use count = 1")
                    .with_located(count.at.as_ref()),
            );
        }
        if let (Some(h), true) = (&hostname, count.value > 1) {
            ok = false;
            self.error(
                Problem::error("desired::masters_on_one_host", format!("{} masters cannot all be pinned to one agent: they would need the same ports", count.value))
                    .with_help("remove `master.hostname`, or use constraints to choose a set of agents")
                    .with_located(h.at.as_ref()),
            );
        }
        let ports = vec![
            PortUse::new("alluxio.master.port", &rpc),
            PortUse::new("alluxio.master.web.port", &web),
        ];
        let spec = MasterSpec {
            count: count.value,
            cpus: cpus.value,
            mem: mem.value,
            rpc_port: rpc.value,
            web_port: web.value,
            hostname: hostname.map(|h| h.value),
            constraints: constraints?,
            task_name: name.value,
            command,
            health_check,
        };
        ok.then_some((spec, ports))
    }

    fn worker(&mut self) -> Option<(WorkerSpec, Vec<PortUse>)> {
        let count = self.read_toml("worker", "count", &WORKER_COUNT);
        let count = match count {
            Some(c) => c.value,
            None if self.failed.contains("worker.count") => return None,
            None => WorkerCount::All,
        };
        let cpus = self.setting_or(
            "worker",
            "cpus",
            "alluxio.integration.worker.resource.cpu",
            &CPUS,
            1.0,
        );
        let mem = self.setting_or(
            "worker",
            "mem",
            "alluxio.integration.worker.resource.mem",
            &SIZE,
            ByteSize::from_mb(1024),
        );
        let ramdisk = self.setting_or(
            "worker",
            "ramdisk",
            "alluxio.worker.memory.size",
            &SIZE,
            ByteSize(1 << 30),
        );
        let rpc = self.setting_or("worker", "rpc_port", "alluxio.worker.port", &PORT, 29998);
        let data = self.setting_or(
            "worker",
            "data_port",
            "alluxio.worker.data.port",
            &PORT,
            29999,
        );
        let web = self.setting_or(
            "worker",
            "web_port",
            "alluxio.worker.web.port",
            &PORT,
            30000,
        );
        let name = self.setting_or(
            "worker",
            "name",
            "alluxio.integration.mesos.worker.name",
            &TEXT,
            "AlluxioWorker".into(),
        );
        let command = self.read_toml("worker", "command", &TEXT).map(|f| f.value);
        let health_check = self
            .read_toml("worker", "health_check", &HEALTH_CHECK)
            .map(|f| f.value);
        let constraints = self.constraints("worker");
        let max_unavailable = self.read_toml("worker", "max_unavailable", &COUNT);
        let max_unavailable = match max_unavailable {
            Some(m) if m.value == 0 => {
                self.error(
                    Problem::error(
                        "desired::invalid_value",
                        "`worker.max_unavailable` is 0: no worker could ever be replaced",
                    )
                    .with_help("set max_unavailable = 1 or more (workers replaced at a time)")
                    .with_located(m.at.as_ref()),
                );
                None
            }
            Some(m) => Some(m.value),
            None if self.failed.contains("worker.max_unavailable") => None,
            None => Some(1),
        };
        let mem_ok = self.nonzero_mem("worker.mem", &mem);
        let ports = vec![
            PortUse::new("alluxio.worker.port", &rpc),
            PortUse::new("alluxio.worker.data.port", &data),
            PortUse::new("alluxio.worker.web.port", &web),
        ];
        let spec = WorkerSpec {
            count,
            cpus: cpus.value,
            mem: mem.value,
            ramdisk: ramdisk.value,
            rpc_port: rpc.value,
            data_port: data.value,
            web_port: web.value,
            max_unavailable: max_unavailable?,
            constraints: constraints?,
            task_name: name.value,
            command,
            health_check,
        };
        mem_ok.then_some((spec, ports))
    }

    /// A task needs some memory: Mesos refuses a task without it.
    fn nonzero_mem(&mut self, name: &str, mem: &Found<ByteSize>) -> bool {
        if mem.value.0 > 0 {
            return true;
        }
        self.error(
            Problem::error("desired::invalid_value", format!("`{name}` is 0"))
                .with_help("give the task memory, e.g. \"1024MB\"")
                .with_located(mem.at.as_ref()),
        );
        false
    }

    /// All five ports must differ: a master and a worker may share an agent.
    fn check_ports(
        &mut self,
        master: &(MasterSpec, Vec<PortUse>),
        worker: &(WorkerSpec, Vec<PortUse>),
    ) {
        let all: Vec<&PortUse> = master.1.iter().chain(worker.1.iter()).collect();
        let mut seen: BTreeMap<u16, Vec<&PortUse>> = BTreeMap::new();
        for p in all {
            seen.entry(p.port).or_default().push(p);
        }
        for (port, users) in seen.into_iter().filter(|(_, u)| u.len() > 1) {
            let names: Vec<String> = users
                .iter()
                .map(|u| match &u.place {
                    Some(p) => format!("{} (set in {p})", u.key),
                    None => format!("{} (by default)", u.key),
                })
                .collect();
            let mut problem = Problem::error(
                "desired::port_collision",
                format!("port {port} is used by {}", names.join(" and ")),
            )
            .with_help("give every port its own number: the two master ports and the three worker ports must all differ, since a master and a worker can run on the same agent");
            for u in &users {
                if let Some(l) = &u.at {
                    problem = problem.with_located(Some(&Label {
                        text: format!("{} = {port}", u.key),
                        ..l.clone()
                    }));
                }
            }
            self.error(problem);
        }
    }

    fn warn_unknown_integration_keys(&mut self) {
        let Some(props) = &self.props else { return };
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
            if KNOWN_PROPERTIES.contains(&k) {
                continue;
            }
            if !ours {
                // Any other Alluxio key may be meant for Alluxio itself; only
                // a near miss of a key this tool reads (a typo or two) is
                // worth a word, since the tool then silently uses a default.
                if let Some(c) = near_miss(k) {
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
            let best = KNOWN_PROPERTIES
                .iter()
                .map(|c| (strsim::jaro_winkler(k, c), *c))
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .filter(|(s, _)| *s >= 0.9);
            let help = match best {
                Some((_, c)) => format!("did you mean `{c}`?"),
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
    fn site(&self, ramdisk: Option<ByteSize>) -> SiteProperties {
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

/// Properties files are UTF-8 in practice; Java reads them as ISO-8859-1,
/// so a file that is not valid UTF-8 is decoded that way.
fn decode_properties(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes)
        .unwrap_or_else(|e| e.into_bytes().into_iter().map(char::from).collect())
}

/// One of the five ports, and where it was set.
struct PortUse {
    key: &'static str,
    port: u16,
    at: Option<Label>,
    place: Option<String>,
}

impl PortUse {
    fn new(key: &'static str, f: &Found<u16>) -> Self {
        PortUse {
            key,
            port: f.value,
            at: f.at.clone(),
            place: f.place.clone(),
        }
    }
}

/// The property keys alluxio-mesos reads (DESIGN.md section 3).
/// The key of [`KNOWN_PROPERTIES`] that `key` is one or two edits away
/// from (a typo, a transposition), if any.
fn near_miss(key: &str) -> Option<&'static str> {
    KNOWN_PROPERTIES
        .iter()
        .map(|c| (strsim::osa_distance(key, c), *c))
        .filter(|(d, _)| (1..=2).contains(d))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

pub const KNOWN_PROPERTIES: &[&str] = &[
    "alluxio.master.port",
    "alluxio.master.web.port",
    "alluxio.worker.port",
    "alluxio.worker.data.port",
    "alluxio.worker.web.port",
    "alluxio.integration.mesos.alluxio.jar.url",
    "alluxio.home",
    "alluxio.integration.mesos.jdk.url",
    "alluxio.integration.mesos.jdk.path",
    "alluxio.integration.master.resource.cpu",
    "alluxio.integration.master.resource.mem",
    "alluxio.integration.worker.resource.cpu",
    "alluxio.integration.worker.resource.mem",
    "alluxio.worker.memory.size",
    "alluxio.integration.mesos.master.node.count",
    "alluxio.integration.mesos.master.name",
    "alluxio.integration.mesos.worker.name",
    "alluxio.integration.mesos.principal",
    "alluxio.integration.mesos.secret",
    "alluxio.integration.mesos.role",
    "alluxio.integration.mesos.user",
    "alluxio.zookeeper.enabled",
    "alluxio.zookeeper.address",
    "alluxio.underfs.address",
];
