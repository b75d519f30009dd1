//! RecordIO framing of the scheduler event stream (`docs/recordio.md`):
//! each record is its length in bytes as decimal ASCII, a bare `\n`, then
//! the record. HTTP chunk boundaries mean nothing, so the [`Decoder`] keeps
//! whatever part of a record it has until the rest arrives.

/// Frames one record.
pub fn encode(record: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.len() + 12);
    out.extend_from_slice(record.len().to_string().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(record);
    out
}

/// Serialises a value as JSON and frames it.
pub fn encode_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Serialising our own wire types cannot fail: they hold no maps with
    // non-string keys and no failing Serialize impls.
    let json = serde_json::to_vec(value).unwrap_or_default();
    encode(&json)
}

/// The largest record [`Decoder::new`] accepts: 64 MiB.
///
/// The largest event Mesos sends is an OFFERS carrying one offer per agent
/// of a big cluster; an offer is about 1 to 4 KiB of JSON (resources with
/// their allocation info and reservations, attributes, URL), so 64 MiB
/// holds the offers of some 16,000 agents even at 4 KiB each.
/// A length beyond that means a corrupt stream or one that is not a Mesos
/// event stream, and is refused as soon as its digits pass the limit:
/// neither waiting for nor allocating a record of that size.
pub const MAX_RECORD: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordIoError {
    #[error("RecordIO: record length contains a non-digit byte {0:#04x}")]
    NonDigit(u8),
    #[error("RecordIO: record length is empty")]
    EmptyLength,
    #[error("RecordIO: record length 0 is not allowed")]
    ZeroLength,
    /// The length read so far (at least this many bytes) and the limit.
    #[error("RecordIO: a record of {0} bytes or more exceeds the limit of {1} bytes; the largest Mesos event is far smaller, so the stream is corrupt or not a Mesos event stream")]
    TooLong(u64, u64),
    #[error("RecordIO: stream ended inside a record")]
    Truncated,
}

#[derive(Debug)]
enum State {
    Length { digits: u64, seen: usize },
    Body { remaining: usize },
    Failed(RecordIoError),
}

/// Incremental RecordIO decoder: feed it bytes as they arrive.
#[derive(Debug)]
pub struct Decoder {
    state: State,
    current: Vec<u8>,
    max_record: u64,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// Records up to [`MAX_RECORD`].
    pub fn new() -> Self {
        Decoder::with_limit(MAX_RECORD)
    }

    pub fn with_limit(max_record: u64) -> Self {
        Decoder {
            state: State::Length { digits: 0, seen: 0 },
            current: Vec::new(),
            max_record,
        }
    }

