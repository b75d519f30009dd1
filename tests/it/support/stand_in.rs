//! The stand-in Alluxio (`crates/alluxio-stand-in`) for tests of the default
//! launch: its `alluxio.home` and tarballs in a temporary directory, a file
//! server on 127.0.0.1 for the tarball URLs, and a look at the processes
//! left on the machine.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The stand-in's binary, built beside the test binaries (`cargo test
/// --workspace` and `scripts/test` build it).
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test> -> target/<profile>/alluxio-stand-in
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .join("alluxio-stand-in");
    assert!(
        bin.exists(),
        "the stand-in Alluxio is not built at {}: run `cargo build -p alluxio-stand-in` \
         (scripts/test does)",
        bin.display()
    );
    bin
}

/// `alluxio-stand-in install DIR`: `alluxio/`, `alluxio.tar.gz`, `jdk.tar.gz`.
pub struct StandIn {
    pub dir: tempfile::TempDir,
}

/// JAVA_HOME inside the stand-in JDK tarball.
pub const JDK_PATH: &str = "jdk-stand-in";

impl StandIn {
    pub fn install() -> StandIn {
        let dir = tempfile::Builder::new()
            .prefix("stand-in-alluxio-")
            .tempdir()
            .expect("temp dir");
        let out = std::process::Command::new(binary())
            .arg("install")
            .arg(dir.path())
            .output()
            .expect("run alluxio-stand-in install");
        assert!(
            out.status.success(),
            "alluxio-stand-in install failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        StandIn { dir }
    }

    /// The `alluxio.home` of a LOCAL install.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("alluxio")
    }
}

/// Serves a directory's files over HTTP on 127.0.0.1, counting requests.
pub struct FileServer {
    pub url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FileServer {
    pub async fn start(dir: &Path) -> FileServer {
        use axum::extract::{Path as UrlPath, State};
        use axum::http::StatusCode;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let state = (dir.to_path_buf(), requests.clone());
        type Shared = (PathBuf, Arc<Mutex<Vec<String>>>);
        let router = axum::Router::new()
            .route(
                "/:file",
                axum::routing::get(
                    |State((dir, seen)): State<Shared>, UrlPath(file): UrlPath<String>| async move {
                        seen.lock().unwrap().push(file.clone());
                        match std::fs::read(dir.join(&file)) {
                            Ok(bytes) => Ok(bytes),
                            Err(_) => Err(StatusCode::NOT_FOUND),
                        }
                    },
                ),
            )
            .with_state(state);
        FileServer {
            url: super::serve(router).await,
            requests,
        }
    }

    /// How many times `file` was asked for.
    pub fn fetches(&self, file: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|f| *f == file)
            .count()
    }
}

/// Processes of this machine whose environment has `key=value`:
/// `(pid, command line)`.
pub fn processes_with_env(key: &str, value: &str) -> Vec<(u32, String)> {
    let wanted = format!("{key}={value}");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let read = |f: &str| std::fs::read(entry.path().join(f)).unwrap_or_default();
        let environ = read("environ");
        if environ.split(|b| *b == 0).any(|v| v == wanted.as_bytes()) {
            let cmdline = String::from_utf8_lossy(&read("cmdline")).replace('\0', " ");
            found.push((pid, cmdline.trim().to_string()));
        }
    }
    found.sort();
    found
}
