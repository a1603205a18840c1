use burn::nn::{BatchNorm, Linear};
use burn::prelude::*;
use burn::tensor::activation::{relu, sigmoid};

use super::layers::{SameConv, batch_norm, dense, norm_channels_last, same_conv};

/// Squeeze-excitation: channels re-weighted by a gate computed from their length-wise mean.
#[derive(Module, Debug)]
pub struct SqueezeExcite {
    squeeze: Linear,
    excite: Linear,
}

impl SqueezeExcite {
    pub fn new(channels: usize, ratio: usize, device: &Device) -> Self {
        let hidden = (channels / ratio).max(1);
        Self {
            squeeze: dense(channels, hidden, device),
            excite: dense(hidden, channels, device),
        }
    }

    /// `x`: `[batch, length, channels]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let pooled = x.clone().mean_dim(1).squeeze_dim::<2>(1);
        let gate = sigmoid(self.excite.forward(relu(self.squeeze.forward(pooled))));
        x * gate.unsqueeze_dim::<3>(1)
    }
}

/// The unit every CRMnet stage is built from: `same`-padded convolution with ReLU, then
/// squeeze-excitation, then (in the U-Net body, not in the head) batch normalisation.
#[derive(Module, Debug)]
pub struct ConvSe {
    conv: SameConv,
    se: SqueezeExcite,
    norm: Option<BatchNorm>,
}

impl ConvSe {
    pub fn new(
        channels_in: usize,
        channels_out: usize,
        kernel_size: usize,
        se_ratio: usize,
        normalised: bool,
        device: &Device,
    ) -> Self {
        Self {
            conv: same_conv(channels_in, channels_out, kernel_size, 1, device),
            se: SqueezeExcite::new(channels_out, se_ratio, device),
            norm: normalised.then(|| batch_norm(channels_out, device)),
        }
    }

    /// `x`: `[batch, length, channels]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let x = self.se.forward(relu(self.conv.forward(x)));
        match &self.norm {
            Some(norm) => norm_channels_last(norm, x),
            None => x,
        }
    }
}
