//! Layer constructors with the conventions of the original Keras model: Glorot-uniform kernels
//! and zero biases (Keras' defaults; burn's own default init is PyTorch's, whose three times
//! smaller variance leaves a deep randomly-initialised CRMnet nearly blind to its input),
//! TensorFlow `same` padding, Keras batch-norm constants; and their channels-last forward passes.

use std::sync::OnceLock;

use burn::module::Param;
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::module::{conv_transpose1d, conv1d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions, PadMode};
use burn::tensor::{Distribution, TensorData};

use crate::backend::is_flex;

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
/// rows, and the transformer and the flatten want it anyway: flex natively, with or without
/// autodiff (training steps and saliency measured faster than on burn's conv1d). Channels first
/// (`[batch, channels, length]`) where burn's conv1d runs (ndarray, GPUs, wasm), which would
/// otherwise transpose around every convolution and batch norm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    ChannelsFirst,
    ChannelsLast,
}

impl Layout {
    pub fn on(device: &Device) -> Self {
        if BATCH_FOLDED_CONV && is_flex(device) {
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
    /// The weight as the `[kernel_size * channels_in, channels_out]` matrix of the flex path:
    /// laying it out again on every call costs as much as a whole batch-1 product.
    #[module(skip)]
    kernel_matrix: WeightLayout<Tensor<2>>,
}

/// A layout of a layer's weights for the flex path, made on a model's first call and kept for
/// its later calls. Autodiff devices never keep it: there the weights change at every optimiser
/// step, and a kept layout would go on computing the old ones. A clone starts empty, because
/// clones are what get trained, forked or turned into the inference model.
#[derive(Debug)]
pub struct WeightLayout<T>(OnceLock<T>);

impl<T> Default for WeightLayout<T> {
    fn default() -> Self {
        Self(OnceLock::new())
    }
}

impl<T> Clone for WeightLayout<T> {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl<T: Clone> WeightLayout<T> {
    fn get(&self, device: &Device, lay_out: impl FnOnce() -> T) -> T {
        if device.is_autodiff() {
            lay_out()
        } else {
            self.0.get_or_init(lay_out).clone()
        }
    }
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
        kernel_matrix: WeightLayout::default(),
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
    /// computed and dropped. On flex's autodiff device too: `unfold`'s backward is a loop over
    /// windows, yet the training step measured faster than with conv1d (README, Benchmarks).
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
        relu(conv1d(
            padded,
            self.weight.val(),
            Some(self.bias.val()),
            options,
        ))
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
        relu(windows.matmul(kernel_matrix) + self.bias.val().unsqueeze())
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
fn batch_folded_windows(
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
    // sequence straddle two sequences (at the deepest level, 14 positions and an 11-wide
    // kernel, 19 rows instead of 24 per sequence: 6 % less CPU time for the whole model).
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

/// A stride-2 transposed convolution with TensorFlow's `same` output: exactly `2 * length`
/// positions. Its record is burn's `ConvTranspose1d`'s.
#[derive(Module, Debug)]
pub struct UpsamplingConv {
    /// `[channels_in, channels_out, kernel_size]`, burn's conv_transpose1d layout.
    weight: Param<Tensor<3>>,
    bias: Param<Tensor<1>>,
    /// The flex path's kernel, kept like [`SameConvRelu`]'s.
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
    /// [`SameConvRelu::forward`]; burn-flex's conv_transpose1d needs the activations channels
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

/// `layer`'s dropout (its probability, its training flag), with the mask drawn faster on flex's
/// autodiff device: burn draws every element from a ChaCha generator through a fresh sampler
/// (5 % of a CPU training step); here the device's generator draws one seed, so that
/// `Device::seed` still decides the masks, and a SplitMix64 stream draws the mask. Elsewhere
/// (GPUs draw on the device; inference devices drop nothing) burn's own forward pass.
pub fn dropout<const D: usize>(layer: &Dropout, x: Tensor<D>) -> Tensor<D> {
    let device = x.device();
    if !(is_flex(&device) && device.is_autodiff() && layer.training.is_enabled())
        || layer.prob == 0.0
    {
        return layer.forward(x);
    }
    let mut state = Tensor::<1>::random([2], Distribution::Default, &device)
        .into_data()
        .iter::<f32>()
        .fold(0u64, |seed, draw| seed << 32 | u64::from(draw.to_bits()));
    let keep = 1.0 - layer.prob;
    // An element is kept when the top 32 bits of its draw fall below `keep * 2^32`.
    let threshold = (keep * 2f64.powi(32)) as u64;
    let kept = (1.0 / keep) as f32;
    let shape = x.shape();
    let mask: Vec<f32> = (0..shape.num_elements())
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            if (z ^ (z >> 31)) >> 32 < threshold {
                kept
            } else {
                0.0
            }
        })
        .collect();
    x * Tensor::from_data(TensorData::new(mask, shape), &device)
}

/// Keras' BatchNormalization defaults, which the published weights were trained with.
pub fn batch_norm(channels: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(channels)
        .with_epsilon(1e-3)
        .with_momentum(0.01)
        .init(device)
}

#[cfg(test)]
mod tests {
    use burn::tensor::Distribution;

    use super::*;

    /// Channels last wherever the batch-folded product runs: flex, with autodiff too.
    #[test]
    fn layout_by_device() {
        assert_eq!(Layout::on(&Device::flex()), Layout::ChannelsLast);
        assert_eq!(Layout::on(&Device::flex().autodiff()), Layout::ChannelsLast);
        #[allow(deprecated)]
        let ndarray = Device::ndarray();
        assert_eq!(
            Layout::on(&ndarray.clone().autodiff()),
            Layout::ChannelsFirst
        );
        assert_eq!(Layout::on(&ndarray), Layout::ChannelsFirst);
    }

    fn random_bias(channels: usize, device: &Device) -> Param<Tensor<1>> {
        Param::from_tensor(Tensor::random([channels], Distribution::Default, device))
    }

    /// A random channels-first batch through both forward paths of a layer: the channels-last
    /// path's output (back in channels-first layout) and its largest difference from the other.
    fn channels_last_against_first(
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

    /// The batch-folded product computes burn's conv1d with TensorFlow's `same` padding:
    /// kernels wider than the sequence (their windows reach into the extra zero sequences),
    /// strides 1 and 2, odd and even lengths.
    #[test]
    fn batch_folded_convolution_is_the_same_padded_convolution() {
        let device = Device::flex();
        for kernel_size in [1, 3, 11, 13] {
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

    /// Asserts that the gradients (input and weight) of a layer's channels-last path on flex's
    /// autodiff device (training and saliency run it: `unfold`'s backward, the kernel layouts'
    /// own) equal those of its channels-first path on burn's convolutions.
    fn assert_gradients_agree(
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

    #[test]
    fn on_the_autodiff_device_the_batch_folded_products_have_burns_gradients() {
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

    /// On flex's autodiff device the faster mask drops about `prob` of the elements, scales the
    /// rest by `1 / (1 - prob)` and differs between calls; a frozen layer and an inference device
    /// drop nothing. (That the device's seed decides it cannot be tested here: the flex
    /// generator is shared by the tests running beside this one.)
    #[test]
    fn dropout_drops_its_share_by_the_devices_seed() {
        use burn::nn::DropoutConfig;
        let device = Device::flex().autodiff();
        let layer = DropoutConfig::new(0.25).init();
        let ones = || Tensor::<2>::ones([100, 400], &device);
        let values = |x: Tensor<2>| x.into_data().iter::<f32>().collect::<Vec<_>>();
        let first = values(dropout(&layer, ones()));
        assert_ne!(values(dropout(&layer, ones())), first);
        let dropped = first.iter().filter(|v| **v == 0.0).count() as f64 / first.len() as f64;
        assert!((dropped - 0.25).abs() < 0.01, "dropped {dropped}");
        assert!(
            first
                .iter()
                .all(|v| *v == 0.0 || (*v - 4.0 / 3.0).abs() < 1e-6)
        );
        let frozen = layer.clone().freeze();
        assert!(values(dropout(&frozen, ones())).iter().all(|v| *v == 1.0));
        let inference = Tensor::<2>::ones([10, 10], &Device::flex());
        assert!(values(dropout(&layer, inference)).iter().all(|v| *v == 1.0));
    }

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
}
