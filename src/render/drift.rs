//! Views of drift (`plan --refresh-only`): text, Markdown for a scheduled
//! job's comment, and JSON (docs/plan-json.md, "Drift").

use crate::drift::{Drift, Finding};
use serde::Serialize;

/// The drift JSON contract version.
pub const FORMAT_VERSION: &str = "1";

pub fn text(drift: &Drift) -> String {
    let mut out = String::new();
    let Some(serial) = drift.serial else {
        return format!(
            "No state yet for deployment {:?}: nothing was applied, so nothing can have drifted.\n",
            drift.deployment
        );
    };
    if drift.is_empty() {
        return format!(
            "No drift. Mesos shows what the state recorded at the last apply (deployment {:?}, state serial {serial}).\n",
            drift.deployment
        );
    }
    out.push_str(&format!(
        "Mesos changed behind deployment {:?} since the last apply (state serial {serial}):\n",
        drift.deployment
    ));
    for f in &drift.findings {
        out.push('\n');
        out.push_str(&format!("  ~ {}\n", heading(f)));
        out.push_str(&format!("      observed:      {}\n", f.observed));
        out.push_str(&format!("      a plan would:  {}\n", f.plan));
    }
    out.push('\n');
    out.push_str(&closing(drift));
    out.push('\n');
    out
}

pub fn markdown(drift: &Drift) -> String {
    use super::markdown::cell;
    let mut out = format!("### Drift of `{}`\n\n", drift.deployment);
    match drift.serial {
        None => {
            out.push_str("No state yet: nothing was applied, so nothing can have drifted.\n");
            return out;
        }
        Some(serial) if drift.is_empty() => {
            out.push_str(&format!(
                "No drift. Mesos shows what the state recorded at the last apply (serial {serial}).\n"
            ));
            return out;
        }
        Some(serial) => out.push_str(&format!(
            "Mesos changed behind the deployment since the last apply (state serial {serial}).\n\n"
        )),
    }
    out.push_str("| what | observed | a plan would |\n|---|---|---|\n");
    for f in &drift.findings {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            cell(&heading(f)),
            cell(&f.observed),
            cell(&f.plan)
        ));
    }
    out.push('\n');
    out.push_str(&closing(drift));
    out.push('\n');
    out
}

#[derive(Serialize)]
struct DriftJson<'a> {
    format_version: &'static str,
    deployment: &'a str,
    state_serial: Option<u64>,
    drifted: bool,
    findings: Vec<FindingJson<'a>>,
}

#[derive(Serialize)]
struct FindingJson<'a> {
    kind: crate::drift::Kind,
    address: Option<String>,
    subject: &'a str,
    observed: &'a str,
    plan: &'a str,
}

pub fn json(drift: &Drift) -> String {
    let view = DriftJson {
        format_version: FORMAT_VERSION,
        deployment: &drift.deployment,
        state_serial: drift.serial,
        drifted: !drift.is_empty(),
        findings: drift
            .findings
            .iter()
            .map(|f| FindingJson {
                kind: f.kind,
                address: f.address.as_ref().map(ToString::to_string),
                subject: &f.subject,
                observed: &f.observed,
                plan: &f.plan,
            })
            .collect(),
    };
    let mut out = serde_json::to_string_pretty(&view).expect("drift views serialize");
    out.push('\n');
    out
}

/// `worker["a1"]: task T on a1`, or the subject alone.
fn heading(f: &Finding) -> String {
    match &f.address {
        Some(a) => format!("{a}: {}", f.subject),
        None => f.subject.clone(),
    }
}

fn closing(drift: &Drift) -> String {
    format!(
        "Drift: {} finding(s). `alluxio-mesos apply --refresh-only` records them in the state without changing Mesos; `alluxio-mesos plan` shows what apply would change.",
        drift.findings.len()
    )
}
