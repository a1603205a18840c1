//! DeepAtt, the attention benchmark model of Vaishnav et al. 2022 (Nature; code MIT-licensed in
//! `1edv/evolution`): convolution, max-pooling, a bidirectional LSTM, ReLU multi-head
//! self-attention and a small dense head, with the output standardisation of the authors'
//! complex-medium models. Imported from their Keras file it is the distillation teacher; trained
//! from scratch it is a small, fast student.

use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::config::{ConfigError, check_output_affine};
use super::flops::dense_flops;
use super::layers::{dense, dropout, he_normal};
use super::recurrent::BidirectionalLstm;
use super::relu_attention::ReluAttention;
use crate::data::alphabet::N;

/// Hyper-parameters of DeepAtt. The defaults are the published model.
#[derive(Config, Debug, PartialEq)]
pub struct DeepAttConfig {
    /// Positions the network reads.
    #[config(default = 110)]
    pub sequence_length: usize,
    #[config(default = 256)]
    pub filters: usize,
    #[config(default = 30)]
    pub kernel_size: usize,
    /// Max-pooling window and stride.
    #[config(default = 3)]
    pub pool_size: usize,
    /// LSTM units in each direction.
    #[config(default = 16)]
    pub lstm_units: usize,
    /// Attention heads over the `2 x lstm_units` features.
    #[config(default = 16)]
    pub heads: usize,
    /// Hidden widths of the ReLU dense head.
    #[config(default = "vec![16, 16]")]
    pub dense_units: Vec<usize>,
    /// Dropout after pooling and after attention.
    #[config(default = 0.2)]
    pub dropout: f64,
    /// The network's raw output `y` is reported as `y * output_scale + output_shift`: the
    /// authors' StandardScaler of complex-medium expression (scale, mean).
    #[config(default = 3.70407084)]
    pub output_scale: f64,
    #[config(default = 9.35878429)]
    pub output_shift: f64,
}

