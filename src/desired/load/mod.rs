//! From the deployment file and the site properties to a validated [`Desired`].
//!
//! Every setting may come from the TOML file or from its Alluxio 1.x
//! property key. Each is read from both places, typed, and compared: equal
//! values are fine, different ones are an error naming both places. Errors
//! are collected so that one run shows all of them.

mod properties_file;
mod roles;
mod sections;

use crate::desired::constraint::{parse_constraint, Constraint};
use crate::desired::deployment_file::{self, DeploymentFile, TomlEntry};
use crate::desired::diagnostic::{DesiredError, Label, Problem, SourceFile};
use crate::desired::kinds::{
    type_name, Kind, Unfit, BOOL, COUNT, CPUS, DURATION, HEALTH_CHECK, KEY_PATTERNS, PORT,
    READY_WHEN, SIZE, TEXT, WORKER_COUNT,
};
use crate::desired::locator::{parse_master_locator, MASTER_FORMS};
use crate::desired::properties::{self, PropertyEntry};
use crate::desired::secrets::{Secret, SecretKeys, SiteProperties};
use crate::desired::settings::{self, RoleSettings, Setting, SECRET_PROPERTY};
use crate::desired::size::ByteSize;
use crate::desired::{
    AlluxioSource, Desired, Install, JdkSource, MasterSpec, MesosSettings, RoleSpec, SourceFiles,
    WorkerSpec,
};
use crate::limits::{size_text, ReadError};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A loaded deployment and the warnings found on the way (print them with miette).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub desired: Desired,
    /// Problems that do not stop the deployment (all of warning severity).
    pub warnings: Vec<Problem>,
}

/// The environment variable that may hold the framework secret.
pub const SECRET_ENV: &str = "ALLUXIO_MESOS_SECRET";
/// The secret of `[migrate] principal`, the operator who tears AlluxioFramework down.
pub const OPERATOR_SECRET_ENV: &str = "ALLUXIO_MESOS_OPERATOR_SECRET";

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
    let Some(e) = toml.get_setting(&settings::STATE_URL) else {
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

/// The default of `setting`, read as `kind`: the table's text is written
/// as in a properties file (a unit test checks that every one reads).
fn default_of<T>(setting: &Setting, kind: &Kind<T>) -> T {
    (kind.from_text)(setting.default_text())
        .unwrap_or_else(|e| panic!("the default of {} does not read: {e}", setting.name()))
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

    fn read_toml<T>(&mut self, setting: &Setting, kind: &Kind<T>) -> Option<Found<T>> {
        let e = self.toml.get_setting(setting)?.clone();
        let name = setting.name();
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

    fn read_prop<T>(&mut self, setting: &Setting, kind: &Kind<T>) -> Option<Found<T>> {
        let key = setting.property.expect("a setting with a property key");
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
        setting: &Setting,
        kind: &Kind<T>,
    ) -> Option<Found<T>> {
        let prop = setting.property.expect("a setting with a property key");
        let t = self.read_toml(setting, kind);
        let p = self.read_prop(setting, kind);
        if let Some(t) = &t {
            self.toml_site
                .insert(prop.to_string(), (kind.show)(&t.value));
            self.toml_names.insert(prop.to_string(), setting.name());
        }
        match (t, p) {
            (Some(t), Some(p)) if t.value != p.value => {
                let name = setting.name();
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

    /// A setting, or its default from the settings table.
    fn setting_or_default<T: PartialEq + Clone>(
        &mut self,
        setting: &Setting,
        kind: &Kind<T>,
    ) -> Found<T> {
        match setting.property {
            Some(_) => self.setting(setting, kind),
            None => self.read_toml(setting, kind),
        }
        .unwrap_or_else(|| Found::default(default_of(setting, kind)))
    }

    /// A setting, its default when written nowhere, or None when its value
    /// was invalid (the error is reported).
    fn setting_unless_failed<T: PartialEq + Clone>(
        &mut self,
        setting: &Setting,
        kind: &Kind<T>,
    ) -> Option<Found<T>> {
        let found = self.setting_or_default(setting, kind);
        (!self.failed(setting)).then_some(found)
    }

    /// Whether reading `setting` failed with an error already reported.
    fn failed(&self, setting: &Setting) -> bool {
        self.failed.contains(&setting.name())
            || setting.property.is_some_and(|p| self.failed.contains(p))
    }

    fn error(&mut self, p: Problem) {
        self.errors.push(p);
    }

    /// A path from the TOML file, relative to the deployment file's directory.
    fn toml_path(&mut self, setting: &Setting) -> Option<(PathBuf, Found<String>)> {
        let f = self.read_toml(setting, &TEXT)?;
        Some((self.base.join(&f.value), f))
    }

    /// A path that must exist (ca_cert, local_cluster).
    fn existing_path(&mut self, setting: &Setting, what: &str) -> Option<PathBuf> {
        let (path, f) = self.toml_path(setting)?;
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
                setting.name()
            ))
            .with_located(f.at.as_ref()),
        );
        None
    }

    fn build(
        &mut self,
        deployment: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Desired> {
        let name = self.read_toml(&settings::NAME, &TEXT);
        if name.is_none() && !self.failed(&settings::NAME) {
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
}
