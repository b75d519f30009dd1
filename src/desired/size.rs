//! Sizes as Alluxio writes them: `1024MB`, `4GB`, `0.5GB`, `512KB`, plain bytes.

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
