//! Writing `alluxio-site.properties` text for a task.
//!
//! Alluxio reads the file with `java.util.Properties.load` from a byte
//! stream (ISO-8859-1), so the text must be escaped as `Properties.store`
//! escapes it: `\` and the separators/comment marks `= : # !` get a
//! backslash, spaces in keys and a leading space in values are escaped, the
//! control characters `\t \n \r \f` get their letter escapes, and every
//! other character outside printable ASCII becomes `\uXXXX` (UTF-16 code
//! units, so characters beyond the BMP are a surrogate pair). The result
//! is pure ASCII and survives an environment variable and a shell `echo`.

/// A valid `.properties` text: one `key=value` line per pair, in the order given.
pub fn to_properties_text<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (key, value) in pairs {
        escape_into(&mut out, key, true);
        out.push('=');
        escape_into(&mut out, value, false);
        out.push('\n');
    }
    out
}

/// `Properties.saveConvert` with `escUnicode` on.
fn escape_into(out: &mut String, text: &str, is_key: bool) {
    for (i, c) in text.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            ' ' if i == 0 || is_key => out.push_str("\\ "),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\x0c' => out.push_str("\\f"),
            '=' | ':' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::properties::parse;
    use proptest::prelude::*;

    fn round_trip(pairs: &[(String, String)]) -> Vec<(String, String)> {
        let text = to_properties_text(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        parse(&text)
            .unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
            .into_iter()
            .map(|e| (e.key, e.value))
            .collect()
    }

    #[test]
    fn escapes_as_properties_store_does() {
        let text = to_properties_text(
            [
                ("alluxio.master.hostname", "m1.example"),
                ("a key", " lead and trail "),
                ("x=y:z", "#!=:\\"),
                ("tabs", "a\tb\nc\rd\x0ce"),
                ("uni", "é€😀\x01"),
                ("", ""),
            ]
            .into_iter(),
        );
        assert_eq!(
            text,
            "alluxio.master.hostname=m1.example\n\
             a\\ key=\\ lead and trail \n\
             x\\=y\\:z=\\#\\!\\=\\:\\\\\n\
             tabs=a\\tb\\nc\\rd\\fe\n\
             uni=\\u00E9\\u20AC\\uD83D\\uDE00\\u0001\n\
             =\n"
        );
        assert!(text.is_ascii());
    }

    #[test]
    fn empty_input_is_empty_text() {
        assert_eq!(to_properties_text(std::iter::empty()), "");
    }

    #[test]
    fn tricky_values_read_back_unchanged() {
        let pairs: Vec<(String, String)> = [
            ("k", "ends with backslash\\"),
            ("k2", "\\\\"),
            ("#comment-like", "!also"),
            (" ", " "),
            ("k3", "line\\\ncontinued?"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(round_trip(&pairs), pairs);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn random_pairs_round_trip_through_the_properties_reader(
            pairs in proptest::collection::vec((any::<String>(), any::<String>()), 0..6),
            ascii in proptest::collection::vec(("[ -~\t\n\r\\\\]{0,12}", "[ -~\t\n\r\\\\]{0,12}"), 0..6),
        ) {
            prop_assert_eq!(round_trip(&pairs), pairs);
            prop_assert_eq!(round_trip(&ascii), ascii);
        }
    }
}
