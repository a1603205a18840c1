//! Training data as streams: training rows shuffled through a bounded buffer, validation rows by
//! a `split` column or a stable sequence hash. Memory is bounded by the buffer and the validation
//! set, whatever the file's size.

use anyhow::{Result, anyhow, bail};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::data::readers::{self, Columns, InputError, InputFormat, Record, SequenceReader};

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
        let value =
            readers::value_column(&header, value_column).map_err(|e| anyhow!("{path}:1: {e}"))?;
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
                features: Vec::new(),
            },
            by_column,
            valid_permille,
        })
    }

    /// Reads the per-sequence `features` an architecture needs with every row: the file must
    /// have all of those columns.
    pub fn read_features(&mut self, features: &[String]) -> Result<()> {
        if features.is_empty() {
            return Ok(());
        }
        let header =
            SequenceReader::open(&self.path, InputFormat::Auto, &Columns::default())?.header();
        let missing: Vec<&str> = features
            .iter()
            .filter(|name| !header.iter().any(|h| h.eq_ignore_ascii_case(name)))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            bail!(
                "{}:1: the architecture reads the features {} with every sequence; the header \
                 lacks {}",
                self.path,
                features.join(", "),
                missing.join(", ")
            );
        }
        self.columns.features = features.to_vec();
        Ok(())
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
    fn rows(
        &self,
        role: Role,
    ) -> Result<impl Iterator<Item = Result<Record, InputError>> + use<>, InputError> {
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
    ) -> Result<impl Iterator<Item = Result<Record, InputError>> + use<>, InputError> {
        self.rows(Role::Train)
    }

    pub fn validation_rows(
        &self,
    ) -> Result<impl Iterator<Item = Result<Record, InputError>> + use<>, InputError> {
        self.rows(Role::Valid)
    }
}

type RowStream = Box<dyn Iterator<Item = Result<Record, InputError>>>;

/// One epoch of training rows drawn from several sources in proportion to their sampling
/// weights, each source shuffled through its own buffer. The epoch ends once every source has
/// been read through; a source that runs out earlier starts over (with a new shuffle), so equal
/// weights mix unequal files evenly and no row of any file is left out.
pub struct Mixture<'a> {
    sources: &'a [Source],
    weights: Vec<f64>,
    streams: Vec<RowStream>,
    /// Rows drawn from each source since it was last (re)opened.
    drawn: Vec<usize>,
    read_through: Vec<bool>,
    passes: Vec<u64>,
    shuffle_buffer: usize,
    seed: u64,
    rng: StdRng,
}

impl<'a> Mixture<'a> {
    pub fn new(
        sources: &'a [Source],
        weights: &[f64],
        shuffle_buffer: usize,
        seed: u64,
    ) -> Result<Self, InputError> {
        let mut mixture = Self {
            sources,
            weights: weights.to_vec(),
            streams: Vec::with_capacity(sources.len()),
            drawn: vec![0; sources.len()],
            read_through: vec![false; sources.len()],
            passes: vec![0; sources.len()],
            shuffle_buffer,
            seed,
            rng: StdRng::seed_from_u64(seed),
        };
        for index in 0..sources.len() {
            let stream = mixture.open(index)?;
            mixture.streams.push(stream);
        }
        Ok(mixture)
    }

    fn open(&self, index: usize) -> Result<RowStream, InputError> {
        let seed = self.seed ^ (index as u64) << 48 ^ self.passes[index] << 40;
        Ok(Box::new(Shuffled::new(
            self.sources[index].training_rows()?,
            self.shuffle_buffer,
            seed,
        )))
    }

    fn pick(&mut self) -> Option<usize> {
        let total: f64 = self.weights.iter().sum();
        if total <= 0.0 {
            return None;
        }
        let mut target = self.rng.random_range(0.0..total);
        for (index, weight) in self.weights.iter().enumerate() {
            if target < *weight {
                return Some(index);
            }
            target -= weight;
        }
        self.weights.iter().rposition(|w| *w > 0.0)
    }
}

impl Iterator for Mixture<'_> {
    type Item = Result<Record, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let index = self.pick()?;
            if let Some(row) = self.streams[index].next() {
                self.drawn[index] += 1;
                return Some(row);
            }
            self.read_through[index] = true;
            if self.read_through.iter().all(|done| *done) {
                return None;
            }
            if self.drawn[index] == 0 {
                // An empty source would start over for ever: it leaves the draw.
                self.weights[index] = 0.0;
                continue;
            }
            self.passes[index] += 1;
            self.drawn[index] = 0;
            match self.open(index) {
                Ok(stream) => self.streams[index] = stream,
                Err(error) => return Some(Err(error)),
            }
        }
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
    use std::io::Write;
    use std::path::Path;

    fn table(dir: &Path, name: &str, rows: usize, first_value: usize) -> Source {
        let path = dir.join(name);
        let mut file = std::fs::File::create(&path).unwrap();
        writeln!(file, "sequence\texpression").unwrap();
        for i in 0..rows {
            let sequence: String = (0..12)
                .map(|bit| if i >> bit & 1 == 1 { 'A' } else { 'C' })
                .collect();
            writeln!(file, "{sequence}\t{}", first_value + i).unwrap();
        }
        // valid_permille 0: every row trains.
        Source::open(path.to_str().unwrap(), None, 0).unwrap()
    }

    /// (values drawn from the 1,000-row file, values drawn from the 100-row file)
    fn draw(weights: [f64; 2], seed: u64) -> (Vec<usize>, Vec<usize>) {
        let dir = tempfile::tempdir().unwrap();
        let sources = [
            table(dir.path(), "big.tsv", 1000, 0),
            table(dir.path(), "small.tsv", 100, 10_000),
        ];
        let values = Mixture::new(&sources, &weights, 64, seed)
            .unwrap()
            .map(|row| row.unwrap().value.unwrap() as usize);
        values.partition(|v| *v < 10_000)
    }

    #[test]
    fn equal_weights_mix_unequal_files_evenly_and_read_every_row() {
        let (mut big, mut small) = draw([1.0, 1.0], 7);
        assert!(
            (900..=1100).contains(&small.len()),
            "{} small rows",
            small.len()
        );
        big.sort();
        assert_eq!(big, (0..1000).collect::<Vec<_>>());
        small.sort();
        small.dedup();
        assert_eq!(small, (10_000..10_100).collect::<Vec<_>>());
        assert_eq!(draw([1.0, 1.0], 7), draw([1.0, 1.0], 7));
    }

    #[test]
    fn weights_set_the_proportions() {
        let (big, small) = draw([1.0, 0.1], 3);
        assert_eq!(big.len(), 1000);
        assert!(
            (60..=140).contains(&small.len()),
            "{} small rows",
            small.len()
        );
        let (big, small) = draw([0.1, 1.0], 3);
        // The big file is read through once; the small one cycles ten times as often.
        assert_eq!(big.len(), 1000);
        assert!(
            (8_500..=11_500).contains(&small.len()),
            "{} small rows",
            small.len()
        );
    }

    fn record(i: usize) -> Result<Record, InputError> {
        Ok(Record {
            id: i.to_string(),
            sequence: String::new(),
            channels: vec![],
            value: None,
            extra: vec![],
            features: Vec::new(),
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
