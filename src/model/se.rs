use burn::nn::{BatchNorm, Linear};
use burn::prelude::*;
use burn::tensor::activation::{relu, sigmoid};

use super::layers::{SameConvRelu, batch_norm, dense, same_conv};

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

    /// The `[batch, channels]` gate of `x`: `[batch, length, channels]`.
    pub fn gate(&self, x: Tensor<3>) -> Tensor<2> {
        let pooled = x.mean_dim(1).squeeze_dim::<2>(1);
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

    /// `x`: `[batch, length, channels]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let x = self.conv.forward(x);
        let gate = self.se.gate(x.clone());
        match &self.norm {
            Some(norm) => gated_norm(norm, x, gate),
            None => x * gate.unsqueeze_dim(1),
        }
    }
}

/// Batch normalisation of the gated `x * gate`, channels last. Outside autodiff it is the
/// running statistics' per-channel affine map with its scale folded into the gate: one pass
/// over the activations fewer. burn's layer (which wants the channels second, given as views)
/// runs where batch statistics may be needed.
fn gated_norm(norm: &BatchNorm, x: Tensor<3>, gate: Tensor<2>) -> Tensor<3> {
    if x.device().is_autodiff() {
        let gated = x * gate.unsqueeze_dim(1);
        return norm.forward(gated.swap_dims(1, 2)).swap_dims(1, 2);
    }
    let scale = norm.gamma.val() / (norm.running_var.value() + norm.epsilon).sqrt();
    let shift = norm.beta.val() - norm.running_mean.value() * scale.clone();
    x * (gate * scale.unsqueeze()).unsqueeze_dim(1) + shift.unsqueeze()
}
