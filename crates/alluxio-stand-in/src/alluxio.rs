//! The stand-in Alluxio master and worker processes.
//!
//! Each listens on its configured ports, on the address of its host's name.
//! The web port answers the REST paths this project reads from a real
//! Alluxio, with Alluxio's field names (Jackson's names of
//! `alluxio.wire.AlluxioMasterInfo`, `WorkerInfo`, `WorkerNetAddress` and
//! `AlluxioWorkerInfo`, 1.8 and 2.x):
//! - master: `GET /api/v1/master/info`;
//! - worker: `GET /api/v1/worker/info`.
//!
//! A worker registers with its master and heartbeats every second, as
//! Alluxio's block heartbeat does, so the master lists it among its
//! `workers`. A real worker does this over the master's RPC port; the
//! stand-in uses two paths of its own on the master's web port
//! (`/api/v1/stand-in/...`), since its RPC port only accepts connections.

use crate::site::{parse_size, resolve, Role, Site, HOSTNAME_ENV};
use anyhow::{Context, Result};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;

/// What the stand-in reports as its Alluxio version.
pub const VERSION: &str = "2.1.0-stand-in";

const REGISTER_PATH: &str = "/api/v1/stand-in/worker/register";
const HEARTBEAT_PATH: &str = "/api/v1/stand-in/worker/heartbeat";

/// Alluxio's `alluxio.worker.block.heartbeat.interval` default.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);

/// Alluxio's `alluxio.master.worker.timeout` default: a worker silent this
/// long is moved to `lostWorkers`.
const DEFAULT_WORKER_TIMEOUT: Duration = Duration::from_secs(300);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Runs the stand-in `role` until it is killed.
pub async fn run(role: Role) -> Result<()> {
    let site = Site::load()?;
    let machine = std::env::var(HOSTNAME_ENV)
        .with_context(|| format!("{HOSTNAME_ENV} is not set: the stand-in executor sets it"))?;
    let host = site.own_hostname(role, &machine);
    let ip = resolve(&host)?;
    let ports = site.ports(role)?;
    let started = Started {
        host: host.clone(),
        ms: now_ms(),
        at: Instant::now(),
    };
    // Bind everything first: a port taken is an exit at once, as a JVM's
    // BindException is.
    let rpc = bind(SocketAddr::new(ip, ports.rpc), "RPC").await?;
    let web = bind(SocketAddr::new(ip, ports.web), "web").await?;
    let data = match ports.data {
        Some(p) => Some(bind(SocketAddr::new(ip, p), "data").await?),
        None => None,
    };
    println!(
        "Alluxio {} (stand-in {VERSION}) serving on {host} ({ip}): rpc {}, web {}{}",
        role.as_str(),
        ports.rpc,
        ports.web,
        ports
            .data
            .map(|p| format!(", data {p}"))
            .unwrap_or_default()
    );
    tokio::spawn(accept_and_drop(rpc));
    if let Some(data) = data {
        tokio::spawn(accept_and_drop(data));
    }
    let configuration: BTreeMap<String, String> = site
        .properties
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let rpc_address = format!("{host}/{ip}:{}", ports.rpc);
    let router = match role {
        Role::Master => {
            let timeout = site
                .get("alluxio.master.worker.timeout")
                .and_then(parse_duration)
                .unwrap_or(DEFAULT_WORKER_TIMEOUT);
            master_router(Arc::new(MasterState {
                started,
                rpc_address,
                configuration,
                worker_timeout: timeout,
                workers: Mutex::new(Vec::new()),
            }))
        }
        Role::Worker => {
            let capacity = std::env::var("ALLUXIO_WORKER_MEMORY_SIZE")
                .ok()
                .or_else(|| site.get("alluxio.worker.memory.size").map(str::to_string))
                .and_then(|s| parse_size(&s))
                .unwrap_or(1 << 30);
            let me = Registration {
                host: host.clone(),
                rpc_port: ports.rpc,
                data_port: ports.data.unwrap_or_default(),
                web_port: ports.web,
                capacity_bytes: capacity,
                start_time_ms: started.ms,
            };
            let master = format!(
                "http://{}:{}",
                site.master_hostname()?,
                site.ports(Role::Master)?.web
            );
            tokio::spawn(register_and_heartbeat(master, me));
            worker_router(Arc::new(WorkerState {
                started,
                rpc_address,
                configuration,
                capacity_bytes: capacity,
            }))
        }
    };
    axum::serve(web, router).await.context("web server failed")
}

