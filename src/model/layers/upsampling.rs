//! Stride-2 transposed convolution with TensorFlow's `same` output, and its polyphase form: one
//! batch-folded product on flex.

use burn::module::Param;
use burn::nn::Initializer;
use burn::prelude::*;
use burn::tensor::module::conv_transpose1d;
use burn::tensor::ops::ConvTransposeOptions;

use super::conv::batch_folded_windows;
use super::init::glorot;
use super::layout::{Layout, WeightLayout};

/// A stride-2 transposed convolution with TensorFlow's `same` output: exactly `2 * length`
/// positions. Its record is burn's `ConvTranspose1d`'s.
#[derive(Module, Debug)]
pub struct UpsamplingConv {
    /// `[channels_in, channels_out, kernel_size]`, burn's conv_transpose1d layout.
    weight: Param<Tensor<3>>,
    bias: Param<Tensor<1>>,
    /// The flex path's kernel, kept like [`SameConv`]'s.
    #[module(skip)]
    polyphase: WeightLayout<Polyphase>,
}

/// A stride-2 transposed convolution as one ordinary convolution with twice the output
/// channels: output `2m + p` (phase `p`) sums input positions `m - r` through kernel tap
/// `j = 2r + p + crop`, so both phases of output pair `m` read one window of input positions
/// around `m`, and the product's rows `[m][phase][channel]` are already the interleaved output.
#[derive(Debug, Clone)]
struct Polyphase {
    /// `[window * channels_in, 2 * channels_out]`; taps a phase lacks are zero blocks.
    kernel_matrix: Tensor<2>,
    /// The bias, once per phase.
    bias: Tensor<1>,
    window: usize,
    /// Input positions the window reaches before `m` (and `window - 1 - before` after it).
    before: usize,
}

/// An [`UpsamplingConv`] with Glorot-uniform kernel and zero bias.
pub fn upsampling_conv(
    channels_in: usize,
    channels_out: usize,
    kernel_size: usize,
    device: &Device,
) -> UpsamplingConv {
    UpsamplingConv {
        weight: glorot(
            [channels_in, channels_out, kernel_size],
            channels_out * kernel_size,
            channels_in * kernel_size,
            device,
        ),
        bias: Initializer::Zeros.init([channels_out], device),
        polyphase: WeightLayout::default(),
    }
}

impl UpsamplingConv {
    fn kernel_size(&self) -> usize {
        self.weight.dims()[2]
    }

    /// `[batch, channels_in, length]` or `[batch, length, channels_in]` by the device's
    /// [`Layout`], to `2 * length` positions in the same layout.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        match Layout::on(&x.device()) {
            Layout::ChannelsFirst => self.forward_channels_first(x),
            Layout::ChannelsLast => self.forward_channels_last(x),
        }
    }

    /// TensorFlow's `same` crops `crop()` positions on the left of the full
    /// `2 * (length - 1) + kernel_size` and the rest on the right (a 1-wide kernel's full
    /// output is one short: its last position is the bias alone). burn's symmetric `padding`
    /// cannot express that, so the full output is cropped.
    fn crop(&self) -> usize {
        self.kernel_size().saturating_sub(2) / 2
    }

    fn forward_channels_first(&self, x: Tensor<3>) -> Tensor<3> {
        let length = x.dims()[2];
        let missing = 2usize.saturating_sub(self.kernel_size());
        let options = ConvTransposeOptions::new([2], [0], [missing], [1], 1);
        conv_transpose1d(x, self.weight.val(), Some(self.bias.val()), options).narrow(
            2,
            self.crop(),
            2 * length,
        )
    }

    /// The polyphase form ([`Polyphase`]) on flex's batch-folded product, like
    /// [`SameConv::forward`]; burn-flex's conv_transpose1d needs the activations channels
    /// first (two transposes) and scatters its products into the output.
    fn forward_channels_last(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, length, _] = x.dims();
        let channels_out = self.weight.dims()[1];
        let polyphase = self.polyphase.get(&x.device(), || self.polyphase());
        let (windows, rows_per_sequence) = batch_folded_windows(
            x,
            polyphase.window,
            1,
            polyphase.before,
            polyphase.window - 1 - polyphase.before,
        );
        (windows.matmul(polyphase.kernel_matrix) + polyphase.bias.unsqueeze())
            .reshape([batch, 2 * rows_per_sequence, channels_out])
            .narrow(1, 0, 2 * length)
    }

    fn polyphase(&self) -> Polyphase {
        let [channels_in, channels_out, kernel_size] = self.weight.dims();
        let crop = self.crop() as isize;
        // Tap j serves phase (j - crop) mod 2 at input offset r = (j - crop - phase) / 2.
        let offset = |tap: usize| (tap as isize - crop).div_euclid(2);
        let (first, last) = (offset(0), offset(kernel_size - 1));
        let window = (last - first + 1) as usize;
        let weight = self.weight.val();
        let device = weight.device();
        // Window position q reads input position m - last + q, i.e. offset r = last - q.
        let rows: Vec<Tensor<2>> = (0..window as isize)
            .map(|q| {
                let phases = (0..2)
                    .map(|phase| {
                        let tap = 2 * (last - q) + phase + crop;
                        if (0..kernel_size as isize).contains(&tap) {
                            weight
                                .clone()
                                .narrow(2, tap as usize, 1)
                                .reshape([channels_in, channels_out])
                        } else {
                            Tensor::zeros([channels_in, channels_out], &device)
                        }
                    })
                    .collect();
                Tensor::cat(phases, 1)
            })
            .collect();
        let bias = self.bias.val();
        Polyphase {
            kernel_matrix: Tensor::cat(rows, 0),
            bias: Tensor::cat(vec![bias.clone(), bias], 0),
            window,
            before: last as usize,
        }
    }
}

#[cfg(test)]
mod tests {

    use super::super::testing::{assert_gradients_agree, channels_last_against_first, random_bias};
    use super::*;

    /// The polyphase product computes burn's transposed convolution, cropped: every odd kernel
    /// size the configuration allows around the model's, odd and even lengths, a random bias.
    #[test]
    fn polyphase_upsampling_is_the_cropped_transposed_convolution() {
        let device = Device::flex();
        for kernel_size in [1, 3, 5, 7, 11, 13] {
            for length in [1, 7, 14] {
                let mut conv = upsampling_conv(5, 3, kernel_size, &device);
                conv.bias = random_bias(3, &device);
                let (polyphase, difference) = channels_last_against_first(
                    [2, 5, length],
                    |x| conv.forward_channels_first(x),
                    |x| conv.forward_channels_last(x),
                );
                assert_eq!(polyphase.dims(), [2, 3, 2 * length]);
                assert!(
                    difference < 1e-5,
                    "kernel {kernel_size}, length {length}: {difference}"
                );
            }
        }
    }

    /// On flex's autodiff device the polyphase product has the gradients of burn's transposed
    /// convolution.
    #[test]
    fn on_the_autodiff_device_the_polyphase_product_has_burns_gradients() {
        let device = Device::flex().autodiff();
        for kernel_size in [1, 3, 11] {
            for length in [1usize, 7, 14] {
                let upsampling = upsampling_conv(5, 3, kernel_size, &device);
                assert_gradients_agree(
                    &format!("upsampling, kernel {kernel_size}, length {length}"),
                    [2, 5, length],
                    &upsampling.weight,
                    |x| upsampling.forward_channels_first(x),
                    |x| upsampling.forward_channels_last(x),
                );
            }
        }
    }
}
