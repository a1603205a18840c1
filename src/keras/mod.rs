//! Importing trained Keras models from HDF5: full-model files (`model.save("x.h5")`, the layer
//! list from the `model_config` attribute, the weights under `model_weights/`) and tf.keras'
//! weights-only files (`save_weights("x.h5")`, the layer names and the weights at the root),
//! read by the pure-Rust `hdf5-pure` (no libhdf5, so the import also runs in WebAssembly).
//! Supported: DeepAtt (Vaishnav et al. 2022) as its authors saved it ([`deepatt`]), CRMnet
//! as its authors' Keras code builds it ([`crmnet`]) and Xpresso (Agarwal & Shendure 2020) as
//! its authors saved it ([`xpresso`]).

mod crmnet;
mod deepatt;
mod xpresso;

use std::collections::BTreeMap;

use burn::module::{Module, ModuleMapper, Param};
use burn::prelude::*;
use hdf5_pure::{AttrValue, File};
use serde_json::Value;

use crate::model::{Architecture, Network};
use crate::weights::ModelCard;

/// Why a file cannot be imported, naming the file and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: not a readable HDF5 file: {reason}")]
    Format { path: String, reason: String },
    #[error("{path}: not a Keras full-model file: {reason}")]
    NotKeras { path: String, reason: String },
    #[error("{path}: unsupported Keras model: {reason}")]
    Unsupported { path: String, reason: String },
    #[error("{path}: weight {name}: {reason}")]
    Weight {
        path: String,
        name: String,
        reason: String,
    },
}

/// One layer of the model: its class, its configuration and its weights by name relative to
/// the layer (`kernel`, `forward_lstm/recurrent_kernel`, ...; Keras' `:0` suffixes dropped).
#[derive(Debug)]
struct Layer {
    class: String,
    name: String,
    config: Value,
    /// Names of the layers feeding this one (empty where the file does not say).
    inbound: Vec<String>,
    weights: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
}

/// A parsed Keras file.
#[derive(Debug)]
pub struct KerasModel {
    source: String,
    keras_version: String,
    layers: Vec<Layer>,
}

