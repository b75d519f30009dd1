//! What a task of each role is configured with, and what changed.
//!
//! A role's configuration is a flat, ordered map of everything that, when
//! changed, requires relaunching that role's tasks: resources, ports, the
//! install source and the site properties in the role's scope. Its hash
//! labels the task in Mesos; comparing two maps explains a replacement.
//!
//! Which role a site property concerns, and which configuration field a
//! setting's property feeds, come from the settings table
//! ([`crate::desired::settings`]).

use crate::address::Role;
use crate::desired::secrets::{SecretHasher, SecretKeys, REDACTED};
use crate::desired::settings::{self, property_scope, Scope};
use crate::desired::{AlluxioSource, Desired, JdkSource};
use crate::fit::fmt_num;
use crate::state::AppliedConfig;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The prefix of site property entries in a [`RoleConfig`].
const PROPERTY: &str = "property ";

/// Everything a role's tasks are launched with, as `name -> value` text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleConfig {
    pub fields: BTreeMap<String, String>,
}

impl RoleConfig {
    /// Short stable hash (16 hex digits of SHA-256 over the fields).
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        for (k, v) in &self.fields {
            h.update(k.as_bytes());
            h.update([0]);
            h.update(v.as_bytes());
            h.update([b'\n']);
        }
        hex::encode(&h.finalize()[..8])
    }

    /// One reason per cause that differs from `before`, `old -> new`,
    /// secrets redacted. A resource or port a site property sets is one
    /// cause, not two: it is named as the user wrote it (`names`: the
    /// deployment file's `table.key` by property key; else the property).
    pub fn explain_changes(
        &self,
        before: &RoleConfig,
        role: Role,
        names: &BTreeMap<String, String>,
        secrets: &SecretKeys,
    ) -> Vec<String> {
        let derived = settings::fed_fields(role);
        let covered = |key: &str| {
            key.strip_prefix(PROPERTY)
                .is_some_and(|p| derived.iter().any(|(_, props)| props.contains(&p)))
        };
        let mut reasons = Vec::new();
        let keys: std::collections::BTreeSet<&String> =
            self.fields.keys().chain(before.fields.keys()).collect();
        for key in keys {
            let (old, new) = (before.fields.get(key), self.fields.get(key));
            if old == new || covered(key) || !concerns(key, role) {
                continue;
            }
            if let Some((_, props)) = derived.iter().find(|(f, _)| f == key) {
                // A property in neither configuration was written nowhere
                // (the value came from elsewhere, e.g. $USER): the field
                // names the change then.
                let name = |p: &str| match names.get(p) {
                    Some(written_as) => written_as.clone(),
                    None if self.fields.contains_key(&format!("{PROPERTY}{p}"))
                        || before.fields.contains_key(&format!("{PROPERTY}{p}")) =>
                    {
                        p.to_string()
                    }
                    None => key.clone(),
                };
                if let Some(lines) = explain_derived(props, old, new, &name) {
                    reasons.extend(lines);
                    continue;
                }
            }
            let shown = |v: Option<&String>| match v {
                None => "(unset)".to_string(),
                Some(_) if is_secret_field(key, secrets) => REDACTED.to_string(),
                Some(v) => v.clone(),
            };
            let label = key.strip_prefix(PROPERTY).unwrap_or(key);
            if is_secret_field(key, secrets) && old.is_some() && new.is_some() {
                reasons.push(format!("{label}: {REDACTED} (changed)"));
            } else {
                reasons.push(format!("{label}: {} -> {}", shown(old), shown(new)));
            }
        }
        reasons
    }
}

/// One line per property of a derived field whose value changed, named as
/// the user wrote it (`name`); None when the values do not split as the
/// properties do (then the field explains itself).
fn explain_derived(
    props: &[&str],
    old: Option<&String>,
    new: Option<&String>,
    name: &dyn Fn(&str) -> String,
) -> Option<Vec<String>> {
    let split = |v: Option<&String>| -> Option<Vec<String>> {
        let v = v?;
        let parts: Vec<String> = if props.len() == 1 {
            vec![v.clone()]
        } else {
            v.split(',').map(str::to_string).collect()
        };
        (parts.len() == props.len()).then_some(parts)
    };
    let (old, new) = (split(old)?, split(new)?);
    Some(
        props
            .iter()
            .zip(old.iter().zip(&new))
            .filter(|(_, (o, n))| o != n)
            .map(|(p, (o, n))| format!("{}: {o} -> {n}", name(p)))
            .collect(),
    )
}

