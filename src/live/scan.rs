//! A forward-only JSON scanner over any byte source, for documents too big
//! to hold in memory (a `/master/state` of 10,000 agents and 100,000
//! tasks is about 150 MB).
//!
//! It walks objects and arrays key by key, skips values nobody needs at
//! memory speed (tracking only strings and bracket nesting), and copies
//! out the values that are needed (an agent, one of our tasks) so that
//! serde can read them from a small slice. Memory is one fixed buffer plus
//! the value being copied.
//!
//! Skipped values are checked for structure (strings closed, brackets
//! balanced and matching, no stray characters) but not for every detail
//! serde would check (the spelling of numbers and literals inside them,
//! control characters inside their strings). Copied values are read by
//! serde_json and fully checked.
//!
//! Positions (line and column, both counted from 1) are kept for messages
//! and are what serde_json would report for the same document.

use memchr::memchr2;
use std::io::{self, Read};

/// Size of the read buffer: big enough that refills are rare, small
/// enough to be irrelevant to peak memory.
const BUF: usize = 256 * 1024;

/// Deepest nesting of skipped values: the skip keeps one byte per level,
/// so a document of brackets alone would otherwise cost its own size; the
/// values copied out are read by serde_json, whose limit is 128.
pub(crate) const MAX_NESTING: usize = 128;

/// Where a value starts in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
}

/// What went wrong while scanning.
#[derive(Debug)]
pub(crate) enum ScanError {
    Io(io::Error),
    /// Not JSON at this position: the message reads like serde_json's.
    Syntax {
        pos: Pos,
        msg: String,
    },
}

type Result<T> = std::result::Result<T, ScanError>;

pub(crate) struct Scanner<R> {
    src: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    eof: bool,
    /// Absolute offset of `buf[0]`.
    base: u64,
    /// Newlines before `buf[counted]` have been counted into `line`.
    counted: usize,
    line: usize,
    /// Absolute offset just after the last counted newline.
    line_start: u64,
    /// When copying a value: the copy, and the buffer index it continues from.
    capture: Option<(Vec<u8>, usize)>,
    stack: Vec<u8>,
}

impl<R: Read> Scanner<R> {
    pub fn new(src: R) -> Self {
        Scanner {
            src,
            buf: vec![0; BUF].into_boxed_slice(),
            pos: 0,
            end: 0,
            eof: false,
            base: 0,
            counted: 0,
            line: 1,
            line_start: 0,
            capture: None,
            stack: Vec::new(),
        }
    }

