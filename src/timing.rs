//! How long a phase took, in the words of the `-v` lines: one module that
//! depends on nothing, for every layer that prints them.

use std::time::{Duration, Instant};

/// Time since `since`, for `-v` lines: milliseconds below a second.
pub fn elapsed(since: Instant) -> String {
    let d = since.elapsed();
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}
