//! The settings themselves, in the order of the documentation.

use super::{both, property, toml, Fallback, RoleSettings, Scope, Setting, Type};
use Fallback::{Derived, Required};

pub const NAME: Setting = toml("", "name", Type::Text, "deployment name").fallback(Required);

pub const STATE_URL: Setting = toml("state", "url", Type::Text, "where the state lives: `zk://[user:password@]host:port[,host:port...]/path` keeps it in ZooKeeper under `path` (one path per deployment, e.g. `/alluxio-mesos/prod`), shared by every operator and CI; a file path keeps it in that file. `--state` and `ALLUXIO_MESOS_STATE` override it. See [state-file.md](state-file.md#where-the-state-lives)")
    .fallback(Derived("the file `alluxio-mesos.state.json` beside the deployment file"));

pub const MESOS_MASTER: Setting = toml("mesos", "master", Type::Text, "`http(s)://host:port`, a comma-separated list of such URLs (tried in order), `zk://[user:pass@]host:port,.../path`, or `\"local\"` (the embedded emulator)")
    .fallback(Derived("none: `--mesos` must say"));
pub const FRAMEWORK_NAME: Setting = toml(
    "mesos",
    "framework_name",
    Type::Text,
    "Mesos framework name",
)
.fallback(Derived("`name`"));
pub const PRINCIPAL: Setting = both(
    "mesos",
    "principal",
    "alluxio.integration.mesos.principal",
    Type::Text,
    "framework principal",
)
.value("alluxio");
pub const SECRET_FILE: Setting = toml(
    "mesos",
    "secret_file",
    Type::Path,
    "file holding the framework secret (one line)",
);
pub const ROLE: Setting = both(
    "mesos",
    "role",
    "alluxio.integration.mesos.role",
    Type::Text,
    "role the framework registers with",
)
.value("*");
pub const USER: Setting = both(
    "mesos",
    "user",
    "alluxio.integration.mesos.user",
    Type::Text,
    "Unix user the tasks run as",
)
.fallback(Derived(
    "`$USER`, then `$LOGNAME`, then the account name of the effective uid (as `id -un`)",
))
.feeds("user");
pub const FAILOVER_TIMEOUT: Setting = toml(
    "mesos",
    "failover_timeout",
    Type::Duration,
    "how long Mesos keeps the tasks after the CLI disconnects; must be more than 0",
)
.value("4w");
pub const CA_CERT: Setting = toml(
    "mesos",
    "ca_cert",
    Type::Path,
    "CA certificate for an `https://` master; must exist",
);
pub const LOCAL_CLUSTER: Setting = toml(
    "mesos",
    "local_cluster",
    Type::Path,
    "emulator cluster file for `master = \"local\"`; must exist",
)
.fallback(Derived("built-in three agents"));

pub const SITE_PROPERTIES: Setting = toml(
    "alluxio",
    "site_properties",
    Type::Path,
    "the properties file; it must exist",
)
.value("alluxio-site.properties");
pub const SECRET_PROPERTIES: Setting = toml("alluxio", "secret_properties", Type::KeyPatterns, "more property keys to treat as secrets, `*` matching any run of characters (`[\"acme.vault.*\"]`); see [What the tasks see](#what-the-tasks-see)")
    .fallback(Derived("`[]`"));
pub const JAR_URL: Setting = both("alluxio", "jar_url", "alluxio.integration.mesos.alluxio.jar.url", Type::Text, "`LOCAL` (installed on every agent at `home`) or the URL of an Alluxio tarball for Mesos to fetch")
    .fallback(Required);
pub const HOME: Setting = both(
    "alluxio",
    "home",
    "alluxio.home",
    Type::Text,
    "install path on the agents; required when `jar_url` is `LOCAL`",
);
pub const JDK_URL: Setting = both(
    "alluxio",
    "jdk_url",
    "alluxio.integration.mesos.jdk.url",
    Type::Text,
    "`LOCAL` (Java on the agents) or a JDK tarball URL",
)
.value("LOCAL");
pub const JDK_PATH: Setting = both(
    "alluxio",
    "jdk_path",
    "alluxio.integration.mesos.jdk.path",
    Type::Text,
    "directory the JDK tarball unpacks to (JAVA_HOME); required with a JDK URL",
);

pub const MASTER_COUNT: Setting = both("master", "count", "alluxio.integration.mesos.master.node.count", Type::Count, "number of masters, at least 1; more than 1 needs `alluxio.zookeeper.enabled=true` and `alluxio.zookeeper.address`. A change launches or kills masters and replaces none")
    .value("1")
    .scope(Scope::Deployment);
pub const MASTER_CPUS: Setting = both(
    "master",
    "cpus",
    "alluxio.integration.master.resource.cpu",
    Type::Cpus,
    "CPUs per master, more than 0",
)
.value("1")
.scope(Scope::Master)
.feeds("cpus");
pub const MASTER_MEM: Setting = both(
    "master",
    "mem",
    "alluxio.integration.master.resource.mem",
    Type::Size,
    "memory per master",
)
.value("1024MB")
.scope(Scope::Master)
.feeds("mem");
pub const MASTER_RPC_PORT: Setting =
    both("master", "rpc_port", "alluxio.master.port", Type::Port, "")
        .value("19998")
        .scope(Scope::Master)
        .feeds("ports");
