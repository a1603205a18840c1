use burn::nn::{Dropout, DropoutConfig};
use burn::prelude::*;

use super::config::CrmnetConfig;
use super::layers::{SameConv, dropout, same_conv};
use super::se::ConvSe;

/// One encoder level: two convolution units, dropout, and (except at the bottom) a stride-2
/// convolution. The tensor before the downsampling is the skip connection for the decoder.
#[derive(Module, Debug)]
pub struct EncoderLevel {
    first: ConvSe,
    second: ConvSe,
    dropout: Dropout,
    downsample: Option<SameConv>,
}

#[derive(Module, Debug)]
pub struct Encoder {
    levels: Vec<EncoderLevel>,
}

impl Encoder {
    pub fn new(config: &CrmnetConfig, channels_in: usize, device: &Device) -> Self {
        let (k, ratio) = (config.kernel_size, config.se_ratio);
        let last = config.encoder_filters.len() - 1;
        let mut channels = channels_in;
        let levels = config
            .encoder_filters
            .iter()
            .enumerate()
            .map(|(index, &filters)| {
                let level = EncoderLevel {
                    first: ConvSe::new(channels, filters, k, ratio, true, device),
                    second: ConvSe::new(filters, filters, k, ratio, true, device),
                    dropout: DropoutConfig::new(config.dropout).init(),
                    downsample: (index < last).then(|| same_conv(filters, filters, k, 2, device)),
                };
                channels = filters;
                level
            })
            .collect();
        Self { levels }
    }

    /// `x` in its device's [`Layout`](super::layers::Layout). Returns the bottom-level features
    /// and the skip tensors, shallowest first.
    pub fn forward(&self, mut x: Tensor<3>) -> (Tensor<3>, Vec<Tensor<3>>) {
        let mut skips = Vec::with_capacity(self.levels.len() - 1);
        for level in &self.levels {
            x = dropout(&level.dropout, level.second.forward(level.first.forward(x)));
            if let Some(downsample) = &level.downsample {
                skips.push(x.clone());
                x = downsample.forward(x);
            }
        }
        (x, skips)
    }
}
