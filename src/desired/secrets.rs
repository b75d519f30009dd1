//! Site properties and secrets.
//!
//! A secret is any property whose key is `alluxio.integration.mesos.secret`
//! or contains `secret`, `password`, `accesskey`, `secretkey`, `credential`
//! or `token` (any case). Secret values are held here and passed to tasks,
//! but every rendering, plan file, state file and error sees only
//! `<redacted>` and a keyed hash (HMAC-SHA256) that detects a change.

use std::collections::BTreeMap;
use std::fmt;

pub use mesos_api::secret::{Secret, REDACTED};

/// Whether a property key names a secret.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k == "alluxio.integration.mesos.secret"
        || [
            "secret",
            "password",
            "accesskey",
            "secretkey",
            "credential",
            "token",
        ]
        .iter()
        .any(|w| k.contains(w))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropertyValue {
    Plain(String),
    Secret(Secret),
}

/// The effective site properties, in key order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteProperties {
    entries: BTreeMap<String, PropertyValue>,
}

impl SiteProperties {
    /// Inserts a property, classifying it as secret by its key.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        let value = value.into();
        let v = if is_secret_key(&key) {
            PropertyValue::Secret(Secret::new(value))
        } else {
            PropertyValue::Plain(value)
        };
        self.entries.insert(key, v);
    }

    pub fn get(&self, key: &str) -> Option<&PropertyValue> {
        self.entries.get(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &PropertyValue)> {
        self.entries.iter()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Keyed hashes of secrets, so that state and plan files can tell a changed
/// secret from an unchanged one without holding it.
///
/// The key is stored in the state file and differs per deployment: this
/// makes the hashes useless across deployments and against precomputed
/// tables; it does not protect a weak secret from someone who holds the
/// state file (or knows the deployment name) and guesses offline. Keep the
/// state file private; secrets in site properties are in any case visible
/// to Mesos readers through the task environment (the plan warns).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHasher {
    key: Vec<u8>,
}

impl fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHasher(..)")
    }
}

/// The prefix of every stored secret fingerprint.
pub const FINGERPRINT_PREFIX: &str = "hmac-sha256:";

impl SecretHasher {
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        SecretHasher { key: key.into() }
    }

    /// The key of a deployment that has no state file yet. Derived from the
    /// deployment name so that plans made before the first apply are
    /// deterministic; the first apply stores it in the new state file.
    pub fn for_new_deployment(deployment: &str) -> Self {
        use sha2::Digest;
        let key = sha2::Sha256::digest(format!("alluxio-mesos secret fingerprints/{deployment}"));
        SecretHasher::new(key.to_vec())
    }

    pub fn from_hex(hex_key: &str) -> Option<Self> {
        hex::decode(hex_key).ok().map(SecretHasher::new)
    }

    pub fn key_hex(&self) -> String {
        hex::encode(&self.key)
    }

    /// `hmac-sha256:<hex>` of the property key and value together, so that
    /// two keys holding the same secret do not share a fingerprint.
    pub fn fingerprint(&self, property: &str, secret: &Secret) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(property.as_bytes());
        mac.update(&[0]);
        mac.update(secret.expose().as_bytes());
        format!(
            "{FINGERPRINT_PREFIX}{}",
            hex::encode(mac.finalize().into_bytes())
        )
    }
}

impl SiteProperties {
    /// The properties as they may be stored: secrets replaced by their fingerprint.
    pub fn fingerprinted(&self, hasher: &SecretHasher) -> BTreeMap<String, String> {
        self.entries
            .iter()
            .map(|(k, v)| {
                let shown = match v {
                    PropertyValue::Plain(s) => s.clone(),
                    PropertyValue::Secret(s) => hasher.fingerprint(k, s),
                };
                (k.clone(), shown)
            })
            .collect()
    }
}
