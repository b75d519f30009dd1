//! A stand-in for Alluxio 1.x's AlluxioFramework, for the takeover tests:
//! a scheduler registered as `alluxio` (no failover timeout, checkpoint
//! on, as AlluxioFramework registers), holding Alluxio's ports with tasks
//! named `AlluxioMaster` and `AlluxioWorker`, numbered from "0", without
//! labels. Its tasks are command tasks (`sleep`): what a takeover sees of
//! them is their names, resources and framework, not their executor.

use futures_util::StreamExt;
use mesos_api::recordio::Decoder;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running stand-in; dropping it ends its subscription (and, with no
/// failover timeout, Mesos then removes it and kills its tasks).
pub struct StandInFramework {
    pub id: String,
    running: Arc<Mutex<BTreeSet<String>>>,
    driver: tokio::task::JoinHandle<()>,
}

impl Drop for StandInFramework {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// Which tasks go where: the master on `master_host`, then a worker on
/// each of `hosts`.
struct Layout {
    master_host: String,
    hosts: Vec<String>,
}

impl StandInFramework {
    /// Subscribes to `master` and launches its tasks on `hosts`; returns
    /// once all of them run.
    pub async fn start(master: &str, master_host: &str, hosts: &[String]) -> StandInFramework {
        let url = format!("{}/api/v1/scheduler", master.trim_end_matches('/'));
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let user = std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| {
                let out = std::process::Command::new("id")
                    .arg("-un")
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&out.stdout).trim().to_string()
            });
        let subscribe = json!({
            "type": "SUBSCRIBE",
            "subscribe": {"framework_info": {"user": user, "name": "alluxio", "checkpoint": true}}
        });
        let resp = http
            .post(&url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .body(subscribe.to_string())
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!("the stand-in AlluxioFramework cannot subscribe at {url}: {e}")
            });
        assert!(
            resp.status().is_success(),
            "the stand-in AlluxioFramework's SUBSCRIBE: {}",
            resp.status()
        );
        let stream_id = resp
            .headers()
            .get("Mesos-Stream-Id")
            .and_then(|v| v.to_str().ok())
            .expect("Mesos-Stream-Id")
            .to_string();
        let mut body = Box::pin(resp.bytes_stream());
        let mut decoder = Decoder::new();
        let mut pending: Vec<Value> = Vec::new();
        let id = loop {
            let chunk = tokio::time::timeout(Duration::from_secs(60), body.next())
                .await
                .expect("SUBSCRIBED within 60 s")
                .expect("the event stream is open")
                .unwrap();
            for record in decoder.feed(&chunk).unwrap() {
                pending.push(serde_json::from_slice(&record).unwrap());
            }
            if let Some(i) = pending.iter().position(|e| e["type"] == "SUBSCRIBED") {
                let e = pending.remove(i);
                break e["subscribed"]["framework_id"]["value"]
                    .as_str()
                    .unwrap()
                    .to_string();
            }
        };
        let running = Arc::new(Mutex::new(BTreeSet::new()));
        let layout = Layout {
            master_host: master_host.to_string(),
            hosts: hosts.to_vec(),
        };
        let call = Caller {
            http,
            url,
            stream_id,
            framework_id: id.clone(),
        };
        let seen = running.clone();
        let driver = tokio::spawn(async move {
            let mut launched = Launched::default();
            let mut next_id = 0u32;
            loop {
                for event in std::mem::take(&mut pending) {
                    match event["type"].as_str() {
                        Some("OFFERS") => {
                            for offer in event["offers"]["offers"].as_array().unwrap() {
                                let host = offer["hostname"].as_str().unwrap().to_string();
                                let master_runs = seen.lock().unwrap().contains("0");
                                let tasks = layout.tasks_for(
                                    &host,
                                    &mut launched,
                                    master_runs,
                                    &mut next_id,
                                    offer,
                                );
                                if tasks.is_empty() {
                                    call.decline(offer).await;
                                } else {
                                    call.launch(offer, tasks).await;
                                }
                            }
                        }
                        Some("UPDATE") => {
                            let status = &event["update"]["status"];
                            let task = status["task_id"]["value"].as_str().unwrap().to_string();
                            if status["state"] == "TASK_RUNNING" {
                                seen.lock().unwrap().insert(task);
                            } else {
                                seen.lock().unwrap().remove(&task);
                            }
                            call.acknowledge(status).await;
                        }
                        _ => {}
                    }
                }
                let Some(Ok(chunk)) = body.next().await else {
                    return;
                };
                for record in decoder.feed(&chunk).unwrap() {
                    pending.push(serde_json::from_slice(&record).unwrap());
                }
            }
        });
        let framework = StandInFramework {
            id,
            running,
            driver,
        };
        let want = hosts.len() + 1;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        while framework.running.lock().unwrap().len() < want {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the stand-in AlluxioFramework runs {:?} of {want} tasks after 120 s",
                framework.running.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        framework
    }
}

