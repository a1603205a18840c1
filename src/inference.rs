//! Running a loaded model on sequences.

use std::sync::OnceLock;

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use futures_lite::future::block_on;

use burn::prelude::*;

use crate::backend::{cpu_workers, is_flex};
use crate::data::batching::one_hot_batch;
use crate::model::Network;
use crate::weights::ModelCard;

/// Rows per forward pass on the CPU (flex): larger batches spill each layer's activations
/// (megabytes) out of the caches. Natively the passes run concurrently, one per core, each with
/// the whole core to itself: burn-flex's kernels parallelise only the larger matrix products,
/// so one pass at a time left a core idle for much of the forward pass. Measured on 2 cores
/// (README, Benchmarks): 32-row concurrent passes, against 128-row passes one after the other,
/// took `crmnet-web` at batch 64 from 790 to 1,136 sequences/s and at 1,024 from 804 to 1,155;
/// 16-row and 128-row concurrent passes measured slower than 32 and 64.
#[cfg(not(target_arch = "wasm32"))]
const CPU_ROWS_PER_PASS: usize = 32;
/// In WebAssembly, one thread: 128-row passes measured faster than 32-row ones (`node
/// pkg/bench.mjs 256`, three alternating runs: 90-110 against 70-85 sequences/s).
#[cfg(target_arch = "wasm32")]
const CPU_ROWS_PER_PASS: usize = 128;

/// A model ready to predict, with its card and the device it lives on.
pub struct Predictor {
    model: Network,
    card: ModelCard,
    device: Device,
    /// The same weights on the device's autodiff twin, made on first use by saliency.
    differentiable: OnceLock<Network>,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("reading predictions back from the device failed: {0}")]
pub struct ReadbackError(String);

impl ReadbackError {
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

impl Predictor {
    pub fn new(model: Network, card: ModelCard, device: Device) -> Self {
        Self {
            model,
            card,
            device,
            differentiable: OnceLock::new(),
        }
    }

    /// The model on the autodiff twin of this device, frozen so that it keeps its inference
    /// behaviour (running batch-norm statistics, no dropout) and only inputs get gradients.
    pub fn differentiable(&self) -> (&Network, Device) {
        let device = self.device.clone().autodiff();
        let model = self
            .differentiable
            .get_or_init(|| self.model.clone().fork(&device).freeze());
        (model, device)
    }

    pub fn card(&self) -> &ModelCard {
        &self.card
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The one-hot batch of validated sequences (alphabet channels), ready for the model.
    pub fn encode<'a>(&self, sequences: impl ExactSizeIterator<Item = &'a [u8]>) -> Tensor<3> {
        one_hot_batch(
            sequences,
            self.card.architecture.input_window(),
            &self.device,
        )
    }

    /// Predicted expression, one value per sequence, in order.
    pub async fn predict_async<'a>(
        &self,
        sequences: impl ExactSizeIterator<Item = &'a [u8]>,
    ) -> Result<Vec<f32>, ReadbackError> {
        self.predict_encoded_async(self.encode(sequences)).await
    }

    /// Predictions for a `[batch, channels, length]` input on this device, which need not be
    /// one-hot (finite-difference checks perturb it).
    pub async fn predict_encoded_async(&self, input: Tensor<3>) -> Result<Vec<f32>, ReadbackError> {
        let rows = input.dims()[0];
        let pass_rows = CPU_ROWS_PER_PASS.min(rows.div_ceil(cpu_workers()));
        if rows <= pass_rows || !is_flex(&self.device) {
            return read_floats(self.model.forward(input)).await;
        }
        let passes = self.predict_passes(input.split(pass_rows, 0)).await?;
        Ok(passes.concat())
    }

    #[cfg(not(target_arch = "wasm32"))]
    async fn predict_passes(&self, passes: Vec<Tensor<3>>) -> Result<Vec<Vec<f32>>, ReadbackError> {
        use rayon::prelude::*;
        passes
            .into_par_iter()
            .map(|pass| block_on(read_floats(self.model.forward(pass))))
            .collect()
    }

    #[cfg(target_arch = "wasm32")]
    async fn predict_passes(&self, passes: Vec<Tensor<3>>) -> Result<Vec<Vec<f32>>, ReadbackError> {
        let mut predictions = Vec::with_capacity(passes.len());
        for pass in passes {
            predictions.push(read_floats(self.model.forward(pass)).await?);
        }
        Ok(predictions)
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn predict<'a>(
        &self,
        sequences: impl ExactSizeIterator<Item = &'a [u8]>,
    ) -> Result<Vec<f32>, ReadbackError> {
        block_on(self.predict_async(sequences))
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn predict_encoded(&self, input: Tensor<3>) -> Result<Vec<f32>, ReadbackError> {
        block_on(self.predict_encoded_async(input))
    }
}

/// A tensor's values as `f32`, whatever the device's float type. Asynchronous because a browser
/// cannot block on a GPU readback; native callers wait with [`block_on`].
pub(crate) async fn read_floats<const D: usize>(
    tensor: Tensor<D>,
) -> Result<Vec<f32>, ReadbackError> {
    tensor
        .into_data_async()
        .await
        .map_err(|e| ReadbackError::new(e.to_string()))?
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| ReadbackError::new(format!("{e:?}")))
}
