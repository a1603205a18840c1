//! Camformer (Bornelöv lab; 4th in the DREAM 2022 challenge): six `same`-padded convolution
//! blocks (convolution, batch normalisation, ReLU, max-pooling where configured, dropout) whose
//! second block of each pair adds its input back (a residual pair), then a ReLU dense head.
//! The published network is the authors' "Camformer (Original)", 16.6 M parameters, trained in
//! PyTorch; its trained weights are not public, so here it trains like any other architecture.

use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::config::{ConfigError, check_dropout_rates, check_output_affine};
use super::flops::dense_flops;
use super::layers::{Layout, SameConv, dropout, he_dense, max_pool, normalise, same_conv_he};

/// Hyper-parameters of Camformer. The defaults are the published model.
#[derive(Config, Debug, PartialEq)]
pub struct CamformerConfig {
    /// Sequences are padded with `N` (all four channels zero) or truncated at the 3' end to
    /// this length, as the authors prepared theirs.
    #[config(default = 110)]
    pub sequence_length: usize,
    /// Filters of each convolution block; blocks come in residual pairs of equal width.
    #[config(default = "vec![512; 6]")]
    pub filters: Vec<usize>,
    #[config(default = 10)]
    pub kernel_size: usize,
    /// Max-pooling window after each block (1: none).
    #[config(default = "vec![1, 1, 1, 1, 10, 1]")]
    pub pool_sizes: Vec<usize>,
    /// Max-pooling stride after each block.
    #[config(default = "vec![1, 1, 1, 1, 4, 1]")]
    pub pool_strides: Vec<usize>,
    /// Dropout at the end of each block.
    #[config(default = 0.3)]
    pub dropout: f64,
    /// Hidden widths of the ReLU dense head.
    #[config(default = "vec![256, 256]")]
    pub dense_units: Vec<usize>,
    /// Dropout after each hidden dense layer.
    #[config(default = 0.0)]
    pub dense_dropout: f64,
    /// The network's raw output `y` is reported as `y * output_scale + output_shift`, so that
    /// a student starts on its teacher's scale (distillation sets them from the teacher's labels).
    #[config(default = 1.0)]
    pub output_scale: f64,
    #[config(default = 0.0)]
    pub output_shift: f64,
}

impl CamformerConfig {
    /// The published model (16.6 M parameters): the defaults.
    pub fn published() -> Self {
        Self::new()
    }

    /// The same topology with a quarter of the filters and half the dense width (1.3 M
    /// parameters), for the browser.
    pub fn web() -> Self {
        Self::new()
            .with_filters(vec![128; 6])
            .with_dense_units(vec![128, 128])
    }

    /// Positions after each block, in order.
    pub fn block_lengths(&self) -> Vec<usize> {
        let mut length = self.sequence_length;
        self.pool_sizes
            .iter()
            .zip(&self.pool_strides)
            .map(|(&size, &stride)| {
                length = (length.saturating_sub(size)) / stride.max(1) + 1;
                length
            })
            .collect()
    }

    /// Inputs of the first dense layer: the last block's filters at each of its positions.
    pub fn flattened(&self) -> usize {
        self.filters.last().copied().unwrap_or(0)
            * self.block_lengths().last().copied().unwrap_or(0)
    }

    /// Checks everything [`Camformer::new`] relies on, so that a configuration read from a file
    /// is refused with a reason rather than panicking deep in a layer.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |reason: String| Err(ConfigError(reason));
        let blocks = self.filters.len();
        if blocks == 0 || !blocks.is_multiple_of(2) {
            return fail(format!(
                "Camformer needs its convolution blocks in residual pairs, got {blocks}"
            ));
        }
        if self.pool_sizes.len() != blocks || self.pool_strides.len() != blocks {
            return fail(format!(
                "{blocks} blocks but {} pool sizes and {} pool strides",
                self.pool_sizes.len(),
                self.pool_strides.len()
            ));
        }
        let sizes = [self.sequence_length, self.kernel_size];
        let widths = [
            &self.filters,
            &self.pool_sizes,
            &self.pool_strides,
            &self.dense_units,
        ];
        if sizes.contains(&0) || widths.iter().any(|w| w.contains(&0)) {
            return fail(
                "every length, filter count, kernel, pool size and stride and dense width of \
                 Camformer must be positive"
                    .into(),
            );
        }
        let mut length = self.sequence_length;
        for (index, (&size, &stride)) in self.pool_sizes.iter().zip(&self.pool_strides).enumerate()
        {
            if size > length {
                return fail(format!(
                    "block {}: a pool of {size} is wider than the {length} positions left",
                    index + 1
                ));
            }
            length = (length - size) / stride + 1;
        }
        for (pair, blocks) in self.pool_sizes.chunks(2).enumerate() {
            let second = 2 * pair + 1;
            if self.filters[second] != self.filters[second - 1]
                || (blocks[1], self.pool_strides[second]) != (1, 1)
            {
                return fail(format!(
                    "block {} adds its input back, so it must keep block {}'s {} filters and \
                     pool nothing",
                    second + 1,
                    second,
                    self.filters[second - 1]
                ));
            }
        }
        check_dropout_rates(&[self.dropout, self.dense_dropout])?;
        check_output_affine(self.output_scale, self.output_shift)
    }

    /// Floating-point operations of one sequence's forward pass, a multiply-add counted as two:
    /// the convolutions (each at its input's length, `same` padding keeps it) and the dense
    /// layers; normalisation, pooling and activations are left out.
    pub fn forward_flops(&self) -> u64 {
        let (mut length, mut channels) = (self.sequence_length as u64, 4u64);
        let mut total = 0;
        for (&filters, output_length) in self.filters.iter().zip(self.block_lengths()) {
            total += 2 * length * channels * filters as u64 * self.kernel_size as u64;
            (length, channels) = (output_length as u64, filters as u64);
        }
        total + dense_flops(self.flattened(), &self.dense_units)
    }
}

