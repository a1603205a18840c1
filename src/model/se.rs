use burn::nn::{BatchNorm, Linear};
use burn::prelude::*;
use burn::tensor::activation::{relu, sigmoid};

use super::layers::{Layout, SameConvRelu, batch_norm, dense, same_conv};

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

    /// The `[batch, channels]` gate of `x` (in its device's [`Layout`]).
    pub fn gate(&self, x: Tensor<3>) -> Tensor<2> {
        let length_axis = Layout::on(&x.device()).length_axis();
        let pooled = x.mean_dim(length_axis).flatten(1, 2);
        sigmoid(self.excite.forward(relu(self.squeeze.forward(pooled))))
    }
}

/// The unit every CRMnet stage is built from: `same`-padded convolution with ReLU, then
/// squeeze-excitation, then (in the U-Net body, not in the head) batch normalisation.
#[derive(Module, Debug)]
pub struct ConvSe {
    conv: SameConvRelu,
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

    /// `x` in its device's [`Layout`].
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let layout = Layout::on(&x.device());
        let x = self.conv.forward(x);
        let gate = self.se.gate(x.clone());
        if let (Some(norm), Layout::ChannelsLast) = (&self.norm, layout) {
            return gated_norm_channels_last(norm, x, gate);
        }
        let gated = x * gate.unsqueeze_dim(layout.length_axis());
        match &self.norm {
            Some(norm) => norm.forward(gated),
            None => gated,
        }
    }
}

/// Batch normalisation of the gated `x * gate`, channels last, hence never on an autodiff
/// device ([`Layout`]): the running statistics' per-channel affine map, its scale folded into
/// the gate (one pass over the activations fewer than gating, then normalising).
fn gated_norm_channels_last(norm: &BatchNorm, x: Tensor<3>, gate: Tensor<2>) -> Tensor<3> {
    let scale = norm.gamma.val() / (norm.running_var.value() + norm.epsilon).sqrt();
    let shift = norm.beta.val() - norm.running_mean.value() * scale.clone();
    x * (gate * scale.unsqueeze()).unsqueeze_dim(1) + shift.unsqueeze()
}