    /// Loads the next bytes once everything buffered is consumed; false at
    /// the end of the source.
    fn refill(&mut self) -> Result<bool> {
        debug_assert_eq!(self.pos, self.end);
        if self.eof {
            return Ok(false);
        }
        self.count_lines_to(self.end);
        if let Some((copy, from)) = &mut self.capture {
            copy.extend_from_slice(&self.buf[*from..self.end]);
            *from = 0;
        }
        self.base += self.end as u64;
        self.pos = 0;
        self.end = 0;
        self.counted = 0;
        loop {
            match self.src.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ScanError::Io(e)),
            }
        }
    }

    fn count_lines_to(&mut self, upto: usize) {
        if upto <= self.counted {
            return;
        }
        // memchr's vector search: compact documents have almost no
        // newlines, and a byte-by-byte count here cost a sixth of a plan.
        let part = &self.buf[self.counted..upto];
        if let Some(last) = memchr::memrchr(b'\n', part) {
            self.line += memchr::memchr_iter(b'\n', part).count();
            self.line_start = self.base + (self.counted + last + 1) as u64;
        }
        self.counted = upto;
    }

    /// The position of the next unread byte.
    pub fn position(&mut self) -> Pos {
        self.count_lines_to(self.pos);
        Pos {
            line: self.line,
            column: (self.base + self.pos as u64 - self.line_start) as usize + 1,
        }
    }

    fn syntax<T>(&mut self, msg: impl Into<String>) -> Result<T> {
        let pos = self.position();
        Err(ScanError::Syntax {
            pos,
            msg: msg.into(),
        })
    }

    /// The next byte without consuming it; None at the end.
    pub fn peek(&mut self) -> Result<Option<u8>> {
        if self.pos == self.end && !self.refill()? {
            return Ok(None);
        }
        Ok(Some(self.buf[self.pos]))
    }

    /// The buffered bytes not yet consumed (for a look at the start of a
    /// document that is not JSON).
    pub fn buffered(&mut self) -> Result<&[u8]> {
        self.peek()?;
        Ok(&self.buf[self.pos..self.end])
    }

    pub fn bump(&mut self) {
        self.pos += 1;
    }

    /// Skips whitespace; returns the next byte.
    pub fn ws(&mut self) -> Result<Option<u8>> {
        loop {
            match self.peek()? {
                Some(b' ' | b'\n' | b'\r' | b'\t') => self.pos += 1,
                other => return Ok(other),
            }
        }
    }

    fn eof_error<T>(&mut self, what: &str) -> Result<T> {
        self.syntax(format!("EOF while parsing {what}"))
    }

    /// Consumes `{`.
    pub fn begin_object(&mut self) -> Result<()> {
        match self.ws()? {
            Some(b'{') => {
                self.bump();
                Ok(())
            }
            None => self.eof_error("a value"),
            Some(_) => self.syntax("invalid type: expected a JSON object"),
        }
    }

    /// The next key of the object being walked, or None after its `}`.
    /// `first` is true for the first call on an object.
    pub fn next_key(&mut self, first: &mut bool) -> Result<Option<String>> {
        match self.ws()? {
            Some(b'}') => {
                self.bump();
                return Ok(None);
            }
            None => return self.eof_error("an object"),
            _ => {}
        }
        if !*first {
            match self.ws()? {
                Some(b',') => self.bump(),
                None => return self.eof_error("an object"),
                Some(_) => return self.syntax("expected `,` or `}`"),
            }
            if self.ws()? == Some(b'}') {
                return self.syntax("trailing comma");
            }
        }
        *first = false;
        match self.ws()? {
            Some(b'"') => {}
            None => return self.eof_error("an object"),
            Some(_) => return self.syntax("key must be a string"),
        }
        let mut raw = Vec::new();
        self.capture_into(&mut raw)?;
        let key = match std::str::from_utf8(&raw[1..raw.len() - 1]) {
            Ok(k) if !k.contains('\\') => k.to_string(),
            _ => match serde_json::from_slice::<String>(&raw) {
                Ok(k) => k,
                Err(e) => return self.syntax(format!("invalid key: {e}")),
            },
        };
        match self.ws()? {
            Some(b':') => self.bump(),
            None => return self.eof_error("an object"),
            Some(_) => return self.syntax("expected `:`"),
        }
        Ok(Some(key))
    }

    /// Consumes `[`; false (having consumed it) for `null`, which old
    /// documents use for a missing list.
    pub fn begin_array(&mut self) -> Result<bool> {
        match self.ws()? {
            Some(b'[') => {
                self.bump();
                Ok(true)
            }
            Some(b'n') => {
                self.skip_value()?;
                Ok(false)
            }
            None => self.eof_error("a value"),
            Some(_) => self.syntax("invalid type: expected a JSON array"),
        }
    }

    /// True when another element follows (positioned at it), false after `]`.
    pub fn next_element(&mut self, first: &mut bool) -> Result<bool> {
        match self.ws()? {
            Some(b']') => {
                self.bump();
                return Ok(false);
            }
            None => return self.eof_error("a list"),
            _ => {}
        }
        if !*first {
            match self.ws()? {
                Some(b',') => self.bump(),
                None => return self.eof_error("a list"),
                Some(_) => return self.syntax("expected `,` or `]`"),
            }
            if self.ws()? == Some(b']') {
                return self.syntax("trailing comma");
            }
        }
        *first = false;
        Ok(true)
    }

    /// Copies the next value into `out` (cleared first) and says where it
    /// started.
    pub fn capture_into(&mut self, out: &mut Vec<u8>) -> Result<Pos> {
        self.ws()?;
        let start = self.position();
        out.clear();
        self.capture = Some((std::mem::take(out), self.pos));
        let r = self.skip_value();
        let (mut copy, from) = self.capture.take().expect("capture in progress");
        copy.extend_from_slice(&self.buf[from..self.pos]);
        *out = copy;
        r.map(|_| start)
    }

    /// Consumes the next value without building it.
    pub fn skip_value(&mut self) -> Result<()> {
        match self.ws()? {
            None => self.eof_error("a value"),
            Some(b'{' | b'[') => self.skip_container(),
            Some(b'"') => {
                self.bump();
                self.skip_string_rest()
            }
            Some(_) => self.skip_scalar(),
        }
    }

    /// After the opening quote: through the closing one.
    fn skip_string_rest(&mut self) -> Result<()> {
        let mut escaped = false;
        loop {
            if self.pos == self.end && !self.refill()? {
                return self.eof_error("a string");
            }
            if escaped {
                escaped = false;
                self.pos += 1;
                continue;
            }
            match memchr2(b'"', b'\\', &self.buf[self.pos..self.end]) {
                None => self.pos = self.end,
                Some(k) => {
                    let at = self.pos + k;
                    self.pos = at + 1;
                    if self.buf[at] == b'"' {
                        return Ok(());
                    }
                    escaped = true;
                }
            }
        }
    }

    /// A number, `true`, `false` or `null`.
    fn skip_scalar(&mut self) -> Result<()> {
        let mut token = [0u8; 5];
        let mut len = 0;
        let mut number = false;
        loop {
            let b = match self.peek()? {
                Some(b) if SCALAR[b as usize] => b,
                _ => break,
            };
            if len == 0 {
                number = b == b'-' || b.is_ascii_digit();
            }
            if len < token.len() {
                token[len] = b;
            }
            len += 1;
            self.bump();
        }
        let ok = if number {
            true
        } else {
            matches!(&token[..len.min(5)], b"true" | b"null" | b"false") && len <= 5
        };
        if ok {
            Ok(())
        } else {
            self.syntax("expected value")
        }
    }

    /// An object or array with everything in it.
    fn skip_container(&mut self) -> Result<()> {
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        let r = self.skip_container_with(&mut stack);
        self.stack = stack;
        r
    }

    fn skip_container_with(&mut self, stack: &mut Vec<u8>) -> Result<()> {
        // Tight per-byte loops over the buffer with a class table: faster
        // than a search call per string, as most strings here are short.
        let mut in_string = false;
        let mut escaped = false;
        loop {
            if self.pos == self.end && !self.refill()? {
                return self.eof_error(if in_string { "a string" } else { "a value" });
            }
            let buf = &self.buf[..self.end];
            let n = buf.len();
            let mut i = self.pos;
            while i < n {
                if in_string {
                    if escaped {
                        escaped = false;
                        i += 1;
                        continue;
                    }
                    i = string_run_end(buf, i);
                    if i == n {
                        break;
                    }
                    if buf[i] == b'"' {
                        in_string = false;
                    } else {
                        escaped = true;
                    }
                    i += 1;
                    continue;
                }
                while i < n && CLASS[buf[i] as usize] == PLAIN {
                    i += 1;
                }
                if i == n {
                    break;
                }
                let b = buf[i];
                match CLASS[b as usize] {
                    QUOTE => in_string = true,
                    OPEN if stack.len() == MAX_NESTING => {
                        self.pos = i;
                        return self.syntax(format!(
                            "nested deeper than {MAX_NESTING} levels (a Mesos state document nests about 10)"
                        ));
                    }
                    OPEN => stack.push(b),
                    CLOSE => {
                        let open = if b == b'}' { b'{' } else { b'[' };
                        if stack.pop() != Some(open) {
                            self.pos = i;
                            return self.syntax(format!("unexpected `{}`", b as char));
                        }
                        if stack.is_empty() {
                            self.pos = i + 1;
                            return Ok(());
                        }
                    }
                    _ => {
                        self.pos = i;
                        return self.syntax("expected value");
                    }
                }
                i += 1;
            }
            self.pos = i;
        }
    }

    /// After the document: only whitespace may follow.
    pub fn finish(&mut self) -> Result<()> {
        match self.ws()? {
            None => Ok(()),
            Some(_) => self.syntax("trailing characters"),
        }
    }
}

