//! Batching: one-hot tensors of record batches, record streams grouped into batches, and
//! shards of a file's records for splitting one job among processes.

use burn::prelude::*;

use super::alphabet::{CHANNELS, InputWindow, push_one_hot};
use super::readers::{InputError, Record};

/// The `[batch, 5, length]` one-hot tensor of a batch of validated sequences.
pub fn one_hot_batch<'a>(
    sequences: impl ExactSizeIterator<Item = &'a [u8]>,
    window: InputWindow,
    device: &Device,
) -> Tensor<3> {
    let batch = sequences.len();
    let mut values = Vec::with_capacity(batch * CHANNELS * window.length);
    for channels in sequences {
        push_one_hot(channels, window, &mut values);
    }
    Tensor::from_data(
        TensorData::new(values, [batch, CHANNELS, window.length]),
        device,
    )
}

/// Groups a record stream into batches of at most `size`, in input order. The first read error
/// ends the stream.
pub struct Batches<I> {
    records: I,
    size: usize,
}

impl<I: Iterator<Item = Result<Record, InputError>>> Batches<I> {
    pub fn new(records: I, size: usize) -> Self {
        Self {
            records,
            size: size.max(1),
        }
    }
}

impl<I: Iterator<Item = Result<Record, InputError>>> Iterator for Batches<I> {
    type Item = Result<Vec<Record>, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut batch = Vec::with_capacity(self.size);
        for record in self.records.by_ref() {
            match record {
                Ok(record) => batch.push(record),
                Err(error) => return Some(Err(error)),
            }
            if batch.len() == self.size {
                break;
            }
        }
        (!batch.is_empty()).then_some(Ok(batch))
    }
}

/// Part `index` (1-based) of `count` equal, contiguous parts of a file's records, in order: the
/// outputs of parts 1 to `count`, concatenated, are the output of the whole file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// The records (0-based, end exclusive) of this part of `total`: part sizes differ by at
    /// most one, the first parts being the smaller.
    pub fn range(&self, total: usize) -> std::ops::Range<usize> {
        let boundary = |part: usize| (total as u128 * part as u128 / self.count as u128) as usize;
        boundary(self.index - 1)..boundary(self.index)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let invalid = || format!("shard {text:?}: expected K/N with 1 <= K <= N, e.g. 3/8");
        let (index, count) = text.split_once('/').ok_or_else(invalid)?;
        let index: usize = index.trim().parse().map_err(|_| invalid())?;
        let count: usize = count.trim().parse().map_err(|_| invalid())?;
        if index == 0 || index > count {
            return Err(invalid());
        }
        Ok(Self { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_record_once_in_order() {
        for total in [0, 1, 7, 200_000] {
            for count in [1, 2, 3, 8] {
                let ranges: Vec<_> = (1..=count)
                    .map(|index| Shard { index, count }.range(total))
                    .collect();
                assert_eq!(ranges[0].start, 0);
                assert_eq!(ranges[count - 1].end, total);
                assert!(ranges.windows(2).all(|w| w[0].end == w[1].start));
                assert!(ranges.iter().all(|r| r.len() <= total / count + 1));
            }
        }
        assert_eq!("3/8".parse(), Ok(Shard { index: 3, count: 8 }));
        for bad in ["0/4", "5/4", "4", "a/b", "1/0", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
