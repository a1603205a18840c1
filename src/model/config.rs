//! Hyper-parameters of the CRMnet topology and its presets.

use burn::prelude::*;

/// How position information enters the transformer.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum PositionMode {
    /// The original code: token `i` of `n` is scaled by `sin(i * (sequence_length - 1) / n)`.
    Multiplicative,
    /// The paper's text: the usual sinusoidal encoding is added to the tokens.
    Additive,
}

/// How the transformer blocks are chained.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum TransformerWiring {
    /// The original code: first and last blocks alone, the blocks between in pairs that read the
    /// same input and whose outputs are summed.
    Paired,
    /// A plain stack, each block reading the previous one's output.
    Stack,
}

/// Hyper-parameters of the CRMnet topology. The defaults are the published model.
#[derive(Config, Debug, PartialEq)]
pub struct CrmnetConfig {
    /// Sequences are padded with `N` or truncated at the 3' end to this length.
    #[config(default = 112)]
    pub sequence_length: usize,
    /// Filters of each encoder level; every level but the last halves the length.
    #[config(default = "vec![128, 128, 256, 256]")]
    pub encoder_filters: Vec<usize>,
    /// Filters of each decoder level, one per downsampling encoder level.
    #[config(default = "vec![128, 128, 128]")]
    pub decoder_filters: Vec<usize>,
    /// Filters of the convolutional head (no batch normalisation).
    #[config(default = "vec![128, 64, 32]")]
    pub head_filters: Vec<usize>,
    /// Hidden widths of the regression MLP.
    #[config(default = "vec![256, 128, 64, 32]")]
    pub mlp_units: Vec<usize>,
    /// Dropout after each MLP hidden layer.
    #[config(default = "vec![0.2, 0.2, 0.1, 0.1]")]
    pub mlp_dropout: Vec<f64>,
    #[config(default = 11)]
    pub kernel_size: usize,
    /// Squeeze-excitation reduction ratio.
    #[config(default = 2)]
    pub se_ratio: usize,
    #[config(default = 12)]
    pub heads: usize,
    /// Query/key/value width of each attention head.
    #[config(default = 256)]
    pub key_dim: usize,
    #[config(default = 128)]
    pub ffn_dim: usize,
    #[config(default = 8)]
    pub transformer_blocks: usize,
    /// Dropout at the end of each encoder level and inside the transformer blocks.
    #[config(default = 0.1)]
    pub dropout: f64,
    #[config(default = 1e-6)]
    pub layer_norm_epsilon: f64,
    #[config(default = "PositionMode::Multiplicative")]
    pub position: PositionMode,
    #[config(default = "TransformerWiring::Paired")]
    pub wiring: TransformerWiring,
    /// The network's raw output `y` is reported as `y * output_scale + output_shift`, so that
    /// a student starts on its teacher's scale (distillation sets them from the teacher's labels).
    #[config(default = 1.0)]
    pub output_scale: f64,
    #[config(default = 0.0)]
    pub output_shift: f64,
}

impl CrmnetConfig {
    /// The published model (34.2 M parameters): the defaults.
    pub fn published() -> Self {
        Self::new()
    }

    /// The same topology at about a tenth of the size, for the browser.
    pub fn web() -> Self {
        Self::new()
            .with_encoder_filters(vec![64, 64, 128, 128])
            .with_decoder_filters(vec![64, 64, 64])
            .with_head_filters(vec![64, 32, 32])
            .with_mlp_units(vec![128, 64, 32, 16])
            .with_heads(4)
            .with_key_dim(32)
            .with_ffn_dim(128)
            .with_transformer_blocks(4)
    }

    /// The same topology at toy size, for smoke tests of the tools.
    pub fn tiny() -> Self {
        Self::new()
            .with_encoder_filters(vec![16, 16, 32, 32])
            .with_decoder_filters(vec![16, 16, 16])
            .with_head_filters(vec![16, 16, 8])
            .with_mlp_units(vec![32, 16])
            .with_mlp_dropout(vec![0.1, 0.1])
            .with_heads(2)
            .with_key_dim(16)
            .with_ffn_dim(32)
            .with_transformer_blocks(2)
    }
}

