use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig1d};
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::prelude::*;
use burn::tensor::activation::{relu, sigmoid};

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
            squeeze: LinearConfig::new(channels, hidden).init(device),
            excite: LinearConfig::new(hidden, channels).init(device),
        }
    }

    /// `x`: `[batch, channels, length]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let pooled = x.clone().mean_dim(2).squeeze_dim::<2>(2);
        let gate = sigmoid(self.excite.forward(relu(self.squeeze.forward(pooled))));
        x * gate.unsqueeze_dim::<3>(2)
    }
}

/// The unit every CRMnet stage is built from: `same`-padded convolution with ReLU, then
/// squeeze-excitation, then (in the U-Net body, not in the head) batch normalisation.
#[derive(Module, Debug)]
pub struct ConvSe {
    conv: Conv1d,
    se: SqueezeExcite,
    norm: Option<BatchNorm>,
}

/// Keras' BatchNormalization defaults, which the published weights were trained with.
pub(crate) fn keras_batch_norm(channels: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(channels)
        .with_epsilon(1e-3)
        .with_momentum(0.01)
        .init(device)
}

impl ConvSe {
    pub fn new(
        channels_in: usize,
        channels_out: usize,
        kernel_size: usize,
        se_ratio: usize,
        batch_norm: bool,
        device: &Device,
    ) -> Self {
        Self {
            conv: same_conv(channels_in, channels_out, kernel_size, 1, device),
            se: SqueezeExcite::new(channels_out, se_ratio, device),
            norm: batch_norm.then(|| keras_batch_norm(channels_out, device)),
        }
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let x = self.se.forward(relu(self.conv.forward(x)));
        match &self.norm {
            Some(norm) => norm.forward(x),
            None => x,
        }
    }
}

/// A convolution with TensorFlow's `same` padding, which is asymmetric (more on the right)
/// for strided layers; burn's `Same` computes it the same way.
pub(crate) fn same_conv(
    channels_in: usize,
    channels_out: usize,
    kernel_size: usize,
    stride: usize,
    device: &Device,
) -> Conv1d {
    Conv1dConfig::new(channels_in, channels_out, kernel_size)
        .with_stride(stride)
        .with_padding(PaddingConfig1d::Same)
        .init(device)
}
