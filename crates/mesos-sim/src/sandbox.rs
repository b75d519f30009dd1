//! Task sandboxes: a directory per task with `stdout` and `stderr`, and in
//! exec mode the task's command really run there (`sh -c`, CommandInfo
//! environment, `file://` URIs copied and archives extracted, as the Mesos
//! fetcher does). The task's state then follows the process.

use std::path::Path;
use std::process::Stdio;

use mesos_api::{CommandInfo, Reason, Source, TaskState};

use crate::app::SharedApp;
use crate::lifecycle::Change;
use crate::process::{terminate, ProcessId};

/// Creates the sandbox with empty `stdout` and `stderr`; what a running
/// command already wrote there is kept (two callers may race to create it).
pub fn create(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for f in ["stdout", "stderr"] {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(f))?;
    }
    Ok(())
}

/// Appends a line to the sandbox's stderr (fetcher and launcher messages).
fn note(dir: &Path, line: &str) {
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(dir.join("stderr"))
    {
        let _ = writeln!(f, "{line}");
    }
}

/// Copies one URI into the sandbox (a local file, `file://`, or `http(s)://`
/// downloaded as the Mesos fetcher does), extracting archives unless told
/// not to.
async fn fetch(uri: &mesos_api::CommandUri, dir: &Path) -> Result<(), String> {
    let remote = uri.value.starts_with("http://") || uri.value.starts_with("https://");
    let src = uri
        .value
        .strip_prefix("file://")
        .unwrap_or(&uri.value)
        .to_string();
    if !remote && src.contains("://") {
        return Err(format!(
            "mesos-sim fetches only local files, file:// and http(s):// URIs, not {:?}",
            uri.value
        ));
    }
    let path_part = src.split(['?', '#']).next().unwrap_or_default();
    let name = uri
        .output_file
        .clone()
        .or_else(|| {
            Path::new(path_part)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .ok_or_else(|| format!("URI {:?} names no file", uri.value))?;
    let dest = dir.join(&name);
    if remote {
        download(&uri.value, &dest).await?;
    } else {
        std::fs::copy(&src, &dest).map_err(|e| format!("Failed to fetch '{}': {e}", uri.value))?;
    }
    let archive = [".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz", ".txz"]
        .iter()
        .any(|s| name.ends_with(s));
    if uri.extract.unwrap_or(true) && archive {
        let ok = std::process::Command::new("tar")
            .arg("-xf")
            .arg(&dest)
            .arg("-C")
            .arg(dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            return Err(format!("Failed to extract '{}'", dest.display()));
        }
    }
    if uri.executable.unwrap_or(false) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755));
        }
    }
    Ok(())
}

/// `net::download` of the fetcher: the body into `dest`, and the fetcher's
/// words for an HTTP status other than 200.
async fn download(url: &str, dest: &Path) -> Result<(), String> {
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    let failed = |e: &dyn std::fmt::Display| format!("Failed to fetch '{url}': {e}");
    let response = reqwest::get(url).await.map_err(|e| failed(&e))?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(failed(&format!(
            "Error downloading resource, received HTTP return code {}",
            response.status().as_u16()
        )));
    }
    let mut file = tokio::fs::File::create(dest)
        .await
        .map_err(|e| failed(&e))?;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| failed(&e))?;
        file.write_all(&chunk).await.map_err(|e| failed(&e))?;
    }
    file.flush().await.map_err(|e| failed(&e))
}

fn fail(app: &SharedApp, fid: &str, tid: &str, message: &str) {
    let mut m = app.lock();
    m.change_task(
        fid,
        tid,
        Change {
            state: TaskState::Failed,
            source: Source::SourceAgent,
            reason: Some(Reason::ReasonContainerLaunchFailed),
            message: Some(message),
            acknowledged: true,
            healthy: None,
            uuid: None,
        },
    );
    drop(m);
    app.touch();
}

