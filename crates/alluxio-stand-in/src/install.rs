//! `alluxio-stand-in install OUT_DIR`: an `alluxio.home` and the tarballs a
//! deployment fetches, made of this program.
//!
//! - `OUT_DIR/alluxio/`: `integration/mesos/bin/alluxio-{master,worker}-mesos.sh`
//!   (what the default launch `exec`s), `bin/alluxio-stand-in` (a copy of
//!   this program) and `conf/log4j.properties`;
//! - `OUT_DIR/alluxio.tar.gz`: the same tree under `alluxio-<version>/`, as
//!   a release tarball unpacks;
//! - `OUT_DIR/jdk.tar.gz`: `jdk-stand-in/bin/java`, a stand-in JDK whose
//!   `java -version` answers; JAVA_HOME is `jdk-stand-in` in the sandbox.

use crate::alluxio::VERSION;
use anyhow::{bail, Context, Result};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The JDK tarball's top directory: the deployment's `[install] jdk_path`.
pub const JDK_DIR: &str = "jdk-stand-in";

fn script(role: &str) -> String {
    format!(
        r#"#!/bin/sh
# Stand-in for Alluxio's integration/mesos/bin/alluxio-{role}-mesos.sh: it
# checks the JDK the launch set up, then runs the stand-in Mesos executor
# (Alluxio's runs alluxio.mesos.Alluxio{class}Executor on the JVM).
set -e
SCRIPT_DIR="$(cd "$(dirname "$0")"; pwd)"
ALLUXIO_HOME="${{ALLUXIO_HOME:-$(cd "$SCRIPT_DIR/../../.."; pwd)}}"
if [ -n "${{JAVA_HOME:-}}" ]; then
  if [ ! -x "$JAVA_HOME/bin/java" ]; then
    echo "alluxio-{role}-mesos.sh: JAVA_HOME=$JAVA_HOME has no bin/java" >&2
    exit 1
  fi
  "$JAVA_HOME/bin/java" -version
fi
echo "alluxio-{role}-mesos.sh: ALLUXIO_HOME=$ALLUXIO_HOME"
exec "$ALLUXIO_HOME/bin/alluxio-stand-in" executor {role}
"#,
        class = if role == "master" { "Master" } else { "Worker" }
    )
}

const JAVA: &str = r#"#!/bin/sh
# A stand-in JDK: enough for `java -version`.
if [ "$1" = "-version" ]; then
  echo 'openjdk version "1.8.0-stand-in"' >&2
  exit 0
fi
echo "stand-in java: only -version is supported" >&2
exit 1
"#;

const LOG4J: &str = "log4j.rootLogger=INFO, stdout\n";

fn write_executable(path: &Path, text: &[u8]) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

fn tar(out: &Path, archive: &str, dir: &str, top: &str) -> Result<()> {
    let status = std::process::Command::new("tar")
        .arg("-czf")
        .arg(out.join(archive))
        .arg("-C")
        .arg(out)
        .arg(format!("--transform=s,^{dir},{top},"))
        .arg(dir)
        .status()
        .context("cannot run tar")?;
    if !status.success() {
        bail!("tar of {} failed: {status}", out.join(dir).display());
    }
    Ok(())
}

pub fn install(out: &Path) -> Result<()> {
    let home = out.join("alluxio");
    let bin = home.join("integration/mesos/bin");
    std::fs::create_dir_all(&bin).with_context(|| format!("cannot create {}", bin.display()))?;
    std::fs::create_dir_all(home.join("bin"))?;
    std::fs::create_dir_all(home.join("conf"))?;
    for role in ["master", "worker"] {
        write_executable(
            &bin.join(format!("alluxio-{role}-mesos.sh")),
            script(role).as_bytes(),
        )?;
    }
    let me = std::env::current_exe()?;
    let copy = home.join("bin/alluxio-stand-in");
    std::fs::copy(&me, &copy)
        .with_context(|| format!("cannot copy {} to {}", me.display(), copy.display()))?;
    // A debug build carries ~80 MB of debug info that every fetch would
    // download: strip it when binutils is there (the copy works either way).
    let _ = std::process::Command::new("strip")
        .arg("--strip-debug")
        .arg(&copy)
        .status();
    std::fs::write(home.join("conf/log4j.properties"), LOG4J)?;
    tar(
        out,
        "alluxio.tar.gz",
        "alluxio",
        &format!("alluxio-{VERSION}"),
    )?;

    let java = out.join(JDK_DIR).join("bin");
    std::fs::create_dir_all(&java)?;
    write_executable(&java.join("java"), JAVA.as_bytes())?;
    tar(out, "jdk.tar.gz", JDK_DIR, JDK_DIR)?;
    Ok(())
}