/// A configuration that cannot describe a working network.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid CRMnet configuration: {0}")]
pub struct ConfigError(pub String);

impl CrmnetConfig {
    /// Number of stride-2 encoder levels, each matched by a decoder level.
    pub fn downsamplings(&self) -> usize {
        self.encoder_filters.len().saturating_sub(1)
    }

    /// Tokens the transformer sees.
    pub fn tokens(&self) -> usize {
        (0..self.downsamplings()).fold(self.sequence_length, |length, _| length.div_ceil(2))
    }

    pub fn model_width(&self) -> usize {
        *self.encoder_filters.last().unwrap_or(&0)
    }

    /// Checks everything [`Crmnet::new`](super::Crmnet::new) relies on, so that a configuration
    /// read from a file is refused with a reason rather than panicking deep in a layer.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |reason: String| Err(ConfigError(reason));
        if self.encoder_filters.len() < 2 {
            return fail("at least two encoder levels are needed".into());
        }
        if self.decoder_filters.len() != self.downsamplings() {
            return fail(format!(
                "{} decoder levels given, {} needed (one per downsampling encoder level)",
                self.decoder_filters.len(),
                self.downsamplings()
            ));
        }
        if !self
            .sequence_length
            .is_multiple_of(1 << self.downsamplings())
        {
            return fail(format!(
                "sequence length {} is not divisible by 2^{}",
                self.sequence_length,
                self.downsamplings()
            ));
        }
        if self.head_filters.is_empty() {
            return fail("the head needs at least one convolution".into());
        }
        if self.mlp_units.len() != self.mlp_dropout.len() {
            return fail(format!(
                "{} MLP layers but {} dropout rates",
                self.mlp_units.len(),
                self.mlp_dropout.len()
            ));
        }
        let widths = [
            &self.encoder_filters,
            &self.decoder_filters,
            &self.head_filters,
            &self.mlp_units,
        ];
        let sizes = [
            self.kernel_size,
            self.se_ratio,
            self.heads,
            self.key_dim,
            self.ffn_dim,
        ];
        if widths.iter().any(|w| w.contains(&0)) || sizes.contains(&0) {
            return fail(
                "every width, the kernel size, SE ratio, heads, key and FFN size must be positive"
                    .into(),
            );
        }
        if self.kernel_size.is_multiple_of(2) {
            return fail(format!("kernel size {} must be odd", self.kernel_size));
        }
        if self.transformer_blocks == 0 {
            return fail("at least one transformer block is needed".into());
        }
        if self.wiring == TransformerWiring::Paired
            && (self.transformer_blocks < 2 || !self.transformer_blocks.is_multiple_of(2))
        {
            return fail(format!(
                "paired wiring needs an even number of at least 2 transformer blocks, got {}",
                self.transformer_blocks
            ));
        }
        check_dropout_rates(self.mlp_dropout.iter().chain([&self.dropout]))?;
        if self.layer_norm_epsilon.is_nan() || self.layer_norm_epsilon <= 0.0 {
            return fail("layer-norm epsilon must be positive".into());
        }
        check_output_affine(self.output_scale, self.output_shift)
    }
}

/// Refuses a dropout rate outside [0, 1) (every architecture's check).
pub(super) fn check_dropout_rates<'a>(
    rates: impl IntoIterator<Item = &'a f64>,
) -> Result<(), ConfigError> {
    if rates.into_iter().any(|p| !(0.0..1.0).contains(p)) {
        return Err(ConfigError("dropout rates must lie in [0, 1)".into()));
    }
    Ok(())
}

/// Refuses an output affine map (`y * scale + shift`) that is not finite.
pub(super) fn check_output_affine(scale: f64, shift: f64) -> Result<(), ConfigError> {
    if !(scale.is_finite() && shift.is_finite()) {
        return Err(ConfigError(
            "the output scale and shift must be finite".into(),
        ));
    }
    Ok(())
}
