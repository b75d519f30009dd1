//! Short excerpts of long values, for messages.
//!
//! An error quotes what it refuses so the reader can find it, but a 10 MB
//! value quoted back buries the message (and a terminal). Every message
//! that quotes input goes through [`quoted`].

/// Characters of a long value kept in a message.
pub const EXCERPT_CHARS: usize = 60;

/// `s` quoted as Rust's `{:?}` would, or, when longer than
/// [`EXCERPT_CHARS`] characters, its start quoted and followed by its size:
/// `"xxxx…" (2000000 bytes)`.
pub fn quoted(s: &str) -> String {
    match s.char_indices().nth(EXCERPT_CHARS) {
        None => format!("{s:?}"),
        Some((cut, _)) => format!("{:?}… ({} bytes)", &s[..cut], s.len()),
    }
}

/// `s` unquoted (an error text of a library that may quote input), cut to
/// [`EXCERPT_CHARS`] characters and `…` when longer.
pub fn short(s: &str) -> String {
    match s.char_indices().nth(EXCERPT_CHARS) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}…", &s[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_quoted_whole() {
        assert_eq!(quoted("4GB"), "\"4GB\"");
        assert_eq!(quoted("a\"b"), "\"a\\\"b\"");
    }

    #[test]
    fn long_values_keep_their_start_and_give_their_size() {
        let big = "é".repeat(1_000_000);
        let q = quoted(&big);
        assert!(q.len() < 200, "{q}");
        assert!(q.starts_with(&format!("\"{}", "é".repeat(EXCERPT_CHARS))));
        assert!(q.ends_with("… (2000000 bytes)"), "{q}");
    }
}
