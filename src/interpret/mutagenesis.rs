use std::ops::Range;

use super::BASES;
use crate::inference::{Predictor, ReadbackError};

/// Predicted effect of every single-base substitution at some positions of one sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Mutagenesis {
    /// Prediction for the sequence as written.
    pub reference: f32,
    /// The position of `effects[0]`.
    pub first_position: usize,
    /// `[position - first_position][A, C, G, T]`: prediction of the sequence with that base at
    /// that position, minus the reference prediction (0 for the written base).
    pub effects: Vec<[f32; BASES]>,
}

#[cfg(not(target_arch = "wasm32"))]
pub fn mutagenesis(
    predictor: &Predictor,
    channels: &[u8],
    positions: Range<usize>,
    batch_size: usize,
) -> Result<Mutagenesis, ReadbackError> {
    crate::platform::block_on(mutagenesis_async(
        predictor, channels, positions, batch_size,
    ))
}

/// The substitutions at `positions` (`0..usize::MAX` for all; clamped to the sequence and to
/// the model's input, so that callers can split a sequence among workers without knowing
/// either), predicted in batches of `batch_size` variants.
pub async fn mutagenesis_async(
    predictor: &Predictor,
    channels: &[u8],
    positions: Range<usize>,
    batch_size: usize,
) -> Result<Mutagenesis, ReadbackError> {
    let scored = predictor
        .card()
        .architecture
        .input_window()
        .visible(channels.len());
    let end = positions.end.clamp(scored.start, scored.end);
    let positions = positions.start.clamp(scored.start, end)..end;
    // (position, base) of each variant, in the order they are predicted.
    let variants: Vec<(usize, u8)> = positions
        .clone()
        .flat_map(|position| {
            (0..BASES as u8)
                .filter(move |&base| base != channels[position])
                .map(move |base| (position, base))
        })
        .collect();
    let reference = predictor.predict_async(std::iter::once(channels)).await?[0];
    let mut effects = vec![[0.0f32; BASES]; positions.len()];
    for chunk in variants.chunks(batch_size.max(1)) {
        let sequences: Vec<Vec<u8>> = chunk
            .iter()
            .map(|&(position, base)| {
                let mut variant = channels.to_vec();
                variant[position] = base;
                variant
            })
            .collect();
        let predictions = predictor
            .predict_async(sequences.iter().map(Vec::as_slice))
            .await?;
        for (&(position, base), prediction) in chunk.iter().zip(predictions) {
            effects[position - positions.start][usize::from(base)] = prediction - reference;
        }
    }
    Ok(Mutagenesis {
        reference,
        first_position: positions.start,
        effects,
    })
}