pub const MASTER_WEB_PORT: Setting = both(
    "master",
    "web_port",
    "alluxio.master.web.port",
    Type::Port,
    "",
)
.value("19999")
.scope(Scope::Master)
.feeds("ports");
pub const MASTER_NAME: Setting = both(
    "master",
    "name",
    "alluxio.integration.mesos.master.name",
    Type::Text,
    "task name",
)
.value("AlluxioMaster")
.scope(Scope::Master)
.feeds("task name");
pub const MASTER_HOSTNAME: Setting = toml(
    "master",
    "hostname",
    Type::Text,
    "pin the master to this agent (only with `count = 1`)",
);
pub const MASTER_CONSTRAINTS: Setting = toml(
    "master",
    "constraints",
    Type::Text,
    "agent attribute expression, see below",
);
pub const MASTER_COMMAND: Setting = toml(
    "master",
    "command",
    Type::Text,
    "run this command (Mesos command executor) instead of the Alluxio scripts",
);
pub const MASTER_HEALTH_CHECK: Setting = toml("master", "health_check", Type::HealthCheck, "`{ tcp = true }` (TCP on the RPC port) or `{ http = \"/path\" }` (HTTP on the web port), with optional `delay` (15s), `interval` (10s), `timeout` (5s), `grace_period` (60s) and `consecutive_failures` (3): passed to Mesos as the task's health check; apply waits until Mesos reports the task healthy, and Mesos kills a task whose checks keep failing. With the default launch the executor runs the checks, and Alluxio 1.x's own executors run none (the plan warns). TOML only");
pub const MASTER_READY: Setting = toml(
    "master",
    "ready",
    Type::ReadyWhen,
    "when apply counts a launched master as started: `alluxio` once its web port answers Alluxio's `GET /api/v1/master/info` (or, for a standby, once another master does), `mesos` once Mesos reports it TASK_RUNNING (and healthy, with a health check) for the settle time. Default: `alluxio` for the default launch, `mesos` with `command`. Changing it replaces nothing",
);
pub const MASTER_READY_TIMEOUT: Setting = toml(
    "master",
    "ready_timeout",
    Type::Duration,
    "with `ready = \"alluxio\"`: how long Alluxio may take to serve once Mesos runs the task (raise it for a master with a large journal to replay)",
)
.value("5m");

pub const WORKER_COUNT: Setting = toml(
    "worker",
    "count",
    Type::WorkerCount,
    "one worker per eligible agent, or this many",
)
.value("all");
pub const WORKER_CPUS: Setting = both(
    "worker",
    "cpus",
    "alluxio.integration.worker.resource.cpu",
    Type::Cpus,
    "CPUs per worker, more than 0",
)
.value("1")
.scope(Scope::Worker)
.feeds("cpus");
pub const WORKER_MEM: Setting = both(
    "worker",
    "mem",
    "alluxio.integration.worker.resource.mem",
    Type::Size,
    "JVM heap and overhead per worker",
)
.value("1024MB")
.scope(Scope::Worker)
.feeds("mem");
pub const WORKER_RAMDISK: Setting = both(
    "worker",
    "ramdisk",
    "alluxio.worker.memory.size",
    Type::Size,
    "worker ramdisk; Mesos accounts for it on top of `mem`",
)
.value("1GB")
.scope(Scope::Worker)
.feeds("ramdisk");
pub const WORKER_RPC_PORT: Setting =
    both("worker", "rpc_port", "alluxio.worker.port", Type::Port, "")
        .value("29998")
        .scope(Scope::Worker)
        .feeds("ports");
pub const WORKER_DATA_PORT: Setting = both(
    "worker",
    "data_port",
    "alluxio.worker.data.port",
    Type::Port,
    "",
)
.value("29999")
.scope(Scope::Worker)
.feeds("ports");
pub const WORKER_WEB_PORT: Setting = both(
    "worker",
    "web_port",
    "alluxio.worker.web.port",
    Type::Port,
    "",
)
.value("30000")
.scope(Scope::Worker)
.feeds("ports");
pub const MAX_UNAVAILABLE: Setting = toml(
    "worker",
    "max_unavailable",
    Type::Count,
    "workers replaced at a time, at least 1",
)
.value("1");
pub const WORKER_NAME: Setting = both(
    "worker",
    "name",
    "alluxio.integration.mesos.worker.name",
    Type::Text,
    "task name",
)
.value("AlluxioWorker")
.scope(Scope::Worker)
.feeds("task name");
pub const WORKER_CONSTRAINTS: Setting = toml(
    "worker",
    "constraints",
    Type::Text,
    "agent attribute expression, see below",
);
pub const WORKER_COMMAND: Setting = toml("worker", "command", Type::Text, "as for the master");
pub const WORKER_HEALTH_CHECK: Setting = toml(
    "worker",
    "health_check",
    Type::HealthCheck,
    "as for the master",
);
pub const WORKER_READY: Setting = toml(
    "worker",
    "ready",
    Type::ReadyWhen,
    "as for the master; `alluxio`: once the leading master lists the worker (its host and RPC port) among its `workers`, registered after this launch",
);
pub const WORKER_READY_TIMEOUT: Setting = toml(
    "worker",
    "ready_timeout",
    Type::Duration,
    "as for the master",
)
.value("5m");

