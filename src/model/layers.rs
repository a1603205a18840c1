//! Layer constructors with the conventions of the original Keras model: Glorot-uniform kernels
//! and zero biases (Keras' defaults; burn's own default init is PyTorch's, whose three times
//! smaller variance leaves a deep randomly-initialised CRMnet nearly blind to its input),
//! TensorFlow `same` padding, Keras batch-norm constants.

use burn::module::Param;
use burn::nn::conv::{Conv1d, Conv1dConfig, ConvTranspose1d, ConvTranspose1dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, Linear, LinearConfig, PaddingConfig1d};
use burn::prelude::*;

fn glorot<const D: usize>(
    shape: [usize; D],
    fan_in: usize,
    fan_out: usize,
    device: &Device,
) -> Param<Tensor<D>> {
    Initializer::XavierUniform { gain: 1.0 }.init_with(shape, Some(fan_in), Some(fan_out), device)
}

fn zeros(size: usize, device: &Device) -> Option<Param<Tensor<1>>> {
    Some(Initializer::Zeros.init([size], device))
}

/// A dense layer.
pub fn dense(inputs: usize, outputs: usize, device: &Device) -> Linear {
    let mut linear = LinearConfig::new(inputs, outputs).init(device);
    linear.weight = glorot([inputs, outputs], inputs, outputs, device);
    linear.bias = zeros(outputs, device);
    linear
}

/// A convolution with TensorFlow's `same` padding, which is asymmetric (more on the right)
/// for strided layers; burn's `Same` computes it the same way.
pub fn same_conv(
    channels_in: usize,
    channels_out: usize,
    kernel_size: usize,
    stride: usize,
    device: &Device,
) -> Conv1d {
    let mut conv = Conv1dConfig::new(channels_in, channels_out, kernel_size)
        .with_stride(stride)
        .with_padding(PaddingConfig1d::Same)
        .init(device);
    conv.weight = glorot(
        [channels_out, channels_in, kernel_size],
        channels_in * kernel_size,
        channels_out * kernel_size,
        device,
    );
    conv.bias = zeros(channels_out, device);
    conv
}

/// A stride-2 transposed convolution, unpadded: the decoder crops it to TensorFlow's `same`.
pub fn upsampling_conv(
    channels_in: usize,
    channels_out: usize,
    kernel_size: usize,
    device: &Device,
) -> ConvTranspose1d {
    let mut conv = ConvTranspose1dConfig::new([channels_in, channels_out], kernel_size)
        .with_stride(2)
        .init(device);
    conv.weight = glorot(
        [channels_in, channels_out, kernel_size],
        channels_out * kernel_size,
        channels_in * kernel_size,
        device,
    );
    conv.bias = zeros(channels_out, device);
    conv
}

/// Keras' BatchNormalization defaults, which the published weights were trained with.
pub fn batch_norm(channels: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(channels)
        .with_epsilon(1e-3)
        .with_momentum(0.01)
        .init(device)
}
