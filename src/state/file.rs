//! Reading and writing the state file: parsing with clear errors, and the
//! atomic replace that keeps the previous version as `<path>.backup`.
//!
//! The write is ordered so that a crash at any instant leaves a complete
//! state at `path`: the new bytes go to a temporary file in the same
//! directory and are fsynced; the current file is hard-linked (or copied) to
//! the backup; only then is the temporary renamed over `path` and the
//! directory fsynced. A crash before the rename leaves the old file, after
//! it the new one; a leftover temporary is never read.

use super::error::{backup_path, StateError};
use super::{State, FORMAT_VERSION};
use crate::limits::{self, ReadError};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Reads the state at `path`. `None` when the file does not exist: nothing
/// has been applied yet. A corrupt file or one of another format version is
/// an error; it is never modified here.
pub fn load(path: &Path) -> Result<Option<State>, StateError> {
    load_limited(path, limits::STATE_FILE)
}

fn load_limited(path: &Path, limit: u64) -> Result<Option<State>, StateError> {
    match read_bytes(path, limit)? {
        Some(bytes) => parse(path, &bytes).map(Some),
        None => Ok(None),
    }
}

/// The file's bytes, within `limit`; None when there is no file.
fn read_bytes(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, StateError> {
    let bytes = match limits::read(path, limit) {
        Ok(b) => b,
        Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(ReadError::Io(source)) => {
            return Err(StateError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
        Err(ReadError::TooLarge { limit }) => {
            return Err(StateError::TooLarge {
                path: path.to_path_buf(),
                limit,
            })
        }
    };
    Ok(Some(bytes))
}

/// What a write checks of the file it replaces.
#[derive(serde::Deserialize)]
pub struct Head {
    pub lineage: String,
    pub serial: u64,
}

/// The lineage and serial of the state file at `path` (None: no file),
/// read without building the rest: a writer's check costs one scan, not
/// a whole parse, per write. A file that does not read as a state gets
/// [`load`]'s full error.
pub fn load_head(path: &Path) -> Result<Option<Head>, StateError> {
    let Some(bytes) = read_bytes(path, limits::STATE_FILE)? else {
        return Ok(None);
    };
    match serde_json::from_slice::<Head>(&bytes) {
        Ok(head) => Ok(Some(head)),
        Err(_) => parse(path, &bytes).map(|s| {
            Some(Head {
                lineage: s.lineage,
                serial: s.serial,
            })
        }),
    }
}

/// Like [`load`], and refuses the state file of another deployment.
pub fn load_for(path: &Path, deployment: &str) -> Result<Option<State>, StateError> {
    let state = load(path)?;
    if let Some(s) = &state {
        check_deployment(path, s, deployment)?;
    }
    Ok(state)
}

pub(crate) fn check_deployment(
    path: &Path,
    state: &State,
    deployment: &str,
) -> Result<(), StateError> {
    if state.deployment != deployment {
        return Err(StateError::WrongDeployment {
            path: path.to_path_buf(),
            found: state.deployment.clone(),
            expected: deployment.to_string(),
        });
    }
    Ok(())
}

/// Parses state file bytes; `path` is only used in errors.
///
/// The format version is checked on a loose parse first, so that a file of a
/// newer version (which may have fields this build does not know) is
/// reported as such rather than as an unknown field.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<State, StateError> {
    let corrupt = |e: serde_json::Error| StateError::Corrupt {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        detail: describe(&e),
    };
    let no_position = |detail: &str| StateError::Corrupt {
        path: path.to_path_buf(),
        line: 0,
        column: 0,
        detail: detail.to_string(),
    };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(corrupt)?;
    let object = value
        .as_object()
        .ok_or_else(|| no_position("the top level is not a JSON object"))?;
    let version = object.get("format_version").ok_or_else(|| {
        no_position("missing field `format_version` (this is not an alluxio-mesos state file)")
    })?;
    let version = version
        .as_u64()
        .ok_or_else(|| no_position("`format_version` is not a non-negative integer"))?;
    if version != u64::from(FORMAT_VERSION) {
        return Err(StateError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    serde_json::from_slice(bytes).map_err(corrupt)
}

/// The serde message with string values blanked out: the position and the
/// field names are what the operator needs, and a value may be secret.
fn describe(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    // serde_json appends " at line L column C"; the error says that itself.
    let msg = match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => &msg[..],
    };
    redact_strings(msg)
}

/// Replaces every `string "..."` (serde's rendering of an unexpected string
/// value) by `string "<redacted>"`.
fn redact_strings(msg: &str) -> String {
    const MARK: &str = "string \"";
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find(MARK) {
        out.push_str(&rest[..i + MARK.len()]);
        out.push_str("<redacted>\"");
        let after = &rest[i + MARK.len()..];
        // The value is Debug-escaped: skip to the first unescaped quote.
        let mut escaped = false;
        let mut end = after.len();
        for (j, c) in after.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = j + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The bytes written for `state`: pretty JSON with a final newline, so the
/// file reads well in review and diffs line by line.
pub(crate) fn render(state: &State) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(state).expect("State always serializes to JSON");
    bytes.push(b'\n');
    bytes
}

/// A new version of the state file, written and fsynced to a temporary file
/// beside it but not yet in place. Dropping it without [`commit`] removes the
/// temporary and leaves the state file as it was.
///
/// [`commit`]: PendingWrite::commit
pub(crate) struct PendingWrite {
    target: PathBuf,
    temp: PathBuf,
    done: bool,
}

/// The prefix of temporaries of the state file `path`, as a file name.
pub(crate) fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.tmp-")
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

impl PendingWrite {
    /// Writes `bytes` to a fresh temporary beside `target` and fsyncs it.
    pub(crate) fn prepare(target: &Path, bytes: &[u8]) -> Result<PendingWrite, StateError> {
        let write_err = |step, source| StateError::Write {
            path: target.to_path_buf(),
            step,
            source,
        };
        let temp = parent_dir(target).join(format!(
            "{}{}-{}",
            temp_prefix(target),
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let mut file =
            create_private(&temp).map_err(|e| write_err("creating the temporary file", e))?;
        let pending = PendingWrite {
            target: target.to_path_buf(),
            temp,
            done: false,
        };
        file.write_all(bytes)
            .map_err(|e| write_err("writing the temporary file", e))?;
        file.sync_all()
            .map_err(|e| write_err("syncing the temporary file", e))?;
        Ok(pending)
    }

    /// Keeps the current file as `<target>.backup`, renames the temporary
    /// over the target and fsyncs the directory.
    pub(crate) fn commit(mut self) -> Result<(), StateError> {
        let target = self.target.clone();
        let write_err = |step, source| StateError::Write {
            path: target.clone(),
            step,
            source,
        };
        keep_backup(&self.target).map_err(|e| write_err("keeping the backup", e))?;
        fs::rename(&self.temp, &self.target)
            .map_err(|e| write_err("renaming the temporary file over it", e))?;
        self.done = true;
        sync_dir(parent_dir(&self.target)).map_err(|e| write_err("syncing the directory", e))
    }

    #[cfg(test)]
    pub(crate) fn temp_path(&self) -> &Path {
        &self.temp
    }
}

impl Drop for PendingWrite {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Writes `bytes` to `target` atomically, keeping the previous version as
/// `<target>.backup`.
pub(crate) fn write_atomic(target: &Path, bytes: &[u8]) -> Result<(), StateError> {
    PendingWrite::prepare(target, bytes)?.commit()
}

/// Makes `<target>.backup` hold the current content of `target` (if any),
/// replacing the backup in one rename so it is never half written.
fn keep_backup(target: &Path) -> io::Result<()> {
    if !target.exists() {
        return Ok(());
    }
    let backup = backup_path(target);
    // Named like the other temporaries, so a crash's leftover is cleaned up.
    let staging = parent_dir(target).join(format!(
        "{}backup-{}",
        temp_prefix(target),
        uuid::Uuid::new_v4().simple()
    ));
    // A hard link costs nothing and stays valid: the new state is renamed
    // over `target`, so the old inode is never modified. Filesystems without
    // hard links get a copy.
    if fs::hard_link(target, &staging).is_err() {
        let copied = copy_synced(target, &staging);
        if let Err(e) = copied {
            let _ = fs::remove_file(&staging);
            return Err(e);
        }
    }
    fs::rename(&staging, &backup).inspect_err(|_| {
        let _ = fs::remove_file(&staging);
    })
}

fn copy_synced(from: &Path, to: &Path) -> io::Result<()> {
    // Streamed: the copy never holds the whole file in memory.
    let mut source = File::open(from)?;
    let mut file = create_private(to)?;
    io::copy(&mut source, &mut file)?;
    file.sync_all()
}

/// Creates a new file readable only by its owner: the state holds the key of
/// the secret fingerprints.
fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Makes a rename in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Removes temporaries a crashed write left beside `path`. Only called by
/// the lock holder, so no write is in progress.
pub(crate) fn remove_leftover_temps(path: &Path) {
    let prefix = temp_prefix(path);
    let Ok(entries) = fs::read_dir(parent_dir(path)) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(deployment: &str) -> State {
        State::empty(deployment)
    }

    #[test]
    fn an_endless_state_file_fails_at_the_limit_without_quoting_it() {
        assert_eq!(limits::STATE_FILE, 256 * 1024 * 1024);
        let path = Path::new("/dev/zero");
        let err = load_limited(path, 4096).unwrap_err();
        assert!(
            matches!(err, StateError::TooLarge { limit: 4096, .. }),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("state file /dev/zero is larger than 4 KiB"),
            "{msg}"
        );
        assert!(msg.contains("--state"), "{msg}");
        assert!(!msg.contains('\0'), "{msg}");
    }

    #[test]
    fn type_errors_do_not_quote_string_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let mut v = serde_json::to_value(sample("d")).unwrap();
        v["serial"] = serde_json::Value::String("hunter2-secret".into());
        let bytes = serde_json::to_vec_pretty(&v).unwrap();
        let err = parse(&path, &bytes).unwrap_err();
        let msg = err.to_string();
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(msg.contains("<redacted>"), "{msg}");
        assert!(msg.contains("line "), "{msg}");
    }

    #[test]
    fn redaction_handles_escaped_quotes_and_keeps_the_rest() {
        let got = redact_strings(r#"invalid type: string "a\"b", expected u64"#);
        assert_eq!(got, r#"invalid type: string "<redacted>", expected u64"#);
        assert_eq!(
            redact_strings("missing field `lineage`"),
            "missing field `lineage`"
        );
    }

    #[test]
    fn unknown_field_is_named_with_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let mut v = serde_json::to_value(sample("d")).unwrap();
        v["surprise"] = serde_json::Value::Bool(true);
        let err = parse(&path, &serde_json::to_vec_pretty(&v).unwrap()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("unknown field `surprise`"), "{msg}");
        assert!(msg.contains("s.json.backup"), "{msg}");
    }

    #[test]
    fn a_write_that_crashes_before_commit_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let old = sample("d");
        write_atomic(&path, &render(&old)).unwrap();
        let mut new = old.clone();
        new.serial = 1;
        let pending = PendingWrite::prepare(&path, &render(&new)).unwrap();
        let temp = pending.temp_path().to_path_buf();
        std::mem::forget(pending); // the process dies here: nothing cleans up
        assert!(temp.exists());
        assert_eq!(load(&path).unwrap(), Some(old));
        remove_leftover_temps(&path);
        assert!(!temp.exists());
    }

    #[test]
    fn an_abandoned_write_removes_its_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let pending = PendingWrite::prepare(&path, b"{}").unwrap();
        let temp = pending.temp_path().to_path_buf();
        drop(pending);
        assert!(!temp.exists());
        assert!(!path.exists());
    }

    #[cfg(unix)]
    #[test]
    fn state_and_backup_are_private_to_the_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        write_atomic(&path, b"1").unwrap();
        write_atomic(&path, b"2").unwrap();
        for p in [path.clone(), backup_path(&path)] {
            let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
    }

    #[test]
    fn concurrent_atomic_writes_never_show_a_torn_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let a = vec![b'a'; 256 * 1024];
        let b = vec![b'b'; 256 * 1024];
        write_atomic(&path, &a).unwrap();
        std::thread::scope(|s| {
            for content in [&a, &b] {
                let path = &path;
                s.spawn(move || {
                    for _ in 0..20 {
                        write_atomic(path, content).unwrap();
                    }
                });
            }
            let path = &path;
            let (a, b) = (&a, &b);
            s.spawn(move || {
                for _ in 0..200 {
                    let got = fs::read(path).unwrap();
                    assert!(got == *a || got == *b, "torn read of {} bytes", got.len());
                }
            });
        });
    }
}
