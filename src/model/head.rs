use burn::nn::{Dropout, DropoutConfig, Linear};
use burn::prelude::*;
use burn::tensor::activation::leaky_relu;

use super::config::CrmnetConfig;
use super::layers::{dense, dropout};
use super::se::ConvSe;

/// Convolution units without batch normalisation that narrow the decoder output.
#[derive(Module, Debug)]
pub struct ConvHead {
    units: Vec<ConvSe>,
}

impl ConvHead {
    pub fn new(config: &CrmnetConfig, channels_in: usize, device: &Device) -> Self {
        let mut channels = channels_in;
        let units = config
            .head_filters
            .iter()
            .map(|&filters| {
                let unit = ConvSe::new(
                    channels,
                    filters,
                    config.kernel_size,
                    config.se_ratio,
                    false,
                    device,
                );
                channels = filters;
                unit
            })
            .collect();
        Self { units }
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.units.iter().fold(x, |x, unit| unit.forward(x))
    }
}

#[derive(Module, Debug)]
pub struct MlpLayer {
    linear: Linear,
    dropout: Dropout,
}

/// Flatten, LeakyReLU(0.1) hidden layers with dropout, one linear output.
#[derive(Module, Debug)]
pub struct Mlp {
    hidden: Vec<MlpLayer>,
    output: Linear,
}

const LEAKY_SLOPE: f64 = 0.1;

impl Mlp {
    pub fn new(config: &CrmnetConfig, inputs: usize, device: &Device) -> Self {
        let mut width = inputs;
        let hidden = config
            .mlp_units
            .iter()
            .zip(&config.mlp_dropout)
            .map(|(&units, &dropout)| {
                let layer = MlpLayer {
                    linear: dense(width, units, device),
                    dropout: DropoutConfig::new(dropout).init(),
                };
                width = units;
                layer
            })
            .collect();
        Self {
            hidden,
            output: dense(width, 1, device),
        }
    }

    /// `x`: `[batch, length, channels]` (a view will do), flattened position-major as Keras'
    /// `Flatten` does on channels-last tensors, so that imported dense weights line up.
    /// Returns `[batch]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<1> {
        let x: Tensor<2> = x.flatten(1, 2);
        let x = self.hidden.iter().fold(x, |x, layer| {
            dropout(
                &layer.dropout,
                leaky_relu(layer.linear.forward(x), LEAKY_SLOPE),
            )
        });
        self.output.forward(x).flatten(0, 1)
    }
}
