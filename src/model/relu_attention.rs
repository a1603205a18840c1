//! DeepAtt's multi-head self-attention: queries, keys, values and the output are dense layers
//! followed by ReLU (unlike the usual linear projections), heads are contiguous slices of the
//! features, scores are scaled by the square root of the head width.

use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::activation::{relu, softmax};

use super::layers::dense;

#[derive(Module, Debug)]
pub struct ReluAttention {
    pub(crate) query: Linear,
    pub(crate) key: Linear,
    pub(crate) value: Linear,
    pub(crate) output: Linear,
    heads: usize,
}

impl ReluAttention {
    /// `width` features split over `heads` heads (`width` must be a multiple of `heads`).
    pub fn new(width: usize, heads: usize, device: &Device) -> Self {
        Self {
            query: dense(width, width, device),
            key: dense(width, width, device),
            value: dense(width, width, device),
            output: dense(width, width, device),
            heads,
        }
    }

    /// `[batch, steps, width]` to the same shape.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, steps, width] = x.dims();
        let head_width = width / self.heads;
        let split = |layer: &Linear| {
            relu(layer.forward(x.clone()))
                .reshape([batch, steps, self.heads, head_width])
                .swap_dims(1, 2)
        };
        let (query, key, value) = (split(&self.query), split(&self.key), split(&self.value));
        let scores = query.matmul(key.swap_dims(2, 3)) / (head_width as f64).sqrt();
        let context = softmax(scores, 3)
            .matmul(value)
            .swap_dims(1, 2)
            .reshape([batch, steps, width]);
        relu(self.output.forward(context))
    }
}
