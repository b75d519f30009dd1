//! Site properties and secrets.
//!
//! A secret is any property whose key names a credential (see
//! [`is_secret_key`]). Secret values are held here and passed to tasks,
//! but every rendering, plan file, state file and error sees only
//! `<redacted>` and a keyed hash (HMAC-SHA256) that detects a change.

use std::collections::BTreeMap;
use std::fmt;

pub use mesos_api::secret::{Secret, REDACTED};

/// Words that make any key holding them a secret, wherever they appear
/// (the key lower-cased, so `accessKeySecret` and `secretKey` match too).
const SECRET_WORDS: &[&str] = &[
    "secret",   // aws.secretKey, fs.s3a.secret.key, fs.oss.accessKeySecret, oauth2.client.secret
    "password", // fs.swift.password, *.keystore.password
    "passwd",   //
    "credential", // also a few paths to credential files: shown redacted, which is harmless
    "token",    // fs.s3a.session.token, fs.azure.sas.token.*
    "accesskey", // aws.accessKeyId, fs.oss.accessKeyId, fs.obs.accessKey, fs.kodo.accesskey
    "secretkey", //
    "apikey",   // fs.swift.apikey
    "privatekey", //
];

/// Segments (between `.`, `-` and `_`) that name a key: `<word>.key` is a
/// secret for these words. A bare `key` segment is not enough: it also
/// names providers and paths (`hadoop.security.key.provider.path`).
const KEY_QUALIFIERS: &[&str] = &[
    "account",    // fs.azure.account.key.<account>.blob.core.windows.net
    "access",     // fs.s3a.access.key, fs.cos.access.key (half of a pair: shown redacted)
    "secret",     //
    "private",    // fs.gs.auth.service.account.private.key(.id)
    "encryption", // fs.s3a.encryption.key, fs.s3a.server-side-encryption.key
    "api",        //
    "session",    //
];

/// Whether a property key names a secret.
///
/// The patterns follow the credential properties of Alluxio's and Hadoop's
/// under-storage connectors (S3/S3A, Azure blob and ADLS, GCS, OSS, COS,
/// OBS, Kodo, Swift) and Hadoop's own `hadoop.security.sensitive-config-keys`.
/// Matching is by whole segment where a word is also common in harmless
/// keys: `alluxio.master.keytab.file` (a path) and
/// `fs.azure.account.keyprovider.<account>` (a class name) are shown,
/// `fs.azure.account.key.<account>` is not, and `alluxio.keyvalue.*`
/// (Alluxio 1.x's key-value store) is shown. Wrongly redacting a harmless
/// value only hides it from plans; wrongly showing a secret leaks it, so
/// doubtful keys (an access key ID, a credential file path) are redacted.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    if k == "alluxio.integration.mesos.secret" || SECRET_WORDS.iter().any(|w| k.contains(w)) {
        return true;
    }
    let segments: Vec<&str> = k.split(['.', '-', '_']).collect();
    segments.iter().enumerate().any(|(i, seg)| match *seg {
        // fs.azure.sas.<container>.<account>.blob.core.windows.net: a SAS token.
        "sas" | "pass" | "pwd" => true,
        "key" => i > 0 && KEY_QUALIFIERS.contains(&segments[i - 1]),
        _ => false,
    })
}

/// Which property keys hold secrets: the built-in rule ([`is_secret_key`])
/// and the deployment's own patterns (`[alluxio] secret_properties`, for
/// credentials of connectors the rule does not know). A pattern is a key
/// in which `*` stands for any run of characters, matched in any case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretKeys {
    patterns: Vec<String>,
}

impl SecretKeys {
    pub fn new(patterns: Vec<String>) -> Self {
        SecretKeys {
            patterns: patterns.iter().map(|p| p.to_ascii_lowercase()).collect(),
        }
    }

    pub fn is_secret(&self, key: &str) -> bool {
        if is_secret_key(key) {
            return true;
        }
        let k = key.to_ascii_lowercase();
        self.patterns.iter().any(|p| glob_match(p, &k))
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of
/// characters. Linear in practice: on a mismatch, only the last `*`
/// is widened (the usual backtracking-free wildcard match).
fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
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
    keys: SecretKeys,
}

impl SiteProperties {
    /// No properties yet; `keys` decides which will be secrets.
    pub fn new(keys: SecretKeys) -> Self {
        SiteProperties {
            entries: BTreeMap::new(),
            keys,
        }
    }

