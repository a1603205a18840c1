//! Layers with the conventions of the original Keras model, and their channels-last forward
//! passes on flex: initialisers and constants (`init`), where activations live (`layout`),
//! `same`-padded convolution and its batch-folded product (`conv`), transposed convolution and
//! its polyphase form (`upsampling`), batch normalisation in either layout (`norm`), max-pooling
//! (`pool`) and dropout (`dropout`).

mod conv;
mod dropout;
mod init;
mod layout;
mod norm;
mod pool;
mod upsampling;

pub use conv::{SameConv, same_conv, same_conv_he};
pub use dropout::dropout;
pub use init::{batch_norm, dense, he_dense, he_normal};
pub use layout::Layout;
pub use norm::{batch_norm_train_channels_last, learns_from_batch, normalise};
pub use pool::max_pool;
pub use upsampling::{UpsamplingConv, upsampling_conv};

/// Helpers of the layers' tests: random inputs through both layouts, gradients compared.
#[cfg(test)]
mod testing {
    use burn::module::Param;
    use burn::prelude::*;
    use burn::tensor::Distribution;

    pub fn random_bias(channels: usize, device: &Device) -> Param<Tensor<1>> {
        Param::from_tensor(Tensor::random([channels], Distribution::Default, device))
    }

    /// A random channels-first batch through both forward paths of a layer: the channels-last
    /// path's output (back in channels-first layout) and its largest difference from the other.
    pub fn channels_last_against_first(
        shape: [usize; 3],
        channels_first: impl Fn(Tensor<3>) -> Tensor<3>,
        channels_last: impl Fn(Tensor<3>) -> Tensor<3>,
    ) -> (Tensor<3>, f32) {
        let x = Tensor::<3>::random(shape, Distribution::Default, &Device::flex());
        let expected = channels_first(x.clone());
        let last = channels_last(x.swap_dims(1, 2)).swap_dims(1, 2);
        let difference = (last.clone() - expected).abs().max().into_scalar();
        (last, difference)
    }

    /// Asserts that the gradients (input and weight) of a layer's channels-last path on flex's
    /// autodiff device (training and saliency run it: `unfold`'s backward, the kernel layouts'
    /// own) equal those of its channels-first path on burn's convolutions.
    pub fn assert_gradients_agree(
        layer: &str,
        shape: [usize; 3],
        weight: &Param<Tensor<3>>,
        channels_first: impl Fn(Tensor<3>) -> Tensor<3>,
        channels_last: impl Fn(Tensor<3>) -> Tensor<3>,
    ) {
        let device = Device::flex().autodiff();
        let x = Tensor::<3>::random(shape, Distribution::Default, &device);
        // A random weighting of the outputs, so that every output position matters differently.
        let output_shape = channels_first(x.clone()).dims();
        let weighting = Tensor::<3>::random(output_shape, Distribution::Default, &device);
        let gradients = |forward: &dyn Fn(Tensor<3>) -> Tensor<3>| {
            let input = x.clone().detach().require_grad();
            let output = forward(input.clone());
            let grads = (output * weighting.clone()).sum().backward();
            (input.grad(&grads).unwrap(), weight.grad(&grads).unwrap())
        };
        let (input_first, weight_first) = gradients(&channels_first);
        let (input_last, weight_last) =
            gradients(&|x: Tensor<3>| channels_last(x.swap_dims(1, 2)).swap_dims(1, 2));
        let differences: [f32; 2] = [
            (input_last - input_first).abs().max().into_scalar(),
            (weight_last - weight_first).abs().max().into_scalar(),
        ];
        assert!(
            differences.iter().all(|d| *d < 1e-4),
            "{layer}: {differences:?}"
        );
    }
}
