//! Convolution with TensorFlow's `same` padding and its ReLU, and the im2col matrix that makes
//! a whole batch's convolution one matrix product on flex.

use burn::module::Param;
use burn::nn::Initializer;
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::module::conv1d;
use burn::tensor::ops::{ConvOptions, PadMode};

use super::init::{glorot, he_normal};
use super::layout::{Layout, WeightLayout};

/// A convolution with TensorFlow's `same` padding (asymmetric, more on the right, for strided
/// layers; PyTorch's `Conv2dSame` pads the same way), and the ReLU that follows every CRMnet
/// convolution unless built without one. Its record is burn's `Conv1d`'s.
#[derive(Module, Debug)]
pub struct SameConv {
    /// `[channels_out, channels_in, kernel_size]`, burn's conv1d layout.
    weight: Param<Tensor<3>>,
    bias: Param<Tensor<1>>,
    stride: usize,
    /// Whether the ReLU follows (CRMnet), or a batch normalisation comes first (Camformer).
    relu: bool,
    /// The weight as the `[kernel_size * channels_in, channels_out]` matrix of the flex path:
    /// laying it out again on every call costs as much as a whole batch-1 product.
    #[module(skip)]
    kernel_matrix: WeightLayout<Tensor<2>>,
}

/// A [`SameConv`] with ReLU, Glorot-uniform kernel and zero bias (Keras' defaults).
pub fn same_conv(
    channels_in: usize,
    channels_out: usize,
    kernel_size: usize,
    stride: usize,
    device: &Device,
) -> SameConv {
    SameConv {
        weight: glorot(
            [channels_out, channels_in, kernel_size],
            channels_in * kernel_size,
            channels_out * kernel_size,
            device,
        ),
        bias: Initializer::Zeros.init([channels_out], device),
        stride,
        relu: true,
        kernel_matrix: WeightLayout::default(),
    }
}

/// A stride-1 [`SameConv`] without activation, its kernel He-normal (PyTorch's
/// `kaiming_normal_`, fan in) and zero bias: the convolution of PyTorch models that normalise
/// before the ReLU.
pub fn same_conv_he(
    channels_in: usize,
    channels_out: usize,
    kernel_size: usize,
    device: &Device,
) -> SameConv {
    SameConv {
        weight: he_normal().init_with(
            [channels_out, channels_in, kernel_size],
            Some(channels_in * kernel_size),
            None,
            device,
        ),
        bias: Initializer::Zeros.init([channels_out], device),
        stride: 1,
        relu: false,
        kernel_matrix: WeightLayout::default(),
    }
}

impl SameConv {
    /// `x` in its device's [`Layout`], `length` positions to `ceil(length / stride)`.
    ///
    /// Channels last (flex, natively: see `platform::BATCH_FOLDED_CONV`) the convolution is one matrix
    /// product over the whole batch: the padded sequences, laid end to end, are viewed through
    /// `unfold` as their im2col matrix without being copied (window rows overlap in memory,
    /// and flex's matmul takes any strides), so the kernel is packed once rather than once per
    /// sequence as in flex's own conv1d; the few windows that straddle two sequences are
    /// computed and dropped. On flex's autodiff device too: `unfold`'s backward is a loop over
    /// windows, yet the training step measured faster than with conv1d (docs/benchmarks.md).
    /// Elsewhere burn's conv1d runs: GPU matmuls refuse overlapping rows.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        match Layout::on(&x.device()) {
            Layout::ChannelsFirst => self.forward_channels_first(x),
            Layout::ChannelsLast => self.forward_channels_last(x),
        }
    }

    /// TensorFlow's `same` padding of `length` positions: `(left, right)` zeros and the output
    /// length.
    fn same_padding(&self, length: usize) -> (usize, usize, usize) {
        let kernel_size = self.weight.dims()[2];
        let out_length = length.div_ceil(self.stride);
        let padding = ((out_length - 1) * self.stride + kernel_size).saturating_sub(length);
        (padding / 2, padding - padding / 2, out_length)
    }

    fn forward_channels_first(&self, x: Tensor<3>) -> Tensor<3> {
        let (left, right, _) = self.same_padding(x.dims()[2]);
        // conv1d pads symmetrically itself; only strided layers need the extra right zero.
        let padded = match right - left {
            0 => x,
            _ => x.pad([(0, 1)], PadMode::Constant(0.0)),
        };
        let options = ConvOptions::new([self.stride], [left], [1], 1);
        self.activate(conv1d(
            padded,
            self.weight.val(),
            Some(self.bias.val()),
            options,
        ))
    }

    fn activate<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        if self.relu { relu(x) } else { x }
    }

    fn forward_channels_last(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, length, _] = x.dims();
        let [channels_out, channels_in, kernel_size] = self.weight.dims();
        let (left, right, out_length) = self.same_padding(length);
        let (windows, rows_per_sequence) =
            batch_folded_windows(x, kernel_size, self.stride, left, right);
        // Windows are position-major (channels innermost), hence `[k, in, out]`.
        let kernel_matrix = self.kernel_matrix.get(&windows.device(), || {
            self.weight
                .val()
                .permute([2, 1, 0])
                .reshape([kernel_size * channels_in, channels_out])
        });
        // The ReLU runs before the crop, over contiguous rows (faster than over the cropped view).
        self.activate(windows.matmul(kernel_matrix) + self.bias.val().unsqueeze())
            .reshape([batch, rows_per_sequence, channels_out])
            .narrow(1, 0, out_length)
    }
}

