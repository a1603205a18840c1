use super::BASES;
use crate::data::batching::one_hot_batch;
use crate::inference::{Predictor, ReadbackError, read_floats};

/// Input x gradient of one sequence, as in the paper's interpretation figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Saliency {
    pub prediction: f32,
    /// `[position][A, C, G, T]`, one row per base of the sequence: the gradient of the prediction
    /// with respect to each one-hot input, times that input (so only the written base scores);
    /// zero for bases outside the model's input window (cut from a longer sequence).
    pub scores: Vec<[f32; BASES]>,
    /// The plain gradient, same layout: the first-order effect of raising each base's channel.
    pub gradient: Vec<[f32; BASES]>,
}

#[cfg(not(target_arch = "wasm32"))]
pub fn saliency(predictor: &Predictor, channels: &[u8]) -> Result<Saliency, ReadbackError> {
    crate::platform::block_on(saliency_async(predictor, channels))
}

pub async fn saliency_async(
    predictor: &Predictor,
    channels: &[u8],
) -> Result<Saliency, ReadbackError> {
    let (model, device) = predictor.differentiable();
    let window = predictor.card().architecture.input_window();
    let input = one_hot_batch(std::iter::once(channels), window, &device).require_grad();
    let prediction = model.forward(input.clone());
    let gradients = prediction.clone().sum().backward();
    let gradient = input
        .grad(&gradients)
        .ok_or_else(|| ReadbackError::new("the input received no gradient"))?;
    let gradient = read_floats(gradient).await?;
    let prediction = read_floats(prediction.inner()).await?[0];
    // Layout [1, channels, window length]; the sequence may be shorter (padded) or longer
    // (cut) than the model's input.
    let gradient: Vec<[f32; BASES]> = (0..channels.len())
        .map(
            |position| match window.input_position(channels.len(), position) {
                Some(at) => std::array::from_fn(|base| gradient[base * window.length + at]),
                None => [0.0; BASES],
            },
        )
        .collect();
    let scores = gradient
        .iter()
        .zip(channels)
        .map(|(row, &code)| {
            std::array::from_fn(|base| {
                if usize::from(code) == base {
                    row[base]
                } else {
                    0.0
                }
            })
        })
        .collect();
    Ok(Saliency {
        prediction,
        scores,
        gradient,
    })
}
