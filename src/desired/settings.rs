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

use Fallback::{Derived, Required};

pub const NAME: Setting = toml("", "name", Type::Text, "deployment name").fallback(Required);

pub const STATE_URL: Setting = toml("state", "url", Type::Text, "where the state lives: `zk://[user:password@]host:port[,host:port...]/path` keeps it in ZooKeeper under `path` (one path per deployment, e.g. `/alluxio-mesos/prod`), shared by every operator and CI; a file path keeps it in that file. `--state` and `ALLUXIO_MESOS_STATE` override it. See [state-file.md](state-file.md#where-the-state-lives)")
    .fallback(Derived("the file `alluxio-mesos.state.json` beside the deployment file"));

pub const MESOS_MASTER: Setting = toml("mesos", "master", Type::Text, "`http(s)://host:port`, a comma-separated list of such URLs (tried in order), `zk://[user:pass@]host:port,.../path`, or `\"local\"` (the embedded emulator)")
    .fallback(Derived("none: `--mesos` must say"));
pub const FRAMEWORK_NAME: Setting = toml(
    "mesos",
    "framework_name",
    Type::Text,
    "Mesos framework name",
)
.fallback(Derived("`name`"));
pub const PRINCIPAL: Setting = both(
    "mesos",
    "principal",
    "alluxio.integration.mesos.principal",
    Type::Text,
    "framework principal",
)
.value("alluxio");
pub const SECRET_FILE: Setting = toml(
    "mesos",
    "secret_file",
    Type::Path,
    "file holding the framework secret (one line)",
);
pub const ROLE: Setting = both(
    "mesos",
    "role",
    "alluxio.integration.mesos.role",
    Type::Text,
    "role the framework registers with",
)
.value("*");
pub const USER: Setting = both(
    "mesos",
    "user",
    "alluxio.integration.mesos.user",
    Type::Text,
    "Unix user the tasks run as",
)
.fallback(Derived(
    "`$USER`, then `$LOGNAME`, then the account name of the effective uid (as `id -un`)",
))
.feeds("user");
pub const FAILOVER_TIMEOUT: Setting = toml(
    "mesos",
    "failover_timeout",
    Type::Duration,
    "how long Mesos keeps the tasks after the CLI disconnects; must be more than 0",
)
.value("4w");
pub const CA_CERT: Setting = toml(
    "mesos",
    "ca_cert",
    Type::Path,
    "CA certificate for an `https://` master; must exist",
);
pub const LOCAL_CLUSTER: Setting = toml(
    "mesos",
    "local_cluster",
    Type::Path,
    "emulator cluster file for `master = \"local\"`; must exist",
)
.fallback(Derived("built-in three agents"));

pub const SITE_PROPERTIES: Setting = toml(
    "alluxio",
    "site_properties",
    Type::Path,
    "the properties file; it must exist",
)
.value("alluxio-site.properties");
pub const SECRET_PROPERTIES: Setting = toml("alluxio", "secret_properties", Type::KeyPatterns, "more property keys to treat as secrets, `*` matching any run of characters (`[\"acme.vault.*\"]`); see [What the tasks see](#what-the-tasks-see)")
    .fallback(Derived("`[]`"));
pub const JAR_URL: Setting = both("alluxio", "jar_url", "alluxio.integration.mesos.alluxio.jar.url", Type::Text, "`LOCAL` (installed on every agent at `home`) or the URL of an Alluxio tarball for Mesos to fetch")
    .fallback(Required);
pub const HOME: Setting = both(
    "alluxio",
    "home",
    "alluxio.home",
    Type::Text,
    "install path on the agents; required when `jar_url` is `LOCAL`",
);
pub const JDK_URL: Setting = both(
    "alluxio",
    "jdk_url",
    "alluxio.integration.mesos.jdk.url",
    Type::Text,
    "`LOCAL` (Java on the agents) or a JDK tarball URL",
)
.value("LOCAL");
pub const JDK_PATH: Setting = both(
    "alluxio",
    "jdk_path",
    "alluxio.integration.mesos.jdk.path",
    Type::Text,
    "directory the JDK tarball unpacks to (JAVA_HOME); required with a JDK URL",
);

pub const MASTER_COUNT: Setting = both("master", "count", "alluxio.integration.mesos.master.node.count", Type::Count, "number of masters, at least 1; more than 1 needs `alluxio.zookeeper.enabled=true` and `alluxio.zookeeper.address`. A change launches or kills masters and replaces none")
    .value("1")
    .scope(Scope::Deployment);
