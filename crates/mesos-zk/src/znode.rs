//! Names of the znodes Mesos masters create, and who leads among them.
//!
//! Mesos' group membership (`src/zookeeper/group.cpp`) names an ephemeral
//! sequential node `<label>_<sequence>`; it splits a child name at `_`,
//! takes the first token as the label when there are several, and the last
//! as the sequence, skipping children whose sequence is not a number (such as
//! the replicated log's `log_replicas`). Masters since 0.24 use the label
//! `json.info`; older ones used `info` (protobuf data) or no label (a bare
//! PID). The leader is the member with the lowest sequence.
//!
//! Mesos' detector takes the lowest sequence over all labels; this crate
//! only reads JSON, so it elects among `json.info_` nodes and reports the
//! legacy ones only when nothing else is registered.

/// The label of the znodes Mesos >= 0.24 masters create.
pub const MASTER_INFO_JSON_LABEL: &str = "json.info";
/// The label of the protobuf znodes Mesos < 0.24 masters created.
const MASTER_INFO_LEGACY_LABEL: &str = "info";

/// A child of the masters' path that is a group member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    pub name: String,
    pub sequence: i64,
}

/// What the children of the masters' path say about the leader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Election {
    /// The `json.info_` member with the lowest sequence.
    Leader(Member),
    /// No `json.info_` member, but these legacy masters are registered.
    OnlyLegacy(Vec<String>),
    /// No master at all.
    Empty,
}

fn member(name: &str) -> Option<(Option<&str>, i64)> {
    let tokens: Vec<&str> = name.split('_').filter(|t| !t.is_empty()).collect();
    let last = tokens.last()?;
    if !last.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return None;
    }
    let sequence = last.parse::<i64>().ok()?;
    let label = (tokens.len() > 1).then(|| tokens[0]);
    Some((label, sequence))
}

/// Elects the leader among the children names of the masters' path.
pub(crate) fn elect<S: AsRef<str>>(children: &[S]) -> Election {
    let mut leader: Option<Member> = None;
    let mut legacy = Vec::new();
    for name in children {
        let name = name.as_ref();
        match member(name) {
            Some((Some(MASTER_INFO_JSON_LABEL), sequence)) => {
                if leader.as_ref().is_none_or(|l| sequence < l.sequence) {
                    leader = Some(Member {
                        name: name.to_string(),
                        sequence,
                    });
                }
            }
            Some((Some(MASTER_INFO_LEGACY_LABEL) | None, _)) => legacy.push(name.to_string()),
            // Other labels belong to other groups sharing the path.
            Some((Some(_), _)) | None => {}
        }
    }
    match leader {
        Some(member) => Election::Leader(member),
        None if !legacy.is_empty() => {
            legacy.sort();
            Election::OnlyLegacy(legacy)
        }
        None => Election::Empty,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_json_sequence_leads_regardless_of_order() {
        let e = elect(&[
            "json.info_0000000012",
            "json.info_0000000003",
            "json.info_0000000007",
        ]);
        assert_eq!(
            e,
            Election::Leader(Member {
                name: "json.info_0000000003".into(),
                sequence: 3
            })
        );
    }

    #[test]
    fn legacy_and_foreign_children_are_ignored_when_json_members_exist() {
        let e = elect(&[
            "info_0000000001",
            "0000000000",
            "log_replicas",
            "json.info_0000000005",
        ]);
        assert!(matches!(e, Election::Leader(m) if m.sequence == 5));
    }

    #[test]
    fn only_legacy_members_are_reported() {
        let e = elect(&["info_0000000002", "log_replicas", "0000000001"]);
        assert_eq!(
            e,
            Election::OnlyLegacy(vec!["0000000001".into(), "info_0000000002".into()])
        );
    }

    #[test]
    fn nothing_registered_is_empty() {
        assert_eq!(elect::<&str>(&[]), Election::Empty);
        assert_eq!(elect(&["log_replicas", "json.info_x"]), Election::Empty);
    }
}
