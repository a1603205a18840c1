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
