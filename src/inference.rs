//! Running a loaded model on sequences.

use std::sync::OnceLock;

use burn::prelude::*;

use crate::backend::is_flex;
use crate::data::batching::one_hot_batch;
#[cfg(not(target_arch = "wasm32"))]
use crate::data::readers::Record;
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

/// Why a prediction with features failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PredictError {
    #[error("{0}")]
    Features(String),
    #[error(transparent)]
    Readback(#[from] ReadbackError),
}

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
    /// one-hot (finite-difference checks perturb it). Features the architecture reads are 0.
    pub async fn predict_encoded_async(&self, input: Tensor<3>) -> Result<Vec<f32>, ReadbackError> {
        self.predict_encoded_with_features_async(input, None).await
    }

    /// The `[batch, features]` tensor of per-sequence features given row after row (`batch`
    /// rows of the card's [`features`](crate::model::Architecture::features), in order), or
    /// why they do not fit.
    pub fn encode_features(&self, batch: usize, values: &[f32]) -> Result<Tensor<2>, String> {
        let width = self.card.architecture.features().len();
        if width == 0 {
            return Err(format!("model {} reads no features", self.card.name));
        }
        if values.len() != batch * width {
            return Err(format!(
                "{} feature values for {batch} sequences; the model reads {width} per sequence ({})",
                values.len(),
                self.card.architecture.features().join(", ")
            ));
        }
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(format!(
                "feature {} of sequence {} is {}",
                self.card.architecture.features()[index % width],
                index / width + 1,
                values[index]
            ));
        }
        Ok(Tensor::from_data(
            TensorData::new(values.to_vec(), [batch, width]),
            &self.device,
        ))
    }

    /// Predictions for an encoded input and, for an architecture that reads them, its
    /// features (`None`: all 0, their training mean).
    pub async fn predict_encoded_with_features_async(
        &self,
        input: Tensor<3>,
        features: Option<Tensor<2>>,
    ) -> Result<Vec<f32>, ReadbackError> {
        let rows = input.dims()[0];
        let pass_rows = CPU_ROWS_PER_PASS.min(rows.div_ceil(cpu_workers()));
        if rows <= pass_rows || !is_flex(&self.device) {
            return read_floats(self.model.forward_with_features(input, features)).await;
        }
        let feature_passes = match features {
            Some(features) => features.split(pass_rows, 0).into_iter().map(Some).collect(),
            None => vec![None; rows.div_ceil(pass_rows)],
        };
        let passes = input.split(pass_rows, 0).into_iter().zip(feature_passes);
        let passes = run_passes(passes.collect(), |(pass, features)| {
            read_floats(self.model.forward_with_features(pass, features))
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

    /// Predictions for read records: with their features where they carry them (a table with
    /// the card's feature columns), from sequence alone otherwise.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn predict_records(&self, records: &[Record]) -> Result<Vec<f32>, PredictError> {
        let features: Vec<f32> = records
            .iter()
            .flat_map(|r| r.features.iter().copied())
            .collect();
        self.predict_with_features(
            records.iter().map(|r| r.channels.as_slice()),
            (!features.is_empty()).then_some(features.as_slice()),
        )
    }

    /// Predictions for sequences with their features (`features`: the card's features of
    /// each sequence, row after row; `None`: all 0).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn predict_with_features<'a>(
        &self,
        sequences: impl ExactSizeIterator<Item = &'a [u8]>,
        features: Option<&[f32]>,
    ) -> Result<Vec<f32>, PredictError> {
        let rows = sequences.len();
        let features = features
            .map(|values| self.encode_features(rows, values))
            .transpose()
            .map_err(PredictError::Features)?;
        block_on(self.predict_encoded_with_features_async(self.encode(sequences), features))
            .map_err(PredictError::Readback)
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