/// What the stand-in has launched: the master, and workers by host.
#[derive(Default)]
struct Launched {
    master: bool,
    workers: BTreeSet<String>,
}

impl Layout {
    /// The tasks an offer from `host` takes, in AlluxioFramework's order:
    /// the master first (task "0"), then, once it runs, one worker per
    /// host; named and numbered as Alluxio 1.x does.
    fn tasks_for(
        &self,
        host: &str,
        launched: &mut Launched,
        master_runs: bool,
        next_id: &mut u32,
        offer: &Value,
    ) -> Vec<Value> {
        let mut task = |name: &str, ports: (u64, u64)| {
            let id = next_id.to_string();
            *next_id += 1;
            json!({
                "name": name,
                "task_id": {"value": id},
                "agent_id": offer["agent_id"],
                "resources": [
                    {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}},
                    {"name": "mem", "type": "SCALAR", "scalar": {"value": 128}},
                    {"name": "ports", "type": "RANGES",
                     "ranges": {"range": [{"begin": ports.0, "end": ports.1}]}}
                ],
                "command": {"value": "exec sleep 600"}
            })
        };
        if !launched.master {
            if host != self.master_host {
                return Vec::new();
            }
            launched.master = true;
            return vec![task("AlluxioMaster", (19998, 19999))];
        }
        if !master_runs || launched.workers.contains(host) || !self.hosts.iter().any(|h| h == host)
        {
            return Vec::new();
        }
        launched.workers.insert(host.to_string());
        vec![task("AlluxioWorker", (29998, 30000))]
    }
}

struct Caller {
    http: reqwest::Client,
    url: String,
    stream_id: String,
    framework_id: String,
}

impl Caller {
    async fn call(&self, body: Value) {
        let resp = self
            .http
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("Mesos-Stream-Id", &self.stream_id)
            .body(body.to_string())
            .timeout(Duration::from_secs(30))
            .send()
            .await;
        if let Ok(r) = resp {
            assert!(
                r.status().is_success(),
                "the stand-in AlluxioFramework's {} call: {}",
                body["type"],
                r.status()
            );
        }
    }

    async fn launch(&self, offer: &Value, tasks: Vec<Value>) {
        self.call(json!({
            "type": "ACCEPT",
            "framework_id": {"value": self.framework_id},
            "accept": {
                "offer_ids": [offer["id"]],
                "operations": [{"type": "LAUNCH", "launch": {"task_infos": tasks}}],
                "filters": {"refuse_seconds": 1.0}
            }
        }))
        .await;
    }

    async fn decline(&self, offer: &Value) {
        self.call(json!({
            "type": "DECLINE",
            "framework_id": {"value": self.framework_id},
            "decline": {"offer_ids": [offer["id"]], "filters": {"refuse_seconds": 1.0}}
        }))
        .await;
    }

    async fn acknowledge(&self, status: &Value) {
        let Some(uuid) = status.get("uuid") else {
            return;
        };
        self.call(json!({
            "type": "ACKNOWLEDGE",
            "framework_id": {"value": self.framework_id},
            "acknowledge": {"agent_id": status["agent_id"], "task_id": status["task_id"], "uuid": uuid}
        }))
        .await;
    }
}