    /// Consumes `chunk` and returns the records it completed. After an
    /// error the decoder keeps returning that error.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Vec<u8>>, RecordIoError> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < chunk.len() {
            match &mut self.state {
                State::Failed(e) => return Err(e.clone()),
                State::Length { digits, seen } => {
                    let b = chunk[i];
                    i += 1;
                    match b {
                        b'0'..=b'9' => {
                            let next = digits
                                .checked_mul(10)
                                .and_then(|d| d.checked_add(u64::from(b - b'0')));
                            match next {
                                Some(n) if n <= self.max_record => {
                                    *digits = n;
                                    *seen += 1;
                                }
                                _ => {
                                    return self.fail(RecordIoError::TooLong(
                                        next.unwrap_or(u64::MAX),
                                        self.max_record,
                                    ))
                                }
                            }
                        }
                        b'\n' if *seen == 0 => return self.fail(RecordIoError::EmptyLength),
                        b'\n' if *digits == 0 => return self.fail(RecordIoError::ZeroLength),
                        b'\n' => {
                            let len = *digits as usize;
                            self.current = Vec::with_capacity(len.min(1 << 20));
                            self.state = State::Body { remaining: len };
                        }
                        other => return self.fail(RecordIoError::NonDigit(other)),
                    }
                }
                State::Body { remaining } => {
                    let take = (*remaining).min(chunk.len() - i);
                    self.current.extend_from_slice(&chunk[i..i + take]);
                    i += take;
                    *remaining -= take;
                    if *remaining == 0 {
                        out.push(std::mem::take(&mut self.current));
                        self.state = State::Length { digits: 0, seen: 0 };
                    }
                }
            }
        }
        if let State::Failed(e) = &self.state {
            return Err(e.clone());
        }
        Ok(out)
    }

    /// Call at end of stream: an error if a record was cut off.
    pub fn finish(&self) -> Result<(), RecordIoError> {
        match &self.state {
            State::Length { seen: 0, .. } => Ok(()),
            State::Failed(e) => Err(e.clone()),
            _ => Err(RecordIoError::Truncated),
        }
    }

    fn fail(&mut self, e: RecordIoError) -> Result<Vec<Vec<u8>>, RecordIoError> {
        self.state = State::Failed(e.clone());
        Err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_length_newline_record() {
        assert_eq!(encode(b"{\"a\":1}"), b"7\n{\"a\":1}".to_vec());
    }

    #[test]
    fn decodes_several_records_from_one_chunk() {
        let mut d = Decoder::new();
        let mut bytes = encode(b"hello");
        bytes.extend(encode(b"{}"));
        assert_eq!(
            d.feed(&bytes).unwrap(),
            vec![b"hello".to_vec(), b"{}".to_vec()]
        );
        d.finish().unwrap();
    }

    #[test]
    fn a_record_split_inside_its_length_is_decoded() {
        let mut d = Decoder::new();
        let bytes = encode(&[b'x'; 123]);
        assert!(d.feed(&bytes[..1]).unwrap().is_empty());
        assert!(d.finish().is_err());
        assert_eq!(d.feed(&bytes[1..]).unwrap(), vec![vec![b'x'; 123]]);
    }

    #[test]
    fn rejects_zero_length_non_digits_and_carriage_returns() {
        assert_eq!(Decoder::new().feed(b"0\n"), Err(RecordIoError::ZeroLength));
        assert_eq!(
            Decoder::new().feed(b"1a\nx"),
            Err(RecordIoError::NonDigit(b'a'))
        );
        assert_eq!(
            Decoder::new().feed(b"5\r\nhello"),
            Err(RecordIoError::NonDigit(b'\r'))
        );
        assert_eq!(Decoder::new().feed(b"\n"), Err(RecordIoError::EmptyLength));
        let mut d = Decoder::with_limit(10);
        assert_eq!(d.feed(b"11\n"), Err(RecordIoError::TooLong(11, 10)));
        assert_eq!(d.feed(b"1\nx"), Err(RecordIoError::TooLong(11, 10)));
    }

    #[test]
    fn a_huge_length_fails_at_once_without_waiting_for_the_record() {
        let mut d = Decoder::new();
        // No newline and no body yet: the digits alone decide.
        let err = d.feed(b"1000000000000000").unwrap_err();
        assert!(
            matches!(err, RecordIoError::TooLong(_, MAX_RECORD)),
            "{err:?}"
        );
        assert!(err.to_string().contains("exceeds the limit"), "{err}");
        assert_eq!(d.finish(), Err(err));
    }

    #[test]
    fn records_are_capped_at_64_mib() {
        assert_eq!(MAX_RECORD, 64 * 1024 * 1024);
        let over = format!("{}\n", MAX_RECORD + 1);
        assert_eq!(
            Decoder::new().feed(over.as_bytes()),
            Err(RecordIoError::TooLong(MAX_RECORD + 1, MAX_RECORD))
        );
        let at = format!("{MAX_RECORD}\n");
        let mut d = Decoder::new();
        assert!(d.feed(at.as_bytes()).unwrap().is_empty());
        assert_eq!(d.finish(), Err(RecordIoError::Truncated));
    }

    #[test]
    fn a_big_record_is_reassembled() {
        let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let bytes = encode(&big);
        let mut d = Decoder::new();
        let mut got = Vec::new();
        for chunk in bytes.chunks(65_521) {
            got.extend(d.feed(chunk).unwrap());
        }
        assert_eq!(got, vec![big]);
    }

    proptest! {
        #[test]
        fn random_chunk_splits_give_back_the_records(
            records in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..300), 0..12),
            cuts in proptest::collection::vec(0usize..4000, 0..20),
        ) {
            let mut stream = Vec::new();
            for r in &records {
                stream.extend(encode(r));
            }
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (stream.len() + 1)).collect();
            cuts.push(0);
            cuts.push(stream.len());
            cuts.sort_unstable();
            let mut d = Decoder::new();
            let mut got = Vec::new();
            for w in cuts.windows(2) {
                got.extend(d.feed(&stream[w[0]..w[1]]).unwrap());
            }
            d.finish().unwrap();
            prop_assert_eq!(got, records);
        }
    }
}
