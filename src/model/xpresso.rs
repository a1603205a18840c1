//! Xpresso (Agarwal & Shendure 2020, Cell Reports; code and trained models MIT-licensed in
//! `vagarwal87/Xpresso`): steady-state mRNA abundance from the 10.5 kb around a gene's
//! transcription start site and per-gene mRNA half-life features. `same`-padded convolutions
//! with ReLU and max-pooling, the flattened positions joined by the features, a ReLU dense head.

use burn::nn::{Dropout, DropoutConfig, Initializer, Linear};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::config::{ConfigError, check_dropout_rates, check_output_affine};
use super::flops::dense_flops;
use super::layers::{Layout, SameConv, dense, dropout, max_pool, same_conv};

/// The paper's eight half-life features, in the authors' column order: log10 lengths of the
/// 5' UTR, coding sequence, introns and 3' UTR, the G+C shares of the 5' UTR, coding sequence
/// and 3' UTR, and the log10 exon-junction density of the open reading frame, each z-scored.
pub const HALF_LIFE_FEATURES: [&str; 8] = [
    "utr5_length",
    "cds_length",
    "intron_length",
    "utr3_length",
    "utr5_gc",
    "cds_gc",
    "utr3_gc",
    "orf_exon_junction_density",
];

/// Hyper-parameters of Xpresso. The defaults are the paper's best model (eight features).
#[derive(Config, Debug, PartialEq)]
pub struct XpressoConfig {
    /// Positions the network reads: 7,000 upstream and 3,500 downstream of the TSS.
    #[config(default = 10_500)]
    pub sequence_length: usize,
    /// Input position of the transcription start site; shorter sequences are centred on it.
    #[config(default = 7_000)]
    pub tss_position: usize,
    /// Filters of each convolution.
    #[config(default = "vec![128, 32]")]
    pub filters: Vec<usize>,
    #[config(default = "vec![6, 9]")]
    pub kernel_sizes: Vec<usize>,
    /// Max-pooling window (and stride) after each convolution.
    #[config(default = "vec![30, 10]")]
    pub pool_sizes: Vec<usize>,
    /// Names of the per-sequence feature inputs, in the order the first dense layer reads them
    /// (after the flattened sequence features).
    #[config(default = "HALF_LIFE_FEATURES.iter().map(|s| s.to_string()).collect()")]
    pub features: Vec<String>,
    /// Hidden widths of the ReLU dense head.
    #[config(default = "vec![64, 2]")]
    pub dense_units: Vec<usize>,
    /// Dropout after each hidden dense layer (the authors' hyper-parameter search chose these).
    #[config(default = "vec![0.00099, 0.0155]")]
    pub dense_dropout: Vec<f64>,
    /// The network's raw output `y` is reported as `y * output_scale + output_shift`.
    #[config(default = 1.0)]
    pub output_scale: f64,
    #[config(default = 0.0)]
    pub output_shift: f64,
}

impl XpressoConfig {
    /// Positions left after every convolution and pooling (`same` padding keeps the length,
    /// `valid` pooling divides it, dropping the remainder).
    pub fn steps(&self) -> usize {
        self.pool_sizes
            .iter()
            .fold(self.sequence_length, |length, &pool| length / pool.max(1))
    }

    /// Inputs of the first dense layer: the flattened sequence features, then the features.
    pub fn dense_inputs(&self) -> usize {
        self.steps() * self.filters.last().copied().unwrap_or(0) + self.features.len()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |reason: String| Err(ConfigError(reason));
        let layers = self.filters.len();
        if layers == 0 || self.kernel_sizes.len() != layers || self.pool_sizes.len() != layers {
            return fail(format!(
                "Xpresso needs as many kernel sizes and pool sizes as convolutions, got {}, {} \
                 and {}",
                self.kernel_sizes.len(),
                self.pool_sizes.len(),
                layers
            ));
        }
        if self.dense_units.len() != self.dense_dropout.len() {
            return fail(format!(
                "{} dense layers but {} dropout rates",
                self.dense_units.len(),
                self.dense_dropout.len()
            ));
        }
        let widths = [
            &self.filters,
            &self.kernel_sizes,
            &self.pool_sizes,
            &self.dense_units,
        ];
        if self.sequence_length == 0 || widths.iter().any(|w| w.contains(&0)) {
            return fail(
                "every length, filter count, kernel, pool and dense width of Xpresso must be \
                 positive"
                    .into(),
            );
        }
        if self.steps() == 0 {
            return fail(format!(
                "sequence length {} leaves no positions after pooling by {:?}",
                self.sequence_length, self.pool_sizes
            ));
        }
        if self.tss_position >= self.sequence_length {
            return fail(format!(
                "the TSS position {} lies outside the {} positions",
                self.tss_position, self.sequence_length
            ));
        }
        if self.features.iter().any(|name| name.trim().is_empty()) {
            return fail("feature names must not be empty".into());
        }
        check_dropout_rates(&self.dense_dropout)?;
        check_output_affine(self.output_scale, self.output_shift)
    }

