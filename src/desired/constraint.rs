//! Agent attribute constraints: `rack:r1 & !zone:z2 | (gpu:true)`.

use std::collections::BTreeMap;
use std::fmt;

/// A boolean expression over agent attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    /// `name:value`: the agent has attribute `name` equal to `value` (text comparison).
    Attr {
        name: String,
        value: String,
    },
    Not(Box<Constraint>),
    And(Box<Constraint>, Box<Constraint>),
    Or(Box<Constraint>, Box<Constraint>),
}

impl Constraint {
    /// Whether an agent with these attributes (values rendered as text) qualifies.
    pub fn matches(&self, attributes: &BTreeMap<String, String>) -> bool {
        match self {
            Constraint::Attr { name, value } => attributes.get(name) == Some(value),
            Constraint::Not(c) => !c.matches(attributes),
            Constraint::And(a, b) => a.matches(attributes) && b.matches(attributes),
            Constraint::Or(a, b) => a.matches(attributes) || b.matches(attributes),
        }
    }
}

/// Written as its text (`rack:r1 & !zone:z2`), as plans carry it.
impl serde::Serialize for Constraint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Constraint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_constraint(&text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Constraint::Attr { name, value } => write!(f, "{name}:{value}"),
            Constraint::Not(c) => match **c {
                Constraint::Attr { .. } | Constraint::Not(_) => write!(f, "!{c}"),
                _ => write!(f, "!({c})"),
            },
            Constraint::And(a, b) => {
                let side = |c: &Constraint, f: &mut fmt::Formatter<'_>| match c {
                    Constraint::Or(..) => write!(f, "({c})"),
                    _ => write!(f, "{c}"),
                };
                side(a, f)?;
                f.write_str(" & ")?;
                side(b, f)
            }
            Constraint::Or(a, b) => write!(f, "{a} | {b}"),
        }
    }
}

/// Why a constraint expression does not parse: the byte offset in the
/// expression where the problem is, and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstraintError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for ConstraintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at offset {})", self.message, self.offset)
    }
}

impl std::error::Error for ConstraintError {}

impl std::str::FromStr for Constraint {
    type Err = ConstraintError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_constraint(s)
    }
}

/// Parses `rack:r1 & !zone:z2 | (gpu:true)`.
///
/// Precedence: `!` binds tightest, then `&`, then `|`; `&` and `|` group to
/// the left; parentheses override. An attribute is `name:value`, where the
/// name stops at the first `:` and neither part may hold whitespace or any
/// of `&|!()`.
pub fn parse_constraint(input: &str) -> Result<Constraint, ConstraintError> {
    let mut p = Parser {
        input,
        pos: 0,
        depth: 0,
        terms: 0,
    };
    p.skip_ws();
    if p.pos == input.len() {
        return Err(p.error("the constraint is empty; write e.g. rack:r1 & !zone:z2"));
    }
    let c = p.or()?;
    p.skip_ws();
    match p.peek() {
        None => Ok(c),
        Some(')') => Err(p.error("unmatched `)`")),
        Some(ch) => Err(p.error(&format!(
            "expected `&`, `|` or the end of the expression, found `{ch}`"
        ))),
    }
}

/// How deeply `(` and `!` may nest. The parser, [`Constraint::matches`],
/// its `Display` and its drop all recurse once per level, so unbounded
/// nesting (a few thousand `(`) overflows the stack and aborts the process;
/// plan files carry constraints as text, so this guards reading them too.
/// Real constraints nest two or three levels.
pub const MAX_NESTING: usize = 64;

/// How many attribute tests one constraint may hold. `&` and `|` chains
/// build a tree as deep as they are long, which the same recursion walks;
/// real constraints hold a handful of tests.
pub const MAX_TERMS: usize = 1024;

struct Parser<'a> {
    input: &'a str,
    pos: usize,
    /// `(` and `!` currently open around the position.
    depth: usize,
    /// Attribute tests read so far.
    terms: usize,
}

fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '&' | '|' | '!' | '(' | ')')
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.input[self.pos..].chars().next()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            self.pos += c.len_utf8();
        }
    }

    fn error(&self, message: &str) -> ConstraintError {
        ConstraintError {
            offset: self.pos,
            message: message.to_string(),
        }
    }

    fn or(&mut self) -> Result<Constraint, ConstraintError> {
        let mut left = self.and()?;
        loop {
            self.skip_ws();
            if self.peek() != Some('|') {
                return Ok(left);
            }
            self.pos += 1;
            let right = self.and()?;
            left = Constraint::Or(Box::new(left), Box::new(right));
        }
    }

    fn and(&mut self) -> Result<Constraint, ConstraintError> {
        let mut left = self.unary()?;
        loop {
            self.skip_ws();
            if self.peek() != Some('&') {
                return Ok(left);
            }
            self.pos += 1;
            let right = self.unary()?;
            left = Constraint::And(Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Constraint, ConstraintError> {
        self.skip_ws();
        if matches!(self.peek(), Some('!' | '(')) {
            if self.depth == MAX_NESTING {
                return Err(self.error(&format!(
                    "the expression nests `(` and `!` more than {MAX_NESTING} levels deep; write it with fewer levels"
                )));
            }
            self.depth += 1;
            let c = self.nested();
            self.depth -= 1;
            return c;
        }
        match self.peek() {
            Some(c) if is_word_char(c) => self.attr(),
            Some(c) => Err(self.error(&format!(
                "expected an attribute such as rack:r1, `!` or `(`, found `{c}`"
            ))),
            None => Err(self.error(
                "the expression ends early: expected an attribute such as rack:r1, `!` or `(`",
            )),
        }
    }

    /// `!x` or `(x)`, at the position of the `!` or `(`.
    fn nested(&mut self) -> Result<Constraint, ConstraintError> {
        match self.peek() {
            Some('!') => {
                self.pos += 1;
                Ok(Constraint::Not(Box::new(self.unary()?)))
            }
            _ => {
                let open = self.pos;
                self.pos += 1;
                let inner = self.or()?;
                self.skip_ws();
                if self.peek() == Some(')') {
                    self.pos += 1;
                    Ok(inner)
                } else {
                    Err(ConstraintError {
                        offset: open,
                        message: "this `(` is never closed".into(),
                    })
                }
            }
        }
    }

    fn attr(&mut self) -> Result<Constraint, ConstraintError> {
        if self.terms == MAX_TERMS {
            return Err(self.error(&format!(
                "the expression holds more than {MAX_TERMS} attribute tests; write a shorter constraint"
            )));
        }
        self.terms += 1;
        let start = self.pos;
        while let Some(c) = self.peek().filter(|&c| is_word_char(c)) {
            self.pos += c.len_utf8();
        }
        let word = &self.input[start..self.pos];
        match word.split_once(':') {
            Some((name, value)) if !name.is_empty() && !value.is_empty() => Ok(Constraint::Attr {
                name: name.to_string(),
                value: value.to_string(),
            }),
            _ => Err(ConstraintError {
                offset: start,
                message: format!(
                    "`{word}` is not an attribute test: write name:value, e.g. rack:r1"
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(n: &str, v: &str) -> Constraint {
        Constraint::Attr {
            name: n.into(),
            value: v.into(),
        }
    }
    fn not(c: Constraint) -> Constraint {
        Constraint::Not(Box::new(c))
    }
    fn and(a: Constraint, b: Constraint) -> Constraint {
        Constraint::And(Box::new(a), Box::new(b))
    }
    fn or(a: Constraint, b: Constraint) -> Constraint {
        Constraint::Or(Box::new(a), Box::new(b))
    }
    fn p(s: &str) -> Constraint {
        parse_constraint(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_a_single_attribute() {
        assert_eq!(p("rack:r1"), attr("rack", "r1"));
        assert_eq!(p("  host:a:b  "), attr("host", "a:b"));
    }

    #[test]
    fn not_binds_tighter_than_and_which_binds_tighter_than_or() {
        assert_eq!(
            p("a:1 | b:2 & !c:3"),
            or(attr("a", "1"), and(attr("b", "2"), not(attr("c", "3"))))
        );
        assert_eq!(
            p("!a:1 & b:2 | c:3"),
            or(and(not(attr("a", "1")), attr("b", "2")), attr("c", "3"))
        );
    }

    #[test]
    fn parentheses_override_precedence() {
        assert_eq!(
            p("(a:1 | b:2) & c:3"),
            and(or(attr("a", "1"), attr("b", "2")), attr("c", "3"))
        );
        assert_eq!(p("!(a:1&b:2)"), not(and(attr("a", "1"), attr("b", "2"))));
        assert_eq!(p("!!a:1"), not(not(attr("a", "1"))));
    }

    #[test]
    fn binary_operators_group_to_the_left() {
        assert_eq!(
            p("a:1 & b:2 & c:3"),
            and(and(attr("a", "1"), attr("b", "2")), attr("c", "3"))
        );
    }

    #[test]
    fn display_reparses_to_the_same_expression() {
        for s in [
            "rack:r1 & !zone:z2",
            "(a:1 | b:2) & !(c:3 | d:4)",
            "a:1 | b:2 & c:3",
            "!(a:1 & b:2) | c:3",
        ] {
            let c = p(s);
            assert_eq!(p(&c.to_string()), c, "{s} -> {c}");
        }
    }

    #[test]
    fn matches_follow_the_expression() {
        let c = p("rack:r1 & !zone:z2");
        let attrs = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        assert!(c.matches(&attrs(&[("rack", "r1")])));
        assert!(!c.matches(&attrs(&[("rack", "r1"), ("zone", "z2")])));
        assert!(!c.matches(&attrs(&[("rack", "r2")])));
    }

    #[test]
    fn deep_nesting_is_a_located_error_not_a_stack_overflow() {
        let deep = "(".repeat(5000) + "a:b" + &")".repeat(5000);
        let e = parse_constraint(&deep).unwrap_err();
        assert_eq!(e.offset, MAX_NESTING, "{e}");
        assert!(e.message.contains("more than 64 levels"), "{e}");
        let nots = "!".repeat(5000) + "a:b";
        assert_eq!(parse_constraint(&nots).unwrap_err().offset, MAX_NESTING);
        // At the limit it still parses.
        let ok = "(".repeat(MAX_NESTING) + "a:b" + &")".repeat(MAX_NESTING);
        assert_eq!(p(&ok), attr("a", "b"));
        let mixed = "!(".repeat(MAX_NESTING / 2) + "a:b" + &")".repeat(MAX_NESTING / 2);
        p(&mixed);
    }

    #[test]
    fn long_chains_are_a_located_error_not_a_stack_overflow() {
        let long = vec!["a:b"; 100_000].join(" & ");
        let e = parse_constraint(&long).unwrap_err();
        assert_eq!(e.offset, MAX_TERMS * "a:b & ".len(), "{e}");
        assert!(e.message.contains("more than 1024 attribute tests"), "{e}");
        let ok = vec!["a:b"; MAX_TERMS].join(" | ");
        assert!(p(&ok).matches(&BTreeMap::from([("a".into(), "b".into())])));
    }

    #[test]
    fn a_plan_carrying_a_deeply_nested_constraint_is_refused() {
        let deep = "(".repeat(5000) + "a:b" + &")".repeat(5000);
        let json = serde_json::to_string(&deep).unwrap();
        let e = serde_json::from_str::<Constraint>(&json).unwrap_err();
        assert!(e.to_string().contains("levels deep"), "{e}");
    }

    #[test]
    fn errors_point_at_the_offending_offset() {
        let cases = [
            ("", 0),
            ("rack", 0),
            ("rack:r1 &", 9),
            ("rack:r1 & & zone:z", 10),
            ("(rack:r1", 0),
            ("rack:r1)", 7),
            ("rack:r1 zone:z2", 8),
            ("a:1 | :x", 6),
            ("a:", 0),
        ];
        for (s, offset) in cases {
            let e = parse_constraint(s).expect_err(s);
            assert_eq!(e.offset, offset, "{s:?}: {}", e.message);
        }
    }

    fn tree() -> impl proptest::strategy::Strategy<Value = Constraint> {
        use proptest::prelude::*;
        let leaf = (
            proptest::sample::select(vec!["rack", "zone", "gpu"]),
            proptest::sample::select(vec!["a", "b"]),
        )
            .prop_map(|(n, v)| attr(n, v));
        leaf.prop_recursive(4, 24, 2, |inner| {
            prop_oneof![
                inner.clone().prop_map(not),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| and(a, b)),
                (inner.clone(), inner).prop_map(|(a, b)| or(a, b)),
            ]
        })
    }

    proptest::proptest! {
        /// Display then parse gives an expression that selects exactly the same agents.
        #[test]
        fn display_then_parse_keeps_the_meaning(c in tree()) {
            let text = c.to_string();
            let back = parse_constraint(&text).map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{text}: {e}")))?;
            for rack in ["a", "b", "-"] {
                for zone in ["a", "b", "-"] {
                    for gpu in ["a", "-"] {
                        let attrs: BTreeMap<String, String> = [("rack", rack), ("zone", zone), ("gpu", gpu)]
                            .into_iter()
                            .filter(|(_, v)| *v != "-")
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect();
                        proptest::prop_assert_eq!(c.matches(&attrs), back.matches(&attrs), "{}", text);
                    }
                }
            }
        }
    }
}
