//! The default launch, for real: tasks whose ExecutorInfo runs Alluxio's
//! `integration/mesos/bin/alluxio-{master,worker}-mesos.sh`, here from the
//! stand-in Alluxio (`crates/alluxio-stand-in`), whose executor speaks the
//! Mesos executor API to the agent and starts processes that serve
//! Alluxio's REST paths. Installed LOCAL, or fetched as tarballs (Alluxio
//! and a JDK) by the agent's fetcher from a server of the test.
//!
//! Every agent has a loopback address of its own as its hostname, so that
//! the master and the workers, which serve on their host's address as
//! Alluxio does, can share this machine.

use super::*;
use crate::support::stand_in::{processes_with_env, FileServer, StandIn, JDK_PATH};
use std::path::Path;

/// Instantiates the default-launch scenarios on `$backend`.
macro_rules! default_launch_tests {
    ($backend:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn the_default_launch_runs_alluxio_installed_on_the_agents() {
            $crate::scenarios::default_launch_local($backend).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn the_default_launch_fetches_alluxio_and_a_jdk_and_waits_for_health() {
            $crate::scenarios::default_launch_fetched($backend).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_failing_health_check_kills_the_task_and_fails_the_apply() {
            $crate::scenarios::a_failing_health_check_fails_the_launch($backend).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn an_executor_that_never_subscribes_fails_its_launch() {
            $crate::scenarios::an_executor_that_never_subscribes_fails_its_launch($backend).await
        }
    };
}
pub(crate) use default_launch_tests;

/// Site properties of the tests: nothing of the install (the deployment
/// file says it), something the processes can be seen to have read.
const STAND_IN_SITE: &str =
    "alluxio.underfs.address=/tmp/underfs\nalluxio.user.file.writetype.default=CACHE_THROUGH\n";

/// How long the processes may take to answer once apply is done (a worker
/// registers within its first heartbeat, a second).
const SERVE_TIMEOUT: Duration = Duration::from_secs(30);

/// LOCAL install: deploy, replace every task by a change of the site
/// properties, destroy. After each step Alluxio itself is asked what runs;
/// after the replacement and the destroy no process of the old tasks is
/// left on the machine.
pub async fn default_launch_local(backend: Backend) {
    let stand_in = StandIn::install();
    let cluster = TestCluster::start(backend, &ClusterDesc::on_loopback(2)).await;
    let install = format!(
        "[alluxio]\njar_url = \"LOCAL\"\nhome = \"{}\"\n",
        stand_in.home().display()
    );
    let d = Deployment::asking_alluxio(&cluster.url(), &install, STAND_IN_SITE);
    let r = apply(&d).await;
    expect_said(
        &cluster,
        &r,
        0,
        "apply",
        "Apply complete: 3 launched, 0 replaced, 0 killed.",
    );
    // By default apply waits until Alluxio itself says each task serves.
    assert!(
        r.stdout
            .contains("started means: masters once Alluxio's REST API answers"),
        "{}: the plan says when a task counts as started:\n{}",
        cluster.backend,
        r.stdout
    );
    assert_eq!(
        r.stderr.matches("Alluxio master serving at").count(),
        1,
        "{}",
        r.stderr
    );
    assert_eq!(
        r.stderr.matches("listed by the Alluxio master at").count(),
        2,
        "{}",
        r.stderr
    );
    assert_converged(&cluster, &d, 3).await;
    alluxio_serves(&cluster, &d).await;

    let logs = cli(&d, &["logs", "master[0]"]).await;
    expect_code(&cluster, &logs, 0, "logs master[0]");
    for line in [
        "alluxio-master-mesos.sh: ALLUXIO_HOME=",
        "subscribed to agent 127.0.",
        "Alluxio master (stand-in",
    ] {
        assert!(
            logs.stdout.contains(line),
            "{}: logs lack {line:?}:\n{}",
            cluster.backend,
            logs.stdout
        );
    }

    let before = stand_in_pids(&d);
    assert_eq!(
        before.len(),
        6,
        "an executor and a process per task: {before:?}"
    );
    d.set_site(&STAND_IN_SITE.replace("/tmp/underfs", "/tmp/underfs-2"));
    let r = apply(&d).await;
    expect_said(
        &cluster,
        &r,
        0,
        "replacing apply",
        "Apply complete: 0 launched, 3 replaced, 0 killed.",
    );
    assert_converged(&cluster, &d, 3).await;
    wait_until_gone(
        &cluster,
        &before,
        "the replaced tasks' executors and processes",
    )
    .await;
    alluxio_serves(&cluster, &d).await;

    destroy_leaving_no_process(&cluster, &d).await;
    cluster.shutdown().await;
}

/// Tarball install with a JDK, both fetched over HTTP by the agents, and
/// health checks (HTTP on the master's web port, TCP on the workers' RPC
/// port) that apply waits for.
pub async fn default_launch_fetched(backend: Backend) {
    let stand_in = StandIn::install();
    let files = FileServer::start(stand_in.dir.path()).await;
    let cluster = TestCluster::start(backend, &ClusterDesc::on_loopback(2)).await;
    let install = format!(
        "[alluxio]\njar_url = \"{url}/alluxio.tar.gz\"\njdk_url = \"{url}/jdk.tar.gz\"\njdk_path = \"{JDK_PATH}\"\n\
         [master]\nhealth_check = {{ http = \"/api/v1/master/info\", delay = \"1s\", interval = \"2s\" }}\n\
         [worker]\nhealth_check = {{ tcp = true, delay = \"1s\", interval = \"2s\" }}\n",
        url = files.url
    );
    let d = Deployment::asking_alluxio(&cluster.url(), &install, STAND_IN_SITE);
    let r = apply(&d).await;
    expect_said(
        &cluster,
        &r,
        0,
        "apply",
        "Apply complete: 3 launched, 0 replaced, 0 killed.",
    );
    // Progress goes to stderr.
    assert_eq!(
        r.stderr.matches("(healthy)").count(),
        3,
        "{}: apply waits until each task is healthy:\n{}",
        cluster.backend,
        r.stderr
    );
    assert_eq!(
        files.fetches("alluxio.tar.gz"),
        3,
        "each sandbox fetches the tarball"
    );
    assert_eq!(
        files.fetches("jdk.tar.gz"),
        3,
        "each sandbox fetches the JDK"
    );
    assert_converged(&cluster, &d, 3).await;
    alluxio_serves(&cluster, &d).await;
    let state = cluster.state().await;
    for f in state["frameworks"].as_array().into_iter().flatten() {
        for t in f["tasks"].as_array().into_iter().flatten() {
            let last = t["statuses"]
                .as_array()
                .and_then(|s| s.last())
                .cloned()
                .unwrap_or_default();
            assert_eq!(
                last["healthy"], true,
                "{}: the master's last status of {}: {last}",
                cluster.backend, t["id"]
            );
        }
    }

    let worker = format!("worker[\"{}\"]", cluster.desc.agents[0].hostname);
    let stderr = cli(&d, &["logs", "--stderr", &worker]).await;
    expect_code(&cluster, &stderr, 0, "logs --stderr");
    assert!(
        stderr.stdout.contains("openjdk version \"1.8.0-stand-in\""),
        "{}: the fetched JDK's java ran:\n{}",
        cluster.backend,
        stderr.stdout
    );

    destroy_leaving_no_process(&cluster, &d).await;
    cluster.shutdown().await;
}

/// The stand-in executors and processes of this deployment's framework
/// (their environment names it: the agent gives it to the executor, which
/// passes its environment on).
fn stand_in_pids(d: &Deployment) -> Vec<(u32, String)> {
    let fid = d.state()["framework_id"]
        .as_str()
        .expect("a framework ID in the state")
        .to_string();
    processes_with_env("MESOS_FRAMEWORK_ID", &fid)
        .into_iter()
        .filter(|(_, cmd)| cmd.contains("alluxio-stand-in"))
        .collect()
}

/// Destroys the deployment of 3 tasks; then none of their executors and
/// processes (an executor and a process each) is left on the machine.
async fn destroy_leaving_no_process(cluster: &TestCluster, d: &Deployment) {
    let before = stand_in_pids(d);
    assert_eq!(
        before.len(),
        6,
        "an executor and a process per task: {before:?}"
    );
    let r = cli(d, &["destroy", "--auto-approve"]).await;
    expect_said(
        cluster,
        &r,
        0,
        "destroy",
        "Destroy complete: 0 launched, 0 replaced, 3 killed.",
    );
    wait_until_gone(
        cluster,
        &before,
        "the destroyed tasks' executors and processes",
    )
    .await;
}

/// Waits (bounded) until none of `pids` runs.
async fn wait_until_gone(cluster: &TestCluster, pids: &[(u32, String)], what: &str) {
    wait_until_none(cluster, what, || {
        pids.iter()
            .filter(|(pid, _)| Path::new(&format!("/proc/{pid}")).exists())
            .cloned()
            .collect()
    })
    .await
}

/// Waits (bounded: 30 s) until `running` lists no process.
async fn wait_until_none(
    cluster: &TestCluster,
    what: &str,
    running: impl Fn() -> Vec<(u32, String)>,
) {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let left = running();
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < until,
            "{}: {what} still run 30 s later: {left:?}",
            cluster.backend
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What Alluxio itself says, checked against the master and the state: the
/// master answers `GET /api/v1/master/info` on its host's web port and
/// lists every worker by its host; every process listens on its ports and
/// read exactly the site properties its configuration was launched with.
async fn alluxio_serves(cluster: &TestCluster, d: &Deployment) {
    let state = cluster.state().await;
    let hostname_of = |agent_id: &str| {
        state["slaves"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["id"] == agent_id)
            .and_then(|a| a["hostname"].as_str())
            .map(str::to_string)
            .expect("the task's agent")
    };
    let hosts: BTreeMap<String, String> = live_tasks(&state)
        .into_iter()
        .map(|(_, address, _, agent)| (address, hostname_of(&agent)))
        .collect();
    let hashes = crate::support::config_hashes(&state);
    let templates = d.state()["launch_templates"].clone();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let master_host = &hosts["master[0]"];
    let worker_hosts: Vec<&String> = hosts
        .iter()
        .filter(|(a, _)| a.starts_with("worker"))
        .map(|(_, h)| h)
        .collect();
    let until = Instant::now() + SERVE_TIMEOUT;
    let info = loop {
        let url = format!("http://{master_host}:19999/api/v1/master/info");
        let last = match http.get(&url).send().await {
            Ok(r) => r.json::<Value>().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Ok(info) = &last {
            let listed: Vec<&str> = info["workers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|w| w["address"]["host"].as_str())
                .collect();
            if worker_hosts.iter().all(|h| listed.contains(&h.as_str())) {
                break info.clone();
            }
        }
        assert!(
            Instant::now() < until,
            "{}: the Alluxio master at {url} does not list workers {worker_hosts:?} within {SERVE_TIMEOUT:?}; last answer: {last:?}",
            cluster.backend
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(
        info["rpcAddress"],
        format!("{master_host}/{master_host}:19998")
    );
    let expect_properties = |address: &str, got: &Value| {
        let hash = &hashes[address];
        let launched = &templates[hash]["site_properties"];
        assert_eq!(
            got, launched,
            "{}: {address} read other site properties than its configuration {hash} was launched with",
            cluster.backend
        );
    };
    expect_properties("master[0]", &info["configuration"]);
    for (address, host) in hosts.iter().filter(|(a, _)| a.starts_with("worker")) {
        for port in [29998, 29999, 30000] {
            tokio::net::TcpStream::connect((host.as_str(), port))
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "{}: {address} does not listen on {host}:{port}: {e}",
                        cluster.backend
                    )
                });
        }
        let worker: Value = http
            .get(format!("http://{host}:30000/api/v1/worker/info"))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .unwrap_or_else(|e| panic!("{}: {address}'s web port: {e}", cluster.backend))
            .json()
            .await
            .expect("worker info is JSON");
        expect_properties(address, &worker["configuration"]);
    }
}

/// `ready = "alluxio"` on a task that runs no Alluxio: apply waits
/// `ready_timeout`, then fails the step with what it waited for and what it
/// saw last, and exits 1.
pub async fn alluxio_readiness_times_out(backend: Backend) {
    let cluster = TestCluster::start(backend, &ClusterDesc::agents(1)).await;
    let d = Deployment::of_this_account(
        &cluster.url(),
        "[master]\ncommand = \"exec sleep 600\"\nready = \"alluxio\"\nready_timeout = \"3s\"\n\
         [worker]\ncommand = \"exec sleep 600\"\n",
        SITE,
    );
    let r = apply(&d).await;
    expect_code(&cluster, &r, 1, "apply");
    assert!(
        r.stdout.contains("started means: masters once Alluxio's REST API answers (within 3s), workers once Mesos runs them"),
        "{}: the plan says when a task counts as started:\n{}",
        cluster.backend,
        r.stdout
    );
    let host = &cluster.desc.agents[0].hostname;
    let why = format!(
        "Mesos runs it, but Alluxio did not serve within 3s: waited for its web port to answer Alluxio's GET /api/v1/master/info; last seen: http://{host}:19999/api/v1/master/info: "
    );
    assert!(
        r.stdout.contains(&why),
        "{}: the failure names what was waited for and what was seen:\n{}",
        cluster.backend,
        r.stdout
    );
    cluster.shutdown().await;
}

/// An `alluxio.home` whose Mesos scripts start no executor (plain shell, as
/// a tried deployment had): the agent gives up on the executor after its
/// registration timeout, each attempt fails with Mesos's reason and words,
/// apply exits 1, and the agent leaves no process of it behind.
pub async fn an_executor_that_never_subscribes_fails_its_launch(backend: Backend) {
    let home = tempfile::tempdir().expect("temp dir");
    let bin = home.path().join("integration/mesos/bin");
    std::fs::create_dir_all(&bin).unwrap();
    for role in ["master", "worker"] {
        let script = bin.join(format!("alluxio-{role}-mesos.sh"));
        std::fs::write(&script, "#!/bin/sh\nexec sleep 600\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut desc = ClusterDesc::agents(1);
    desc.executor_registration_timeout = Some(Duration::from_secs(3));
    let cluster = TestCluster::start(backend, &desc).await;
    let d = Deployment::asking_alluxio(
        &cluster.url(),
        &format!(
            "[alluxio]\njar_url = \"LOCAL\"\nhome = \"{}\"\n",
            home.path().display()
        ),
        STAND_IN_SITE,
    );
    let r = apply(&d).await;
    expect_code(&cluster, &r, 1, "apply");
    let why = "TASK_FAILED (REASON_EXECUTOR_REGISTRATION_TIMEOUT): Executor did not register within 3secs (after 3 attempts)";
    assert!(
        r.stdout.contains(why),
        "{}: the failure is Mesos's own:\n{}",
        cluster.backend,
        r.stdout
    );
    let fid = d.state()["framework_id"]
        .as_str()
        .expect("a framework ID")
        .to_string();
    wait_until_none(&cluster, "the executors that never subscribed", || {
        processes_with_env("MESOS_FRAMEWORK_ID", &fid)
    })
    .await;
    cluster.shutdown().await;
}

/// A master whose HTTP health check asks a path its web port does not
/// serve: the executor reports it unhealthy, then kills it after
/// `consecutive_failures`; apply retries, then fails the step and exits 1.
/// The master's record of the task says `healthy: false`.
pub async fn a_failing_health_check_fails_the_launch(backend: Backend) {
    let stand_in = StandIn::install();
    let cluster = TestCluster::start(backend, &ClusterDesc::on_loopback(1)).await;
    let install = format!(
        "[alluxio]\njar_url = \"LOCAL\"\nhome = \"{}\"\n\
         [master]\nhealth_check = {{ http = \"/no/such/path\", delay = \"1s\", interval = \"1s\", grace_period = \"2s\", consecutive_failures = 2 }}\n",
        stand_in.home().display()
    );
    let d = Deployment::asking_alluxio(&cluster.url(), &install, STAND_IN_SITE);
    let r = apply(&d).await;
    expect_code(&cluster, &r, 1, "apply");
    assert!(
        r.stdout.contains("health_check with the default launch"),
        "{}: the plan warns that Alluxio's own executors run no checks:\n{}",
        cluster.backend,
        r.stdout
    );
    assert!(
        r.stdout.contains("FAILED   master[0] (launch)") && r.stdout.contains("TASK_KILLED"),
        "{}: the master's launch fails with the kill the failing checks caused:\n{}",
        cluster.backend,
        r.stdout
    );
    assert!(
        r.stderr.contains("waiting for its health check"),
        "{}: apply waited for the verdict:\n{}",
        cluster.backend,
        r.stderr
    );
    let state = cluster.state().await;
    let unhealthy = state["frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["completed_tasks"].as_array().into_iter().flatten())
        .filter(|t| t["name"] == "AlluxioMaster")
        .filter(|t| {
            t["statuses"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s["healthy"] == false))
        })
        .count();
    assert_eq!(
        unhealthy, 3,
        "{}: each of the 3 attempts was reported unhealthy before its kill",
        cluster.backend
    );
    cluster.shutdown().await;
}
