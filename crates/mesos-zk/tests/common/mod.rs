//! A real, standalone ZooKeeper server for the tests: Debian's `zookeeper`
//! package run in the foreground (`ZooKeeperServerMain`) with its own
//! config on a free loopback port, a temporary data directory and the admin
//! server off. It is killed when dropped (and, should the test process die
//! first, by the kernel through `PR_SET_PDEATHSIG`).
//!
//! A missing ZooKeeper fails the test with the command that installs it:
//! these tests are never skipped.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mesos_zk::ZkUrl;

/// Overrides where the ZooKeeper server jar(s) are (a Java classpath).
pub const CLASSPATH_ENV: &str = "MESOS_ZK_TEST_ZOOKEEPER_CLASSPATH";
/// Where Debian's `zookeeper` package puts the server jar; its manifest
/// names the jars it depends on.
pub const DEBIAN_JAR: &str = "/usr/share/java/zookeeper.jar";
/// An optional SLF4J binding so the server log ends up in `server.log`.
const DEBIAN_SLF4J_SIMPLE: &str = "/usr/share/java/slf4j-simple.jar";

const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// Finds the ZooKeeper classpath, or says how to install ZooKeeper.
pub fn locate_classpath(override_: Option<String>, debian_jar: &Path) -> Result<String, String> {
    let install = "install it with `apt-get update && apt-get install -y --no-install-recommends zookeeper` \
                   (scripts/test does this), or set MESOS_ZK_TEST_ZOOKEEPER_CLASSPATH to a ZooKeeper server classpath";
    if let Some(classpath) = override_ {
        let missing: Vec<&str> = classpath
            .split(':')
            .filter(|p| !Path::new(p).exists())
            .collect();
        if missing.is_empty() {
            return Ok(classpath);
        }
        return Err(format!(
            "{CLASSPATH_ENV} names {} which do(es) not exist; {install}",
            missing.join(", ")
        ));
    }
    if !debian_jar.exists() {
        return Err(format!(
            "ZooKeeper is not installed ({} is missing): these tests need a real ZooKeeper server; {install}",
            debian_jar.display()
        ));
    }
    let mut classpath = debian_jar.display().to_string();
    if Path::new(DEBIAN_SLF4J_SIMPLE).exists() {
        classpath.push(':');
        classpath.push_str(DEBIAN_SLF4J_SIMPLE);
    }
    Ok(classpath)
}

/// A running ZooKeeper server.
pub struct ZkServer {
    child: Child,
    classpath: String,
    port: u16,
    dir: tempfile::TempDir,
}

impl ZkServer {
    /// Starts a server and waits until it serves requests; panics with the
    /// reason (and the server log) otherwise.
    pub fn start() -> ZkServer {
        Self::start_with_max_session_timeout(Duration::from_secs(10))
    }

    /// Like [`ZkServer::start`], with the longest session the server grants
    /// (clients asking for more get this much).
    pub fn start_with_max_session_timeout(max_session_timeout: Duration) -> ZkServer {
        let classpath = locate_classpath(std::env::var(CLASSPATH_ENV).ok(), Path::new(DEBIAN_JAR))
            .unwrap_or_else(|message| panic!("{message}"));
        // The port is free when chosen but could be taken before the server
        // binds it: try a few times.
        let mut last_failure = String::new();
        for _ in 0..3 {
            match Self::try_start(&classpath, max_session_timeout) {
                Ok(server) => return server,
                Err(failure) => last_failure = failure,
            }
        }
        panic!("ZooKeeper test server did not start: {last_failure}");
    }

    fn try_start(classpath: &str, max_session_timeout: Duration) -> Result<ZkServer, String> {
        let port = free_port();
        let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temp dir: {e}"))?;
        let data = dir.path().join("data");
        let config = dir.path().join("zoo.cfg");
        std::fs::write(
            &config,
            format!(
                "tickTime=500\n\
                 initLimit=10\n\
                 syncLimit=5\n\
                 dataDir={}\n\
                 clientPort={port}\n\
                 clientPortAddress=127.0.0.1\n\
                 admin.enableServer=false\n\
                 4lw.commands.whitelist=ruok,srvr\n\
                 maxClientCnxns=0\n\
                 maxSessionTimeout={}\n",
                data.display(),
                max_session_timeout.as_millis()
            ),
        )
        .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
        let child = spawn(classpath, dir.path())?;
        let mut server = ZkServer {
            child,
            classpath: classpath.to_string(),
            port,
            dir,
        };
        server.wait_ready()?;
        Ok(server)
    }

    /// Replaces the server by a new one with no data on the same port, as
    /// after losing a whole ensemble: clients reconnect and learn that their
    /// sessions (and so their ephemeral znodes) are gone.
    pub fn restart_empty(&mut self) {
        self.stop();
        let data = self.dir.path().join("data");
        std::fs::remove_dir_all(&data)
            .unwrap_or_else(|e| panic!("cannot clear {}: {e}", data.display()));
        self.child = spawn(&self.classpath, self.dir.path()).unwrap_or_else(|e| panic!("{e}"));
        if let Err(failure) = self.wait_ready() {
            panic!("ZooKeeper test server did not restart: {failure}");
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "the server exited ({status}); its log:\n{}",
                    self.log_tail()
                ));
            }
            // `ruok` answers `imok` before the server serves requests;
            // `srvr` reports its mode only once it does.
            let serving = four_letter_word(self.port, "srvr").is_some_and(|a| a.contains("Mode: "));
            if serving {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let tail = self.log_tail();
        Err(format!(
            "not serving (per `srvr`) on 127.0.0.1:{} within {READY_TIMEOUT:?}; its log:\n{tail}",
            self.port
        ))
    }

    /// The server's last log lines, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// `127.0.0.1:<port>`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A `zk://` URL for this server and `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> ZkUrl {
        format!("zk://{}{path}", self.address())
            .parse()
            .expect("test URL parses")
    }

    /// Answer to a ZooKeeper four-letter word (`ruok`, `srvr`).
    pub fn ask(&self, word: &str) -> Option<String> {
        four_letter_word(self.port, word)
    }
}

impl Drop for ZkServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs the server of `dir/zoo.cfg` (creating its data directory), logging
/// to `dir/server.log`.
fn spawn(classpath: &str, dir: &Path) -> Result<Child, String> {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).map_err(|e| format!("cannot create {}: {e}", data.display()))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .map_err(|e| format!("cannot open the server log: {e}"))?;
    let log_err = log
        .try_clone()
        .map_err(|e| format!("cannot share the server log: {e}"))?;
    let mut command = Command::new("java");
    command
        .args(["-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"])
        .arg("-Dzookeeper.admin.enableServer=false")
        .arg("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn")
        .arg("-cp")
        .arg(classpath)
        .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
        .arg(dir.join("zoo.cfg"))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    // SAFETY: the closure only calls prctl(2), which is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.spawn().map_err(|e| {
        format!("cannot run `java` ({e}): ZooKeeper needs a Java runtime (apt-get install -y default-jre-headless)")
    })
}

fn four_letter_word(port: u16, word: &str) -> Option<String> {
    let mut stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500))
            .ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(word.as_bytes()).ok()?;
    let _ = stream.shutdown(Shutdown::Write);
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("cannot bind an ephemeral loopback port")
}
