//! Weights files: a burnpack (`.bpk`) record of the model's parameters whose metadata carries
//! the JSON model card, so one file says what it is, how it was trained and how well it does.
//! Wherever weights are read, a Keras full-model `.h5` file is accepted too (imported on the
//! fly, [`crate::keras`]).

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::Module;
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::{DType, TensorData};
use burn_pack::{Bytes, Reader, Writer};
use serde::{Deserialize, Serialize};

use crate::data::alphabet::{InputSpec, LETTERS};
use crate::keras::{ImportError, KerasModel};
use crate::metrics::Metrics;
use crate::model::{Architecture, ConfigError, Network, ParamCounts};
#[cfg(not(target_arch = "wasm32"))]
use crate::output::{OutputError, write_atomically};

/// Metadata key under which the model card is stored in the burnpack file.
pub const CARD_KEY: &str = "crmnet.model_card";
/// Version of the card's schema and of the parameter layout; files of another version are
/// refused rather than loaded into a network they were not made for.
pub const CARD_VERSION: u32 = 1;

/// Everything a user of a weights file needs to know about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub card_version: u32,
    /// Version of the crate that wrote the file.
    pub crate_version: String,
    /// Preset name, or a free name for a custom architecture.
    pub name: String,
    pub architecture: Architecture,
    /// Input channel order of the one-hot encoding.
    pub alphabet: String,
    pub sequence_length: usize,
    /// How the model reads its input, derived from the architecture (recomputed on load, so
    /// that cards written before it existed have it too).
    #[serde(default)]
    pub input: InputSpec,
    pub parameters: ParamCounts,
    /// `false` for randomly initialised weights, which predict nothing.
    pub trained: bool,
    /// Where the training data came from, free text.
    pub training_data: String,
    /// The training recipe (loss, optimiser, schedule, epochs, ...), free-form.
    pub training_recipe: serde_json::Value,
    /// Metrics by evaluation set name (`valid`, `test_native_complex`, ...).
    pub metrics: BTreeMap<String, Metrics>,
    /// Where the weights, or the model they were learnt from, came from (an imported file, a
    /// teacher), free text; empty for weights trained here from scratch.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub origin: String,
    /// Licence notices that travel with the weights (an imported model's, a teacher's).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub license: String,
}

