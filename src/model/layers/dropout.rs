//! Dropout with the mask drawn cheaply on flex's autodiff device.

use burn::nn::Dropout;
use burn::prelude::*;
use burn::tensor::{Distribution, TensorData};

use crate::backend::is_flex;
use crate::random::SplitMix;

/// `layer`'s dropout (its probability, its training flag), with the mask drawn faster on flex's
/// autodiff device: burn draws every element from a ChaCha generator through a fresh sampler
/// (a visible share of a CPU training step); here the device's generator draws one seed, so that
/// `Device::seed` still decides the masks, and a SplitMix64 stream draws the mask. Elsewhere
/// (GPUs draw on the device; inference devices drop nothing) burn's own forward pass.
pub fn dropout<const D: usize>(layer: &Dropout, x: Tensor<D>) -> Tensor<D> {
    let device = x.device();
    if !(is_flex(&device) && device.is_autodiff() && layer.training.is_enabled())
        || layer.prob == 0.0
    {
        return layer.forward(x);
    }
    let state = Tensor::<1>::random([2], Distribution::Default, &device)
        .into_data()
        .iter::<f32>()
        .fold(0u64, |seed, draw| seed << 32 | u64::from(draw.to_bits()));
    let keep = 1.0 - layer.prob;
    // An element is kept when the top 32 bits of its draw fall below `keep * 2^32`.
    let threshold = (keep * 2f64.powi(32)) as u64;
    let kept = (1.0 / keep) as f32;
    let shape = x.shape();
    let mut stream = SplitMix(state);
    let mask: Vec<f32> = (0..shape.num_elements())
        .map(|_| {
            if stream.next_u64() >> 32 < threshold {
                kept
            } else {
                0.0
            }
        })
        .collect();
    x * Tensor::from_data(TensorData::new(mask, shape), &device)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
