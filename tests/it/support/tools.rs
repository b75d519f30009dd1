//! What the cluster and stand-in supports need besides themselves, in a
//! file of its own so that the scale benchmark can include them too.

/// The value of label `key` of a task of a master's state document.
pub fn task_label(task: &serde_json::Value, key: &str) -> Option<String> {
    task["labels"]
        .as_array()?
        .iter()
        .find(|l| l["key"] == key)
        .and_then(|l| l["value"].as_str())
        .map(str::to_string)
}

/// Starts `router` on an ephemeral port of 127.0.0.1; returns
/// `http://127.0.0.1:PORT`.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("cannot bind a test server on 127.0.0.1");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router)
            .await
            .expect("test server failed");
    });
    format!("http://{addr}")
}
