//! Port ranges: the `Value.Ranges` resource of Mesos.
//!
//! Mesos writes ranges in two forms: the old endpoints render them as a
//! string such as `"[31000-32000, 19998-19999]"` (unsorted, a single port
//! as `[p-p]`), the v1 APIs as `{"range":[{"begin":b,"end":e}]}`.
//! [`PortRanges`] is the normalised value behind both: sorted, merged,
//! inclusive bounds, so that arithmetic and comparison are simple.

use std::fmt;
use std::str::FromStr;

/// A set of ports held as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PortRanges {
    ranges: Vec<(u64, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangesError {
    #[error("port ranges must be written like \"[31000-32000, 19998-19999]\", found {0:?}")]
    Syntax(String),
    #[error("range {0}-{1} ends before it begins")]
    Reversed(u64, u64),
}

impl PortRanges {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a normalised set from any list of inclusive ranges.
    pub fn from_ranges<I: IntoIterator<Item = (u64, u64)>>(ranges: I) -> Self {
        let mut v: Vec<(u64, u64)> = ranges.into_iter().filter(|(b, e)| b <= e).collect();
        v.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(v.len());
        for (b, e) in v {
            match merged.last_mut() {
                Some(last) if b <= last.1.saturating_add(1) => last.1 = last.1.max(e),
                _ => merged.push((b, e)),
            }
        }
        PortRanges { ranges: merged }
    }

    /// The set holding exactly the given ports.
    pub fn from_ports<I: IntoIterator<Item = u64>>(ports: I) -> Self {
        Self::from_ranges(ports.into_iter().map(|p| (p, p)))
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The normalised ranges, sorted.
    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }

    /// How many ports the set holds.
    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|(b, e)| e - b + 1).sum()
    }

    pub fn contains(&self, port: u64) -> bool {
        // Binary search: agents can list many ranges.
        let idx = self.ranges.partition_point(|&(_, e)| e < port);
        self.ranges.get(idx).is_some_and(|&(b, _)| b <= port)
    }

    /// Whether every port of `other` is in `self`.
    pub fn contains_all(&self, other: &PortRanges) -> bool {
        other.ranges.iter().all(|&(b, e)| {
            let idx = self.ranges.partition_point(|&(_, end)| end < b);
            self.ranges
                .get(idx)
                .is_some_and(|&(sb, se)| sb <= b && e <= se)
        })
    }

    /// The ports of `self` that are not in `other`.
    pub fn subtract(&self, other: &PortRanges) -> PortRanges {
        let mut out = Vec::new();
        for &(mut b, e) in &self.ranges {
            for &(ob, oe) in &other.ranges {
                if oe < b || ob > e {
                    continue;
                }
                if ob > b {
                    out.push((b, ob - 1));
                }
                if oe >= e {
                    b = e + 1;
                    break;
                }
                b = oe + 1;
            }
            if b <= e {
                out.push((b, e));
            }
        }
        PortRanges::from_ranges(out)
    }

    pub fn union(&self, other: &PortRanges) -> PortRanges {
        PortRanges::from_ranges(self.ranges.iter().chain(other.ranges.iter()).copied())
    }

    /// The ports of `self` that are also in `other`.
    pub fn intersect(&self, other: &PortRanges) -> PortRanges {
        self.subtract(&self.subtract(other))
    }

    /// Every port, one by one (for small sets such as a task's ports).
    pub fn ports(&self) -> impl Iterator<Item = u64> + '_ {
        self.ranges.iter().flat_map(|&(b, e)| b..=e)
    }
}

impl FromStr for PortRanges {
    type Err = RangesError;

    /// Parses the string form of the old endpoints: `[31000-32000, 19998-19999]`,
    /// `[]`, `[5050-5050]`; brackets are optional, a bare port `5050` is accepted.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let inner = t
            .strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .unwrap_or(t)
            .trim();
        if inner.is_empty() {
            return Ok(PortRanges::new());
        }
        let mut ranges = Vec::new();
        for part in inner.split(',') {
            let part = part.trim();
            let (b, e) = match part.split_once('-') {
                Some((b, e)) => (b.trim(), e.trim()),
                None => (part, part),
            };
            let parse = |x: &str| {
                x.parse::<u64>()
                    .map_err(|_| RangesError::Syntax(s.to_string()))
            };
            let (b, e) = (parse(b)?, parse(e)?);
            if e < b {
                return Err(RangesError::Reversed(b, e));
            }
            ranges.push((b, e));
        }
        Ok(PortRanges::from_ranges(ranges))
    }
}

impl fmt::Display for PortRanges {
    /// Renders as Mesos's old endpoints do: `[19998-19999, 31000-32000]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, (b, e)) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{b}-{e}")?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(s: &str) -> PortRanges {
        s.parse().unwrap()
    }

    #[test]
    fn parses_the_old_endpoint_forms() {
        assert_eq!(
            r("[31000-32000, 19998-19999]").ranges(),
            &[(19998, 19999), (31000, 32000)]
        );
        assert_eq!(r("[5050-5050]").ranges(), &[(5050, 5050)]);
        assert!(r("[]").is_empty());
        assert_eq!(r("[1-5,6-9]").ranges(), &[(1, 9)]);
        assert_eq!(r("8080").ranges(), &[(8080, 8080)]);
    }

    #[test]
    fn rejects_garbage_and_reversed_ranges() {
        assert!(matches!(
            "[a-b]".parse::<PortRanges>(),
            Err(RangesError::Syntax(_))
        ));
        assert_eq!(
            "[9-1]".parse::<PortRanges>(),
            Err(RangesError::Reversed(9, 1))
        );
    }

    #[test]
    fn subtract_and_contains() {
        let offered = r("[19998-19999, 29998-30000, 31000-32000]");
        let master = PortRanges::from_ports([19998, 19999]);
        assert!(offered.contains_all(&master));
        let left = offered.subtract(&master);
        assert_eq!(left.to_string(), "[29998-30000, 31000-32000]");
        assert!(!left.contains_all(&master));
        assert!(left.contains(31500) && !left.contains(30001));
        assert_eq!(
            r("[1-10]").subtract(&r("[3-4, 6-6]")).to_string(),
            "[1-2, 5-5, 7-10]"
        );
        assert_eq!(r("[1-10]").intersect(&r("[5-20]")).to_string(), "[5-10]");
    }

    proptest! {
        #[test]
        fn set_algebra_matches_a_naive_model(
            a in proptest::collection::vec((0u64..200, 0u64..20), 0..6),
            b in proptest::collection::vec((0u64..200, 0u64..20), 0..6),
        ) {
            let a = PortRanges::from_ranges(a.into_iter().map(|(s, l)| (s, s + l)));
            let b = PortRanges::from_ranges(b.into_iter().map(|(s, l)| (s, s + l)));
            let diff = a.subtract(&b);
            let uni = a.union(&b);
            for p in 0..260 {
                prop_assert_eq!(diff.contains(p), a.contains(p) && !b.contains(p));
                prop_assert_eq!(uni.contains(p), a.contains(p) || b.contains(p));
            }
            prop_assert_eq!(a.contains_all(&b), b.ports().all(|p| a.contains(p)));
            prop_assert_eq!(a.to_string().parse::<PortRanges>().unwrap(), a);
        }
    }
}