/// Bytes of numbers and literals.
const SCALAR: [bool; 256] = {
    let mut t = [false; 256];
    let s = b"0123456789+-.eEtruefalsn";
    let mut i = 0;
    while i < s.len() {
        t[s[i] as usize] = true;
        i += 1;
    }
    t
};

const PLAIN: u8 = 0;
const QUOTE: u8 = 1;
const OPEN: u8 = 2;
const CLOSE: u8 = 3;
const INVALID: u8 = 4;

/// Bytes outside strings inside a container: separators, whitespace,
/// numbers and literals are plain; anything else unknown is invalid.
const CLASS: [u8; 256] = {
    let mut t = [INVALID; 256];
    let plain = b"0123456789+-.eEtruefalsn,: \t\r\n";
    let mut i = 0;
    while i < plain.len() {
        t[plain[i] as usize] = PLAIN;
        i += 1;
    }
    t[b'"' as usize] = QUOTE;
    t[b'{' as usize] = OPEN;
    t[b'[' as usize] = OPEN;
    t[b'}' as usize] = CLOSE;
    t[b']' as usize] = CLOSE;
    t
};

/// The index of the first `"` or `\\` at or after `i` (or `buf.len()`),
/// eight bytes at a time: most of a state document is string content.
#[inline]
fn string_run_end(buf: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let n = buf.len();
    while i + 8 <= n {
        let w = u64::from_le_bytes(buf[i..i + 8].try_into().expect("eight bytes"));
        let q = w ^ (ONES * b'"' as u64);
        let b = w ^ (ONES * b'\\' as u64);
        // A zero byte in q or b marks a match; the lowest flagged byte is
        // exact (false flags only ever follow a true one).
        let hit = (q.wrapping_sub(ONES) & !q | b.wrapping_sub(ONES) & !b) & HIGHS;
        if hit != 0 {
            return i + (hit.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < n && !STRING_END[buf[i] as usize] {
        i += 1;
    }
    i
}

/// Bytes that end a run of plain string content.
const STRING_END: [bool; 256] = {
    let mut t = [false; 256];
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader handing out one byte at a time: every refill boundary is hit.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    fn walk_keys(doc: &str) -> Vec<(String, String)> {
        let mut s = Scanner::new(Trickle(doc.as_bytes()));
        s.begin_object().unwrap();
        let mut first = true;
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while let Some(k) = s.next_key(&mut first).unwrap() {
            s.capture_into(&mut buf).unwrap();
            out.push((k, String::from_utf8(buf.clone()).unwrap()));
        }
        s.finish().unwrap();
        out
    }

    #[test]
    fn values_are_copied_exactly_across_buffer_refills() {
        let got = walk_keys(
            r#" {"a" : [1, {"b":"x\"]}"}, -2.5e3], "k\u0041" : "s\\", "n":null,"t":true}  "#,
        );
        assert_eq!(
            got,
            [
                ("a".to_string(), r#"[1, {"b":"x\"]}"}, -2.5e3]"#.to_string()),
                ("kA".to_string(), r#""s\\""#.to_string()),
                ("n".to_string(), "null".to_string()),
                ("t".to_string(), "true".to_string()),
            ]
        );
    }

    fn skip_error(doc: &str) -> (Pos, String) {
        let mut s = Scanner::new(Trickle(doc.as_bytes()));
        match s.skip_value().and_then(|_| s.finish()) {
            Err(ScanError::Syntax { pos, msg }) => (pos, msg),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn skipped_values_must_be_balanced_closed_and_free_of_stray_text() {
        assert_eq!(skip_error("[1,\n {\"a\": 2]").1, "unexpected `]`");
        assert_eq!(skip_error("[1,\n {\"a\": 2]").0, Pos { line: 2, column: 9 });
        assert_eq!(skip_error("{\"a\": \"open").1, "EOF while parsing a string");
        assert_eq!(skip_error("[1, <html>]").1, "expected value");
        assert_eq!(skip_error("nul").1, "expected value");
        assert_eq!(skip_error("{} x").1, "trailing characters");
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = "[".repeat(MAX_NESTING) + &"]".repeat(MAX_NESTING);
        let mut s = Scanner::new(Trickle(ok.as_bytes()));
        s.skip_value()
            .and_then(|_| s.finish())
            .expect("at the limit");
        let deep = "[".repeat(100_000);
        let (pos, msg) = skip_error(&deep);
        assert!(msg.starts_with("nested deeper than 128 levels"), "{msg}");
        assert_eq!(pos.column, MAX_NESTING + 1);
    }

    #[test]
    fn string_runs_end_at_the_first_quote_or_backslash() {
        let text = b"abcdefghijklmnop\"q";
        assert_eq!(string_run_end(text, 0), 16);
        assert_eq!(string_run_end(b"abcdefgh\\ijklmnop", 0), 8);
        assert_eq!(string_run_end(b"\xff\x80abcdefgh\"", 0), 10);
        assert_eq!(string_run_end(b"abc", 0), 3);
        for k in 0..20 {
            let mut t = vec![b'x'; 20];
            t[k] = b'"';
            assert_eq!(string_run_end(&t, 0), k);
        }
    }

    #[test]
    fn positions_count_lines_and_columns_from_one() {
        let mut s = Scanner::new(Trickle(b"\n\n   {}"));
        s.ws().unwrap();
        assert_eq!(s.position(), Pos { line: 3, column: 4 });
    }
}