/// The im2col matrix of a channels-last batch `[batch, length, channels]` for a convolution
/// with `left` and `right` zeros of padding: a view, not a copy, of the padded sequences laid
/// end to end (window rows overlap in memory, and flex's matmul takes any strides). Row
/// `i * rows_per_sequence + j` holds the `kernel_size` positions (channels innermost) of output
/// `j` of sequence `i`; the rows past a sequence's outputs straddle two sequences, to be
/// computed and dropped. Returns the matrix and `rows_per_sequence`.
pub(super) fn batch_folded_windows(
    x: Tensor<3>,
    kernel_size: usize,
    stride: usize,
    left: usize,
    right: usize,
) -> (Tensor<2>, usize) {
    let [batch, length, channels] = x.dims();
    // A whole number of strides per sequence puts every sequence's first window on a row;
    // all-zero extra sequences give the last sequence's windows their full width.
    // Neighbouring sequences share their zeros: the right padding of one is the left padding
    // of the next, so that only `max(left, right)` rather than `left + right` windows per
    // sequence straddle two sequences, which matters most at the deepest levels, where the
    // kernel is nearly as wide as the sequence.
    let padded_length = (length + left.max(right)).next_multiple_of(stride);
    let extra_sequences = kernel_size.saturating_sub(stride).div_ceil(padded_length);
    let padded = x.pad(
        [
            (0, extra_sequences),
            (left, padded_length - length - left),
            (0, 0),
        ],
        PadMode::Constant(0.0),
    );
    let rows_per_sequence = padded_length / stride;
    let rows = batch * rows_per_sequence;
    // Cut the flat input to exactly `rows` windows rather than the windows to `rows`: on an
    // autodiff device a cut's backward pass writes into zeros of the cut tensor's size, and the
    // windows are `kernel_size` times the input's.
    let (window, step) = (kernel_size * channels, stride * channels);
    let windows = padded
        .reshape([(batch + extra_sequences) * padded_length * channels])
        .narrow(0, 0, (rows * step + window).saturating_sub(step))
        .unfold::<2, _>(0, window, step);
    (windows, rows_per_sequence)
}

#[cfg(test)]
mod tests {

    use super::super::testing::{assert_gradients_agree, channels_last_against_first, random_bias};
    use super::*;

    /// The batch-folded product computes burn's conv1d with TensorFlow's `same` padding:
    /// kernels wider than the sequence (their windows reach into the extra zero sequences),
    /// even kernels (Camformer's, one more zero on the right), strides 1 and 2, odd and even
    /// lengths.
    #[test]
    fn batch_folded_convolution_is_the_same_padded_convolution() {
        let device = Device::flex();
        for kernel_size in [1, 3, 10, 11, 13] {
            for stride in [1, 2] {
                for length in [1usize, 6, 7, 14] {
                    let mut conv = same_conv(5, 3, kernel_size, stride, &device);
                    conv.bias = random_bias(3, &device);
                    let (folded, difference) = channels_last_against_first(
                        [3, 5, length],
                        |x| conv.forward_channels_first(x),
                        |x| conv.forward_channels_last(x),
                    );
                    assert_eq!(folded.dims(), [3, 3, length.div_ceil(stride)]);
                    assert!(
                        difference < 1e-5,
                        "kernel {kernel_size}, stride {stride}, length {length}: {difference}"
                    );
                }
            }
        }
    }

    /// On flex's autodiff device (training and saliency) the batch-folded product has the
    /// gradients of burn's conv1d.
    #[test]
    fn on_the_autodiff_device_the_batch_folded_product_has_burns_gradients() {
        let device = Device::flex().autodiff();
        for kernel_size in [1, 3, 11] {
            for length in [1usize, 7, 14] {
                for stride in [1, 2] {
                    let conv = same_conv(5, 3, kernel_size, stride, &device);
                    assert_gradients_agree(
                        &format!("conv, kernel {kernel_size}, stride {stride}, length {length}"),
                        [3, 5, length],
                        &conv.weight,
                        |x| conv.forward_channels_first(x),
                        |x| conv.forward_channels_last(x),
                    );
                }
            }
        }
    }
}
