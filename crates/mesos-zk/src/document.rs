//! One versioned document kept in ZooKeeper under a URL's path, written by
//! compare-and-set, with its previous version as a backup and an ephemeral
//! lock beside it. The alluxio-mesos state backend is built on it.
//!
//! Layout under `<path>`:
//!
//! - `<name>`: the document itself when it is at most [`INLINE_LIMIT`]
//!   bytes; otherwise a small manifest (`{"chunked_document":{...}}`)
//!   naming a generation of chunks. Its znode version is what writers
//!   compare-and-set on.
//! - `<name>.backup`: what `<name>` held before the last write (document or
//!   manifest), replaced in the same transaction as `<name>`.
//! - `<name>.chunks/g-<sequence>/<index>`: the chunks of one generation,
//!   each at most [`CHUNK_SIZE`] bytes, written before the manifest that
//!   names them and never changed after. A generation is deleted once
//!   neither `<name>` nor `<name>.backup` names it.
//! - `<name>.lock`: an ephemeral znode whose data says who holds the lock;
//!   it disappears with its session when the holder dies.
//!
//! Why chunks: a znode holds at most ZooKeeper's `jute.maxbuffer` (1 MB by
//! default), and so does one transaction; the document and its backup are
//! written in one transaction, so each inline document is kept well under
//! half of that.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use zookeeper_client::{Acls, Client, CreateMode, Error as E, MultiWriteError, Stat};

use crate::session::{call, connect};
use crate::{ZkError, ZkUrl};

/// Documents up to this size are stored in the document's znode itself.
pub const INLINE_LIMIT: usize = 256 * 1024;
/// The size of each chunk of a larger document.
pub const CHUNK_SIZE: usize = 512 * 1024;

const MANIFEST_PREFIX: &[u8] = b"{\"chunked_document\":";

/// A document as read: its bytes and the znode version to compare-and-set
/// against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    pub bytes: Vec<u8>,
    pub version: i32,
}

/// How a document is stored (for reports and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    Inline { bytes: usize },
    Chunked { bytes: usize, chunks: usize },
}

/// The outcome of a compare-and-set write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Written; the new znode version.
    Written { version: i32, storage: Storage },
    /// The document is not at the expected version (another writer came
    /// first); nothing was changed.
    Conflict { found: Option<i32> },
}

/// The outcome of trying to take the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockAttempt {
    Acquired,
    /// Someone holds it; the data of the lock znode.
    HeldBy(Vec<u8>),
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    chunked_document: Chunks,
}

#[derive(Debug, Serialize, Deserialize)]
struct Chunks {
    /// The generation znode's name under `<name>.chunks`.
    generation: String,
    chunks: usize,
    bytes: usize,
}

/// A session to ZooKeeper for one document.
pub struct DocumentStore {
    client: Client,
    url: ZkUrl,
    name: String,
    timeout: Duration,
}

impl std::fmt::Debug for DocumentStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DocumentStore({}/{})", self.url, self.name)
    }
}

impl DocumentStore {
    /// Opens a session and creates the URL's path if needed. `name` is the
    /// document's znode name under it; `timeout` bounds each call.
    pub async fn open(url: &ZkUrl, name: &str, timeout: Duration) -> Result<Self, ZkError> {
        let client = connect(url, timeout).await?;
        let store = DocumentStore {
            client,
            url: url.clone(),
            name: name.to_string(),
            timeout,
        };
        if url.path() != "/" {
            let options = CreateMode::Persistent.with_acls(store.acls());
            store
                .call(
                    url.path(),
                    "creating",
                    store.client.mkdir(url.path(), &options),
                )
                .await?;
        }
        Ok(store)
    }

