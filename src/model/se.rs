//! Squeeze-excitation and the convolution unit CRMnet is built from.

use burn::nn::{BatchNorm, Linear};
use burn::prelude::*;
use burn::tensor::activation::{relu, sigmoid};

use super::layers::{
    Layout, SameConv, batch_norm, batch_norm_train_channels_last, dense, learns_from_batch,
    same_conv,
};

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

    /// `x` in its device's [`Layout`].
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let layout = Layout::on(&x.device());
        let x = self.conv.forward(x);
        let gate = self.se.gate(x.clone());
        let gated = |x: Tensor<3>, gate: Tensor<2>| x * gate.unsqueeze_dim(layout.length_axis());
        match (&self.norm, layout) {
            (Some(norm), Layout::ChannelsLast) if learns_from_batch(norm, &x) => {
                batch_norm_train_channels_last(norm, gated(x, gate))
            }
            (Some(norm), Layout::ChannelsLast) => gated_norm_channels_last(norm, x, gate),
            (Some(norm), Layout::ChannelsFirst) => norm.forward(gated(x, gate)),
            (None, _) => gated(x, gate),
        }
    }
}

/// Batch normalisation of the gated `x * gate` by the running statistics, channels last: their
/// per-channel affine map, its scale folded into the gate (one pass over the activations fewer
/// than gating, then normalising).
fn gated_norm_channels_last(norm: &BatchNorm, x: Tensor<3>, gate: Tensor<2>) -> Tensor<3> {
    let scale = norm.gamma.val() / (norm.running_var.value() + norm.epsilon).sqrt();
    let shift = norm.beta.val() - norm.running_mean.value() * scale.clone();
    x * (gate * scale.unsqueeze()).unsqueeze_dim(1) + shift.unsqueeze()
}
