use burn::prelude::*;

use super::config::CrmnetConfig;
use super::layers::{Layout, UpsamplingConv, upsampling_conv};
use super::se::ConvSe;

/// One decoder level: a stride-2 transposed convolution (linear), concatenation with the
/// matching encoder skip, and two convolution units.
#[derive(Module, Debug)]
pub struct DecoderLevel {
    upsample: UpsamplingConv,
    first: ConvSe,
    second: ConvSe,
}

impl DecoderLevel {
    fn forward(&self, x: Tensor<3>, skip: Tensor<3>) -> Tensor<3> {
        let channel_axis = Layout::on(&x.device()).channel_axis();
        let x = Tensor::cat(vec![self.upsample.forward(x), skip], channel_axis);
        self.second.forward(self.first.forward(x))
    }
}

#[derive(Module, Debug)]
pub struct Decoder {
    levels: Vec<DecoderLevel>,
}

impl Decoder {
    pub fn new(config: &CrmnetConfig, device: &Device) -> Self {
        let (k, ratio) = (config.kernel_size, config.se_ratio);
        let skip_channels = config.encoder_filters[..config.downsamplings()]
            .iter()
            .rev();
        let mut channels = config.model_width();
        let levels = config
            .decoder_filters
            .iter()
            .zip(skip_channels)
            .map(|(&filters, &skip)| {
                let level = DecoderLevel {
                    upsample: upsampling_conv(channels, filters, k, device),
                    first: ConvSe::new(filters + skip, filters, k, ratio, true, device),
                    second: ConvSe::new(filters, filters, k, ratio, true, device),
                };
                channels = filters;
                level
            })
            .collect();
        Self { levels }
    }

    /// `x` and `skips` in their device's [`Layout`](super::layers::Layout); `skips` shallowest
    /// first, as the encoder returns them; they are consumed deepest first.
    pub fn forward(&self, mut x: Tensor<3>, skips: Vec<Tensor<3>>) -> Tensor<3> {
        for (level, skip) in self.levels.iter().zip(skips.into_iter().rev()) {
            x = level.forward(x, skip);
        }
        x
    }
}
