//! The JavaScript API (wasm32 only), wrapped by `pkg/index.js`: loading weights on WebGPU or the
//! CPU, prediction, saliency, mutagenesis and the model card. Every failure is a rejected
//! promise with an `Error` saying what and where; nothing here panics on user input, so the
//! module stays usable after an error.

use std::rc::Rc;

use burn::prelude::*;
use js_sys::{Float32Array, Object, Promise, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::backend::Backend;
use crate::data::alphabet::channels;
use crate::data::construct;
use crate::data::readers::{Columns, InputFormat, SequenceReader};
use crate::inference::Predictor;
use crate::interpret::{mutagenesis_async, saliency_async};
use crate::weights;

/// Where the model runs, as `info()` reports it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Placement {
    WebGpu,
    Cpu,
}

impl Placement {
    fn name(self) -> &'static str {
        match self {
            Placement::WebGpu => "webgpu",
            Placement::Cpu => "cpu",
        }
    }
}

/// A loaded model. Methods return promises so that a GPU readback never blocks the page.
#[wasm_bindgen]
pub struct Model {
    predictor: Rc<Predictor>,
    placement: Placement,
}

fn error(message: impl std::fmt::Display) -> JsValue {
    JsError::new(&message.to_string()).into()
}

/// The device for `backend`: `auto` (WebGPU where it starts, else the CPU), or any name the
/// command line's `--backend` takes (`cpu` is flex, measured faster than ndarray; `webgpu` is
/// wgpu).
async fn device_for(backend: &str) -> Result<(Device, Placement), JsValue> {
    let placement = |backend| match backend {
        Backend::Wgpu => Placement::WebGpu,
        _ => Placement::Cpu,
    };
    if backend == "auto" {
        return Ok(match Backend::Wgpu.device_async().await {
            Ok(device) => (device, Placement::WebGpu),
            Err(_) => (Backend::Flex.device().map_err(error)?, Placement::Cpu),
        });
    }
    let chosen: Backend = backend
        .parse()
        .map_err(|e| error(format!("{e}; or 'auto'")))?;
    let device = chosen.device_async().await.map_err(error)?;
    Ok((device, placement(chosen)))
}

/// Channels of each sequence, or an error naming the first bad one (`first_index` numbers them
/// within the caller's whole list, 1-based in the message).
fn encode_all(sequences: &[String], first_index: usize) -> Result<Vec<Vec<u8>>, JsValue> {
    sequences
        .iter()
        .enumerate()
        .map(|(i, sequence)| {
            channels(sequence.trim())
                .map_err(|e| error(format!("sequence {}: {e}", first_index + i + 1)))
        })
        .collect()
}

fn set(object: &Object, key: &str, value: impl Into<JsValue>) {
    // Setting a fresh plain object's own property cannot fail.
    let _ = Reflect::set(object, &key.into(), &value.into());
}

fn flat(rows: &[[f32; 4]]) -> Float32Array {
    let values: Vec<f32> = rows.iter().flatten().copied().collect();
    Float32Array::from(values.as_slice())
}

#[wasm_bindgen]
impl Model {
    /// Loads `weights` (burnpack bytes; the embedded default model when absent) on `backend`:
    /// `'auto'` (WebGPU where the browser has it, else the CPU), `'webgpu'` or `'cpu'`.
    pub async fn load(weights: Option<Vec<u8>>, backend: String) -> Result<Model, JsValue> {
        let (device, placement) = device_for(&backend).await?;
        let (model, card) = match weights {
            Some(bytes) => weights::from_bytes(bytes, "the given weights", &device),
            None => weights::default_model(&device),
        }
        .map_err(error)?;
        Ok(Model {
            predictor: Rc::new(Predictor::new(model, card, device)),
            placement,
        })
    }