    /// With credentials, nodes are readable and writable by their creator
    /// only: the document may hold keys. Without, anyone may.
    fn acls(&self) -> Acls<'static> {
        if self.url.credentials().is_some() {
            Acls::creator_all()
        } else {
            Acls::anyone_all()
        }
    }

    pub fn url(&self) -> &ZkUrl {
        &self.url
    }

    /// The document's znode path.
    pub fn document_path(&self) -> String {
        self.url.child_path(&self.name)
    }

    pub fn backup_path(&self) -> String {
        self.url.child_path(&format!("{}.backup", self.name))
    }

    pub fn lock_path(&self) -> String {
        self.url.child_path(&format!("{}.lock", self.name))
    }

    fn chunks_path(&self) -> String {
        self.url.child_path(&format!("{}.chunks", self.name))
    }

    /// The ZooKeeper session id, as a lock's ephemeral owner.
    pub fn session_id(&self) -> i64 {
        self.client.session_id().0
    }

    async fn call<T>(
        &self,
        path: &str,
        operation: &'static str,
        fut: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, ZkError> {
        call(&self.url, path, operation, self.timeout, fut).await
    }

    /// Reads a znode; `None` when it does not exist.
    async fn get(&self, path: &str) -> Result<Option<(Vec<u8>, Stat)>, ZkError> {
        match tokio::time::timeout(self.timeout, self.client.get_data(path)).await {
            Err(_) => Err(ZkError::Timeout {
                url: self.url.to_string(),
                path: path.to_string(),
                operation: "reading",
                timeout: self.timeout,
            }),
            Ok(Err(E::NoNode)) => Ok(None),
            Ok(Err(e)) => Err(ZkError::from_zk(&self.url, path, "reading", e)),
            Ok(Ok(found)) => Ok(Some(found)),
        }
    }

    /// The document and its version; `None` when it was never written.
    pub async fn read(&self) -> Result<Option<Versioned>, ZkError> {
        // A reader racing two writes may find a generation already gone:
        // the document has moved on, so read it again.
        let mut attempts = 0;
        loop {
            let path = self.document_path();
            let Some((data, stat)) = self.get(&path).await? else {
                return Ok(None);
            };
            match self.resolve(&path, data).await? {
                Some(bytes) => {
                    return Ok(Some(Versioned {
                        bytes,
                        version: stat.version,
                    }))
                }
                None if attempts < 3 => attempts += 1,
                None => {
                    return Err(ZkError::MalformedNode {
                        url: self.url.to_string(),
                        node: path,
                        reason: "it names chunks that do not exist".to_string(),
                        preview: String::new(),
                    })
                }
            }
        }
    }

    /// The backup (the version before the last write), if any.
    pub async fn read_backup(&self) -> Result<Option<Vec<u8>>, ZkError> {
        let path = self.backup_path();
        let Some((data, _)) = self.get(&path).await? else {
            return Ok(None);
        };
        self.resolve(&path, data)
            .await?
            .map(Some)
            .ok_or_else(|| ZkError::MalformedNode {
                url: self.url.to_string(),
                node: path,
                reason: "it names chunks that do not exist".to_string(),
                preview: String::new(),
            })
    }

    /// How the document is stored now.
    pub async fn storage(&self) -> Result<Option<Storage>, ZkError> {
        let path = self.document_path();
        let Some((data, _)) = self.get(&path).await? else {
            return Ok(None);
        };
        Ok(Some(match self.manifest(&path, &data)? {
            Some(m) => Storage::Chunked {
                bytes: m.chunked_document.bytes,
                chunks: m.chunked_document.chunks,
            },
            None => Storage::Inline { bytes: data.len() },
        }))
    }

    fn manifest(&self, path: &str, data: &[u8]) -> Result<Option<Manifest>, ZkError> {
        if !data.starts_with(MANIFEST_PREFIX) {
            return Ok(None);
        }
        serde_json::from_slice(data)
            .map(Some)
            .map_err(|e| ZkError::MalformedNode {
                url: self.url.to_string(),
                node: path.to_string(),
                reason: format!("unreadable chunk manifest ({e})"),
                preview: String::from_utf8_lossy(&data[..data.len().min(60)]).into_owned(),
            })
    }

    /// The document a node's data stands for; `None` when a chunk is gone.
    async fn resolve(&self, path: &str, data: Vec<u8>) -> Result<Option<Vec<u8>>, ZkError> {
        let Some(manifest) = self.manifest(path, &data)? else {
            return Ok(Some(data));
        };
        let m = manifest.chunked_document;
        let dir = format!("{}/{}", self.chunks_path(), m.generation);
        // The manifest's own figures are not trusted for the allocation.
        let mut bytes = Vec::with_capacity(m.bytes.min(64 * CHUNK_SIZE));
        for i in 0..m.chunks {
            match self.get(&format!("{dir}/{i}")).await? {
                Some((chunk, _)) => bytes.extend_from_slice(&chunk),
                None => return Ok(None),
            }
        }
        if bytes.len() != m.bytes {
            return Err(ZkError::MalformedNode {
                url: self.url.to_string(),
                node: dir,
                reason: format!(
                    "the chunks hold {} bytes, the manifest says {}",
                    bytes.len(),
                    m.bytes
                ),
                preview: String::new(),
            });
        }
        Ok(Some(bytes))
    }

    /// Writes `bytes` as the next version if the document is still at
    /// `expected` (`None`: it must not exist yet), keeping what it held as
    /// the backup, in one transaction. On a conflict nothing changes.
    pub async fn write(
        &self,
        bytes: &[u8],
        expected: Option<i32>,
    ) -> Result<WriteOutcome, ZkError> {
        let doc_path = self.document_path();
        let backup_path = self.backup_path();
        let current = self.get(&doc_path).await?;
        let found = current.as_ref().map(|(_, s)| s.version);
        if found != expected {
            return Ok(WriteOutcome::Conflict { found });
        }
        let backup = self.get(&backup_path).await?;

        let (data, storage, generation) = if bytes.len() <= INLINE_LIMIT {
            (bytes.to_vec(), Storage::Inline { bytes: bytes.len() }, None)
        } else {
            let (generation, chunks) = self.write_chunks(bytes).await?;
            let manifest = Manifest {
                chunked_document: Chunks {
                    generation: generation.clone(),
                    chunks,
                    bytes: bytes.len(),
                },
            };
            let data = serde_json::to_vec(&manifest).expect("a manifest serializes");
            (
                data,
                Storage::Chunked {
                    bytes: bytes.len(),
                    chunks,
                },
                Some(generation),
            )
        };

        let options = CreateMode::Persistent.with_acls(self.acls());
        let mut tx = self.client.new_multi_writer();
        let op = |e| ZkError::from_zk(&self.url, &doc_path, "preparing the write of", e);
        match (&current, expected) {
            (Some(_), Some(v)) => tx.add_set_data(&doc_path, &data, Some(v)).map_err(op)?,
            _ => tx.add_create(&doc_path, &data, &options).map_err(op)?,
        }
        if let Some((previous, _)) = &current {
            match &backup {
                Some((_, s)) => tx
                    .add_set_data(&backup_path, previous, Some(s.version))
                    .map_err(op)?,
                None => tx
                    .add_create(&backup_path, previous, &options)
                    .map_err(op)?,
            }
        }
        let committed = tokio::time::timeout(self.timeout, tx.commit()).await;
        let result = match committed {
            Err(_) => Err(ZkError::Timeout {
                url: self.url.to_string(),
                path: doc_path.clone(),
                operation: "writing",
                timeout: self.timeout,
            }),
            Ok(Ok(_)) => Ok(()),
            // The document or its backup changed since they were read:
            // another writer came first.
            Ok(Err(MultiWriteError::OperationFailed {
                source: E::BadVersion | E::NodeExists | E::NoNode,
                ..
            })) => {
                let found = self.get(&doc_path).await?.map(|(_, s)| s.version);
                if let Some(g) = &generation {
                    self.delete_generation(g).await;
                }
                return Ok(WriteOutcome::Conflict { found });
            }
            Ok(Err(e)) => Err(ZkError::from_zk(&self.url, &doc_path, "writing", e.into())),
        };
        // After a timeout whether the transaction was applied is unknown:
        // the new generation is left in place, as it may be current now.
        result?;
        // The generation the old backup named has dropped out of both.
        if let Some((old_backup, _)) = &backup {
            if let Ok(Some(m)) = self.manifest(&backup_path, old_backup) {
                let keep: Vec<String> = [current.as_ref().map(|(d, _)| d.as_slice())]
                    .into_iter()
                    .flatten()
                    .chain(std::iter::once(data.as_slice()))
                    .filter_map(|d| self.manifest(&doc_path, d).ok().flatten())
                    .map(|m| m.chunked_document.generation)
                    .collect();
                if !keep.contains(&m.chunked_document.generation) {
                    self.delete_generation(&m.chunked_document.generation).await;
                }
            }
        }
        let version = expected.map_or(0, |v| v + 1);
        Ok(WriteOutcome::Written { version, storage })
    }

    /// Creates a new generation holding `bytes` in chunks.
    async fn write_chunks(&self, bytes: &[u8]) -> Result<(String, usize), ZkError> {
        let options = CreateMode::Persistent.with_acls(self.acls());
        let root = self.chunks_path();
        self.call(&root, "creating", self.client.mkdir(&root, &options))
            .await?;
        let prefix = format!("{root}/g-");
        let sequential = CreateMode::PersistentSequential.with_acls(self.acls());
        let (_, sequence) = self
            .call(
                &prefix,
                "creating",
                self.client.create(&prefix, &[], &sequential),
            )
            .await?;
        let generation = format!("g-{sequence}");
        let dir = format!("{root}/{generation}");
        let mut count = 0;
        for (i, chunk) in bytes.chunks(CHUNK_SIZE).enumerate() {
            let path = format!("{dir}/{i}");
            if let Err(e) = self
                .call(
                    &path,
                    "creating",
                    self.client.create(&path, chunk, &options),
                )
                .await
            {
                self.delete_generation(&generation).await;
                return Err(e);
            }
            count += 1;
        }
        Ok((generation, count))
    }

    /// Deletes a generation's chunks, best effort: a leftover only costs
    /// space.
    async fn delete_generation(&self, generation: &str) {
        let dir = format!("{}/{generation}", self.chunks_path());
        if let Ok(children) = self
            .call(&dir, "listing", self.client.list_children(&dir))
            .await
        {
            for child in children {
                let path = format!("{dir}/{child}");
                let _ = self
                    .call(&path, "deleting", self.client.delete(&path, None))
                    .await;
            }
        }
        let _ = self
            .call(&dir, "deleting", self.client.delete(&dir, None))
            .await;
    }

    /// Creates the ephemeral lock znode holding `holder`, or says who holds it.
    pub async fn try_lock(&self, holder: &[u8]) -> Result<LockAttempt, ZkError> {
        let path = self.lock_path();
        let options = CreateMode::Ephemeral.with_acls(self.acls());
        loop {
            match tokio::time::timeout(self.timeout, self.client.create(&path, holder, &options))
                .await
            {
                Err(_) => {
                    return Err(ZkError::Timeout {
                        url: self.url.to_string(),
                        path,
                        operation: "creating",
                        timeout: self.timeout,
                    })
                }
                Ok(Ok(_)) => return Ok(LockAttempt::Acquired),
                Ok(Err(E::NodeExists)) => match self.get(&path).await? {
                    Some((data, _)) => return Ok(LockAttempt::HeldBy(data)),
                    // Released between the two calls: try again.
                    None => continue,
                },
                Ok(Err(e)) => return Err(ZkError::from_zk(&self.url, &path, "creating", e)),
            }
        }
    }

    /// The lock's data and whether this session owns it; `None`: unlocked.
    pub async fn read_lock(&self) -> Result<Option<(Vec<u8>, bool)>, ZkError> {
        let path = self.lock_path();
        Ok(self
            .get(&path)
            .await?
            .map(|(data, stat)| (data, stat.ephemeral_owner == self.session_id())))
    }

    /// Deletes the lock if it still holds `expected` (whoever's session
    /// it is); returns the data found when it holds something else.
    pub async fn unlock_if(&self, expected: &[u8]) -> Result<Option<Vec<u8>>, ZkError> {
        let path = self.lock_path();
        let Some((data, stat)) = self.get(&path).await? else {
            return Ok(None);
        };
        if data != expected {
            return Ok(Some(data));
        }
        match tokio::time::timeout(self.timeout, self.client.delete(&path, Some(stat.version)))
            .await
        {
            Err(_) => Err(ZkError::Timeout {
                url: self.url.to_string(),
                path,
                operation: "deleting",
                timeout: self.timeout,
            }),
            Ok(Ok(()) | Err(E::NoNode)) => Ok(None),
            Ok(Err(E::BadVersion)) => Ok(self.get(&path).await?.map(|(d, _)| d)),
            Ok(Err(e)) => Err(ZkError::from_zk(&self.url, &path, "deleting", e)),
        }
    }

    /// Ends the session (its ephemeral lock goes with it) and waits, up to
    /// a second, for the server to confirm, so that sessions of short
    /// commands do not linger until they time out.
    pub async fn close(self) {
        use zookeeper_client::SessionState;
        let mut states = self.client.state_watcher();
        // Dropping the last handle sends CloseSession.
        drop(self.client);
        let closed = async {
            loop {
                match states.changed().await {
                    SessionState::Closed | SessionState::Expired | SessionState::AuthFailed => {
                        break
                    }
                    _ => {}
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), closed).await;
    }
}