    /// Floating-point operations of one sequence's forward pass, a multiply-add counted as two:
    /// the convolutions and the dense layers.
    pub fn forward_flops(&self) -> u64 {
        let (mut length, mut channels) = (self.sequence_length as u64, 4u64);
        let mut total = 0;
        for ((&filters, &kernel), &pool) in self
            .filters
            .iter()
            .zip(&self.kernel_sizes)
            .zip(&self.pool_sizes)
        {
            total += 2 * length * channels * filters as u64 * kernel as u64;
            (length, channels) = (length / pool as u64, filters as u64);
        }
        total + dense_flops(self.dense_inputs(), &self.dense_units)
    }
}

/// A hidden dense layer with its dropout.
#[derive(Module, Debug)]
pub struct DenseLayer {
    linear: Linear,
    dropout: Dropout,
}

/// Xpresso: one-hot sequence `[batch, 5, length]` (the crate's A C G T N channels; anything but
/// A C G T is read as all four zero, the authors' encoding) and features `[batch, features]`
/// in, predicted expression `[batch]` out.
#[derive(Module, Debug)]
pub struct Xpresso {
    pub(crate) convs: Vec<SameConv>,
    pool_sizes: Vec<usize>,
    pub(crate) hidden: Vec<DenseLayer>,
    pub(crate) output: Linear,
    features: usize,
    output_scale: f64,
    output_shift: f64,
}

impl Xpresso {
    pub fn new(config: &XpressoConfig, device: &Device) -> Result<Self, ConfigError> {
        config.validate()?;
        let mut channels = 4;
        let convs = config
            .filters
            .iter()
            .zip(&config.kernel_sizes)
            .map(|(&filters, &kernel)| {
                let conv = same_conv(channels, filters, kernel, 1, device);
                channels = filters;
                conv
            })
            .collect();
        let mut inputs = config.dense_inputs();
        let hidden = config
            .dense_units
            .iter()
            .zip(&config.dense_dropout)
            .map(|(&units, &rate)| {
                // A small positive bias keeps the ReLU units, two of them in the published
                // head, alive at the start of training: with Keras' zero biases the head died
                // on the generated benchmark and predicted a constant (docs/architectures.md).
                let mut linear = dense(inputs, units, device);
                linear.bias = Some(Initializer::Constant { value: 0.1 }.init([units], device));
                let layer = DenseLayer {
                    linear,
                    dropout: DropoutConfig::new(rate).init(),
                };
                inputs = units;
                layer
            })
            .collect();
        Ok(Self {
            convs,
            pool_sizes: config.pool_sizes.clone(),
            hidden,
            output: dense(inputs, 1, device),
            features: config.features.len(),
            output_scale: config.output_scale,
            output_shift: config.output_shift,
        })
    }

    /// `features`: `[batch, features]`; `None` gives every feature 0, its training mean (the
    /// features are z-scored), as the authors did to predict from sequence alone.
    pub fn forward(&self, one_hot: Tensor<3>, features: Option<Tensor<2>>) -> Tensor<1> {
        let layout = Layout::on(&one_hot.device());
        let batch = one_hot.dims()[0];
        let device = one_hot.device();
        let bases = one_hot.narrow(1, 0, 4);
        let mut x = Layout::ChannelsFirst.convert(bases, layout);
        for (conv, &pool) in self.convs.iter().zip(&self.pool_sizes) {
            x = max_pool(conv.forward(x), pool, pool);
        }
        // Keras flattens `[batch, length, channels]`: position-major.
        let sequence: Tensor<2> = layout.convert(x, Layout::ChannelsLast).flatten(1, 2);
        let features = features.unwrap_or_else(|| Tensor::zeros([batch, self.features], &device));
        let x = Tensor::cat(vec![sequence, features], 1);
        let x = self.hidden.iter().fold(x, |x, layer| {
            dropout(&layer.dropout, relu(layer.linear.forward(x)))
        });
        self.output.forward(x).flatten(0, 1) * self.output_scale + self.output_shift
    }

    /// Parameters per stage, in the order data flows through them.
    pub fn stages(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("convolutions", self.convs.num_params()),
            ("dense", self.hidden.num_params() + self.output.num_params()),
        ]
    }
}