/// Runs a task's command in its sandbox and reports what becomes of it.
pub fn spawn(app: SharedApp, fid: String, tid: String) {
    tokio::spawn(async move {
        let found = {
            let m = app.lock();
            m.frameworks
                .get(&fid)
                .and_then(|f| f.tasks.get(&tid))
                .map(|t| {
                    (
                        t.info
                            .command
                            .clone()
                            .or_else(|| t.info.executor.as_ref().and_then(|e| e.command.clone()))
                            .unwrap_or_default(),
                        t.sandbox.clone(),
                        t.agent_id.clone(),
                        t.has_custom_executor(m.spec.exec),
                        crate::executor_api::environment(&m, t),
                    )
                })
        };
        let Some((cmd, dir, agent_id, custom_executor, executor_env)) = found else {
            return;
        };
        if let Err(e) = create(&dir) {
            fail(&app, &fid, &tid, &format!("Failed to create sandbox: {e}"));
            return;
        }
        for uri in &cmd.uris {
            if let Err(e) = fetch(uri, &dir).await {
                note(&dir, &e);
                fail(
                    &app,
                    &fid,
                    &tid,
                    &format!("Failed to launch container: {e}"),
                );
                return;
            }
        }
        let mut child = match command(&cmd, &dir, &fid, &tid, &agent_id, &executor_env) {
            Ok(c) => c,
            Err(e) => {
                fail(
                    &app,
                    &fid,
                    &tid,
                    &format!("Failed to launch container: {e}"),
                );
                return;
            }
        };
        let (kill_tx, mut kill_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        {
            let mut m = app.lock();
            let registration = m.spec.timing.executor_registration_timeout;
            let Some(t) = m
                .frameworks
                .get_mut(&fid)
                .and_then(|f| f.tasks.get_mut(&tid))
            else {
                let _ = child.start_kill();
                return;
            };
            if t.kill_requested || t.state.is_terminal() {
                let _ = child.start_kill();
            }
            t.process = Some(kill_tx);
            t.process_id = child.id().and_then(ProcessId::of);
            if !custom_executor {
                m.change_task(&fid, &tid, Change::executor(TaskState::Running));
                let health = m.health_timer(&fid, &tid, std::time::Instant::now());
                m.set_timer(&fid, &tid, health);
            } else {
                // A custom executor reports its task's states itself, once
                // it has subscribed in time.
                let timer = (
                    crate::model::Timer::ExecutorRegistration,
                    std::time::Instant::now() + registration,
                );
                m.set_timer(&fid, &tid, Some(timer));
            }
        }
        app.touch();
        let status = tokio::select! {
            s = child.wait() => s,
            _ = kill_rx.recv() => {
                if let Some(pid) = child.id() {
                    terminate(pid, || matches!(child.try_wait(), Ok(Some(_)))).await;
                }
                child.wait().await
            }
        };
        ended(&app, &fid, &tid, Exit::Status(status));
    });
}

/// How a task's process ended.
pub enum Exit {
    /// Our child: its exit status.
    Status(std::io::Result<std::process::ExitStatus>),
    /// Recovered after a restart, so not our child: its status is unknown.
    Unknown,
    /// It ended while the emulator was stopped.
    WhileStopped,
}

/// The task's state once its process has ended (TASK_KILLED when a kill
/// was asked for).
pub fn ended(app: &SharedApp, fid: &str, tid: &str, exit: Exit) {
    let mut m = app.lock();
    let task = m.frameworks.get(fid).and_then(|f| f.tasks.get(tid));
    let killed = task.is_some_and(|t| t.kill_requested);
    // A custom executor that ends before its task, unasked: the agent
    // fails the task.
    if !killed && task.is_some_and(|t| t.has_custom_executor(m.spec.exec)) {
        m.change_task(
            fid,
            tid,
            Change {
                state: TaskState::Failed,
                source: mesos_api::Source::SourceAgent,
                reason: Some(mesos_api::Reason::ReasonExecutorTerminated),
                message: Some("Executor terminated"),
                acknowledged: true,
                healthy: None,
                uuid: None,
            },
        );
        drop(m);
        app.touch();
        return;
    }
    let words = |s: &std::process::ExitStatus| {
        #[cfg(unix)]
        let signal = std::os::unix::process::ExitStatusExt::signal(s);
        #[cfg(not(unix))]
        let signal = None;
        mesos_api::command_status::command_status_message(s.code(), signal)
    };
    let (state, message) = match exit {
        Exit::Status(Ok(s)) if killed => (TaskState::Killed, words(&s)),
        _ if killed => (TaskState::Killed, "Command terminated".to_string()),
        Exit::Status(Ok(s)) if s.success() => (TaskState::Finished, words(&s)),
        Exit::Status(Ok(s)) => (TaskState::Failed, words(&s)),
        Exit::Status(Err(e)) => (
            TaskState::Failed,
            format!("Failed to wait for the command: {e}"),
        ),
        Exit::Unknown => (
            TaskState::Failed,
            "Command exited; its status is unknown to the restarted emulator".into(),
        ),
        Exit::WhileStopped => (
            TaskState::Failed,
            "Command exited while the emulator was stopped".into(),
        ),
    };
    if let Some(t) = m.frameworks.get_mut(fid).and_then(|f| f.tasks.get_mut(tid)) {
        t.process = None;
        t.process_id = None;
    }
    m.change_task(
        fid,
        tid,
        Change {
            message: Some(&message),
            ..Change::executor(state)
        },
    );
    drop(m);
    app.touch();
}

fn command(
    cmd: &CommandInfo,
    dir: &Path,
    fid: &str,
    tid: &str,
    agent_id: &str,
    executor_env: &[(&'static str, String)],
) -> std::io::Result<tokio::process::Child> {
    let value = cmd.value.clone().unwrap_or_default();
    let mut c = if cmd.shell.unwrap_or(true) {
        let mut c = tokio::process::Command::new("sh");
        c.arg("-c").arg(value);
        c
    } else {
        let mut c = tokio::process::Command::new(value);
        // As in Mesos, arguments include argv[0].
        c.args(cmd.arguments.iter().skip(1));
        c
    };
    c.current_dir(dir)
        .env("MESOS_SANDBOX", dir)
        .env("MESOS_DIRECTORY", dir)
        .env("MESOS_TASK_ID", tid)
        .env("MESOS_FRAMEWORK_ID", fid)
        .env("MESOS_AGENT_ID", agent_id)
        .stdin(Stdio::null())
        .stdout(
            std::fs::OpenOptions::new()
                .append(true)
                .open(dir.join("stdout"))?,
        )
        .stderr(
            std::fs::OpenOptions::new()
                .append(true)
                .open(dir.join("stderr"))?,
        );
    for (k, v) in executor_env {
        c.env(k, v);
    }
    if let Some(env) = &cmd.environment {
        for v in &env.variables {
            if let Some(val) = &v.value {
                c.env(&v.name, val);
            }
        }
    }
    // Its own group, so that a kill reaches what it starts. Not killed on
    // drop: a stopped emulator with a persist directory leaves it running
    // for the next start to recover (see `process`).
    #[cfg(unix)]
    c.process_group(0);
    c.spawn()
}
