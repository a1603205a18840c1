//! Where activations and weight layouts live: channels last or first by device, and the
//! weight layouts the flex path makes once per model.

use std::sync::OnceLock;

use burn::prelude::*;

use crate::backend::is_flex;
use crate::platform::BATCH_FOLDED_CONV;

/// How the network lays out its activations, chosen by where it runs. Channels last
/// (`[batch, length, channels]`, the Keras model's layout) where convolutions are the
/// batch-folded product ([`SameConv::forward`]): per-channel work then runs over contiguous
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
    pub(super) fn get(&self, device: &Device, lay_out: impl FnOnce() -> T) -> T {
        if device.is_autodiff() {
            lay_out()
        } else {
            self.0.get_or_init(lay_out).clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Channels last wherever the batch-folded product runs: flex, with autodiff too.
    #[cfg(feature = "ndarray")]
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
}