pub const MASTER_CPUS: Setting = both(
    "master",
    "cpus",
    "alluxio.integration.master.resource.cpu",
    Type::Cpus,
    "CPUs per master, more than 0",
)
.value("1")
.scope(Scope::Master)
.feeds("cpus");
pub const MASTER_MEM: Setting = both(
    "master",
    "mem",
    "alluxio.integration.master.resource.mem",
    Type::Size,
    "memory per master",
)
.value("1024MB")
.scope(Scope::Master)
.feeds("mem");
pub const MASTER_RPC_PORT: Setting =
    both("master", "rpc_port", "alluxio.master.port", Type::Port, "")
        .value("19998")
        .scope(Scope::Master)
        .feeds("ports");
pub const MASTER_WEB_PORT: Setting = both(
    "master",
    "web_port",
    "alluxio.master.web.port",
    Type::Port,
    "",
)
.value("19999")
.scope(Scope::Master)
.feeds("ports");
pub const MASTER_NAME: Setting = both(
    "master",
    "name",
    "alluxio.integration.mesos.master.name",
    Type::Text,
    "task name",
)
.value("AlluxioMaster")
.scope(Scope::Master)
.feeds("task name");
pub const MASTER_HOSTNAME: Setting = toml(
    "master",
    "hostname",
    Type::Text,
    "pin the master to this agent (only with `count = 1`)",
);
pub const MASTER_CONSTRAINTS: Setting = toml(
    "master",
    "constraints",
    Type::Text,
    "agent attribute expression, see below",
);
pub const MASTER_COMMAND: Setting = toml(
    "master",
    "command",
    Type::Text,
    "run this command (Mesos command executor) instead of the Alluxio scripts",
);
pub const MASTER_HEALTH_CHECK: Setting = toml("master", "health_check", Type::HealthCheck, "`{ tcp = true }` (TCP on the RPC port) or `{ http = \"/path\" }` (HTTP on the web port): passed to Mesos as the task's health check; apply waits until Mesos reports the task healthy. TOML only");

pub const WORKER_COUNT: Setting = toml(
    "worker",
    "count",
    Type::WorkerCount,
    "one worker per eligible agent, or this many",
)
.value("all");
pub const WORKER_CPUS: Setting = both(
    "worker",
    "cpus",
    "alluxio.integration.worker.resource.cpu",
    Type::Cpus,
    "CPUs per worker, more than 0",
)
.value("1")
.scope(Scope::Worker)
.feeds("cpus");
pub const WORKER_MEM: Setting = both(
    "worker",
    "mem",
    "alluxio.integration.worker.resource.mem",
    Type::Size,
    "JVM heap and overhead per worker",
)
.value("1024MB")
.scope(Scope::Worker)
.feeds("mem");
pub const WORKER_RAMDISK: Setting = both(
    "worker",
    "ramdisk",
    "alluxio.worker.memory.size",
    Type::Size,
    "worker ramdisk; Mesos accounts for it on top of `mem`",
)
.value("1GB")
.scope(Scope::Worker)
.feeds("ramdisk");
pub const WORKER_RPC_PORT: Setting =
    both("worker", "rpc_port", "alluxio.worker.port", Type::Port, "")
        .value("29998")
        .scope(Scope::Worker)
        .feeds("ports");
pub const WORKER_DATA_PORT: Setting = both(
    "worker",
    "data_port",
    "alluxio.worker.data.port",
    Type::Port,
    "",
)
.value("29999")
.scope(Scope::Worker)
.feeds("ports");
pub const WORKER_WEB_PORT: Setting = both(
    "worker",
    "web_port",
    "alluxio.worker.web.port",
    Type::Port,
    "",
)
.value("30000")
.scope(Scope::Worker)
.feeds("ports");
pub const MAX_UNAVAILABLE: Setting = toml(
    "worker",
    "max_unavailable",
    Type::Count,
    "workers replaced at a time, at least 1",
)
.value("1");
pub const WORKER_NAME: Setting = both(
    "worker",
    "name",
    "alluxio.integration.mesos.worker.name",
    Type::Text,
    "task name",
)
.value("AlluxioWorker")
.scope(Scope::Worker)
.feeds("task name");
pub const WORKER_CONSTRAINTS: Setting = toml(
    "worker",
    "constraints",
    Type::Text,
    "agent attribute expression, see below",
);
pub const WORKER_COMMAND: Setting = toml("worker", "command", Type::Text, "as for the master");
pub const WORKER_HEALTH_CHECK: Setting = toml(
    "worker",
    "health_check",
    Type::HealthCheck,
    "as for the master",
);