async fn bind(addr: SocketAddr, what: &str) -> Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot bind the {what} port {addr}"))
}

/// The RPC and data ports only show that the process is up.
async fn accept_and_drop(listener: TcpListener) {
    while let Ok((conn, _)) = listener.accept().await {
        drop(conn);
    }
}

/// Alluxio durations: `300sec`, `5min`, `10s`, `500ms`, or milliseconds.
fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim().to_ascii_lowercase();
    let end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(end);
    let n: u64 = num.parse().ok()?;
    let ms = match unit.trim() {
        "" | "ms" | "millisecond" | "milliseconds" => n,
        "s" | "sec" | "secs" | "second" | "seconds" => n * 1000,
        "m" | "min" | "mins" | "minute" | "minutes" => n * 60_000,
        "h" | "hr" | "hour" | "hours" => n * 3_600_000,
        _ => return None,
    };
    Some(Duration::from_millis(ms))
}

#[derive(Debug, Clone)]
struct Started {
    host: String,
    ms: u64,
    at: Instant,
}

impl Started {
    fn uptime_ms(&self) -> u64 {
        self.at.elapsed().as_millis() as u64
    }
}

/// What a worker tells the master when it registers.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Registration {
    host: String,
    rpc_port: u16,
    data_port: u16,
    web_port: u16,
    capacity_bytes: u64,
    start_time_ms: u64,
}

#[derive(Debug)]
struct KnownWorker {
    id: u64,
    registration: Registration,
    last_contact: Instant,
}

struct MasterState {
    started: Started,
    rpc_address: String,
    configuration: BTreeMap<String, String>,
    worker_timeout: Duration,
    workers: Mutex<Vec<KnownWorker>>,
}

fn master_router(state: Arc<MasterState>) -> Router {
    Router::new()
        .route("/api/v1/master/info", get(master_info))
        .route(REGISTER_PATH, post(register_worker))
        .route(HEARTBEAT_PATH, post(worker_heartbeat))
        .with_state(state)
}

/// `alluxio.wire.WorkerInfo` as Jackson writes it.
fn worker_info(w: &KnownWorker) -> Value {
    let r = &w.registration;
    json!({
        "address": {
            "host": r.host,
            "containerHost": "",
            "rpcPort": r.rpc_port,
            "dataPort": r.data_port,
            "webPort": r.web_port,
            "domainSocketPath": "",
            "tieredIdentity": {"tiers": [{"tierName": "node", "value": r.host}]},
        },
        "capacityBytes": r.capacity_bytes,
        "capacityBytesOnTiers": {"MEM": r.capacity_bytes},
        "id": w.id,
        "lastContactSec": w.last_contact.elapsed().as_secs(),
        "startTimeMs": r.start_time_ms,
        "state": "In Service",
        "usedBytes": 0,
        "usedBytesOnTiers": {"MEM": 0},
    })
}

async fn master_info(State(s): State<Arc<MasterState>>) -> Json<Value> {
    let workers = s.workers.lock().unwrap();
    let (live, lost): (Vec<&KnownWorker>, Vec<&KnownWorker>) = workers
        .iter()
        .partition(|w| w.last_contact.elapsed() < s.worker_timeout);
    let capacity: u64 = live.iter().map(|w| w.registration.capacity_bytes).sum();
    Json(json!({
        "capacity": {"total": capacity, "used": 0},
        "configuration": s.configuration,
        "lostWorkers": lost.iter().map(|w| worker_info(w)).collect::<Vec<_>>(),
        "metrics": {},
        "mountPoints": {},
        "rpcAddress": s.rpc_address,
        "startTimeMs": s.started.ms,
        "startupConsistencyCheck": {"status": "COMPLETE", "inconsistentUris": []},
        "tierCapacity": {"MEM": {"total": capacity, "used": 0}},
        "ufsCapacity": {"total": -1, "used": -1},
        "uptimeMs": s.started.uptime_ms(),
        "version": VERSION,
        "workers": live.iter().map(|w| worker_info(w)).collect::<Vec<_>>(),
    }))
}

