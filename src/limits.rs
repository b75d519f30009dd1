//! Size limits of the files the tool reads, and the bounded read that
//! enforces them.
//!
//! A path given by the user can name anything: `/dev/zero`, a FIFO, a log
//! file grown to gigabytes. Reading it whole would exhaust memory before any
//! error could be reported, so every file is read through [`read`], which
//! never holds more than `limit + 1` bytes. Each limit is far above what a
//! real file of its kind holds and far below what hurts the machine.
//!
//! (Saved Mesos state documents, `--mesos-state`, are parsed as a stream and
//! are not read through here.)

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// A secret file holds one secret (a password or token of a few bytes).
pub const SECRET_FILE: u64 = 64 * KIB;
/// The deployment TOML: a few kilobytes of settings.
pub const DEPLOYMENT_FILE: u64 = 4 * MIB;
/// `alluxio-site.properties`: a few hundred properties at most.
pub const SITE_PROPERTIES: u64 = 4 * MIB;
/// A CA file: a bundle of PEM certificates (a full public CA bundle is
/// about 200 KiB).
pub const CA_FILE: u64 = MIB;
/// The state file grows with the cluster: a 10,000-worker state is a few MB.
pub const STATE_FILE: u64 = 256 * MIB;
/// A plan file carries the state it was made from plus the actions, so it
/// grows like the state file.
pub const PLAN_FILE: u64 = 256 * MIB;
/// The lock file beside the state file: one small JSON object.
pub const LOCK_FILE: u64 = 64 * KIB;

/// Why a bounded read failed.
#[derive(Debug)]
pub enum ReadError {
    /// Opening or reading failed (not found, permissions, not UTF-8 ...).
    Io(io::Error),
    /// The file holds more than the limit; nothing beyond `limit + 1` bytes
    /// was read.
    TooLarge { limit: u64 },
}

/// `bytes` as KiB or MiB when it is a whole number of them.
pub fn size_text(bytes: u64) -> String {
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads the whole file at `path` if it holds at most `limit` bytes.
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = File::open(path).map_err(ReadError::Io)?;
    // The length is only a capacity hint (devices and FIFOs report 0);
    // the `take` is what bounds the read.
    let hint = file.metadata().map(|m| m.len().min(limit + 1)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// [`read`] as UTF-8 text; invalid UTF-8 is an [`io::ErrorKind::InvalidData`]
/// error, as with [`std::fs::read_to_string`].
pub fn read_to_string(path: &Path, limit: u64) -> Result<String, ReadError> {
    let bytes = read(path, limit)?;
    String::from_utf8(bytes).map_err(|_| {
        ReadError::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_file_fails_at_the_limit() {
        match read(Path::new("/dev/zero"), 1000) {
            Err(ReadError::TooLarge { limit: 1000 }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_file_at_the_limit_is_read_and_one_byte_more_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, [b'x'; 10]).unwrap();
        assert_eq!(read(&path, 10).unwrap().len(), 10);
        assert!(matches!(
            read(&path, 9),
            Err(ReadError::TooLarge { limit: 9 })
        ));
    }

    #[test]
    fn a_missing_file_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        match read(&dir.path().join("nope"), 10) {
            Err(ReadError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::NotFound),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sizes_are_shown_in_binary_units() {
        assert_eq!(size_text(SECRET_FILE), "64 KiB");
        assert_eq!(size_text(DEPLOYMENT_FILE), "4 MiB");
        assert_eq!(size_text(CA_FILE), "1 MiB");
        assert_eq!(size_text(STATE_FILE), "256 MiB");
        assert_eq!(size_text(100), "100 bytes");
    }
}