/// Whether a configuration field concerns `role`'s tasks: a property field
/// recorded by an earlier version may since have left the role's scope.
fn concerns(field: &str, role: Role) -> bool {
    field
        .strip_prefix(PROPERTY)
        .is_none_or(|p| property_scope(p).concerns(role))
}

fn is_secret_field(field: &str, secrets: &SecretKeys) -> bool {
    field
        .strip_prefix(PROPERTY)
        .is_some_and(|k| secrets.is_secret(k))
}

/// The install source as shown in plans: `LOCAL /opt/alluxio` or the tarball URL.
pub fn install_label(desired: &Desired) -> String {
    let alluxio = match &desired.install.alluxio {
        AlluxioSource::Local { home } => format!("LOCAL {home}"),
        AlluxioSource::Tarball { url } => url.clone(),
    };
    match &desired.install.jdk {
        JdkSource::Local => alluxio,
        JdkSource::Download { url, .. } => format!("{alluxio} + JDK {url}"),
    }
}

fn ports_text(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The fields both roles have: the install, the user, the site properties
/// in the role's scope, and the task's resources, ports and how it runs.
fn common_fields(desired: &Desired, role: Role, hasher: &SecretHasher) -> RoleConfig {
    let mut fields = BTreeMap::new();
    fields.insert("install".to_string(), install_label(desired));
    if let JdkSource::Download { path, .. } = &desired.install.jdk {
        fields.insert("install JAVA_HOME".to_string(), path.clone());
    }
    fields.insert("user".to_string(), desired.mesos.user.clone());
    for (key, value) in desired.site.fingerprinted(hasher) {
        if property_scope(&key).concerns(role) {
            fields.insert(format!("{PROPERTY}{key}"), value);
        }
    }
    let spec = desired.role(role);
    fields.insert("cpus".into(), fmt_num(spec.cpus));
    fields.insert("mem".into(), spec.mem.to_string());
    fields.insert("ports".into(), ports_text(&desired.ports(role)));
    fields.insert("task name".into(), spec.task_name.clone());
    if let Some(cmd) = &spec.command {
        fields.insert("command".into(), cmd.clone());
    }
    if let Some(h) = &spec.health_check {
        fields.insert("health check".into(), h.to_string());
    }
    RoleConfig { fields }
}

pub fn master_config(desired: &Desired, hasher: &SecretHasher) -> RoleConfig {
    common_fields(desired, Role::Master, hasher)
}

/// Workers also depend on where the masters run when ZooKeeper is off:
/// they are started with the master's hostname.
pub fn worker_config(
    desired: &Desired,
    hasher: &SecretHasher,
    master_hosts: &[String],
) -> RoleConfig {
    let mut c = common_fields(desired, Role::Worker, hasher);
    c.fields
        .insert("ramdisk".into(), desired.worker.ramdisk.to_string());
    if desired.zookeeper.is_none() {
        c.fields
            .insert("master hostname".into(), master_hosts.join(","));
    }
    c
}

/// The effective properties as stored in state and plan files (secrets fingerprinted).
pub fn stored_properties(desired: &Desired, hasher: &SecretHasher) -> BTreeMap<String, String> {
    desired.site.fingerprinted(hasher)
}

/// What the state file records of `desired` once applied, with the
/// masters on `master_hosts`: the next plan diffs against it.
pub fn applied_config(
    desired: &Desired,
    hasher: &SecretHasher,
    master_hosts: &[String],
) -> AppliedConfig {
    AppliedConfig {
        site_properties: stored_properties(desired, hasher),
        master: master_config(desired, hasher).fields,
        worker: worker_config(desired, hasher, master_hosts).fields,
        // The planner adds the tasks it keeps under older labels.
        launched: BTreeMap::new(),
    }
}

/// Unified diff of the site properties, last applied vs desired, secrets redacted.
/// Empty when nothing changed.
pub fn properties_diff(
    applied: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
    secrets: &SecretKeys,
) -> String {
    let old = render_properties(applied, None, secrets);
    let new = render_properties(desired, Some(applied), secrets);
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(
            "applied/alluxio-site.properties",
            "desired/alluxio-site.properties",
        )
        .to_string()
}

/// `key=value` lines with secrets redacted. `previous` is given for the
/// desired side only: a secret whose fingerprint differs from the applied
/// one is marked as changed.
fn render_properties(
    props: &BTreeMap<String, String>,
    previous: Option<&BTreeMap<String, String>>,
    secrets: &SecretKeys,
) -> String {
    let mut out = String::new();
    for (k, v) in props {
        let changed = previous.and_then(|p| p.get(k)).is_some_and(|o| o != v);
        let shown = match (secrets.is_secret(k), changed) {
            (false, _) => v.clone(),
            (true, true) => format!("{REDACTED} (changed)"),
            (true, false) => REDACTED.to_string(),
        };
        out.push_str(&format!("{k}={shown}\n"));
    }
    out
}

/// Client-only keys that changed: they replace nothing, and the plan says so.
pub fn client_only_changes(
    applied: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> Vec<String> {
    let keys: std::collections::BTreeSet<&String> = applied.keys().chain(desired.keys()).collect();
    keys.into_iter()
        .filter(|k| property_scope(k) == Scope::Client && applied.get(*k) != desired.get(*k))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn diff_redacts_secrets_and_marks_their_change() {
        let old = map(&[("a.password", "hmac-sha256:11"), ("x", "1")]);
        let new = map(&[("a.password", "hmac-sha256:22"), ("x", "1")]);
        let d = properties_diff(&old, &new, &SecretKeys::default());
        assert!(d.contains("-a.password=<redacted>\n"), "{d}");
        assert!(d.contains("+a.password=<redacted> (changed)\n"), "{d}");
        assert!(!d.contains("hmac"), "{d}");
        assert_eq!(properties_diff(&old, &old, &SecretKeys::default()), "");
    }

    #[test]
    fn explains_changes_field_by_field_without_secrets() {
        let before = RoleConfig {
            fields: map(&[("mem", "1GB"), ("property s.token", "h1")]),
        };
        let after = RoleConfig {
            fields: map(&[("mem", "2GB"), ("property s.token", "h2")]),
        };
        assert_eq!(
            after.explain_changes(
                &before,
                Role::Master,
                &BTreeMap::new(),
                &SecretKeys::default()
            ),
            ["mem: 1GB -> 2GB", "s.token: <redacted> (changed)"]
        );
        assert_ne!(after.hash(), before.hash());
        assert_eq!(after.hash().len(), 16);
    }

    #[test]
    fn a_setting_and_its_property_are_one_reason_named_as_written() {
        let worker = |ramdisk: &str, web: &str| RoleConfig {
            fields: map(&[
                ("ramdisk", ramdisk),
                ("property alluxio.worker.memory.size", ramdisk),
                ("ports", &format!("29998,29999,{web}")),
                ("property alluxio.worker.web.port", web),
            ]),
        };
        let (before, after) = (worker("2GB", "30000"), worker("4GB", "30001"));
        let in_toml = map(&[("alluxio.worker.memory.size", "worker.ramdisk")]);
        assert_eq!(
            after.explain_changes(&before, Role::Worker, &in_toml, &SecretKeys::default()),
            [
                "alluxio.worker.web.port: 30000 -> 30001",
                "worker.ramdisk: 2GB -> 4GB"
            ]
        );
        assert_eq!(
            after.explain_changes(
                &before,
                Role::Worker,
                &BTreeMap::new(),
                &SecretKeys::default()
            ),
            [
                "alluxio.worker.web.port: 30000 -> 30001",
                "alluxio.worker.memory.size: 2GB -> 4GB"
            ]
        );
    }

    #[test]
    fn the_user_is_one_reason_named_as_written_or_as_the_field() {
        let with = |user: &str, property: bool| {
            let mut fields = map(&[("user", user)]);
            if property {
                fields.insert(
                    "property alluxio.integration.mesos.user".into(),
                    user.into(),
                );
            }
            RoleConfig { fields }
        };
        let in_toml = map(&[("alluxio.integration.mesos.user", "mesos.user")]);
        let none = BTreeMap::new();
        let explain =
            |before: &RoleConfig, after: &RoleConfig, names: &BTreeMap<String, String>| {
                after.explain_changes(before, Role::Worker, names, &SecretKeys::default())
            };
        assert_eq!(
            explain(&with("a", true), &with("b", true), &in_toml),
            ["mesos.user: a -> b"]
        );
        assert_eq!(
            explain(&with("a", true), &with("b", true), &none),
            ["alluxio.integration.mesos.user: a -> b"]
        );
        // From $USER: written nowhere, so the field names it.
        assert_eq!(
            explain(&with("a", false), &with("b", false), &none),
            ["user: a -> b"]
        );
    }
}