impl DeepAttConfig {
    /// Positions left after the valid convolution and the pooling.
    pub fn steps(&self) -> usize {
        (self.sequence_length + 1).saturating_sub(self.kernel_size) / self.pool_size.max(1)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |reason: String| Err(ConfigError(reason));
        let sizes = [
            self.sequence_length,
            self.filters,
            self.kernel_size,
            self.pool_size,
            self.lstm_units,
            self.heads,
        ];
        if sizes.contains(&0) || self.dense_units.contains(&0) {
            return fail("every length, width and size of DeepAtt must be positive".into());
        }
        if self.steps() == 0 {
            return fail(format!(
                "sequence length {} leaves no positions after a kernel of {} and pooling by {}",
                self.sequence_length, self.kernel_size, self.pool_size
            ));
        }
        if !(2 * self.lstm_units).is_multiple_of(self.heads) {
            return fail(format!(
                "{} attention heads do not divide the {} LSTM features",
                self.heads,
                2 * self.lstm_units
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return fail("dropout must lie in [0, 1)".into());
        }
        check_output_affine(self.output_scale, self.output_shift)
    }

    /// Floating-point operations of one sequence's forward pass, a multiply-add counted as two.
    pub fn forward_flops(&self) -> u64 {
        let conv_positions = (self.sequence_length + 1 - self.kernel_size) as u64;
        let steps = self.steps() as u64;
        let units = self.lstm_units as u64;
        let width = 2 * units;
        let conv = 2 * conv_positions * 4 * self.filters as u64 * self.kernel_size as u64;
        let lstm = 2 * 2 * steps * (self.filters as u64 + units) * 4 * units;
        let attention = 2 * steps * width * width * 4 + 2 * 2 * steps * steps * width;
        let dense = dense_flops((steps * width) as usize, &self.dense_units);
        conv + lstm + attention + dense
    }
}

/// DeepAtt: one-hot sequence `[batch, 5, length]` in (the crate's A C G T N channels; N is read
/// as all four bases, the authors' encoding), predicted expression `[batch]` out.
#[derive(Module, Debug)]
pub struct DeepAtt {
    pub(crate) conv: Conv1d,
    pool_size: usize,
    pool_dropout: Dropout,
    pub(crate) lstm: BidirectionalLstm,
    pub(crate) attention: ReluAttention,
    attention_dropout: Dropout,
    pub(crate) hidden: Vec<Linear>,
    pub(crate) output: Linear,
    output_scale: f64,
    output_shift: f64,
}

impl DeepAtt {
    pub fn new(config: &DeepAttConfig, device: &Device) -> Result<Self, ConfigError> {
        config.validate()?;
        let conv = Conv1dConfig::new(4, config.filters, config.kernel_size)
            .with_initializer(he_normal())
            .init(device);
        let width = 2 * config.lstm_units;
        let mut inputs = config.steps() * width;
        let hidden = config
            .dense_units
            .iter()
            .map(|&units| {
                let layer = dense(inputs, units, device);
                inputs = units;
                layer
            })
            .collect();
        Ok(Self {
            conv,
            pool_size: config.pool_size,
            pool_dropout: DropoutConfig::new(config.dropout).init(),
            lstm: BidirectionalLstm::new(config.filters, config.lstm_units, device),
            attention: ReluAttention::new(width, config.heads, device),
            attention_dropout: DropoutConfig::new(config.dropout).init(),
            hidden,
            output: dense(inputs, 1, device),
            output_scale: config.output_scale,
            output_shift: config.output_shift,
        })
    }

    pub fn forward(&self, one_hot: Tensor<3>) -> Tensor<1> {
        let n = usize::from(N);
        let bases = one_hot.clone().narrow(1, 0, n) + one_hot.narrow(1, n, 1);
        let x = dropout(&self.pool_dropout, self.convolve_and_pool(bases));
        let x = self.attention.forward(self.lstm.forward(x));
        let x: Tensor<2> = dropout(&self.attention_dropout, x).flatten(1, 2);
        let x = self
            .hidden
            .iter()
            .fold(x, |x, layer| relu(layer.forward(x)));
        self.output.forward(x).flatten(0, 1) * self.output_scale + self.output_shift
    }

    /// The valid convolution with ReLU and the max-pooling, `[batch, 4, length]` to
    /// `[batch, steps, filters]` (positions first, as the LSTM reads them): one matrix product
    /// of the windows (im2col) with the kernel, and the pooling as a maximum over a reshaped
    /// axis. burn's conv1d and max_pool1d, which computed the same on flex, were the largest part
    /// of a training step there (the pooling through a 3-d kernel; profile in
    /// `docs/distillation.md`).
    fn convolve_and_pool(&self, bases: Tensor<3>) -> Tensor<3> {
        let [batch, channels, length] = bases.dims();
        let [filters, _, kernel_size] = self.conv.weight.dims();
        let positions = length + 1 - kernel_size;
        let steps = positions / self.pool_size;
        // Window rows hold one position's `[channel, offset]` block, channel-major like the
        // kernel's `[filters, channel, offset]`.
        let windows: Tensor<2> = bases
            .unfold::<4, _>(2, kernel_size, 1)
            .swap_dims(1, 2)
            .reshape([batch * positions, channels * kernel_size]);
        let kernel = self
            .conv
            .weight
            .val()
            .reshape([filters, channels * kernel_size])
            .transpose();
        let mut convolved = windows.matmul(kernel);
        if let Some(bias) = &self.conv.bias {
            convolved = convolved + bias.val().unsqueeze();
        }
        relu(convolved)
            .reshape([batch, positions, filters])
            .narrow(1, 0, steps * self.pool_size)
            .reshape([batch, steps, self.pool_size, filters])
            .max_dim(2)
            .reshape([batch, steps, filters])
    }

    /// Parameters per stage, in the order data flows through them.
    pub fn stages(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("convolution", self.conv.num_params()),
            ("lstm", self.lstm.num_params()),
            ("attention", self.attention.num_params()),
            ("dense", self.hidden.num_params() + self.output.num_params()),
        ]
    }
}