    pub fn secret_keys(&self) -> &SecretKeys {
        &self.keys
    }

    /// Inserts a property, classifying it as secret by its key.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        let value = value.into();
        let v = if self.keys.is_secret(&key) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_properties_of_the_under_storage_connectors_are_secrets() {
        for key in [
            "alluxio.integration.mesos.secret",
            // Azure
            "fs.azure.account.key.myaccount.blob.core.windows.net",
            "fs.azure.account.key.myaccount.dfs.core.windows.net",
            "fs.azure.sas.mycontainer.myaccount.blob.core.windows.net",
            "fs.azure.sas.fixed.token",
            "fs.azure.account.oauth2.client.secret",
            "fs.adl.oauth2.credential",
            "fs.adl.oauth2.refresh.token",
            // GCS
            "fs.gs.auth.service.account.private.key",
            "fs.gs.auth.service.account.private.key.id",
            "fs.gcs.accessKeyId",
            "fs.gcs.secretAccessKey",
            // S3 / S3A
            "aws.accessKeyId",
            "aws.secretKey",
            "fs.s3a.access.key",
            "fs.s3a.secret.key",
            "fs.s3a.session.token",
            "fs.s3a.encryption.key",
            "fs.s3a.server-side-encryption.key",
            "fs.s3a.bucket.mybucket.secret.key",
            // OSS, COS, OBS, Kodo
            "fs.oss.accessKeyId",
            "fs.oss.accessKeySecret",
            "fs.cos.access.key",
            "fs.cos.secret.key",
            "fs.obs.accessKey",
            "fs.obs.secretKey",
            "fs.kodo.accesskey",
            "fs.kodo.secretkey",
            // Swift
            "fs.swift.password",
            "fs.swift.apikey",
            "fs.swift.service.x.password",
            // TLS stores
            "alluxio.web.ssl.keystore.password",
            "ssl.server.keystore.pass",
            // Any case
            "FS.AZURE.ACCOUNT.KEY.X",
        ] {
            assert!(is_secret_key(key), "{key} must be a secret");
        }
    }

    #[test]
    fn the_deployment_adds_secret_patterns() {
        let keys = SecretKeys::new(vec![
            "acme.vault.*".into(),
            "*.Blob.Sig".into(),
            "x*y*z".into(),
        ]);
        for key in [
            "acme.vault.token2",
            "ACME.vault.x",
            "fs.a.blob.sig",
            "xayz",
            "xyz",
            "x.y.z",
        ] {
            assert!(keys.is_secret(key), "{key} must be a secret");
        }
        for key in ["acme.vaults", "fs.a.blob.sig.ttl", "xzy", "alluxio.home"] {
            assert!(!keys.is_secret(key), "{key} must be shown");
        }
        // The built-in rule still holds.
        assert!(keys.is_secret("fs.s3a.secret.key"));
        assert!(glob_match(&"*a".repeat(30), &"a".repeat(60)));
        assert!(!glob_match(&"*a".repeat(30), &"b".repeat(5000)));
    }

    #[test]
    fn harmless_properties_are_shown() {
        for key in [
            "alluxio.master.keytab.file",
            "alluxio.worker.keytab.file",
            "alluxio.security.kerberos.server.principal",
            "alluxio.keyvalue.enabled",
            "alluxio.keyvalue.partition.size.bytes.max",
            "fs.azure.account.keyprovider.myaccount.blob.core.windows.net",
            "fs.azure.account.auth.type",
            "fs.azure.account.oauth2.client.id",
            "hadoop.security.key.provider.path",
            "alluxio.underfs.address",
            "alluxio.underfs.s3.endpoint",
            "alluxio.master.hostname",
            "alluxio.master.port",
            "alluxio.security.authentication.type",
            "alluxio.integration.mesos.principal",
            "alluxio.user.file.passive.cache.enabled",
            "alluxio.worker.memory.size",
        ] {
            assert!(!is_secret_key(key), "{key} must be shown");
        }
    }
}
