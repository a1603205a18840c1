use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig, Linear};
use burn::prelude::*;
use burn::tensor::activation::{relu, softmax};

use crate::platform::join;

use super::config::{CrmnetConfig, PositionMode, TransformerWiring};
use super::layers::{dense, dropout};

/// Multi-head self-attention as Keras builds it: each head has its own `key_dim`-wide query,
/// key and value projections (so the heads together are wider than the model), and scores are
/// scaled by `1/sqrt(key_dim)`. burn's own attention ties the head width to `d_model / heads`,
/// which cannot express the published 12 x 256 heads on a 256-wide model.
#[derive(Module, Debug)]
pub struct SelfAttention {
    query: Linear,
    key: Linear,
    value: Linear,
    output: Linear,
    heads: usize,
    key_dim: usize,
}

impl SelfAttention {
    fn new(width: usize, heads: usize, key_dim: usize, device: &Device) -> Self {
        let projection = || dense(width, heads * key_dim, device);
        Self {
            query: projection(),
            key: projection(),
            value: projection(),
            output: dense(heads * key_dim, width, device),
            heads,
            key_dim,
        }
    }

    /// `x`: `[batch, tokens, width]`.
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, tokens, _] = x.dims();
        let split_heads = |t: Tensor<3>| {
            t.reshape([batch, tokens, self.heads, self.key_dim])
                .swap_dims(1, 2)
        };
        let query = split_heads(self.query.forward(x.clone()));
        let key = split_heads(self.key.forward(x.clone()));
        let value = split_heads(self.value.forward(x));
        let scores = query
            .matmul(key.swap_dims(2, 3))
            .div_scalar((self.key_dim as f64).sqrt());
        let context = softmax(scores, 3).matmul(value);
        let merged = context
            .swap_dims(1, 2)
            .reshape([batch, tokens, self.heads * self.key_dim]);
        self.output.forward(merged)
    }
}

/// Post-LayerNorm transformer block: attention and a ReLU feed-forward network, each followed
/// by dropout, a residual connection and layer normalisation.
#[derive(Module, Debug)]
pub struct TransformerBlock {
    attention: SelfAttention,
    attention_dropout: Dropout,
    attention_norm: LayerNorm,
    expand: Linear,
    contract: Linear,
    ffn_dropout: Dropout,
    ffn_norm: LayerNorm,
}

impl TransformerBlock {
    fn new(config: &CrmnetConfig, device: &Device) -> Self {
        let width = config.model_width();
        let norm = || {
            LayerNormConfig::new(width)
                .with_epsilon(config.layer_norm_epsilon)
                .init(device)
        };
        Self {
            attention: SelfAttention::new(width, config.heads, config.key_dim, device),
            attention_dropout: DropoutConfig::new(config.dropout).init(),
            attention_norm: norm(),
            expand: dense(width, config.ffn_dim, device),
            contract: dense(config.ffn_dim, width, device),
            ffn_dropout: DropoutConfig::new(config.dropout).init(),
            ffn_norm: norm(),
        }
    }

    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let attended = dropout(&self.attention_dropout, self.attention.forward(x.clone()));
        let x = self.attention_norm.forward(x + attended);
        let fed = dropout(
            &self.ffn_dropout,
            self.contract.forward(relu(self.expand.forward(x.clone()))),
        );
        self.ffn_norm.forward(x + fed)
    }
}

#[derive(Module, Debug)]
pub struct Transformer {
    blocks: Vec<TransformerBlock>,
    paired: bool,
    multiplicative_position: bool,
    sequence_length: usize,
}

impl Transformer {
    pub fn new(config: &CrmnetConfig, device: &Device) -> Self {
        Self {
            blocks: (0..config.transformer_blocks)
                .map(|_| TransformerBlock::new(config, device))
                .collect(),
            paired: config.wiring == TransformerWiring::Paired,
            multiplicative_position: config.position == PositionMode::Multiplicative,
            sequence_length: config.sequence_length,
        }
    }

    /// `x`: `[batch, tokens, width]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let tokens = self.add_position(x);
        if self.paired {
            self.forward_paired(tokens)
        } else {
            self.blocks.iter().fold(tokens, |x, block| block.forward(x))
        }
    }

    /// `x = T1(x); a = T2(x); x = T3(x) + a; ...; x = Tn(x)`, as in the original code.
    fn forward_paired(&self, x: Tensor<3>) -> Tensor<3> {
        let (first, rest) = self
            .blocks
            .split_first()
            .expect("validated: at least two blocks");
        let (last, middle) = rest.split_last().expect("validated: at least two blocks");
        let device = x.device();
        let x = middle.chunks(2).fold(first.forward(x), |x, pair| {
            let side_input = x.clone();
            let (side, main) = join(
                &device,
                || pair[0].forward(side_input),
                || pair[1].forward(x),
            );
            main + side
        });
        last.forward(x)
    }

    /// `x`: `[batch, tokens, width]`.
    fn add_position(&self, x: Tensor<3>) -> Tensor<3> {
        let [_, tokens, width] = x.dims();
        let device = x.device();
        if self.multiplicative_position {
            let step = (self.sequence_length - 1) as f64 / tokens as f64;
            let scale: Vec<f32> = (0..tokens)
                .map(|i| (i as f64 * step).sin() as f32)
                .collect();
            let scale = Tensor::<1>::from_floats(scale.as_slice(), &device).reshape([1, tokens, 1]);
            x * scale
        } else {
            let table = sinusoidal_table(tokens, width);
            x + Tensor::<1>::from_floats(table.as_slice(), &device).reshape([1, tokens, width])
        }
    }
}

/// The sinusoidal position encoding of "Attention is all you need", row-major `[tokens, width]`.
fn sinusoidal_table(tokens: usize, width: usize) -> Vec<f32> {
    (0..tokens)
        .flat_map(|position| {
            (0..width).map(move |channel| {
                let frequency = 10_000f64.powf(-((channel / 2 * 2) as f64) / width as f64);
                let angle = position as f64 * frequency;
                (if channel % 2 == 0 {
                    angle.sin()
                } else {
                    angle.cos()
                }) as f32
            })
        })
        .collect()
}
