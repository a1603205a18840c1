//! Layer constructors with the conventions of the original Keras model: Glorot-uniform kernels
//! and zero biases (Keras' defaults; burn's own default init is PyTorch's, whose three times
//! smaller variance leaves a deep randomly-initialised CRMnet nearly blind to its input),
//! TensorFlow `same` padding, Keras batch-norm constants; and their channels-last forward passes.

use std::sync::OnceLock;

use burn::module::Param;
use burn::nn::conv::{ConvTranspose1d, ConvTranspose1dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::module::conv1d;
use burn::tensor::ops::{ConvOptions, PadMode};

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

/// Whether convolutions on flex run as one batch-folded product ([`SameConvRelu::forward`]).
/// Natively it made the model 1.5-2x faster than flex's conv1d (README, Benchmarks); in wasm
/// (one thread, 128-bit SIMD) it measured no faster (`node pkg/bench.mjs 512`: 91-106 against
/// 84-115 sequences/s), so wasm keeps the simpler conv1d.
const BATCH_FOLDED_CONV: bool = cfg!(not(target_arch = "wasm32"));

/// How the network lays out its activations, chosen by where it runs. Channels last
/// (`[batch, length, channels]`, the Keras model's layout) where convolutions are the
/// batch-folded product ([`SameConvRelu::forward`]): per-channel work then runs over contiguous
/// rows, and the transformer and the flatten want it anyway. Channels first
/// (`[batch, channels, length]`) where burn's conv1d runs (autodiff devices, GPUs, wasm), which
/// would otherwise transpose around every convolution and batch norm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    ChannelsFirst,
    ChannelsLast,
}

impl Layout {
    pub fn on(device: &Device) -> Self {
        if BATCH_FOLDED_CONV && *device == Device::flex() {
            Layout::ChannelsLast
        } else {
            Layout::ChannelsFirst
        }
    }

    pub fn channel_axis(self) -> usize {
        match self {
            Layout::ChannelsFirst => 1,
            Layout::ChannelsLast => 2,
        }
    }

    pub fn length_axis(self) -> usize {
        3 - self.channel_axis()
    }

    /// `x`, laid out as `self`, as a view laid out as `to`.
    pub fn convert(self, x: Tensor<3>, to: Layout) -> Tensor<3> {
        if self == to { x } else { x.swap_dims(1, 2) }
    }
}

/// A convolution with TensorFlow's `same` padding (asymmetric, more on the right, for strided
/// layers) and the ReLU that follows every CRMnet convolution. Its record is burn's `Conv1d`'s.
#[derive(Module, Debug)]
pub struct SameConvRelu {
    /// `[channels_out, channels_in, kernel_size]`, burn's conv1d layout.
    weight: Param<Tensor<3>>,
    bias: Param<Tensor<1>>,
    stride: usize,
    /// The weight as the `[kernel_size * channels_in, channels_out]` matrix of the flex path,
    /// made on first use: laying it out again on every call costs as much as a whole batch-1
    /// product. Weights never change after a forward pass on flex (training updates them on
    /// the autodiff device, whose path does not use this).
    #[module(skip)]
    kernel_matrix: OnceLock<Tensor<2>>,
}

/// A [`SameConvRelu`] with Glorot-uniform kernel and zero bias.
pub fn same_conv(
    channels_in: usize,
    channels_out: usize,
    kernel_size: usize,
    stride: usize,
    device: &Device,
) -> SameConvRelu {
    SameConvRelu {
        weight: glorot(
            [channels_out, channels_in, kernel_size],
            channels_in * kernel_size,
            channels_out * kernel_size,
            device,
        ),
        bias: Initializer::Zeros.init([channels_out], device),
        stride,
        kernel_matrix: OnceLock::new(),
    }
}

impl SameConvRelu {
    /// `x` in its device's [`Layout`], `length` positions to `ceil(length / stride)`.
    ///
    /// Channels last (flex, natively: see [`BATCH_FOLDED_CONV`]) the convolution is one matrix
    /// product over the whole batch: the padded sequences, laid end to end, are viewed through
    /// `unfold` as their im2col matrix without being copied (window rows overlap in memory,
    /// and flex's matmul takes any strides), so the kernel is packed once rather than once per
    /// sequence as in flex's own conv1d; the few windows that straddle two sequences are
    /// computed and dropped. Elsewhere burn's conv1d runs: GPU matmuls refuse overlapping rows,
    /// and on an autodiff device `unfold`'s backward is a loop over windows while conv1d's is
    /// itself a convolution.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let layout = Layout::on(&x.device());
        let length = x.dims()[layout.length_axis()];
        let [channels_out, channels_in, kernel_size] = self.weight.dims();
        let out_length = length.div_ceil(self.stride);
        let padding = ((out_length - 1) * self.stride + kernel_size).saturating_sub(length);
        let left = padding / 2;
        let zero = || PadMode::Constant(0.0.into());

        if layout == Layout::ChannelsFirst {
            // conv1d pads symmetrically itself; only strided layers need the extra right zero.
            let padded = match padding % 2 {
                0 => x,
                _ => x.pad([(0, 1)], zero()),
            };
            let options = ConvOptions::new([self.stride], [left], [1], 1);
            return relu(conv1d(
                padded,
                self.weight.val(),
                Some(self.bias.val()),
                options,
            ));
        }
        let batch = x.dims()[0];

        // A whole number of strides per sequence puts every sequence's first window on a row;
        // the all-zero extra sequence gives the last sequence's windows their full width.
        // Neighbouring sequences share their zeros: the right padding of one is the left
        // padding of the next, so that only `max(left, right)` rather than `left + right`
        // windows per sequence straddle two sequences and are computed in vain (at the deepest
        // level, 14 positions and an 11-wide kernel, 19 rows instead of 24 per sequence).
        let padded_length = (length + left.max(padding - left)).next_multiple_of(self.stride);
        let padded = x.pad(
            [(0, 1), (left, padded_length - length - left), (0, 0)],
            zero(),
        );
        let rows_per_sequence = padded_length / self.stride;
        let windows = padded
            .reshape([(batch + 1) * padded_length * channels_in])
            .unfold::<2, _>(0, kernel_size * channels_in, self.stride * channels_in)
            .narrow(0, 0, batch * rows_per_sequence);
        // Windows are position-major (channels innermost), hence `[k, in, out]`.
        let kernel_matrix = self.kernel_matrix.get_or_init(|| {
            self.weight
                .val()
                .permute([2, 1, 0])
                .reshape([kernel_size * channels_in, channels_out])
        });
        // The ReLU runs before the crop, over contiguous rows (faster than over the cropped view).
        relu(windows.matmul(kernel_matrix.clone()) + self.bias.val().unsqueeze())
            .reshape([batch, rows_per_sequence, channels_out])
            .narrow(1, 0, out_length)
    }
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
