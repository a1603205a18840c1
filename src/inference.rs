//! Running a loaded model on sequences.

use std::sync::OnceLock;

use burn::prelude::*;

use crate::backend::is_flex;
use crate::data::batching::one_hot_batch;
use crate::model::Network;
#[cfg(not(target_arch = "wasm32"))]
use crate::platform::block_on;
use crate::platform::{CPU_ROWS_PER_PASS, cpu_workers, run_passes};
use crate::weights::ModelCard;

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
        let passes = run_passes(input.split(pass_rows, 0), |pass| {
            read_floats(self.model.forward(pass))
        })
        .await?;
        Ok(passes.concat())
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
