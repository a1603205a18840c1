//! Training data as streams: training rows shuffled through a bounded buffer, validation rows by
//! a `split` column or a stable sequence hash. Memory is bounded by the buffer and the validation
//! set, whatever the file's size.

use anyhow::Result;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crmnet::data::readers::{Columns, InputError, InputFormat, Record, SequenceReader};

const SPLIT_COLUMN: &str = "split";
const VALIDATION_SPLITS: [&str; 3] = ["valid", "validation", "val"];
const TEST_SPLITS: [&str; 1] = ["test"];

/// One training file and how its rows are assigned to training and validation.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: String,
    columns: Columns,
    /// Whether the file has a `split` column (otherwise rows are split by hash).
    by_column: bool,
    valid_permille: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Train,
    Valid,
    Test,
}

impl Source {
    pub fn open(path: &str, value_column: Option<&str>, valid_permille: u32) -> Result<Self> {
        let header = SequenceReader::open(path, InputFormat::Auto, &Columns::default())?.header();
        let by_column = header.iter().any(|h| h == SPLIT_COLUMN);
        let value = match value_column {
            Some(chosen) => Some(chosen.to_string()),
            None if header.is_empty() => None,
            None => ["expression", "measured", "value"]
                .iter()
                .find(|name| header.iter().any(|h| h == *name))
                .map(|name| name.to_string())
                .ok_or_else(|| anyhow::anyhow!("{path}:1: no value column (looked for expression, measured, value; choose one with --value-column)"))
                .map(Some)?,
        };
        let extra = if by_column {
            vec![SPLIT_COLUMN.to_string()]
        } else {
            Vec::new()
        };
        Ok(Self {
            path: path.to_string(),
            columns: Columns {
                sequence: None,
                value,
                extra,
            },
            by_column,
            valid_permille,
        })
    }

    fn role(&self, record: &Record) -> Role {
        if self.by_column {
            let split = record.extra[0].as_str();
            if VALIDATION_SPLITS.contains(&split) {
                Role::Valid
            } else if TEST_SPLITS.contains(&split) {
                Role::Test
            } else {
                Role::Train
            }
        } else if stable_hash(record.sequence.as_bytes()) % 1000 < u64::from(self.valid_permille) {
            Role::Valid
        } else {
            Role::Train
        }
    }

    /// The rows of one role, streamed, each with a value.
    fn rows(&self, role: Role) -> Result<impl Iterator<Item = Result<Record, InputError>> + use<>> {
        let reader = SequenceReader::open(&self.path, InputFormat::Auto, &self.columns)?;
        let source = self.clone();
        Ok(reader.filter_map(move |record| match record {
            Err(error) => Some(Err(error)),
            Ok(record) if source.role(&record) != role => None,
            Ok(record) if record.value.is_none() => Some(Err(InputError {
                source_name: source.path.clone(),
                line: record.line,
                reason: "no value to train on".into(),
            })),
            Ok(record) => Some(Ok(record)),
        }))
    }

    pub fn training_rows(
        &self,
    ) -> Result<impl Iterator<Item = Result<Record, InputError>> + use<>> {
        self.rows(Role::Train)
    }

    pub fn validation_rows(&self) -> Result<Vec<Record>> {
        Ok(self.rows(Role::Valid)?.collect::<Result<_, _>>()?)
    }
}

/// FNV-1a: the same split on every machine and every run.
fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Shuffles a stream through a buffer of `capacity` rows: each output is drawn at random from the
/// buffer, which is refilled from the stream. Errors pass straight through.
pub struct Shuffled<I> {
    inner: I,
    buffer: Vec<Record>,
    capacity: usize,
    rng: StdRng,
}

impl<I> Shuffled<I> {
    pub fn new(inner: I, capacity: usize, seed: u64) -> Self {
        Self {
            inner,
            buffer: Vec::with_capacity(capacity.min(1 << 20)),
            capacity: capacity.max(1),
            rng: StdRng::seed_from_u64(seed),
        }
    }
}

impl<I: Iterator<Item = Result<Record, InputError>>> Iterator for Shuffled<I> {
    type Item = Result<Record, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.buffer.len() < self.capacity {
            match self.inner.next() {
                Some(Ok(record)) => self.buffer.push(record),
                Some(Err(error)) => return Some(Err(error)),
                None => break,
            }
        }
        if self.buffer.is_empty() {
            return None;
        }
        let pick = self.rng.random_range(0..self.buffer.len());
        Some(Ok(self.buffer.swap_remove(pick)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: usize) -> Result<Record, InputError> {
        Ok(Record {
            id: i.to_string(),
            sequence: String::new(),
            channels: vec![],
            value: None,
            extra: vec![],
            line: i as u64,
        })
    }

    #[test]
    fn shuffling_keeps_every_row_once_and_is_seeded() {
        let ids = |seed| -> Vec<String> {
            Shuffled::new((0..1000).map(record), 64, seed)
                .map(|r| r.unwrap().id)
                .collect()
        };
        let (a, b, c) = (ids(1), ids(1), ids(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut sorted: Vec<usize> = a.iter().map(|s| s.parse().unwrap()).collect();
        assert_ne!(sorted, (0..1000).collect::<Vec<_>>());
        sorted.sort();
        assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
    }
}