pub const ZOOKEEPER_ENABLED: Setting = property(
    "alluxio.zookeeper.enabled",
    Type::Bool,
    "`true` or `false`; needed (with the address) for more than one master",
);
pub const ZOOKEEPER_ADDRESS: Setting = property(
    "alluxio.zookeeper.address",
    Type::Text,
    "`zk1:2181,zk2:2181,...`",
);
/// The property holding the framework secret (AlluxioFramework's place for it).
pub const SECRET_PROPERTY: &str = "alluxio.integration.mesos.secret";
/// The framework secret in the properties file; never passed to the tasks.
pub const SECRET: Setting = property(
    SECRET_PROPERTY,
    Type::Text,
    "the framework secret, accepted with a warning (prefer `[mesos] secret_file`); never passed to the tasks",
);
/// Read by Alluxio, not by us: listed so that a misspelling of it is caught.
pub const UNDERFS_ADDRESS: Setting = property(
    "alluxio.underfs.address",
    Type::Text,
    "passed to the tasks unchanged, like every other property",
);

pub const MASTER: RoleSettings = RoleSettings {
    cpus: MASTER_CPUS,
    mem: MASTER_MEM,
    rpc_port: MASTER_RPC_PORT,
    web_port: MASTER_WEB_PORT,
    name: MASTER_NAME,
    command: MASTER_COMMAND,
    health_check: MASTER_HEALTH_CHECK,
    ready: MASTER_READY,
    ready_timeout: MASTER_READY_TIMEOUT,
    constraints: MASTER_CONSTRAINTS,
};

pub const WORKER: RoleSettings = RoleSettings {
    cpus: WORKER_CPUS,
    mem: WORKER_MEM,
    rpc_port: WORKER_RPC_PORT,
    web_port: WORKER_WEB_PORT,
    name: WORKER_NAME,
    command: WORKER_COMMAND,
    health_check: WORKER_HEALTH_CHECK,
    ready: WORKER_READY,
    ready_timeout: WORKER_READY_TIMEOUT,
    constraints: WORKER_CONSTRAINTS,
};

pub const MIGRATE_FROM: Setting = toml(
    "migrate",
    "from_framework",
    Type::Text,
    "the running AlluxioFramework to take over, by framework name or ID: `plan` shows the takeover (its tasks stop together, through the operator API's TEARDOWN, and ours launch on the freed resources), `apply` performs it after confirmation",
)
.fallback(Derived("a framework named `alluxio` (Alluxio 1.x's AlluxioFramework) whose running tasks are AlluxioFramework's: named as `master.name`/`worker.name` say, without this tool's labels"));
pub const OPERATOR_PRINCIPAL: Setting = toml(
    "migrate",
    "principal",
    Type::Text,
    "the operator principal that tears the old framework down (HTTP basic authentication, with the secret in `ALLUXIO_MESOS_OPERATOR_SECRET`); it needs the `teardown_frameworks` ACL on masters that authorize",
)
.fallback(Derived("`mesos.principal`, with the framework secret"));

/// Every setting, in the order of the documentation.
pub const SETTINGS: &[Setting] = &[
    NAME,
    MESOS_MASTER,
    FRAMEWORK_NAME,
    PRINCIPAL,
    SECRET_FILE,
    ROLE,
    USER,
    FAILOVER_TIMEOUT,
    CA_CERT,
    LOCAL_CLUSTER,
    SITE_PROPERTIES,
    SECRET_PROPERTIES,
    JAR_URL,
    HOME,
    JDK_URL,
    JDK_PATH,
    MASTER_COUNT,
    MASTER_CPUS,
    MASTER_MEM,
    MASTER_RPC_PORT,
    MASTER_WEB_PORT,
    MASTER_NAME,
    MASTER_HOSTNAME,
    MASTER_CONSTRAINTS,
    MASTER_COMMAND,
    MASTER_HEALTH_CHECK,
    MASTER_READY,
    MASTER_READY_TIMEOUT,
    WORKER_COUNT,
    WORKER_CPUS,
    WORKER_MEM,
    WORKER_RAMDISK,
    WORKER_RPC_PORT,
    WORKER_DATA_PORT,
    WORKER_WEB_PORT,
    MAX_UNAVAILABLE,
    WORKER_NAME,
    WORKER_CONSTRAINTS,
    WORKER_COMMAND,
    WORKER_HEALTH_CHECK,
    WORKER_READY,
    WORKER_READY_TIMEOUT,
    STATE_URL,
    MIGRATE_FROM,
    OPERATOR_PRINCIPAL,
    ZOOKEEPER_ENABLED,
    ZOOKEEPER_ADDRESS,
    SECRET,
    UNDERFS_ADDRESS,
];
