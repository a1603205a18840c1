use burn::module::ModuleVisitor;
use burn::module::Param;
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
}

/// Parameter counts per stage. `total` includes batch-norm running statistics, which are
/// stored with the weights but not trained; `trainable` excludes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParamCounts {
    pub encoder: usize,
    pub transformer: usize,
    pub decoder: usize,
    pub head: usize,
    pub mlp: usize,
    pub total: usize,
    pub trainable: usize,
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
        self.mlp
            .forward(layout.convert(self.head.forward(x), Layout::ChannelsLast))
    }

    pub fn param_counts(&self) -> ParamCounts {
        let mut counter = ParamCounter::default();
        self.visit(&mut counter);
        ParamCounts {
            encoder: self.encoder.num_params(),
            transformer: self.transformer.num_params(),
            decoder: self.decoder.num_params(),
            head: self.head.num_params(),
            mlp: self.mlp.num_params(),
            total: counter.total,
            trainable: counter.total - counter.running_statistics,
        }
    }
}

#[derive(Default)]
struct ParamCounter {
    path: Vec<String>,
    total: usize,
    running_statistics: usize,
}

impl ModuleVisitor for ParamCounter {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let count = param.lazy_shape().num_elements();
        self.total += count;
        if self
            .path
            .last()
            .is_some_and(|name| name.starts_with("running_"))
        {
            self.running_statistics += count;
        }
    }
}
