//! The `.json` endpoint aliases exist on masters and agents older than
//! Mesos 1.8.0 only (MESOS-4509 removed them in 1.8.0: the routes are in
//! 1.7.0's `src/master/master.cpp`, `src/slave/slave.cpp` and
//! `src/files/files.cpp`, and gone from 1.8.0's).

mod common;

use common::*;
use reqwest::StatusCode;

const ALIASES: [&str; 7] = [
    "/master/state.json",
    "/state.json",
    "/master/tasks.json",
    "/master/roles.json",
    "/slave(1)/state.json",
    "/files/browse.json?path=/nonexistent",
    "/files/read.json?path=/nonexistent",
];

async fn status(url: &str) -> StatusCode {
    client().get(url).send().await.expect("GET").status()
}

#[tokio::test]
async fn a_current_master_has_no_json_aliases() {
    let sim = start_default().await;
    for path in ALIASES {
        assert_eq!(
            status(&format!("{}{path}", sim.url())).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    for path in [
        "/master/state",
        "/state",
        "/master/tasks",
        "/slave(1)/state",
    ] {
        assert_eq!(
            status(&format!("{}{path}", sim.url())).await,
            StatusCode::OK,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_master_older_than_1_8_serves_them() {
    let sim = start(&format!(
        "[master]\nversion = \"1.7.2\"\n{FAST}\n{}",
        agents(1, "[31000-32000]")
    ))
    .await;
    for path in ALIASES {
        let got = status(&format!("{}{path}", sim.url())).await;
        // The file endpoints answer 404 for a missing path, with a reason.
        if path.starts_with("/files/") {
            let body = client()
                .get(format!("{}{path}", sim.url()))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(body.contains("not found"), "{path}: {body}");
        } else {
            assert_eq!(got, StatusCode::OK, "{path}");
        }
    }
    let alias = get_json(&format!("{}/master/state.json", sim.url())).await;
    let state = get_json(&format!("{}/master/state", sim.url())).await;
    assert_eq!(alias["version"], "1.7.2");
    assert_eq!(alias["slaves"], state["slaves"]);
}
