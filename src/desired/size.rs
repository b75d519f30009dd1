//! Sizes as Alluxio writes them: `1024MB`, `4GB`, `0.5GB`, `512KB`, plain bytes.

use crate::excerpt::quoted;
use std::fmt;

/// A size in bytes. Mesos accounts memory in MB (2^20 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

impl ByteSize {
    pub const MB: u64 = 1 << 20;

    pub fn from_mb(mb: u64) -> Self {
        ByteSize(mb * Self::MB)
    }

    /// The size in Mesos's unit (MB, fractional when not a whole number).
    pub fn as_mb(self) -> f64 {
        self.0 as f64 / Self::MB as f64
    }
}

impl fmt::Display for ByteSize {
    /// The largest unit that divides exactly: `4GB`, `1536MB`, `512KB`, `17B`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(&str, u64); 4] = [
            ("TB", 1 << 40),
            ("GB", 1 << 30),
            ("MB", 1 << 20),
            ("KB", 1 << 10),
        ];
        for (unit, n) in UNITS {
            if self.0 >= n && self.0.is_multiple_of(n) {
                return write!(f, "{}{unit}", self.0 / n);
            }
        }
        write!(f, "{}B", self.0)
    }
}

/// Why a text is not a size. The message never repeats more than the text given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizeError(pub String);

impl fmt::Display for SizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SizeError {}

impl std::str::FromStr for ByteSize {
    type Err = SizeError;

    /// Parses a size the way Alluxio's `FormatUtils.parseSpaceSize` does: a
    /// decimal number followed by an optional unit `b`, `k`/`kb`, `m`/`mb`,
    /// `g`/`gb`, `t`/`tb` or `p`/`pb` (any case, binary multiples). A
    /// fractional byte count is truncated, as Alluxio truncates it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let unit = unit.trim().to_ascii_lowercase();
        let valid_number = !number.is_empty()
            && number.chars().filter(|&c| c == '.').count() <= 1
            && number.chars().any(|c| c.is_ascii_digit());
        if !valid_number {
            return Err(SizeError(format!(
                "{} is not a size: expected a number such as 1024MB, 4GB or 0.5GB",
                quoted(s)
            )));
        }
        let multiplier: u64 = match unit.as_str() {
            "" | "b" => 1,
            "k" | "kb" => 1 << 10,
            "m" | "mb" => 1 << 20,
            "g" | "gb" => 1 << 30,
            "t" | "tb" => 1 << 40,
            "p" | "pb" => 1 << 50,
            _ => {
                return Err(SizeError(format!(
                    "{} is not a size: unknown unit {} (use B, KB, MB, GB, TB or PB)",
                    quoted(s),
                    quoted(&unit)
                )))
            }
        };
        // Whole numbers are computed exactly; only fractions go through f64.
        let bytes = if let Ok(whole) = number.parse::<u64>() {
            whole.checked_mul(multiplier)
        } else {
            let value: f64 = number
                .parse()
                .map_err(|_| SizeError(format!("{} is not a size", quoted(s))))?;
            let bytes = value * multiplier as f64 + 0.0001;
            (bytes < u64::MAX as f64).then_some(bytes as u64)
        };
        bytes
            .map(ByteSize)
            .ok_or_else(|| SizeError(format!("{} is too large a size", quoted(s))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(s: &str) -> u64 {
        s.parse::<ByteSize>()
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .0
    }

    #[test]
    fn parses_alluxio_size_forms() {
        assert_eq!(size("1024MB"), 1024 << 20);
        assert_eq!(size("4GB"), 4 << 30);
        assert_eq!(size("0.5GB"), 512 << 20);
        assert_eq!(size("512KB"), 512 << 10);
        assert_eq!(size("1TB"), 1 << 40);
        assert_eq!(size("2PB"), 2 << 50);
        assert_eq!(size("12345"), 12345);
        assert_eq!(size("17b"), 17);
    }

    #[test]
    fn units_are_case_insensitive_and_the_b_is_optional() {
        for s in ["4g", "4G", "4gb", "4Gb", "4GB", " 4GB ", "4 GB"] {
            assert_eq!(size(s), 4 << 30, "{s}");
        }
        assert_eq!(size("3k"), 3 << 10);
        assert_eq!(size("3m"), 3 << 20);
    }

    #[test]
    fn fractional_bytes_are_truncated_like_alluxio() {
        assert_eq!(size("1.5"), 1);
        assert_eq!(size("0.1KB"), 102);
        assert_eq!(size("1.5MB"), 3 << 19);
    }

    #[test]
    fn rejects_what_is_not_a_size() {
        for bad in [
            "",
            "GB",
            "4GiB",
            "four",
            "-1GB",
            "1.2.3MB",
            "4 G B",
            "1e3",
            ".",
            "99999999999PB",
        ] {
            assert!(bad.parse::<ByteSize>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn display_round_trips_through_parse() {
        for n in [0u64, 17, 1024, 1536 << 20, 4 << 30, 5 << 40] {
            let b = ByteSize(n);
            assert_eq!(b.to_string().parse::<ByteSize>().unwrap(), b);
        }
    }
}