    /// Predictions for `sequences` (a Float32Array resolves); `first_index` is the position of
    /// the first of them in the caller's list, for error messages. `features`: for a model that
    /// reads per-sequence features (`card.input.features`), each sequence's, row after row;
    /// absent, every feature is 0 (its training mean).
    pub fn predict(
        &self,
        sequences: Vec<String>,
        first_index: usize,
        features: Option<Vec<f32>>,
    ) -> Promise {
        let predictor = self.predictor.clone();
        future_to_promise(async move {
            let encoded = encode_all(&sequences, first_index)?;
            if encoded.is_empty() {
                return Ok(Float32Array::new_with_length(0).into());
            }
            let features = features
                .map(|values| predictor.encode_features(encoded.len(), &values))
                .transpose()
                .map_err(|e| error(format!("sequences {} onwards: {e}", first_index + 1)))?;
            let input = predictor.encode(encoded.iter().map(Vec::as_slice));
            let predictions = predictor
                .predict_encoded_with_features_async(input, features)
                .await
                .map_err(error)?;
            Ok(Float32Array::from(predictions.as_slice()).into())
        })
    }

    /// `{ prediction, length, scores, gradient }`: input x gradient and the plain gradient, each
    /// a Float32Array of `length x 4` (A, C, G, T per position).
    pub fn saliency(&self, sequence: String) -> Promise {
        let predictor = self.predictor.clone();
        future_to_promise(async move {
            let codes = encode_all(&[sequence], 0)?.remove(0);
            let result = saliency_async(&predictor, &codes).await.map_err(error)?;
            let object = Object::new();
            set(&object, "prediction", result.prediction);
            set(&object, "length", result.scores.len() as u32);
            set(&object, "scores", flat(&result.scores));
            set(&object, "gradient", flat(&result.gradient));
            Ok(object.into())
        })
    }

    /// `{ reference, length, effects }`: the predicted change of every single-base substitution
    /// at positions `first_position..end_position` (clamped to the sequence and the model's
    /// input; workers each take a part), `length x 4`, predicted in batches of `batch_size`.
    pub fn mutagenesis(
        &self,
        sequence: String,
        batch_size: usize,
        first_position: usize,
        end_position: usize,
    ) -> Promise {
        let predictor = self.predictor.clone();
        future_to_promise(async move {
            let codes = encode_all(&[sequence], 0)?.remove(0);
            let positions = first_position..end_position;
            let result = mutagenesis_async(&predictor, &codes, positions, batch_size)
                .await
                .map_err(error)?;
            let object = Object::new();
            set(&object, "reference", result.reference);
            set(&object, "first", result.first_position as u32);
            set(&object, "length", result.effects.len() as u32);
            set(&object, "effects", flat(&result.effects));
            Ok(object.into())
        })
    }

    /// `{ backend, card }`: where the model runs and its model card.
    pub fn info(&self) -> Result<JsValue, JsValue> {
        let info = serde_json::json!({
            "backend": self.placement.name(),
            "card": self.predictor.card(),
        });
        info.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .map_err(error)
    }
}

/// The records of a FASTA, released-format or headered-table text (gzip too), read by the
/// crate's own readers, as the command line reads files: `[{ id, sequence, line }]`, or an
/// Error naming `name`, the line, the record and the reason of the first bad record.
#[wasm_bindgen(js_name = readSequences)]
pub fn read_sequences(bytes: Vec<u8>, name: String) -> Result<JsValue, JsValue> {
    let reader = SequenceReader::from_reader(
        name.clone(),
        Box::new(std::io::Cursor::new(bytes)),
        InputFormat::Auto,
        &Columns::default(),
    )
    .map_err(error)?;
    let records = reader
        .map(|record| {
            record
                .map(|r| serde_json::json!({ "id": r.id, "sequence": r.sequence, "line": r.line }))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(error)?;
    if records.is_empty() {
        return Err(error(format!("{name}: no sequences found")));
    }
    records
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(error)
}

/// The promoter construct of the measured libraries: `{ flank5, flank3, variableLength }`.
#[wasm_bindgen(js_name = libraryConstruct)]
pub fn library_construct() -> Result<JsValue, JsValue> {
    serde_json::json!({
        "flank5": construct::FLANK_5,
        "flank3": construct::FLANK_3,
        "variableLength": construct::VARIABLE_LENGTH,
    })
    .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
    .map_err(error)
}
