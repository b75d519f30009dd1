//! Errors of reading the live cluster. Each message is one line: what was
//! tried (URL or file), the cause, and what to do about it.

/// Said to everyone who cannot reach a master: plans can be made offline.
pub const OFFLINE_HINT: &str =
    "plan offline with --mesos-state FILE (a saved /master/state document)";

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The document came from a master that is not the leader.
    #[error(
        "this Mesos master is not the leader (the leader is {leader}): \
         read the state from the leading master, e.g. --mesos {}",
        leader_hint(leader)
    )]
    NotLeader { leader: String },

    /// The document came from a master that knows no leader.
    #[error(
        "{origin} comes from a Mesos master that has no elected leader: \
         wait for an election (check ZooKeeper) or point --mesos at the leading master"
    )]
    NoLeader { origin: String },

    /// The document came from a master elected so recently that agents
    /// it recovered from its registry have not registered with it again
    /// (seen right after a leader failover on real Mesos 1.7.3 and 1.11.0).
    #[error(
        "{origin} comes from a Mesos master that was just elected and still waits for {agents} agent(s) to register again (`recovered_slaves`): their tasks are not in it yet, and a plan from it would launch what already runs; ask again in a few seconds (a master waits up to its --agent_reregister_timeout, 10 minutes by default)"
    )]
    Recovering { origin: String, agents: usize },

    /// The leading master has not recovered its registry yet: its state
    /// documents look like an empty cluster.
    #[error(
        "{origin} comes from a Mesos master that has not finished its recovery (its v1 API answers 503 Master has not finished recovery): it shows no agents and no frameworks until it has read its registry, which needs a quorum of the masters' replicated log; ask again once a quorum of masters runs"
    )]
    NotRecovered { origin: String },

    /// Valid JSON that is no master state at all.
    #[error(
        "{origin} is not a Mesos master state document: it has none of `slaves` (or `agents`), \
         `frameworks`, `version`, `leader` or a v1 `get_state`; save the leading master's /master/state \
         (or its v1 GET_STATE answer) and plan against that"
    )]
    NotAState { origin: String },

    #[error("cannot connect to the Mesos master at {url}: {cause}; check [mesos] master or --mesos, or {OFFLINE_HINT}")]
    Connect { url: String, cause: String },

    /// Like `Connect`, for a refused or reset connection: worth asking again.
    #[error("cannot connect to the Mesos master at {url}: {cause}; check [mesos] master or --mesos, or {OFFLINE_HINT}")]
    Unreachable { url: String, cause: String },

    /// A master that answers too slowly, or not at all.
    #[error("{url}: {phase} timed out after {elapsed:.0}s ({why}); the master is overloaded or not a working Mesos master: check it, or {OFFLINE_HINT}")]
    Timeout {
        url: String,
        /// `waiting for the answer's headers` or `reading the body`.
        phase: &'static str,
        elapsed: f64,
        why: String,
    },

    #[error("GET {url} answered HTTP {status}{detail}; check that this is a Mesos master and that you may read its state, or {OFFLINE_HINT}")]
    Status {
        url: String,
        status: u16,
        /// `: <first bytes of the body>` or empty.
        detail: String,
    },

    #[error("no Mesos state endpoint at {base} (tried /master/state, /master/state.json and /state.json: all answered 404): is this a Mesos master? Otherwise {OFFLINE_HINT}")]
    NoEndpoint { base: String },

    #[error("{url}: gave up after {hops} redirections and leader changes (last to {last}); point --mesos at the leading master, or {OFFLINE_HINT}")]
    TooManyHops {
        url: String,
        hops: usize,
        last: String,
    },

    #[error(
        "{url} is not a usable Mesos master URL ({cause}); write it like http://10.0.0.5:5050"
    )]
    BadUrl { url: String, cause: String },

    #[error("no Mesos master URL given: set [mesos] master or --mesos, or {OFFLINE_HINT}")]
    NoUrl,

    #[error("{origin} is not JSON ({cause}); it starts with {start:?}; expected a Mesos /master/state document")]
    NotJson {
        origin: String,
        cause: String,
        start: String,
    },

    #[error("{origin}:{line}:{column}: not a Mesos state document as expected: {cause}")]
    BadDocument {
        origin: String,
        line: usize,
        column: usize,
        cause: String,
    },

    #[error("cannot read the Mesos state file {path}: {cause}; save one with `curl -s http://MASTER:5050/master/state > FILE`")]
    ReadFile { path: String, cause: String },

    /// Several masters were tried and none answered usefully.
    #[error("no Mesos master answered: {attempts}; {OFFLINE_HINT}")]
    NoMaster {
        attempts: String,
        /// Every master failed in a way worth asking again.
        retryable: bool,
    },
}

fn leader_hint(leader: &str) -> String {
    super::leader_url(leader, "http").unwrap_or_else(|| leader.to_string())
}

/// The first bytes of a body, for messages: at most 60 characters, on one
/// line, never cut inside a character.
pub(crate) fn body_start(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(240)]);
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = one_line.trim();
    match trimmed.char_indices().nth(60) {
        Some((i, _)) => format!("{}...", &trimmed[..i]),
        None => trimmed.to_string(),
    }
}

impl LiveError {
    /// Whether asking again may help: the masters refused or reset the
    /// connection, or answered 503 (electing a leader, recovering). A timeout is not
    /// retried: a master that stalls once is likely to stall again, and the
    /// timeout has already been waited for.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            LiveError::Unreachable { .. }
                | LiveError::Recovering { .. }
                | LiveError::NotRecovered { .. }
                | LiveError::NoMaster {
                    retryable: true,
                    ..
                }
                | LiveError::Status { status: 503, .. }
        )
    }
}
