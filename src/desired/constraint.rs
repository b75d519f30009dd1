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