impl KerasModel {
    /// Parses the bytes of a Keras `.h5` file; `source` names it in errors.
    pub fn from_bytes(bytes: Vec<u8>, source: &str) -> Result<Self, ImportError> {
        let path = source.to_string();
        let file = File::from_bytes(bytes).map_err(|e| ImportError::Format {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let not_keras = |reason: &str| ImportError::NotKeras {
            path: path.clone(),
            reason: reason.to_string(),
        };
        let attributes = file
            .root()
            .attrs()
            .map_err(|e| not_keras(&format!("root attributes unreadable: {e}")))?;
        let text = |value: Option<&AttrValue>| match value {
            Some(AttrValue::String(s) | AttrValue::AsciiString(s))
            | Some(AttrValue::VarLenAsciiString(s) | AttrValue::VarLenString(s)) => Some(s.clone()),
            _ => None,
        };
        // A full-model file (`model.save`) keeps the weights under `model_weights/` beside the
        // model's configuration; a weights-only file (tf.keras' `save_weights`) at the root,
        // with only the layers' names.
        let weights_root = if file.group("model_weights").is_ok() {
            "model_weights/"
        } else {
            ""
        };
        let keras_version = text(attributes.get("keras_version"))
            .or_else(|| {
                let group = file.group("model_weights").ok()?;
                text(group.attrs().ok()?.get("keras_version"))
            })
            .unwrap_or_default();
        let layer_list: Vec<(String, String, Value, Vec<String>)> =
            match text(attributes.get("model_config")) {
                Some(config_text) => {
                    let config: Value = serde_json::from_str(&config_text)
                        .map_err(|e| not_keras(&format!("model_config is not JSON: {e}")))?;
                    let layer_configs = config["config"]["layers"]
                        .as_array()
                        .or_else(|| config["config"].as_array())
                        .ok_or_else(|| not_keras("model_config lists no layers"))?;
                    layer_configs
                        .iter()
                        .map(|layer| {
                            let class = layer["class_name"].as_str().unwrap_or_default();
                            let name = layer["config"]["name"]
                                .as_str()
                                .or_else(|| layer["name"].as_str())
                                .unwrap_or_default();
                            (
                                class.to_string(),
                                name.to_string(),
                                layer["config"].clone(),
                                inbound_layers(&layer["inbound_nodes"]),
                            )
                        })
                        .collect()
                }
                None => {
                    let names = file
                        .group(weights_root.trim_end_matches('/'))
                        .ok()
                        .and_then(|group| group.attrs().ok())
                        .and_then(|attributes| strings(attributes.get("layer_names")))
                        .ok_or_else(|| {
                            not_keras("neither a model_config nor a layer_names attribute")
                        })?;
                    names
                        .into_iter()
                        .map(|name| (String::new(), name, Value::Null, Vec::new()))
                        .collect()
                }
            };
        let mut layers = Vec::new();
        for (class, name, config, inbound) in layer_list {
            let group = format!("{weights_root}{name}");
            let mut weights = BTreeMap::new();
            if file.group(&group).is_ok() {
                collect_weights(&file, &group, "", &mut weights).map_err(|reason| {
                    ImportError::Weight {
                        path: path.clone(),
                        name: group.clone(),
                        reason,
                    }
                })?;
            }
            // Keras nests a layer's weights under its own name once more
            // (`conv1d/conv1d/kernel:0`): names are kept relative to that.
            let prefix = format!("{name}/");
            let weights = weights
                .into_iter()
                .map(|(key, value)| {
                    let key = key.strip_prefix(&prefix).unwrap_or(&key).to_string();
                    (key, value)
                })
                .collect();
            layers.push(Layer {
                class,
                name,
                config,
                inbound,
                weights,
            });
        }
        Ok(Self {
            source: path,
            keras_version,
            layers,
        })
    }

    /// The network and a card naming its origin (`license`: the notice that travels with it).
    /// `output_affine`: the `(scale, shift)` that puts the network's raw output on the
    /// expression scale (a StandardScaler saved beside the model); `None` keeps the
    /// architecture's default, for DeepAtt the authors' complex-medium scaler.
    pub fn import(
        &self,
        device: &Device,
        license: &str,
        output_affine: Option<(f64, f64)>,
    ) -> Result<(Network, ModelCard), ImportError> {
        let classes: Vec<&str> = self.layers.iter().map(|l| l.class.as_str()).collect();
        let (name, architecture, model) = if crmnet::is_authors_crmnet(self) {
            let (config, model) = self.authors_crmnet(device, output_affine)?;
            (
                "crmnet",
                Architecture::Crmnet(config),
                Network::Crmnet(model),
            )
        } else if classes.contains(&"Bidirectional") && classes.contains(&"MultiHeadAttention") {
            let (config, model) = self.deepatt(device, output_affine)?;
            (
                "deepatt",
                Architecture::DeepAtt(config),
                Network::DeepAtt(model),
            )
        } else if self.is_xpresso() {
            let (config, model) = self.xpresso(device)?;
            (
                "xpresso",
                Architecture::Xpresso(config),
                Network::Xpresso(model),
            )
        } else {
            let names: Vec<&str> = self.layers.iter().map(|l| l.name.as_str()).collect();
            return Err(self.unsupported(format!(
                "layers {} match no architecture this crate knows (DeepAtt by its classes, \
                 the authors' CRMnet by its layer names ecb_1__0 ..., Xpresso by its two \
                 inputs joined after Flatten)",
                names.join(", ")
            )));
        };
        let mut card = ModelCard::describe(name, &architecture, &model);
        card.trained = true;
        card.origin = format!(
            "imported from the Keras file {} (Keras {})",
            self.file_name(),
            self.keras_version
        );
        card.license = license.to_string();
        Ok((model, card))
    }

    fn file_name(&self) -> &str {
        self.source
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(&self.source)
    }

    fn unsupported(&self, reason: String) -> ImportError {
        ImportError::Unsupported {
            path: self.source.clone(),
            reason,
        }
    }

    /// An integer of a layer's configuration (`config` may be a wrapped layer's), or of its
    /// first element (Keras writes `kernel_size: [30]`).
    fn integer(&self, layer: &Layer, config: &Value, key: &str) -> Result<usize, ImportError> {
        let value = &config[key];
        value
            .as_u64()
            .or_else(|| value[0].as_u64())
            .map(|v| v as usize)
            .ok_or_else(|| {
                self.unsupported(format!(
                    "layer {}: no integer {key} in its config",
                    layer.name
                ))
            })
    }

    fn layers_of(&self, class: &str) -> Vec<&Layer> {
        self.layers.iter().filter(|l| l.class == class).collect()
    }

    fn one_layer(&self, class: &str) -> Result<&Layer, ImportError> {
        match self.layers_of(class).as_slice() {
            [layer] => Ok(layer),
            found => Err(self.unsupported(format!(
                "the architecture has one {class} layer, this file {}",
                found.len()
            ))),
        }
    }

    fn weight(&self, layer: &Layer, name: &str) -> Result<(Vec<usize>, Vec<f32>), ImportError> {
        let found: Vec<_> = layer
            .weights
            .iter()
            .filter(|(key, _)| *key == name || key.ends_with(&format!("/{name}")))
            .collect();
        match found.as_slice() {
            [(_, value)] => Ok((*value).clone()),
            [] => Err(ImportError::Weight {
                path: self.source.clone(),
                name: format!("{}/{name}", layer.name),
                reason: format!(
                    "missing (the layer has: {})",
                    layer.weights.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            }),
            _ => Err(ImportError::Weight {
                path: self.source.clone(),
                name: format!("{}/{name}", layer.name),
                reason: "ambiguous: several weights end with this name".into(),
            }),
        }
    }
}

/// The names of the layers in a layer's first inbound node: Keras 2 writes
/// `[[["flatten_1", 0, 0, {}], ["halflife", 0, 0, {}]]]`.
fn inbound_layers(nodes: &Value) -> Vec<String> {
    nodes[0]
        .as_array()
        .map(|node| {
            node.iter()
                .filter_map(|input| input[0].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A string-array attribute (Keras' `layer_names`, `weight_names`), however it is stored.
fn strings(value: Option<&AttrValue>) -> Option<Vec<String>> {
    match value? {
        AttrValue::StringArray(values)
        | AttrValue::AsciiStringArray(values)
        | AttrValue::VarLenStringArray(values)
        | AttrValue::VarLenAsciiStringArray(values)
        | AttrValue::StringArraySized { values, .. }
        | AttrValue::AsciiStringArraySized { values, .. } => Some(values.clone()),
        _ => None,
    }
}

fn collect_weights(
    file: &File,
    group: &str,
    relative: &str,
    out: &mut BTreeMap<String, (Vec<usize>, Vec<f32>)>,
) -> Result<(), String> {
    let handle = file.group(group).map_err(|e| e.to_string())?;
    for name in handle.datasets().map_err(|e| e.to_string())? {
        let dataset = file
            .dataset(&format!("{group}/{name}"))
            .map_err(|e| format!("{name}: {e}"))?;
        let shape = dataset
            .shape()
            .map_err(|e| format!("{name}: {e}"))?
            .into_iter()
            .map(|d| d as usize)
            .collect();
        let data = dataset.read_f32().map_err(|e| format!("{name}: {e}"))?;
        let key = format!("{relative}{}", name.trim_end_matches(":0"));
        out.insert(key, (shape, data));
    }
    for sub in handle.groups().map_err(|e| e.to_string())? {
        collect_weights(
            file,
            &format!("{group}/{sub}"),
            &format!("{relative}{sub}/"),
            out,
        )?;
    }
    Ok(())
}

/// Values by parameter path (`conv.weight`), each with its Keras shape and the axis order that
/// turns it into burn's.
type Assignments = BTreeMap<String, (Vec<usize>, Vec<f32>, Option<[usize; 3]>)>;

/// Sets every parameter of `module` from `values`; a parameter without a value, a value without
/// a parameter, or a shape that does not fit is an error naming the parameter.
fn assign<M: Module>(module: M, values: Assignments, source: &str) -> Result<M, ImportError> {
    struct Setter {
        path: Vec<String>,
        values: Assignments,
        problems: Vec<String>,
    }
    impl ModuleMapper for Setter {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.path.pop();
        }
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let path = self.path.join(".");
            let Some((shape, data, permute)) = self.values.remove(&path) else {
                self.problems.push(format!("{path}: no weight in the file"));
                return param;
            };
            let expected = param.lazy_shape().to_vec();
            let mut burn_shape = shape.clone();
            if let Some(axes) = permute {
                burn_shape = axes
                    .iter()
                    .map(|&a| shape.get(a).copied().unwrap_or(0))
                    .collect();
            }
            if burn_shape != expected || shape.iter().product::<usize>() != data.len() {
                self.problems.push(format!(
                    "{path}: shape {shape:?} in the file does not fit the network's {expected:?}"
                ));
                return param;
            }
            let data = match permute {
                Some(axes) => permute3(&data, &shape, axes),
                None => data,
            };
            param.map(|tensor| {
                Tensor::<D>::from_data(TensorData::new(data, burn_shape), &tensor.device())
            })
        }
    }
    let mut setter = Setter {
        path: Vec::new(),
        values,
        problems: Vec::new(),
    };
    let module = module.map(&mut setter);
    setter.problems.extend(
        setter
            .values
            .keys()
            .map(|k| format!("{k}: in the file, not in the network")),
    );
    if setter.problems.is_empty() {
        Ok(module)
    } else {
        Err(ImportError::Unsupported {
            path: source.to_string(),
            reason: setter.problems.join("; "),
        })
    }
}

/// `data` of row-major `shape` with its axes reordered: output axis `i` is input axis `axes[i]`.
fn permute3(data: &[f32], shape: &[usize], axes: [usize; 3]) -> Vec<f32> {
    let strides = [shape[1] * shape[2], shape[2], 1];
    let out_shape = axes.map(|a| shape[a]);
    let mut out = Vec::with_capacity(data.len());
    for i in 0..out_shape[0] {
        for j in 0..out_shape[1] {
            for k in 0..out_shape[2] {
                let index = [i, j, k];
                let mut source = 0;
                for (position, &axis) in axes.iter().enumerate() {
                    source += index[position] * strides[axis];
                }
                out.push(data[source]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::permute3;

    #[test]
    fn permute_reverses_a_kernel_into_burns_axis_order() {
        // [kernel 2, inputs 1, filters 3] -> [filters 3, inputs 1, kernel 2]
        let keras = [1., 2., 3., 4., 5., 6.];
        assert_eq!(
            permute3(&keras, &[2, 1, 3], [2, 1, 0]),
            vec![1., 4., 2., 5., 3., 6.]
        );
    }
}