/// A worker registering again at the same address keeps its ID, as
/// Alluxio's block master finds workers by address.
async fn register_worker(
    State(s): State<Arc<MasterState>>,
    Json(r): Json<Registration>,
) -> Json<Value> {
    let mut workers = s.workers.lock().unwrap();
    let same_address = |w: &&mut KnownWorker| {
        w.registration.host == r.host && w.registration.rpc_port == r.rpc_port
    };
    let id = match workers.iter_mut().find(same_address) {
        Some(w) => {
            w.registration = r;
            w.last_contact = Instant::now();
            w.id
        }
        None => {
            let id = workers.iter().map(|w| w.id).max().unwrap_or(0) + 1;
            workers.push(KnownWorker {
                id,
                registration: r,
                last_contact: Instant::now(),
            });
            id
        }
    };
    Json(json!({ "id": id }))
}

#[derive(Deserialize)]
struct Heartbeat {
    id: u64,
}

async fn worker_heartbeat(
    State(s): State<Arc<MasterState>>,
    Json(h): Json<Heartbeat>,
) -> StatusCode {
    let mut workers = s.workers.lock().unwrap();
    match workers.iter_mut().find(|w| w.id == h.id) {
        Some(w) => {
            w.last_contact = Instant::now();
            StatusCode::OK
        }
        None => StatusCode::NOT_FOUND,
    }
}

/// Registers with the master, then heartbeats; registers again whenever the
/// master does not know this worker (a new master). Says on stderr when the
/// master cannot be reached and when it can again.
async fn register_and_heartbeat(master: String, me: Registration) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("an HTTP client");
    let mut id: Option<u64> = None;
    let mut failing = false;
    loop {
        let result = match id {
            None => register(&client, &master, &me).await.map(|i| {
                println!("registered with the master at {master} as worker {i}");
                id = Some(i);
            }),
            Some(i) => match client
                .post(format!("{master}{HEARTBEAT_PATH}"))
                .json(&json!({ "id": i }))
                .send()
                .await
            {
                Ok(r) if r.status() == StatusCode::NOT_FOUND => {
                    id = None;
                    Ok(())
                }
                Ok(r) => r.error_for_status().map(drop).map_err(anyhow::Error::from),
                Err(e) => Err(e.into()),
            },
        };
        match result {
            Err(e) if !failing => {
                eprintln!("cannot reach the master at {master}: {e:#}; retrying every second");
                failing = true;
            }
            Ok(()) if failing => {
                eprintln!("the master at {master} answers again");
                failing = false;
            }
            _ => {}
        }
        tokio::time::sleep(HEARTBEAT_INTERVAL).await;
    }
}

async fn register(client: &reqwest::Client, master: &str, me: &Registration) -> Result<u64> {
    let v: Value = client
        .post(format!("{master}{REGISTER_PATH}"))
        .json(me)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    v["id"]
        .as_u64()
        .context("the master's registration answer has no id")
}

struct WorkerState {
    started: Started,
    rpc_address: String,
    configuration: BTreeMap<String, String>,
    capacity_bytes: u64,
}

fn worker_router(state: Arc<WorkerState>) -> Router {
    Router::new()
        .route("/api/v1/worker/info", get(worker_info_endpoint))
        .with_state(state)
}

/// `alluxio.wire.AlluxioWorkerInfo` as Jackson writes it.
async fn worker_info_endpoint(State(s): State<Arc<WorkerState>>) -> Json<Value> {
    Json(json!({
        "capacity": {"total": s.capacity_bytes, "used": 0},
        "configuration": s.configuration,
        "metrics": {},
        "rpcAddress": s.rpc_address,
        "startTimeMs": s.started.ms,
        "tierCapacity": {"MEM": {"total": s.capacity_bytes, "used": 0}},
        "tierPaths": {"MEM": [format!("/mnt/ramdisk/{}", s.started.host)]},
        "uptimeMs": s.started.uptime_ms(),
        "version": VERSION,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_alluxio_writes_them() {
        assert_eq!(parse_duration("5min"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("10sec"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("1500"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("soon"), None);
    }
}
