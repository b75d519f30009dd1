//! A `.properties` reader that keeps where each key and value came from.
//!
//! It follows `java.util.Properties.load` (the semantics of the
//! java-properties crate, which the tests compare it with): `#`/`!` comment
//! lines, `=`, `:` or whitespace between key and value, a line ending in an
//! odd number of backslashes continues on the next line (whose leading
//! whitespace is dropped), and `\t \n \r \f \uXXXX` escapes. It exists
//! because diagnostics need byte spans, which that crate does not give.
//! The file is read as UTF-8 (Alluxio files are ASCII in practice).

use crate::desired::secrets::SecretKeys;
use std::ops::Range;

/// One `key=value` of a properties file, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyEntry {
    pub key: String,
    pub value: String,
    /// 1-based line where the entry starts.
    pub line: usize,
    /// Byte span of the key as written (escapes included).
    pub key_span: Range<usize>,
    /// Byte span of the value as written (continuations included; empty
    /// right after the separator when the value is empty).
    pub value_span: Range<usize>,
}

/// A malformed escape, at a byte offset of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertiesSyntaxError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0c')
}

/// The natural lines of `text`: byte ranges without their terminators.
fn natural_lines(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                lines.push(start..i);
                i += 1;
                start = i;
            }
            b'\r' => {
                lines.push(start..i);
                i += if bytes.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                start = i;
            }
            _ => i += 1,
        }
    }
    if start < bytes.len() {
        lines.push(start..bytes.len());
    }
    lines
}

fn trailing_backslashes(s: &str) -> usize {
    s.bytes().rev().take_while(|&b| b == b'\\').count()
}

/// Parses the whole text into entries, in file order (duplicates kept).
pub fn parse(text: &str) -> Result<Vec<PropertyEntry>, PropertiesSyntaxError> {
    let lines = natural_lines(text);
    let mut entries = Vec::new();
    let mut n = 0;
    while n < lines.len() {
        let first_line = n + 1;
        let range = lines[n].clone();
        n += 1;
        let raw = &text[range.clone()];
        let lead = raw.len() - raw.trim_start_matches(is_ws).len();
        let body = &raw[lead..];
        if body.is_empty() || body.starts_with('#') || body.starts_with('!') {
            continue;
        }
        // The logical line as (char, byte offset) pairs, joined across continuations.
        let mut chars: Vec<(char, usize)> = Vec::new();
        let mut seg_start = range.start + lead;
        let mut seg_end = range.end;
        loop {
            let seg = &text[seg_start..seg_end];
            let continued = trailing_backslashes(seg) % 2 == 1;
            let keep = if continued { seg.len() - 1 } else { seg.len() };
            chars.extend(seg[..keep].char_indices().map(|(i, c)| (c, seg_start + i)));
            if !continued || n >= lines.len() {
                break;
            }
            let next = lines[n].clone();
            n += 1;
            let next_raw = &text[next.clone()];
            seg_start = next.start + (next_raw.len() - next_raw.trim_start_matches(is_ws).len());
            seg_end = next.end;
        }
        // A lone continuation onto a blank line holds nothing: Java skips it.
        if !chars.is_empty() {
            entries.push(split_entry(&chars, first_line)?);
        }
    }
    Ok(entries)
}

/// Splits a logical line into key and value and unescapes both.
fn split_entry(
    chars: &[(char, usize)],
    line: usize,
) -> Result<PropertyEntry, PropertiesSyntaxError> {
    let end_of = |i: usize| chars[i].1 + chars[i].0.len_utf8();
    let mut i = 0;
    while i < chars.len() {
        match chars[i].0 {
            '\\' => i += 2,
            '=' | ':' => break,
            c if is_ws(c) => break,
            _ => i += 1,
        }
    }
    let key_end = i.min(chars.len());
    let mut j = key_end;
    while j < chars.len() && is_ws(chars[j].0) {
        j += 1;
    }
    if j < chars.len() && matches!(chars[j].0, '=' | ':') {
        j += 1;
        while j < chars.len() && is_ws(chars[j].0) {
            j += 1;
        }
    }
    let key_span = if key_end == 0 {
        chars[0].1..chars[0].1
    } else {
        chars[0].1..end_of(key_end - 1)
    };
    let value_span = if j < chars.len() {
        chars[j].1..end_of(chars.len() - 1)
    } else {
        let at = if j == 0 { chars[0].1 } else { end_of(j - 1) };
        at..at
    };
    Ok(PropertyEntry {
        key: unescape(&chars[..key_end])?,
        value: unescape(&chars[j..])?,
        line,
        key_span,
        value_span,
    })
}

