//! Every setting alluxio-mesos reads, defined once: where it is written
//! (deployment file key, Alluxio property key, or both), its type, its
//! default, which tasks it concerns, and its documentation line.
//!
//! The loader reads each setting through its entry here, the unknown-key
//! checks and did-you-mean suggestions list these keys, the planner takes
//! a property's scope and the configuration field it feeds from here, and
//! the key tables of `docs/deployment-file.md` are generated from
//! [`SETTINGS`] (a test keeps the committed file current).
//!
//! A property that only needs its scope known (which tasks a change
//! replaces) is one entry in [`SETTINGS`], e.g.
//! `property("alluxio.foo.bar", Type::Text, "what it does").scope(Scope::Worker)`;
//! then `UPDATE_DOCS=1 cargo test --lib settings` regenerates the docs.
//! A setting the loader reads also gets a named constant, read in `load`.

use crate::address::Role;
use std::sync::LazyLock;

/// Which tasks a site property concerns: changing it replaces those.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Master,
    Worker,
    /// Read by Alluxio clients only: no task needs replacing.
    Client,
    /// Read by alluxio-mesos to shape the deployment (how many masters):
    /// the plan adds or removes tasks, and none is replaced for it.
    Deployment,
    Both,
}

impl Scope {
    /// Whether a change under this scope concerns `role`'s tasks.
    pub fn concerns(self, role: Role) -> bool {
        matches!(
            (role, self),
            (_, Scope::Both) | (Role::Master, Scope::Master) | (Role::Worker, Scope::Worker)
        )
    }
}

/// The type of a setting, as documented (the typed readers are in `kinds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Text,
    Path,
    KeyPatterns,
    Count,
    WorkerCount,
    Cpus,
    Size,
    Port,
    Bool,
    Duration,
    HealthCheck,
    ReadyWhen,
}

impl Type {
    fn doc(self) -> &'static str {
        match self {
            Type::Text => "string",
            Type::Path => "path",
            Type::KeyPatterns => "array of strings",
            Type::Count | Type::Port => "integer",
            Type::WorkerCount => "`\"all\"` or integer",
            Type::Cpus => "number",
            Type::Size => "size",
            Type::Bool => "boolean",
            Type::Duration => "duration",
            Type::HealthCheck => "table",
            Type::ReadyWhen => "`\"alluxio\"` or `\"mesos\"`",
        }
    }
}

/// What applies when a setting is written nowhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// The loader refuses the deployment without it.
    Required,
    /// This value, written as in a properties file (the loader parses it).
    Value(&'static str),
    /// Something the loader works out; the text says what (documentation only).
    Derived(&'static str),
    /// No value: the feature is off.
    Unset,
}

/// One setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// Table (`""`: the top level) and key in the deployment file; None:
    /// the properties file only.
    pub toml: Option<(&'static str, &'static str)>,
    /// The Alluxio 1.x property key; None: the deployment file only.
    pub property: Option<&'static str>,
    pub ty: Type,
    pub fallback: Fallback,
    /// Which tasks a change concerns (for a setting with a property key).
    pub scope: Scope,
    /// The field of a role's configuration that holds this setting's value,
    /// so that a change is explained once, as the user wrote it.
    pub field: Option<&'static str>,
    pub doc: &'static str,
}

impl Setting {
    /// `table.key` as users write it in messages (`master.cpus`).
    pub fn name(&self) -> String {
        match self.toml {
            Some(("", key)) => key.to_string(),
            Some((table, key)) => format!("{table}.{key}"),
            None => self.property.unwrap_or_default().to_string(),
        }
    }

    /// The default value's text; panics for a setting without one (a bug
    /// in the table, which a unit test rules out).
    pub fn default_text(&self) -> &'static str {
        match self.fallback {
            Fallback::Value(v) => v,
            other => panic!("{} has no default value ({other:?})", self.name()),
        }
    }
}

/// The settings of what both roles have (a [`crate::desired::RoleSpec`]), for one role.
pub struct RoleSettings {
    pub cpus: Setting,
    pub mem: Setting,
    pub rpc_port: Setting,
    pub web_port: Setting,
    pub name: Setting,
    pub command: Setting,
    pub health_check: Setting,
    pub ready: Setting,
    pub ready_timeout: Setting,
    pub constraints: Setting,
}

