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

/// Whether `norm` normalises `x` by its batch statistics and updates its running ones, as
/// burn's `BatchNorm::forward` decides: on an autodiff device, unless frozen (saliency's model
/// is). Flex's autodiff device lays activations out channels last too ([`Layout`]), so
/// training there must not take the running statistics' map.
fn learns_from_batch(norm: &BatchNorm, x: &Tensor<3>) -> bool {
    x.device().is_autodiff() && norm.training.is_enabled()
}

/// burn's training batch norm (biased batch variance, running statistics moved by
/// `momentum`), channels last. burn's own wants channels on axis 1: given this layout as a
/// transposed view, it copies it to reduce over the other axes and runs its element-wise passes
/// over strided memory (a training step measured slower that way, docs/benchmarks.md);
/// here the reductions run down contiguous rows.
fn batch_norm_train_channels_last(norm: &BatchNorm, x: Tensor<3>) -> Tensor<3> {
    let [batch, length, channels] = x.dims();
    let device = x.device();
    let rows = x.reshape([batch * length, channels]);
    let mean = rows.clone().mean_dim(0);
    let centered = rows - mean.clone();
    let variance = centered.clone().square().mean_dim(0);
    let scale = norm.gamma.val().unsqueeze() / (variance.clone() + norm.epsilon).sqrt();
    let normalised = centered * scale + norm.beta.val().unsqueeze();
    for (running, batch_statistic) in [(&norm.running_mean, mean), (&norm.running_var, variance)] {
        let moved = running
            .value_sync()
            .to_device(&device)
            .mul_scalar(1.0 - norm.momentum)
            + batch_statistic
                .detach()
                .reshape([channels])
                .mul_scalar(norm.momentum);
        running.update(moved.detach());
    }
    normalised.reshape([batch, length, channels])
}

/// Batch normalisation of the gated `x * gate` by the running statistics, channels last: their
/// per-channel affine map, its scale folded into the gate (one pass over the activations fewer
/// than gating, then normalising).
fn gated_norm_channels_last(norm: &BatchNorm, x: Tensor<3>, gate: Tensor<2>) -> Tensor<3> {
    let scale = norm.gamma.val() / (norm.running_var.value() + norm.epsilon).sqrt();
    let shift = norm.beta.val() - norm.running_mean.value() * scale.clone();
    x * (gate * scale.unsqueeze()).unsqueeze_dim(1) + shift.unsqueeze()
}

#[cfg(test)]
mod tests {
    use burn::tensor::Distribution;

    use super::*;
    use crate::model::layers::batch_norm;

    /// The channels-last training batch norm computes burn's (given the same activations
    /// channels first): output, gradients of the input, scale and shift, and the running
    /// statistics after, over a few steps; a random bias and spread per channel, a random
    /// weighting of the outputs so that each one matters differently.
    #[test]
    fn channels_last_training_batch_norm_is_burns() {
        let device = Device::flex().autodiff();
        let [batch, length, channels] = [3, 7, 5];
        let (ours, burns) = (batch_norm(channels, &device), batch_norm(channels, &device));
        for _ in 0..3 {
            let x = Tensor::<3>::random([batch, length, channels], Distribution::Default, &device)
                * Tensor::<1>::random([channels], Distribution::Uniform(0.5, 4.0), &device)
                    .unsqueeze()
                + Tensor::<1>::random([channels], Distribution::Uniform(-3.0, 3.0), &device)
                    .unsqueeze();
            let weighting =
                Tensor::<3>::random([batch, length, channels], Distribution::Default, &device);
            let gradients = |norm: &BatchNorm, forward: &dyn Fn(Tensor<3>) -> Tensor<3>| {
                let input = x.clone().detach().require_grad();
                let output = forward(input.clone());
                let grads = (output.clone() * weighting.clone()).sum().backward();
                [
                    output.flatten::<1>(0, 2),
                    input.grad(&grads).unwrap().flatten::<1>(0, 2),
                    norm.gamma.grad(&grads).unwrap(),
                    norm.beta.grad(&grads).unwrap(),
                    norm.running_mean.value(),
                    norm.running_var.value(),
                ]
            };
            let own = gradients(&ours, &|x| batch_norm_train_channels_last(&ours, x));
            let reference = gradients(&burns, &|x| {
                burns.forward(x.swap_dims(1, 2)).swap_dims(1, 2)
            });
            let names = [
                "output",
                "input",
                "gamma",
                "beta",
                "running mean",
                "running var",
            ];
            for ((own, reference), name) in own.into_iter().zip(reference).zip(names) {
                // Relative to the values' scale: gamma's gradient sums 21 products.
                let scale: f32 = reference.clone().abs().max().into_scalar();
                let difference: f32 = (own - reference).abs().max().into_scalar();
                assert!(
                    difference < 1e-5 * (1.0 + scale),
                    "{name}: {difference} of {scale}"
                );
            }
        }
    }
}