fn unescape(chars: &[(char, usize)]) -> Result<String, PropertiesSyntaxError> {
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let (c, at) = chars[i];
        i += 1;
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(&(e, _)) = chars.get(i) else {
            // A lone backslash at the very end of the file: Java drops the line break it asks for.
            break;
        };
        i += 1;
        match e {
            't' => out.push('\t'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            'f' => out.push('\x0c'),
            'u' => {
                let unit = |from: usize| -> Option<u32> {
                    let digits: String =
                        chars.get(from..)?.iter().take(4).map(|&(c, _)| c).collect();
                    (digits.len() == 4)
                        .then(|| u32::from_str_radix(&digits, 16).ok())
                        .flatten()
                };
                let digits_len = chars[i..].iter().take(4).count();
                let mut code = unit(i).and_then(char::from_u32);
                // Java strings are UTF-16: a character beyond the BMP is
                // written (by `Properties.store`) as a surrogate pair.
                if let Some(high @ 0xD800..=0xDBFF) = unit(i) {
                    let escaped_low = chars.get(i + 4).map(|c| c.0) == Some('\\')
                        && chars.get(i + 5).map(|c| c.0) == Some('u');
                    if let Some(low @ 0xDC00..=0xDFFF) = unit(i + 6).filter(|_| escaped_low) {
                        code = char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00));
                        i += 6;
                    }
                }
                match code {
                    Some(ch) => out.push(ch),
                    None => {
                        return Err(PropertiesSyntaxError {
                            offset: at,
                            len: 2 + digits_len,
                            message: if unit(i).is_some() {
                                "\\uXXXX escape of half a surrogate pair: write both halves \\uD8xx\\uDCxx"
                                    .into()
                            } else {
                                "malformed \\uXXXX escape: expected four hex digits".into()
                            },
                        })
                    }
                }
                i += 4;
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// Masks (with `*`, keeping lengths and line breaks) the values of lines
/// whose key looks secret, without parsing the file: for showing a file
/// that failed to parse. A secret value's continuation lines are masked too.
pub fn mask_secret_lines(text: &str, keys: &SecretKeys) -> String {
    let mut out = String::with_capacity(text.len());
    let mut continuing_secret = false;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = &line[body.len()..];
        let content = body.trim_start_matches(is_ws);
        let lead = body.len() - content.len();
        let mask_from = if continuing_secret {
            Some(lead)
        } else if content.starts_with('#') || content.starts_with('!') {
            None
        } else {
            let key_len = content
                .find(|c: char| c == '=' || c == ':' || is_ws(c))
                .unwrap_or(content.len());
            keys.is_secret(&content[..key_len])
                .then_some(lead + key_len)
        };
        match mask_from {
            Some(from) => {
                out.push_str(&body[..from]);
                out.extend(body[from..].chars().map(|_| '*'));
                continuing_secret = trailing_backslashes(body) % 2 == 1;
            }
            None => {
                out.push_str(body);
                continuing_secret = false;
            }
        }
        out.push_str(ending);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text)
            .unwrap()
            .into_iter()
            .map(|e| (e.key, e.value))
            .collect()
    }

    fn kv(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn decodes_escaped_surrogate_pairs_as_one_character() {
        assert_eq!(pairs("k=\\uD83D\\uDE00!"), vec![kv("k", "\u{1F600}!")]);
        for lone in ["k=\\uD83D", "k=\\uD83Dx", "k=\\uDE00", "k=\\uD83D\\u0041"] {
            assert!(parse(lone).is_err(), "{lone}");
        }
    }

    #[test]
    fn accepts_equals_colon_and_whitespace_separators() {
        assert_eq!(
            pairs("a=1\nb:2\nc 3\nd = 4\ne\t:\t5\nf   =6\ng\n"),
            vec![
                kv("a", "1"),
                kv("b", "2"),
                kv("c", "3"),
                kv("d", "4"),
                kv("e", "5"),
                kv("f", "6"),
                kv("g", "")
            ]
        );
    }

    #[test]
    fn only_the_first_separator_counts() {
        assert_eq!(
            pairs("a==b\nc=d:e\nf :=g"),
            vec![kv("a", "=b"), kv("c", "d:e"), kv("f", "=g")]
        );
    }

    #[test]
    fn skips_comments_and_blank_lines() {
        assert_eq!(
            pairs("# hash\n! bang\n   # indented\n\n   \nk=v # not a comment\n"),
            vec![kv("k", "v # not a comment")]
        );
    }

    #[test]
    fn joins_continuation_lines_dropping_leading_whitespace() {
        assert_eq!(
            pairs("list=a,\\\n    b,\\\n\tc\nnext=1"),
            vec![kv("list", "a,b,c"), kv("next", "1")]
        );
        // An even number of backslashes is an escaped backslash, not a continuation.
        assert_eq!(pairs("p=c:\\\\\nq=2"), vec![kv("p", "c:\\"), kv("q", "2")]);
        // A comment line never continues.
        assert_eq!(pairs("#c\\\nk=v"), vec![kv("k", "v")]);
    }

    #[test]
    fn decodes_escapes_in_keys_and_values() {
        assert_eq!(
            pairs("key\\ with\\:sep\\=s=v\\tal\\nue\\u0041\\q"),
            vec![kv("key with:sep=s", "v\tal\nue\u{41}q")]
        );
    }

    #[test]
    fn handles_crlf_and_cr_line_endings() {
        assert_eq!(
            pairs("a=1\r\nb=2\rc=3"),
            vec![kv("a", "1"), kv("b", "2"), kv("c", "3")]
        );
    }

    #[test]
    fn records_lines_and_spans() {
        let text = "# c\n  alluxio.master.port = 19998\nx=a\\\n  b\n";
        let e = parse(text).unwrap();
        assert_eq!(e[0].line, 2);
        assert_eq!(&text[e[0].key_span.clone()], "alluxio.master.port");
        assert_eq!(&text[e[0].value_span.clone()], "19998");
        assert_eq!(e[1].line, 3);
        assert_eq!(&text[e[1].value_span.clone()], "a\\\n  b");
        let empty = parse("k=").unwrap();
        assert_eq!(empty[0].value_span, 2..2);
    }

    #[test]
    fn rejects_a_malformed_unicode_escape_with_its_offset() {
        let err = parse("ok=1\nbad=\\u12x4\n").unwrap_err();
        assert_eq!(err.offset, 9);
        assert!(err.message.contains("\\uXXXX"), "{}", err.message);
    }

    #[test]
    fn masks_secret_looking_lines_and_their_continuations() {
        let text = "a=1\nmy.password = hunter2 \\\n   more\nb=\\u12x4\n# token=x\n";
        let masked = mask_secret_lines(text, &SecretKeys::default());
        assert!(
            !masked.contains("hunter2") && !masked.contains("more"),
            "{masked}"
        );
        assert!(
            masked.contains("a=1") && masked.contains("# token=x"),
            "{masked}"
        );
        assert_eq!(masked.lines().count(), text.lines().count());
    }

    /// Our reader must agree with the java-properties crate on everything it reads.
    #[test]
    fn agrees_with_the_java_properties_crate() {
        let inputs = [
            "a=1\nb:2\nc 3\n",
            "  k  =  v  \n",
            "k\\ ey=v\\\\\n",
            "multi=one \\\n   two \\\n   three\n",
            "x=\\u00e9t\\u00e9\n",
            "#c\n!c\n\n\tk\t:\tv\n",
            "empty=\nbare\nsp \n",
            "a=b\\\n\nc=d\n",
            "a=b\r\nc=d\re=f",
            "k=v=w:x y\n",
            "\\#notcomment=1\n",
        ];
        for input in inputs {
            let ours: Vec<(usize, String, String)> = parse(input)
                .unwrap()
                .into_iter()
                .map(|e| (e.line, e.key, e.value))
                .collect();
            let theirs: Vec<(usize, String, String)> =
                java_properties::PropertiesIter::new(input.as_bytes())
                    .filter_map(|l| {
                        let l = l.unwrap();
                        let n = l.line_number();
                        match l.consume_content() {
                            java_properties::LineContent::KVPair(k, v) => Some((n, k, v)),
                            java_properties::LineContent::Comment(_) => None,
                        }
                    })
                    .collect();
            assert_eq!(ours, theirs, "input {input:?}");
        }
    }

    fn theirs(input: &str) -> Result<Vec<(usize, String, String)>, ()> {
        let mut out = Vec::new();
        for line in java_properties::PropertiesIter::new(input.as_bytes()) {
            let line = line.map_err(|_| ())?;
            let n = line.line_number();
            if let java_properties::LineContent::KVPair(k, v) = line.consume_content() {
                out.push((n, k, v));
            }
        }
        Ok(out)
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            max_global_rejects: 1 << 20,
            ..proptest::test_runner::Config::default()
        })]

        /// On any ASCII input our reader and the java-properties crate agree on
        /// every key, value and line number, and on whether the file is malformed.
        /// (Excluded: the two places where the crate departs from Java, see
        /// the assumptions below.)
        #[test]
        fn agrees_with_the_java_properties_crate_on_generated_files(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", "key", ".", "=", ":", " ", "\t", "\x0c", "\\", "\\\\", "#", "!",
                    "\n", "\r\n", "\r", "u", "0041", "x", "\\u00e9", "\\n",
                ]),
                0..40,
            )
        ) {
            let input: String = parts.concat();
            let last = input.rsplit(['\n', '\r']).next().unwrap_or_default();
            proptest::prop_assume!(trailing_backslashes(last).is_multiple_of(2));
            // A line holding only a continuation makes the next line start the
            // logical line; Java then reads `#` there as a key, the crate as a comment.
            proptest::prop_assume!(!input.split(['\n', '\r']).any(|l| {
                let t = l.trim_start_matches(is_ws);
                !t.is_empty() && t.bytes().all(|b| b == b'\\') && t.len() % 2 == 1
            }));
            // The crate decodes escapes in comments (and may fail there); Java ignores comments.
            proptest::prop_assume!(!input.split(['\n', '\r']).any(|l| {
                let t = l.trim_start_matches(is_ws);
                (t.starts_with('#') || t.starts_with('!')) && t.contains('\\')
            }));
            let ours = parse(&input)
                .map(|es| es.into_iter().map(|e| (e.line, e.key, e.value)).collect::<Vec<_>>())
                .map_err(|_| ());
            proptest::prop_assert_eq!(ours, theirs(&input), "input {:?}", input);
        }
    }
}