const fn toml(table: &'static str, key: &'static str, ty: Type, doc: &'static str) -> Setting {
    Setting {
        toml: Some((table, key)),
        property: None,
        ty,
        fallback: Fallback::Unset,
        scope: Scope::Both,
        field: None,
        doc,
    }
}

const fn both(
    table: &'static str,
    key: &'static str,
    property: &'static str,
    ty: Type,
    doc: &'static str,
) -> Setting {
    Setting {
        property: Some(property),
        ..toml(table, key, ty, doc)
    }
}

const fn property(property: &'static str, ty: Type, doc: &'static str) -> Setting {
    Setting {
        toml: None,
        property: Some(property),
        ty,
        fallback: Fallback::Unset,
        scope: Scope::Both,
        field: None,
        doc,
    }
}

impl Setting {
    const fn fallback(self, fallback: Fallback) -> Setting {
        Setting { fallback, ..self }
    }
    const fn value(self, text: &'static str) -> Setting {
        self.fallback(Fallback::Value(text))
    }
    const fn scope(self, scope: Scope) -> Setting {
        Setting { scope, ..self }
    }
    /// The property feeds `field` of the configuration of the tasks in its scope.
    const fn feeds(self, field: &'static str) -> Setting {
        Setting {
            field: Some(field),
            ..self
        }
    }
}

mod docs;
mod table;

pub use docs::{docs_table, refresh_docs};
pub use table::*;

/// The tables of the deployment file, in the order of the documentation
/// (`""`: the top level).
pub const TABLES: [&str; 7] = [
    "", "mesos", "alluxio", "master", "worker", "state", "migrate",
];

/// The keys of `table` in the deployment file (the top level also holds
/// the tables themselves).
pub fn toml_keys(table: &str) -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = SETTINGS
        .iter()
        .filter_map(|s| s.toml)
        .filter(|(t, _)| *t == table)
        .map(|(_, k)| k)
        .collect();
    if table.is_empty() {
        keys.extend(TABLES.iter().filter(|t| !t.is_empty()));
    }
    keys
}

/// Every property key alluxio-mesos reads.
pub fn known_properties() -> Vec<&'static str> {
    SETTINGS.iter().filter_map(|s| s.property).collect()
}

/// The setting read from `property`, if alluxio-mesos reads it.
pub fn by_property(property: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.property == Some(property))
}

/// Which tasks a site property concerns: the table's scope for a key
/// alluxio-mesos reads; otherwise by Alluxio's own prefixes:
/// `alluxio.master.*` masters, `alluxio.worker.*` workers, `alluxio.user.*`
/// clients, every other key both.
pub fn property_scope(key: &str) -> Scope {
    if let Some(s) = by_property(key) {
        return s.scope;
    }
    const MASTER: [&str; 3] = [
        "alluxio.master.",
        "alluxio.integration.master.",
        "alluxio.integration.mesos.master.",
    ];
    const WORKER: [&str; 3] = [
        "alluxio.worker.",
        "alluxio.integration.worker.",
        "alluxio.integration.mesos.worker.",
    ];
    if MASTER.iter().any(|p| key.starts_with(p)) {
        Scope::Master
    } else if WORKER.iter().any(|p| key.starts_with(p)) {
        Scope::Worker
    } else if key.starts_with("alluxio.user.") {
        Scope::Client
    } else {
        Scope::Both
    }
}

/// A configuration field and the property keys that feed it, in the order
/// of the field's values (for `ports`: the order of `ports()`).
pub type FedField = (&'static str, Vec<&'static str>);

/// The configuration fields that properties feed for `role`, in table
/// order: worked out once, as the planner asks for every task it explains.
pub fn fed_fields(role: Role) -> &'static [FedField] {
    static MASTER: LazyLock<Vec<FedField>> = LazyLock::new(|| feeding(Role::Master));
    static WORKER: LazyLock<Vec<FedField>> = LazyLock::new(|| feeding(Role::Worker));
    match role {
        Role::Master => &MASTER,
        Role::Worker => &WORKER,
    }
}

