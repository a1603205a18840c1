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

use crate::data::alphabet::channels;
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

/// `navigator.gpu` exists: a browser (or runtime) that offers WebGPU at all.
fn webgpu_offered() -> bool {
    let global = js_sys::global();
    Reflect::get(&global, &"navigator".into())
        .ok()
        .filter(|navigator| navigator.is_object())
        .and_then(|navigator| Reflect::get(&navigator, &"gpu".into()).ok())
        .is_some_and(|gpu| gpu.is_object())
}

async fn webgpu_device() -> Result<Device, String> {
    if !webgpu_offered() {
        return Err("WebGPU is not available here (no navigator.gpu)".into());
    }
    Device::wgpu_options()
        .init_async()
        .await
        .map_err(|e| format!("WebGPU could not start: {e}"))
}

/// The CPU backend: flex, measured faster than ndarray natively (README).
fn cpu_device() -> Device {
    Device::flex()
}

async fn device_for(backend: &str) -> Result<(Device, Placement), JsValue> {
    match backend {
        "webgpu" => Ok((webgpu_device().await.map_err(error)?, Placement::WebGpu)),
        "cpu" => Ok((cpu_device(), Placement::Cpu)),
        "auto" => Ok(match webgpu_device().await {
            Ok(device) => (device, Placement::WebGpu),
            Err(_) => (cpu_device(), Placement::Cpu),
        }),
        other => Err(error(format!(
            "unknown backend {other:?}: use 'auto', 'webgpu' or 'cpu'"
        ))),
    }
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
    /// the first of them in the caller's list, for error messages.
    pub fn predict(&self, sequences: Vec<String>, first_index: usize) -> Promise {
        let predictor = self.predictor.clone();
        future_to_promise(async move {
            let encoded = encode_all(&sequences, first_index)?;
            if encoded.is_empty() {
                return Ok(Float32Array::new_with_length(0).into());
            }
            let predictions = predictor
                .predict_async(encoded.iter().map(Vec::as_slice))
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