pub const ZOOKEEPER_ENABLED: Setting = property(
    "alluxio.zookeeper.enabled",
    Type::Bool,
    "`true` or `false`; needed (with the address) for more than one master",
);
pub const ZOOKEEPER_ADDRESS: Setting = property(
    "alluxio.zookeeper.address",
    Type::Text,
    "`zk1:2181,zk2:2181,...`",
);
/// The property holding the framework secret (AlluxioFramework's place for it).
pub const SECRET_PROPERTY: &str = "alluxio.integration.mesos.secret";
/// The framework secret in the properties file; never passed to the tasks.
pub const SECRET: Setting = property(
    SECRET_PROPERTY,
    Type::Text,
    "the framework secret, accepted with a warning (prefer `[mesos] secret_file`); never passed to the tasks",
);
/// Read by Alluxio, not by us: listed so that a misspelling of it is caught.
pub const UNDERFS_ADDRESS: Setting = property(
    "alluxio.underfs.address",
    Type::Text,
    "passed to the tasks unchanged, like every other property",
);

/// The settings of what both roles have (a [`crate::desired::RoleSpec`]), for one role.
pub struct RoleSettings {
    pub cpus: Setting,
    pub mem: Setting,
    pub rpc_port: Setting,
    pub web_port: Setting,
    pub name: Setting,
    pub command: Setting,
    pub health_check: Setting,
    pub constraints: Setting,
}

pub const MASTER: RoleSettings = RoleSettings {
    cpus: MASTER_CPUS,
    mem: MASTER_MEM,
    rpc_port: MASTER_RPC_PORT,
    web_port: MASTER_WEB_PORT,
    name: MASTER_NAME,
    command: MASTER_COMMAND,
    health_check: MASTER_HEALTH_CHECK,
    constraints: MASTER_CONSTRAINTS,
};

pub const WORKER: RoleSettings = RoleSettings {
    cpus: WORKER_CPUS,
    mem: WORKER_MEM,
    rpc_port: WORKER_RPC_PORT,
    web_port: WORKER_WEB_PORT,
    name: WORKER_NAME,
    command: WORKER_COMMAND,
    health_check: WORKER_HEALTH_CHECK,
    constraints: WORKER_CONSTRAINTS,
};

/// Every setting, in the order of the documentation.
pub const SETTINGS: &[Setting] = &[
    NAME,
    MESOS_MASTER,
    FRAMEWORK_NAME,
    PRINCIPAL,
    SECRET_FILE,
    ROLE,
    USER,
    FAILOVER_TIMEOUT,
    CA_CERT,
    LOCAL_CLUSTER,
    SITE_PROPERTIES,
    SECRET_PROPERTIES,
    JAR_URL,
    HOME,
    JDK_URL,
    JDK_PATH,
    MASTER_COUNT,
    MASTER_CPUS,
    MASTER_MEM,
    MASTER_RPC_PORT,
    MASTER_WEB_PORT,
    MASTER_NAME,
    MASTER_HOSTNAME,
    MASTER_CONSTRAINTS,
    MASTER_COMMAND,
    MASTER_HEALTH_CHECK,
    WORKER_COUNT,
    WORKER_CPUS,
    WORKER_MEM,
    WORKER_RAMDISK,
    WORKER_RPC_PORT,
    WORKER_DATA_PORT,
    WORKER_WEB_PORT,
    MAX_UNAVAILABLE,
    WORKER_NAME,
    WORKER_CONSTRAINTS,
    WORKER_COMMAND,
    WORKER_HEALTH_CHECK,
    STATE_URL,
    ZOOKEEPER_ENABLED,
    ZOOKEEPER_ADDRESS,
    SECRET,
    UNDERFS_ADDRESS,
];

/// The tables of the deployment file, in the order of the documentation
/// (`""`: the top level).
pub const TABLES: [&str; 6] = ["", "mesos", "alluxio", "master", "worker", "state"];

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

/// The property keys that feed `field` of `role`'s configuration, in the
/// order of the field's values (for `ports`: the order of `ports()`).
pub fn properties_feeding(role: Role, field: &str) -> Vec<&'static str> {
    SETTINGS
        .iter()
        .filter(|s| s.field == Some(field) && s.scope.concerns(role))
        .filter_map(|s| s.property)
        .collect()
}

/// The configuration fields that properties feed, for `role`.
pub fn fed_fields(role: Role) -> Vec<&'static str> {
    let mut fields: Vec<&'static str> = SETTINGS
        .iter()
        .filter(|s| s.property.is_some() && s.scope.concerns(role))
        .filter_map(|s| s.field)
        .collect();
    fields.dedup();
    fields
}

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
        assert_eq!(
            properties_feeding(Role::Worker, "ports"),
            [
                "alluxio.worker.port",
                "alluxio.worker.data.port",
                "alluxio.worker.web.port"
            ]
        );
        assert_eq!(
            fed_fields(Role::Master),
            ["user", "cpus", "mem", "ports", "task name"]
        );
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
                panic!("docs/deployment-file.md is out of date with src/desired/settings.rs: run `UPDATE_DOCS=1 cargo test --lib settings` and commit the result");
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