/// Convolution, batch normalisation, ReLU, max-pooling (where configured) and dropout.
#[derive(Module, Debug)]
pub struct ConvBlock {
    conv: SameConv,
    norm: BatchNorm,
    pool_size: usize,
    pool_stride: usize,
    dropout: Dropout,
}

impl ConvBlock {
    /// `x` in its device's [`Layout`].
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let x = relu(normalise(&self.norm, self.conv.forward(x)));
        let x = if self.pool_size > 1 || self.pool_stride > 1 {
            max_pool(x, self.pool_size, self.pool_stride)
        } else {
            x
        };
        dropout(&self.dropout, x)
    }
}

/// Camformer: one-hot sequence `[batch, 5, length]` in (the crate's A C G T N channels; N is
/// read as all four channels zero, the authors' encoding), predicted expression `[batch]` out.
#[derive(Module, Debug)]
pub struct Camformer {
    blocks: Vec<ConvBlock>,
    hidden: Vec<Linear>,
    hidden_dropout: Dropout,
    output: Linear,
    output_scale: f64,
    output_shift: f64,
}

impl Camformer {
    pub fn new(config: &CamformerConfig, device: &Device) -> Result<Self, ConfigError> {
        config.validate()?;
        let mut channels = 4;
        let blocks = (0..config.filters.len())
            .map(|index| {
                let filters = config.filters[index];
                let block = ConvBlock {
                    conv: same_conv_he(channels, filters, config.kernel_size, device),
                    // PyTorch's BatchNorm2d constants (burn's defaults): epsilon 1e-5, momentum 0.1.
                    norm: BatchNormConfig::new(filters).init(device),
                    pool_size: config.pool_sizes[index],
                    pool_stride: config.pool_strides[index],
                    dropout: DropoutConfig::new(config.dropout).init(),
                };
                channels = filters;
                block
            })
            .collect();
        let mut inputs = config.flattened();
        let hidden = config
            .dense_units
            .iter()
            .map(|&units| {
                let layer = he_dense(inputs, units, device);
                inputs = units;
                layer
            })
            .collect();
        Ok(Self {
            blocks,
            hidden,
            hidden_dropout: DropoutConfig::new(config.dense_dropout).init(),
            output: he_dense(inputs, 1, device),
            output_scale: config.output_scale,
            output_shift: config.output_shift,
        })
    }

    pub fn forward(&self, one_hot: Tensor<3>) -> Tensor<1> {
        let layout = Layout::on(&one_hot.device());
        let bases = one_hot.narrow(1, 0, 4);
        let mut x = Layout::ChannelsFirst.convert(bases, layout);
        for pair in self.blocks.chunks(2) {
            let first = pair[0].forward(x);
            x = pair[1].forward(first.clone()) + first;
        }
        // PyTorch flattens `[batch, channels, length]`: channel-major.
        let x: Tensor<2> = layout.convert(x, Layout::ChannelsFirst).flatten(1, 2);
        let x = self.hidden.iter().fold(x, |x, layer| {
            dropout(&self.hidden_dropout, relu(layer.forward(x)))
        });
        self.output.forward(x).flatten(0, 1) * self.output_scale + self.output_shift
    }

    /// Parameters per stage, in the order data flows through them.
    pub fn stages(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("convolutions", self.blocks.num_params()),
            ("dense", self.hidden.num_params() + self.output.num_params()),
        ]
    }
}
