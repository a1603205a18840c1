//! Running a loaded model on sequences.

use burn::prelude::*;

use crate::data::batching::one_hot_batch;
use crate::model::Crmnet;
use crate::weights::ModelCard;

/// A model ready to predict, with its card and the device it lives on.
pub struct Predictor {
    model: Crmnet,
    card: ModelCard,
    device: Device,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("reading predictions back from the device failed: {0}")]
pub struct ReadbackError(String);

impl Predictor {
    pub fn new(model: Crmnet, card: ModelCard, device: Device) -> Self {
        Self {
            model,
            card,
            device,
        }
    }

    pub fn card(&self) -> &ModelCard {
        &self.card
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The one-hot batch of validated sequences (alphabet channels), ready for the model.
    pub fn encode<'a>(&self, sequences: impl ExactSizeIterator<Item = &'a [u8]>) -> Tensor<3> {
        one_hot_batch(sequences, self.card.sequence_length, &self.device)
    }

    /// Predicted expression, one value per sequence, in order.
    pub fn predict<'a>(
        &self,
        sequences: impl ExactSizeIterator<Item = &'a [u8]>,
    ) -> Result<Vec<f32>, ReadbackError> {
        let output = self.model.forward(self.encode(sequences));
        output
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| ReadbackError(format!("{e:?}")))
    }
}