impl ModelCard {
    /// A card for `model` with no training history: the caller fills that in.
    pub fn describe(name: &str, architecture: &Architecture, model: &Network) -> Self {
        Self {
            card_version: CARD_VERSION,
            crate_version: env!("CARGO_PKG_VERSION").to_string(),
            name: name.to_string(),
            architecture: architecture.clone(),
            alphabet: LETTERS.iter().collect(),
            sequence_length: architecture.sequence_length(),
            input: architecture.input(),
            parameters: model.param_counts(),
            trained: false,
            training_data: String::new(),
            training_recipe: serde_json::Value::Null,
            metrics: BTreeMap::new(),
            origin: String::new(),
            license: String::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("{path}: cannot read: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}: cannot write: {reason}")]
    Write { path: String, reason: String },
    #[error(transparent)]
    #[cfg(not(target_arch = "wasm32"))]
    Output(#[from] OutputError),
    #[error("{path}: not a readable burnpack weights file (truncated or corrupted?): {reason}")]
    Format { path: String, reason: String },
    #[error("{path}: no CRMnet model card in this burnpack file")]
    NoCard { path: String },
    #[error("{path}: model card is not valid: {reason}")]
    BadCard { path: String, reason: String },
    #[error(
        "{path}: model card version {found} is not supported by crmnet {crate_version} (it reads version {CARD_VERSION})",
        crate_version = env!("CARGO_PKG_VERSION")
    )]
    Version { path: String, found: u32 },
    #[error("{path}: {0}", .source)]
    Architecture { path: String, source: ConfigError },
    #[error("{path}: alphabet {found:?} differs from this crate's {expected:?}", expected = LETTERS.iter().collect::<String>())]
    Alphabet { path: String, found: String },
    #[error("{path}: weights do not match the architecture in the model card: {reason}")]
    Mismatch { path: String, reason: String },
    #[error(transparent)]
    Keras(#[from] ImportError),
}

/// The model shipped inside the crate (a burnpack with its card, which says what it is,
/// how it was made and how well it does; README, The default model).
const DEFAULT_MODEL: &[u8] = include_bytes!("../models/default.bpk");
/// How errors and `info` name the embedded model.
pub const DEFAULT_MODEL_NAME: &str = "<embedded default model>";

/// The embedded default model on `device`.
pub fn default_model(device: &Device) -> Result<(Network, ModelCard), WeightsError> {
    from_bytes(DEFAULT_MODEL.to_vec(), DEFAULT_MODEL_NAME, device)
}

/// Serialises `model` with its card into burnpack bytes.
pub fn to_bytes(model: Network, card: &ModelCard) -> Result<Vec<u8>, String> {
    let card_json = serde_json::to_string(card).map_err(|e| e.to_string())?;
    // The architecture's own record, without the enum's variant: the parameter names are the
    // same whichever architectures the crate knows.
    let record_bytes = match model {
        Network::Crmnet(model) => model.into_record().into_bytes(),
        Network::DeepAtt(model) => model.into_record().into_bytes(),
        Network::Camformer(model) => model.into_record().into_bytes(),
        Network::Xpresso(model) => model.into_record().into_bytes(),
    }
    .map_err(|e| e.to_string())?;
    let tensors = Reader::from_bytes(record_bytes)
        .and_then(Reader::into_tensors)
        .map_err(|e| e.to_string())?;
    let bytes = Writer::new(tensors)
        .with_metadata(CARD_KEY, &card_json)
        .into_bytes()
        .map_err(|e| e.to_string())?;
    Ok(bytes.to_vec())
}

/// The parameter-wise mean of `models` (each with its card and a name for errors), all of one
/// architecture: checkpoint averaging, as stochastic weight averaging does with the epochs of
/// one run, whose mean often generalises better than any one of them. Averaging only makes
/// sense for weights on one training trajectory (one run and its continuations); unrelated
/// networks of the same shape average into nonsense. The card is the first model's, its
/// metrics dropped (they described that one file) and the averaged files named in its recipe.
pub fn mean_of(
    models: Vec<(Network, ModelCard, String)>,
    device: &Device,
) -> Result<(Network, ModelCard), WeightsError> {
    let mut models = models.into_iter();
    let Some((first, mut card, first_name)) = models.next() else {
        return Err(WeightsError::Read {
            path: "--from".into(),
            reason: "no weights to average".into(),
        });
    };
    let tensors_of = |model: Network, card: &ModelCard, name: &str| {
        let format_error = |reason: String| WeightsError::Format {
            path: name.to_string(),
            reason,
        };
        let bytes = to_bytes(model, card).map_err(format_error)?;
        Reader::from_bytes(Bytes::from_bytes_vec(bytes))
            .and_then(Reader::into_tensors)
            .map_err(|e| format_error(e.to_string()))?
            .into_iter()
            .map(|tensor| {
                let data = tensor.to_bytes().map_err(|e| format_error(e.to_string()))?;
                let values = TensorData::from_bytes(data, tensor.shape.clone(), tensor.dtype)
                    .try_to_vec::<f32>()
                    .map_err(|e| format_error(format!("{}: {e:?}", tensor.name)))?;
                Ok((tensor, values))
            })
            .collect::<Result<Vec<_>, WeightsError>>()
    };
    let mut sums = tensors_of(first, &card, &first_name)?;
    let mut sources = vec![first_name];
    for (model, other, name) in models {
        let mismatch = |reason: String| WeightsError::Mismatch {
            path: name.clone(),
            reason,
        };
        if other.architecture != card.architecture {
            return Err(mismatch(format!(
                "its architecture differs from {}'s: only weights of one architecture average",
                sources[0]
            )));
        }
        let tensors = tensors_of(model, &other, &name)?;
        if tensors.len() != sums.len() {
            return Err(mismatch(format!(
                "{} tensors against {} in {}",
                tensors.len(),
                sums.len(),
                sources[0]
            )));
        }
        for ((sum_tensor, sum), (tensor, values)) in sums.iter_mut().zip(tensors) {
            if tensor.name != sum_tensor.name || tensor.shape != sum_tensor.shape {
                return Err(mismatch(format!(
                    "tensor {} {:?} where {} has {} {:?}",
                    tensor.name, tensor.shape, sources[0], sum_tensor.name, sum_tensor.shape
                )));
            }
            sum.iter_mut().zip(values).for_each(|(s, v)| *s += v);
        }
        sources.push(name);
    }
    let count = sources.len() as f32;
    let tensors = sums
        .into_iter()
        .map(|(tensor, sum)| {
            let mean: Vec<f32> = sum.into_iter().map(|s| s / count).collect();
            let data = TensorData::new(mean, tensor.shape.clone());
            burn_pack::Tensor::new(
                tensor.name,
                DType::F32,
                tensor.shape,
                tensor.param_id,
                data.into_bytes(),
            )
        })
        .collect();
    card.metrics.clear();
    if !card.training_recipe.is_object() {
        // A card written elsewhere may hold its recipe as text: it is kept under a key.
        card.training_recipe = serde_json::json!({ "recipe": card.training_recipe.take() });
    }
    card.training_recipe["averaged_from"] = serde_json::json!(sources);
    let card_json = serde_json::to_string(&card).map_err(|e| WeightsError::Write {
        path: sources[0].clone(),
        reason: e.to_string(),
    })?;
    let bytes = Writer::new(tensors)
        .with_metadata(CARD_KEY, &card_json)
        .into_bytes()
        .map_err(|e| WeightsError::Format {
            path: sources[0].clone(),
            reason: e.to_string(),
        })?;
    from_bytes(bytes.to_vec(), &sources[0], device)
}

/// Writes `model` and its card to `path` atomically: a crash or error leaves either the old
/// file or the complete new one, never a half-written file.
#[cfg(not(target_arch = "wasm32"))]
pub fn save(model: Network, card: &ModelCard, path: &Path) -> Result<(), WeightsError> {
    write_weights(path, to_bytes(model, card))
}

#[cfg(not(target_arch = "wasm32"))]
fn write_weights(path: &Path, bytes: Result<Vec<u8>, String>) -> Result<(), WeightsError> {
    let bytes = bytes.map_err(|reason| WeightsError::Write {
        path: path.display().to_string(),
        reason,
    })?;
    write_atomically(path, |out| Ok(std::io::Write::write_all(out, &bytes)?))
}

/// Writes `model` as safetensors, the card under [`CARD_KEY`] in the file's metadata, for
/// other frameworks (numpy, PyTorch, Keras); tensors are named by their module path, e.g.
/// `encoder.levels.0.first.conv.weight`, in burn's layouts.
#[cfg(not(target_arch = "wasm32"))]
pub fn save_safetensors(
    model: &Network,
    card: &ModelCard,
    path: &Path,
) -> Result<(), WeightsError> {
    use burn::store::{ModuleSnapshot, SafetensorsStore};
    let bytes = serde_json::to_string(card)
        .map_err(|e| e.to_string())
        .and_then(|card_json| {
            let mut store = SafetensorsStore::from_bytes(None).metadata(CARD_KEY, card_json);
            match model {
                Network::Crmnet(model) => model.save_into(&mut store),
                Network::DeepAtt(model) => model.save_into(&mut store),
                Network::Camformer(model) => model.save_into(&mut store),
                Network::Xpresso(model) => model.save_into(&mut store),
            }
            .map_err(|e| e.to_string())?;
            store.get_bytes().map_err(|e| e.to_string())
        });
    write_weights(path, bytes)
}

/// Reads a weights file into a model on `device`.
pub fn load(path: &Path, device: &Device) -> Result<(Network, ModelCard), WeightsError> {
    let name = path.display().to_string();
    let data = std::fs::read(path).map_err(|e| WeightsError::Read {
        path: name.clone(),
        reason: e.to_string(),
    })?;
    from_bytes(data, &name, device)
}

/// Reads weights from memory, a burnpack or a Keras `.h5` file; `source` names them in errors.
pub fn from_bytes(
    data: Vec<u8>,
    source: &str,
    device: &Device,
) -> Result<(Network, ModelCard), WeightsError> {
    if hdf5_pure::is_hdf5_bytes(&data) {
        return Ok(KerasModel::from_bytes(data, source)?.import(device, "", None)?);
    }
    let path = source.to_string();
    let bytes = Bytes::from_bytes_vec(data).shared();
    let format_error = |e: &dyn std::fmt::Display| WeightsError::Format {
        path: path.clone(),
        reason: e.to_string(),
    };
    let reader = Reader::from_bytes(bytes.clone()).map_err(|e| format_error(&e))?;
    let card = read_card(reader.metadata(), &path)?;
    let record = widened_record(reader, bytes).map_err(|e| format_error(&e))?;
    let model =
        Network::new(&card.architecture, device).map_err(|source| WeightsError::Architecture {
            path: path.clone(),
            source,
        })?;
    let mismatch = |e: &dyn std::fmt::Display| WeightsError::Mismatch {
        path: path.clone(),
        reason: e.to_string(),
    };
    let model = model.load_parameters(record).map_err(|e| mismatch(&e))?;
    Ok((model, card))
}

/// The record of burnpack `bytes` (read by `reader`) with its half-precision tensors (a `--half`
/// export's) widened to the networks' float32 here, on the host, before any reaches a device.
/// burn's own cast-on-load instead reads each parameter's dtype by drawing its random initial
/// value first (a third of loading a model), and a cast on the device after loading float16
/// went wrong on WebGPU.
fn widened_record(reader: Reader, bytes: Bytes) -> Result<ModuleRecord, String> {
    let text = |e: &dyn std::fmt::Display| e.to_string();
    let tensors = reader.into_tensors().map_err(|e| text(&e))?;
    let half = |dtype: DType| matches!(dtype, DType::F16 | DType::BF16);
    if !tensors.iter().any(|tensor| half(tensor.dtype)) {
        return ModuleRecord::from_bytes(bytes).map_err(|e| text(&e));
    }
    let widened = tensors
        .into_iter()
        .map(|tensor| {
            if !half(tensor.dtype) {
                return Ok(tensor);
            }
            let data = TensorData::from_bytes(
                tensor.to_bytes().map_err(|e| text(&e))?,
                tensor.shape.clone(),
                tensor.dtype,
            )
            .try_cast(DType::F32)
            .map_err(|e| format!("{}: {e:?}", tensor.name))?;
            Ok(burn_pack::Tensor::new(
                tensor.name,
                DType::F32,
                tensor.shape,
                tensor.param_id,
                data.into_bytes(),
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let bytes = Writer::new(widened).into_bytes().map_err(|e| text(&e))?;
    ModuleRecord::from_bytes(bytes).map_err(|e| text(&e))
}

fn read_card(metadata: &BTreeMap<String, String>, path: &str) -> Result<ModelCard, WeightsError> {
    let path = path.to_string();
    let json = metadata
        .get(CARD_KEY)
        .ok_or_else(|| WeightsError::NoCard { path: path.clone() })?;
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| WeightsError::BadCard {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    let found = value
        .get("card_version")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    if found != u64::from(CARD_VERSION) {
        return Err(WeightsError::Version {
            path,
            found: u32::try_from(found).unwrap_or(u32::MAX),
        });
    }
    let mut card: ModelCard = serde_json::from_value(value).map_err(|e| WeightsError::BadCard {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    card.input = card.architecture.input();
    let expected: String = LETTERS.iter().collect();
    if card.alphabet != expected {
        return Err(WeightsError::Alphabet {
            path,
            found: card.alphabet,
        });
    }
    Ok(card)
}
