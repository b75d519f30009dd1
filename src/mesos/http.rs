//! The HTTP settings of every Mesos request.

use std::time::Duration;

/// How long reading the state may take, and how slow it may be.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// How long a request may wait for its answer's headers.
    pub headers: Duration,
    /// A body must bring at least `min_progress` bytes in every `window`
    /// (or end): a huge document on a slow link passes, a master that
    /// stalls, trickles a byte every few seconds, or promises 2 GB it never
    /// sends, fails within one window.
    pub window: Duration,
    pub min_progress: usize,
}

/// The default of `--http-timeout`.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(30);

impl HttpLimits {
    /// Both the headers' wait and the progress window set to `timeout`.
    pub fn new(timeout: Duration) -> Self {
        HttpLimits {
            headers: timeout,
            window: timeout,
            min_progress: 64 * 1024,
        }
    }
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits::new(DEFAULT_HTTP_TIMEOUT)
    }
}
