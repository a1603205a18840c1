//! Initialisers and constants of the original Keras model: Glorot-uniform kernels and zero
//! biases (Keras' defaults; burn's own default init is PyTorch's, whose three times smaller
//! variance leaves a deep randomly-initialised CRMnet nearly blind to its input), and Keras'
//! batch-norm constants, which the published weights were trained with.

use burn::module::Param;
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, Linear, LinearConfig};
use burn::prelude::*;

pub(super) fn glorot<const D: usize>(
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

/// He-normal (PyTorch's `kaiming_normal_` and Keras' `he_normal`, fan in, ReLU gain).
pub fn he_normal() -> Initializer {
    Initializer::KaimingNormal {
        gain: 2f64.sqrt(),
        fan_out_only: false,
    }
}

/// A dense layer as PyTorch models initialise theirs for ReLU: He-normal weights, zero bias.
pub fn he_dense(inputs: usize, outputs: usize, device: &Device) -> Linear {
    Linear {
        weight: he_normal().init_with([inputs, outputs], Some(inputs), None, device),
        bias: zeros(outputs, device),
    }
}

/// A dense layer.
pub fn dense(inputs: usize, outputs: usize, device: &Device) -> Linear {
    let mut linear = LinearConfig::new(inputs, outputs).init(device);
    linear.weight = glorot([inputs, outputs], inputs, outputs, device);
    linear.bias = zeros(outputs, device);
    linear
}

/// Keras' BatchNormalization defaults, which the published weights were trained with.
pub fn batch_norm(channels: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(channels)
        .with_epsilon(1e-3)
        .with_momentum(0.01)
        .init(device)
}
