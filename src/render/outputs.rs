//! Where the deployment can be reached: `output` (text or `--json`) and
//! the lines `apply` ends with, in the same words.

use crate::state::Outputs;

/// One line per master: how `apply` ends, and `output`.
pub fn masters(outputs: &Outputs) -> String {
    outputs
        .master_rpc
        .iter()
        .zip(&outputs.master_web)
        .map(|(rpc, web)| format!("Alluxio master: {rpc}  web UI: {web}\n"))
        .collect()
}

/// `output`: the masters' lines, or that none runs.
pub fn text(outputs: &Outputs) -> String {
    let mut out = masters(outputs);
    if outputs.master_rpc.is_empty() {
        out.push_str("No master is running.\n");
    }
    out
}

/// `output --json`: the outputs as the state stores them.
pub fn json(outputs: &Outputs) -> String {
    let mut out = serde_json::to_string_pretty(outputs).expect("outputs serialize");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_master_or_none_running() {
        let two = Outputs {
            master_rpc: vec!["alluxio://a:19998".into(), "alluxio://b:19998".into()],
            master_web: vec!["http://a:19999".into(), "http://b:19999".into()],
        };
        assert_eq!(
            text(&two),
            "Alluxio master: alluxio://a:19998  web UI: http://a:19999\n\
             Alluxio master: alluxio://b:19998  web UI: http://b:19999\n"
        );
        assert_eq!(text(&Outputs::default()), "No master is running.\n");
    }
}
