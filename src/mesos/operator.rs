//! The operator API calls that change Mesos: only `TEARDOWN`, which ends a
//! framework and kills its tasks (the takeover of an AlluxioFramework).

use super::http::HttpLimits;
use super::MesosError;
use crate::desired::secrets::Secret;

/// Tears framework `framework_id` down through the leading master at
/// `leader`, with `operator` credentials when given (else the client's).
pub async fn teardown(
    client: &reqwest::Client,
    leader: &str,
    framework_id: &str,
    operator: Option<(&str, Option<&Secret>)>,
    limits: &HttpLimits,
) -> Result<(), MesosError> {
    let body = serde_json::json!({
        "type": "TEARDOWN",
        "teardown": { "framework_id": { "value": framework_id } }
    });
    let (url, mut request) = super::http::operator_call(client, leader, body.to_string(), limits);
    if let Some((principal, secret)) = operator {
        request = request.basic_auth(principal, secret.map(Secret::expose));
    }
    let failed = |what: String| {
        MesosError::msg(format!(
            "Mesos did not tear down framework {framework_id} ({} operator API TEARDOWN): {what}",
            super::state_fetch::redact(&url)
        ))
    };
    let resp = request.send().await.map_err(|e| failed(e.to_string()))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let text = resp.text().await.unwrap_or_default();
    let hint = match status.as_u16() {
        401 => "; the master asks for operator credentials: set [migrate] principal and ALLUXIO_MESOS_OPERATOR_SECRET",
        403 => "; the principal may not tear frameworks down: grant it the teardown_frameworks ACL, or use another [migrate] principal",
        _ => "",
    };
    Err(failed(format!("{status} {}{hint}", text.trim())))
}
