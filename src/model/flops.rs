//! The arithmetic a forward pass costs, for judging measured speed against the hardware.

use super::config::CrmnetConfig;

impl CrmnetConfig {
    /// Floating-point operations of one sequence's forward pass, a multiply-add counted as two:
    /// convolutions, transposed convolutions, dense layers and the attention products. The
    /// element-wise work (activations, normalisation, gating, softmax) is under 1 % of it for
    /// the presets and is left out.
    pub fn forward_flops(&self) -> u64 {
        let k = self.kernel_size as u64;
        let conv = |length: u64, inputs: u64, outputs: u64| 2 * length * inputs * outputs * k;
        let squeeze_excite = |channels: u64| {
            let hidden = (channels / self.se_ratio as u64).max(1);
            2 * 2 * channels * hidden
        };
        let conv_se =
            |length, inputs, outputs| conv(length, inputs, outputs) + squeeze_excite(outputs);

        let mut total = 0;
        let (mut length, mut channels) = (self.sequence_length as u64, 5u64);
        let mut skips = Vec::new();
        for (index, &filters) in self.encoder_filters.iter().enumerate() {
            let filters = filters as u64;
            total += conv_se(length, channels, filters) + conv_se(length, filters, filters);
            channels = filters;
            if index < self.downsamplings() {
                skips.push((length, filters));
                length = length.div_ceil(2);
                total += conv(length, filters, filters);
            }
        }

        let projection = (self.heads * self.key_dim) as u64;
        let ffn = self.ffn_dim as u64;
        let block = 2 * length * channels * projection * 3 // query, key, value
            + 2 * 2 * length * length * projection // scores and weighted values
            + 2 * length * projection * channels // output projection
            + 2 * 2 * length * channels * ffn;
        total += self.transformer_blocks as u64 * block;

        for (&filters, &(skip_length, skip_channels)) in
            self.decoder_filters.iter().zip(skips.iter().rev())
        {
            let filters = filters as u64;
            // Each input position feeds `k` outputs of the transposed convolution.
            total += conv(length, channels, filters);
            length = skip_length;
            total += conv_se(length, filters + skip_channels, filters)
                + conv_se(length, filters, filters);
            channels = filters;
        }
        for &filters in &self.head_filters {
            total += conv_se(length, channels, filters as u64);
            channels = filters as u64;
        }
        total + dense_flops((channels * length) as usize, &self.mlp_units)
    }
}

/// A dense head's multiply-adds (two operations each): `inputs` through the `hidden` widths to
/// one output.
pub(super) fn dense_flops(inputs: usize, hidden: &[usize]) -> u64 {
    let mut inputs = inputs as u64;
    let mut total = 0;
    for &units in hidden.iter().chain([&1]) {
        total += 2 * inputs * units as u64;
        inputs = units as u64;
    }
    total
}
