//! CRMnet assembled: encoder, transformer, decoder, convolutional head and regression MLP.

use burn::prelude::*;

use super::config::{ConfigError, CrmnetConfig};
use super::decoder::Decoder;
use super::encoder::Encoder;
use super::head::{ConvHead, Mlp};
use super::layers::Layout;
use super::transformer::Transformer;
use crate::data::alphabet::CHANNELS;

/// CRMnet: one-hot sequence `[batch, 5, length]` in, predicted expression `[batch]` out.
#[derive(Module, Debug)]
pub struct Crmnet {
    encoder: Encoder,
    transformer: Transformer,
    decoder: Decoder,
    head: ConvHead,
    mlp: Mlp,
    output_scale: f64,
    output_shift: f64,
}

impl Crmnet {
    pub fn new(config: &CrmnetConfig, device: &Device) -> Result<Self, ConfigError> {
        config.validate()?;
        let decoder_out = *config.decoder_filters.last().expect("validated");
        let head_out = *config.head_filters.last().expect("validated");
        Ok(Self {
            encoder: Encoder::new(config, CHANNELS, device),
            transformer: Transformer::new(config, device),
            decoder: Decoder::new(config, device),
            head: ConvHead::new(config, decoder_out, device),
            mlp: Mlp::new(config, head_out * config.sequence_length, device),
            output_scale: config.output_scale,
            output_shift: config.output_shift,
        })
    }

    pub fn forward(&self, one_hot: Tensor<3>) -> Tensor<1> {
        let layout = Layout::on(&one_hot.device());
        let (bottom, skips) = self
            .encoder
            .forward(Layout::ChannelsFirst.convert(one_hot, layout));
        let tokens = self
            .transformer
            .forward(layout.convert(bottom, Layout::ChannelsLast));
        let x = self
            .decoder
            .forward(Layout::ChannelsLast.convert(tokens, layout), skips);
        let y = self
            .mlp
            .forward(layout.convert(self.head.forward(x), Layout::ChannelsLast));
        if (self.output_scale, self.output_shift) == (1.0, 0.0) {
            y
        } else {
            y * self.output_scale + self.output_shift
        }
    }

    /// Parameters per stage, in the order data flows through them.
    pub fn stages(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("encoder", self.encoder.num_params()),
            ("transformer", self.transformer.num_params()),
            ("decoder", self.decoder.num_params()),
            ("head", self.head.num_params()),
            ("mlp", self.mlp.num_params()),
        ]
    }
}
