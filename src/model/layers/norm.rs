//! Batch normalisation in either activation layout: burn's where channels come first, its
//! training and inference maps computed down contiguous rows where they come last.

use burn::nn::BatchNorm;
use burn::prelude::*;

use super::layout::Layout;

/// `norm` applied to `x` in its device's [`Layout`], as burn's `BatchNorm::forward` would to
/// the same activations channels first: batch statistics (and moved running ones) while
/// training, the running statistics otherwise.
pub fn normalise(norm: &BatchNorm, x: Tensor<3>) -> Tensor<3> {
    match Layout::on(&x.device()) {
        Layout::ChannelsFirst => norm.forward(x),
        Layout::ChannelsLast if learns_from_batch(norm, &x) => {
            batch_norm_train_channels_last(norm, x)
        }
        Layout::ChannelsLast => {
            let scale = norm.gamma.val() / (norm.running_var.value() + norm.epsilon).sqrt();
            let shift = norm.beta.val() - norm.running_mean.value() * scale.clone();
            x * scale.unsqueeze() + shift.unsqueeze()
        }
    }
}

/// Whether `norm` normalises `x` by its batch statistics and updates its running ones, as
/// burn's `BatchNorm::forward` decides: on an autodiff device, unless frozen (saliency's model
/// is). Flex's autodiff device lays activations out channels last too ([`Layout`]), so
/// training there must not take the running statistics' map.
pub fn learns_from_batch(norm: &BatchNorm, x: &Tensor<3>) -> bool {
    x.device().is_autodiff() && norm.training.is_enabled()
}

/// burn's training batch norm (biased batch variance, running statistics moved by
/// `momentum`), channels last. burn's own wants channels on axis 1: given this layout as a
/// transposed view, it copies it to reduce over the other axes and runs its element-wise passes
/// over strided memory (a training step measured slower that way, docs/benchmarks.md);
/// here the reductions run down contiguous rows.
pub fn batch_norm_train_channels_last(norm: &BatchNorm, x: Tensor<3>) -> Tensor<3> {
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

#[cfg(test)]
mod tests {
    use burn::tensor::Distribution;

    use super::super::batch_norm;
    use super::*;

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

    /// Inference with running statistics, channels last, is burn's map channels first.
    #[test]
    fn channels_last_inference_batch_norm_is_burns() {
        let device = Device::flex();
        let channels = 5;
        let mut norm = batch_norm(channels, &device);
        let random = |low, high| {
            burn::module::Param::from_tensor(Tensor::<1>::random(
                [channels],
                Distribution::Uniform(low, high),
                &device,
            ))
        };
        norm.gamma = random(0.5, 2.0);
        norm.beta = random(-1.0, 1.0);
        norm.running_mean = burn::module::RunningState::new(Tensor::<1>::random(
            [channels],
            Distribution::Uniform(-2.0, 2.0),
            &device,
        ));
        norm.running_var = burn::module::RunningState::new(Tensor::<1>::random(
            [channels],
            Distribution::Uniform(0.5, 3.0),
            &device,
        ));
        let x = Tensor::<3>::random([3, channels, 7], Distribution::Default, &device);
        let expected = norm.forward(x.clone());
        let ours = normalise(&norm, x.swap_dims(1, 2)).swap_dims(1, 2);
        let difference: f32 = (ours - expected).abs().max().into_scalar();
        assert!(difference < 1e-5, "{difference}");
    }
}
