//! Max-pooling along the length axis in either activation layout.

use burn::prelude::*;

use super::layout::Layout;

/// Max-pooling of `x` (in its device's [`Layout`]) over windows of `size` positions every
/// `stride`, the trailing positions no window covers dropped (PyTorch's and Keras' `valid`
/// pooling): `length` positions to `(length - size) / stride + 1`. The windows are a view
/// (`unfold`) whose maximum is one reduction, the same on every device and layout.
pub fn max_pool(x: Tensor<3>, size: usize, stride: usize) -> Tensor<3> {
    let axis = Layout::on(&x.device()).length_axis();
    let mut dims = x.dims();
    dims[axis] = (dims[axis] - size) / stride + 1;
    x.unfold::<4, _>(axis, size, stride)
        .max_dim(3)
        .reshape(dims)
}

#[cfg(test)]
mod tests {
    use burn::tensor::module::max_pool1d;
    use burn::tensor::ops::MaxPoolOptions;
    use burn::tensor::{Distribution, Tolerance};

    use super::*;

    /// burn's max_pool1d on channels-first activations, for overlapping and disjoint windows,
    /// with and without positions left over, in both layouts.
    #[test]
    fn max_pool_is_burns_max_pool1d() {
        let device = Device::flex();
        for (length, size, stride) in [(110, 10, 4), (12, 3, 3), (13, 3, 3), (7, 1, 1), (5, 5, 2)] {
            let x = Tensor::<3>::random([2, 3, length], Distribution::Default, &device);
            let options = MaxPoolOptions::new([size]).with_stride([stride]);
            let expected = max_pool1d(x.clone(), options);
            let pooled = match Layout::on(&device) {
                Layout::ChannelsFirst => max_pool(x, size, stride),
                Layout::ChannelsLast => max_pool(x.swap_dims(1, 2), size, stride).swap_dims(1, 2),
            };
            pooled
                .into_data()
                .assert_approx_eq::<f32>(&expected.into_data(), Tolerance::absolute(0.0));
        }
    }
}