fn feeding(role: Role) -> Vec<FedField> {
    let mut fed: Vec<FedField> = Vec::new();
    for s in SETTINGS.iter().filter(|s| s.scope.concerns(role)) {
        let (Some(field), Some(property)) = (s.field, s.property) else {
            continue;
        };
        match fed.iter_mut().find(|(f, _)| *f == field) {
            Some((_, properties)) => properties.push(property),
            None => fed.push((field, vec![property])),
        }
    }
    fed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::kinds::{BOOL, COUNT, CPUS, DURATION, PORT, SIZE, TEXT, WORKER_COUNT};
    use std::collections::HashSet;

    /// Whether `text` reads as a value of `ty`, as the loader will read it.
    fn reads_as(ty: Type, text: &str) -> Result<(), String> {
        fn ok<T>(r: Result<T, String>) -> Result<(), String> {
            r.map(drop)
        }
        match ty {
            Type::Text | Type::Path => ok((TEXT.from_text)(text)),
            Type::Count => ok((COUNT.from_text)(text)),
            Type::WorkerCount => ok((WORKER_COUNT.from_text)(text)),
            Type::Cpus => ok((CPUS.from_text)(text)),
            Type::Size => ok((SIZE.from_text)(text)),
            Type::Port => ok((PORT.from_text)(text)),
            Type::Bool => ok((BOOL.from_text)(text)),
            Type::Duration => ok((DURATION.from_text)(text)),
            Type::ReadyWhen => ok((crate::desired::kinds::READY_WHEN.from_text)(text)),
            Type::HealthCheck | Type::KeyPatterns => Err("no text form".into()),
        }
    }

    #[test]
    fn every_default_value_reads_as_its_type() {
        for s in SETTINGS {
            if let Fallback::Value(v) = s.fallback {
                reads_as(s.ty, v).unwrap_or_else(|e| panic!("{}: {v:?}: {e}", s.name()));
            }
        }
    }

    #[test]
    fn every_key_and_property_is_defined_once() {
        let mut seen = HashSet::new();
        for s in SETTINGS {
            assert!(s.toml.is_some() || s.property.is_some(), "{s:?}");
            if let Some(t) = s.toml {
                assert!(seen.insert(format!("{t:?}")), "{} twice", s.name());
                assert!(TABLES.contains(&t.0), "{} is in no table", s.name());
            }
            if let Some(p) = s.property {
                assert!(seen.insert(p.to_string()), "{p} twice");
            }
        }
    }

    #[test]
    fn a_field_is_fed_only_by_properties_of_its_own_scope() {
        for s in SETTINGS.iter().filter(|s| s.field.is_some()) {
            assert!(
                s.property.is_some(),
                "{} feeds a field without a property",
                s.name()
            );
            assert!(
                matches!(s.scope, Scope::Master | Scope::Worker | Scope::Both),
                "{} feeds a field of the tasks, so its scope is theirs",
                s.name()
            );
        }
        let worker_ports = fed_fields(Role::Worker)
            .iter()
            .find(|(f, _)| *f == "ports")
            .map(|(_, properties)| properties.as_slice());
        assert_eq!(
            worker_ports,
            Some(
                &[
                    "alluxio.worker.port",
                    "alluxio.worker.data.port",
                    "alluxio.worker.web.port"
                ][..]
            )
        );
        let master: Vec<&str> = fed_fields(Role::Master).iter().map(|(f, _)| *f).collect();
        assert_eq!(master, ["user", "cpus", "mem", "ports", "task name"]);
    }

    #[test]
    fn scopes_come_from_the_table_then_from_alluxio_prefixes() {
        assert_eq!(property_scope("alluxio.master.port"), Scope::Master);
        assert_eq!(
            property_scope("alluxio.integration.master.resource.mem"),
            Scope::Master
        );
        assert_eq!(
            property_scope("alluxio.integration.mesos.master.node.count"),
            Scope::Deployment
        );
        assert_eq!(
            property_scope("alluxio.master.journal.folder"),
            Scope::Master
        );
        assert_eq!(property_scope("alluxio.worker.memory.size"), Scope::Worker);
        assert_eq!(
            property_scope("alluxio.integration.mesos.worker.name"),
            Scope::Worker
        );
        assert_eq!(
            property_scope("alluxio.user.file.buffer.bytes"),
            Scope::Client
        );
        assert_eq!(property_scope("alluxio.underfs.address"), Scope::Both);
    }
}
