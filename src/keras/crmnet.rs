//! CRMnet as its authors' Keras code builds it (Ding et al. 2023, github.com/jiayuwen/CRMnet,
//! `model.py`), so that their published weights run here. That code names only its
//! squeeze-excitation blocks (`ecb_1__0` ... `ecb_4__1`, `dcb_1__0` ... `dcb_3__1`, `se_0` ...
//! `se_2`); every other layer has Keras' default name, whose counter follows creation order
//! (`conv1d`, `conv1d_1`, ...), and creation order is the order the network is built in. So the
//! layers are matched to modules by name and creation number, which a weights-only file (no
//! classes, no configuration) also has. Its input channels are N, A, C, G, T (a StringLookup
//! over A, C, G, T whose out-of-vocabulary slot comes first); the crate's are A, C, G, T, N.

use std::collections::BTreeMap;

use super::{Assignments, ImportError, KerasModel, Layer, assign};
use crate::data::alphabet;
use crate::model::{Crmnet, CrmnetConfig, PositionMode, TransformerWiring};
use burn::prelude::*;

/// Keras' default names end in a creation counter, absent on the first (`conv1d`,
/// `conv1d_1`, ...): the base name and the counter.
fn numbered(name: &str) -> (&str, usize) {
    match name.rsplit_once('_') {
        Some((base, counter)) if !counter.is_empty() => match counter.parse() {
            Ok(number) if counter.bytes().all(|b| b.is_ascii_digit()) => (base, number),
            _ => (name, 0),
        },
        _ => (name, 0),
    }
}

/// The squeeze-excitation blocks' own names: `ecb_<level>__<k>`, `dcb_<level>__<k>` (levels
/// from 1, k the block's first or second unit) and `se_<k>` for the head.
enum SqueezeName {
    Encoder(usize, usize),
    Decoder(usize, usize),
    Head(usize),
}

fn squeeze_name(name: &str) -> Option<SqueezeName> {
    let level_unit = |rest: &str| -> Option<(usize, usize)> {
        let (level, unit) = rest.split_once("__")?;
        Some((
            level.parse::<usize>().ok()?.checked_sub(1)?,
            unit.parse().ok()?,
        ))
    };
    if let Some(rest) = name.strip_prefix("ecb_") {
        level_unit(rest).map(|(l, u)| SqueezeName::Encoder(l, u))
    } else if let Some(rest) = name.strip_prefix("dcb_") {
        level_unit(rest).map(|(l, u)| SqueezeName::Decoder(l, u))
    } else {
        name.strip_prefix("se_")?
            .parse()
            .ok()
            .map(SqueezeName::Head)
    }
}

/// Whether the file's layers are named as the authors' code names them.
pub(super) fn is_authors_crmnet(model: &KerasModel) -> bool {
    model.layers.iter().any(|layer| layer.name == "ecb_1__0")
}

/// The file's weighted layers, sorted into the network's parts.
#[derive(Default)]
struct Parts<'a> {
    convolutions: Vec<(usize, &'a Layer)>,
    transposed: Vec<(usize, &'a Layer)>,
    batch_norms: Vec<(usize, &'a Layer)>,
    blocks: Vec<(usize, &'a Layer)>,
    dense: Vec<(usize, &'a Layer)>,
    encoder_se: BTreeMap<(usize, usize), &'a Layer>,
    decoder_se: BTreeMap<(usize, usize), &'a Layer>,
    head_se: BTreeMap<usize, &'a Layer>,
}

type Value = (Vec<usize>, Vec<f32>);

/// A Dense layer's weights by their Keras and burn names.
const DENSE: [(&str, &str); 2] = [("kernel", "weight"), ("bias", "bias")];

impl KerasModel {
    pub(super) fn authors_crmnet(
        &self,
        device: &Device,
        output_affine: Option<(f64, f64)>,
    ) -> Result<(CrmnetConfig, Crmnet), ImportError> {
        let parts = self.crmnet_parts()?;
        let config = self.crmnet_config(&parts)?;
        let config = match output_affine {
            Some((scale, shift)) => config.with_output_scale(scale).with_output_shift(shift),
            None => config,
        };
        let model = Crmnet::new(&config, device).map_err(|e| self.unsupported(e.to_string()))?;
        let values = self.crmnet_values(&parts, &config)?;
        Ok((config, assign(model, values, &self.source)?))
    }

    fn crmnet_parts(&self) -> Result<Parts<'_>, ImportError> {
        let mut parts = Parts::default();
        for layer in self.layers.iter().filter(|l| !l.weights.is_empty()) {
            if let Some(se) = squeeze_name(&layer.name) {
                match se {
                    SqueezeName::Encoder(l, u) => parts.encoder_se.insert((l, u), layer),
                    SqueezeName::Decoder(l, u) => parts.decoder_se.insert((l, u), layer),
                    SqueezeName::Head(k) => parts.head_se.insert(k, layer),
                };
                continue;
            }
            let (base, number) = numbered(&layer.name);
            let list = match base {
                "conv1d" => &mut parts.convolutions,
                "conv1d_transpose" => &mut parts.transposed,
                "batch_normalization" => &mut parts.batch_norms,
                "transformer_block" => &mut parts.blocks,
                "dense" => &mut parts.dense,
                _ => {
                    return Err(self.unsupported(format!(
                        "layer {} has weights but no place in the authors' CRMnet",
                        layer.name
                    )));
                }
            };
            list.push((number, layer));
        }
        for list in [
            &mut parts.convolutions,
            &mut parts.transposed,
            &mut parts.batch_norms,
            &mut parts.blocks,
            &mut parts.dense,
        ] {
            list.sort_by_key(|(number, _)| *number);
        }
        Ok(parts)
    }

    /// The configuration read off the weights' shapes; the rest is the authors' code's.
    fn crmnet_config(&self, parts: &Parts) -> Result<CrmnetConfig, ImportError> {
        let levels = |se: &BTreeMap<(usize, usize), &Layer>| {
            se.keys().map(|(level, _)| level + 1).max().unwrap_or(0)
        };
        let encoder_levels = levels(&parts.encoder_se);
        let decoder_levels = levels(&parts.decoder_se);
        let head_units = parts.head_se.len();
        let expected = (3 * encoder_levels).saturating_sub(1) + 2 * decoder_levels + head_units;
        if encoder_levels == 0 || parts.convolutions.len() != expected {
            return Err(self.unsupported(format!(
                "{encoder_levels} encoder, {decoder_levels} decoder and {head_units} head \
                 squeeze-excitation levels need {expected} Conv1D layers, the file has {}",
                parts.convolutions.len()
            )));
        }
        // One axis of a layer's kernel, or an error naming the layer.
        let axis = |layer: &Layer, shape: &[usize], index: usize| {
            shape.get(index).copied().ok_or_else(|| {
                self.unsupported(format!("{}: kernel of shape {shape:?}", layer.name))
            })
        };
        let conv_axis = |index: usize, kernel_axis: usize| {
            let layer = parts.convolutions[index].1;
            axis(layer, &self.weight(layer, "kernel")?.0, kernel_axis)
        };
        let filters = |index: usize| conv_axis(index, 2);
        let kernel_size = conv_axis(0, 0)?;
        let mut encoder_filters = Vec::new();
        let mut index = 0;
        for level in 0..encoder_levels {
            encoder_filters.push(filters(index)?);
            index += if level + 1 < encoder_levels { 3 } else { 2 };
        }
        let mut decoder_filters = Vec::new();
        for _ in 0..decoder_levels {
            decoder_filters.push(filters(index)?);
            index += 2;
        }
        let head_filters = (index..parts.convolutions.len())
            .map(filters)
            .collect::<Result<Vec<_>, _>>()?;
        let squeeze =
            self.sublayer_weights(self.squeeze(&parts.encoder_se, (0, 0))?, "dense", "kernel");
        let se_ratio = match squeeze.first() {
            Some((shape, _)) if shape.len() == 2 && shape[1] > 0 => shape[0] / shape[1],
            _ => return Err(self.unsupported("ecb_1__0 has no Dense kernel".into())),
        };
        let (_, first_block) = parts
            .blocks
            .first()
            .ok_or_else(|| self.unsupported("no transformer_block layer".into()))?;
        let query = self.weight(first_block, "query/kernel")?.0;
        let expand = self.sublayer_weights(first_block, "dense", "kernel");
        let expand = expand.first().map(|(shape, _)| shape.as_slice());
        let (Some([_, ffn_dim]), [_, heads, key_dim]) = (expand, query.as_slice()) else {
            return Err(self.unsupported(format!(
                "{}: no attention kernel of three axes and feed-forward Dense",
                first_block.name
            )));
        };
        // (inputs, units) of each Dense layer after the head.
        let dense_shapes = parts
            .dense
            .iter()
            .map(|(_, layer)| {
                let shape = self.weight(layer, "kernel")?.0;
                Ok((axis(layer, &shape, 0)?, axis(layer, &shape, 1)?))
            })
            .collect::<Result<Vec<_>, ImportError>>()?;
        let Some(((_, output_units), hidden)) = dense_shapes.split_last() else {
            return Err(self.unsupported("no Dense layers after the head".into()));
        };
        if *output_units != 1 {
            return Err(self.unsupported("the last Dense layer has not one unit".into()));
        }
        let mlp_units: Vec<usize> = hidden.iter().map(|(_, units)| *units).collect();
        let flattened = dense_shapes[0].0;
        let sequence_length = flattened / head_filters.last().copied().unwrap_or(1).max(1);
        let published = CrmnetConfig::published();
        let mlp_dropout = if published.mlp_units.len() == mlp_units.len() {
            published.mlp_dropout.clone()
        } else {
            vec![0.1; mlp_units.len()]
        };
        let config = published
            .with_sequence_length(sequence_length)
            .with_kernel_size(kernel_size)
            .with_encoder_filters(encoder_filters)
            .with_decoder_filters(decoder_filters)
            .with_head_filters(head_filters)
            .with_mlp_units(mlp_units)
            .with_mlp_dropout(mlp_dropout)
            .with_se_ratio(se_ratio)
            .with_heads(*heads)
            .with_key_dim(*key_dim)
            .with_ffn_dim(*ffn_dim)
            .with_transformer_blocks(parts.blocks.len())
            .with_position(PositionMode::Multiplicative)
            .with_wiring(TransformerWiring::Paired);
        config
            .validate()
            .map_err(|e| self.unsupported(e.to_string()))?;
        Ok(config)
    }

    /// Every parameter's value, in burn's layout, by module path.
    fn crmnet_values<'a>(
        &self,
        parts: &Parts<'a>,
        config: &CrmnetConfig,
    ) -> Result<Assignments, ImportError> {
        let mut values = Assignments::new();
        let mut convolutions = parts.convolutions.iter().map(|(_, layer)| *layer);
        let mut batch_norms = parts.batch_norms.iter().map(|(_, layer)| *layer);
        let next = |list: &mut dyn Iterator<Item = &'a Layer>, what: &str| {
            list.next()
                .ok_or_else(|| self.unsupported(format!("too few {what} layers")))
        };
        let levels = config.encoder_filters.len();
        for level in 0..levels {
            for (unit, name) in ["first", "second"].into_iter().enumerate() {
                let prefix = format!("encoder.levels.{level}.{name}");
                let conv = next(&mut convolutions, "Conv1D")?;
                let kernel = self.weight(conv, "kernel")?;
                let kernel = if level == 0 && unit == 0 {
                    self.crate_channel_order(kernel)?
                } else {
                    kernel
                };
                values.insert(
                    format!("{prefix}.conv.weight"),
                    (kernel.0, kernel.1, Some([2, 1, 0])),
                );
                self.bias(&mut values, &format!("{prefix}.conv"), conv)?;
                let se = self.squeeze(&parts.encoder_se, (level, unit))?;
                self.squeeze_excite(&mut values, &prefix, se)?;
                self.batch_norm(
                    &mut values,
                    &prefix,
                    next(&mut batch_norms, "BatchNormalization")?,
                )?;
            }
            if level + 1 < levels {
                let prefix = format!("encoder.levels.{level}.downsample");
                self.convolution(&mut values, &prefix, next(&mut convolutions, "Conv1D")?)?;
            }
        }
        for (index, (_, block)) in parts.blocks.iter().enumerate() {
            self.transformer_block(&mut values, &format!("transformer.blocks.{index}"), block)?;
        }
        for (level, (_, up)) in parts.transposed.iter().enumerate() {
            let prefix = format!("decoder.levels.{level}");
            // Keras' transposed kernel is `[kernel, outputs, inputs]`, burn's `[inputs, outputs, kernel]`.
            let (shape, data) = self.weight(up, "kernel")?;
            values.insert(
                format!("{prefix}.upsample.weight"),
                (shape, data, Some([2, 1, 0])),
            );
            self.bias(&mut values, &format!("{prefix}.upsample"), up)?;
            for (unit, name) in ["first", "second"].into_iter().enumerate() {
                let prefix = format!("{prefix}.{name}");
                self.convolution(
                    &mut values,
                    &format!("{prefix}.conv"),
                    next(&mut convolutions, "Conv1D")?,
                )?;
                let se = self.squeeze(&parts.decoder_se, (level, unit))?;
                self.squeeze_excite(&mut values, &prefix, se)?;
                self.batch_norm(
                    &mut values,
                    &prefix,
                    next(&mut batch_norms, "BatchNormalization")?,
                )?;
            }
        }
        for (unit, se) in &parts.head_se {
            let prefix = format!("head.units.{unit}");
            self.convolution(
                &mut values,
                &format!("{prefix}.conv"),
                next(&mut convolutions, "Conv1D")?,
            )?;
            self.squeeze_excite(&mut values, &prefix, se)?;
        }
        let (output, hidden) = parts.dense.split_last().expect("checked by crmnet_config");
        for (index, (_, layer)) in hidden.iter().enumerate() {
            self.dense(&mut values, &format!("mlp.hidden.{index}.linear"), layer)?;
        }
        self.dense(&mut values, "mlp.output", output.1)?;
        Ok(values)
    }

    /// The first convolution's kernel `[kernel, 5, filters]` with its input channels from the
    /// authors' N, A, C, G, T into the crate's order.
    fn crate_channel_order(&self, (shape, data): Value) -> Result<Value, ImportError> {
        let channels = alphabet::CHANNELS;
        if shape.len() != 3 || shape[1] != channels {
            return Err(self.unsupported(format!(
                "the first Conv1D kernel is {shape:?}, not [kernel, {channels}, filters]"
            )));
        }
        let filters = shape[2];
        let mut reordered = vec![0.0; data.len()];
        for tap in 0..shape[0] {
            for channel in 0..channels {
                // The authors' channel 0 is N, the crate's last; A, C, G, T follow in both.
                let keras = (channel + 1) % channels;
                let to = (tap * channels + channel) * filters;
                let from = (tap * channels + keras) * filters;
                reordered[to..to + filters].copy_from_slice(&data[from..from + filters]);
            }
        }
        Ok((shape, reordered))
    }

    fn squeeze<'a, K: Ord + Copy + std::fmt::Debug>(
        &self,
        blocks: &BTreeMap<K, &'a Layer>,
        key: K,
    ) -> Result<&'a Layer, ImportError> {
        blocks.get(&key).copied().ok_or_else(|| {
            self.unsupported(format!(
                "no squeeze-excitation layer for {key:?} (level, unit)"
            ))
        })
    }

    fn bias(
        &self,
        values: &mut Assignments,
        prefix: &str,
        layer: &Layer,
    ) -> Result<(), ImportError> {
        let (shape, data) = self.weight(layer, "bias")?;
        values.insert(format!("{prefix}.bias"), (shape, data, None));
        Ok(())
    }

    /// Keras' Conv1D kernel is `[kernel, inputs, filters]`, burn's `[filters, inputs, kernel]`.
    fn convolution(
        &self,
        values: &mut Assignments,
        prefix: &str,
        layer: &Layer,
    ) -> Result<(), ImportError> {
        let (shape, data) = self.weight(layer, "kernel")?;
        values.insert(format!("{prefix}.weight"), (shape, data, Some([2, 1, 0])));
        self.bias(values, prefix, layer)
    }

    /// Keras' Dense kernel is `[inputs, outputs]`, as burn's Linear weight.
    fn dense(
        &self,
        values: &mut Assignments,
        prefix: &str,
        layer: &Layer,
    ) -> Result<(), ImportError> {
        let (shape, data) = self.weight(layer, "kernel")?;
        values.insert(format!("{prefix}.weight"), (shape, data, None));
        self.bias(values, prefix, layer)
    }

    fn batch_norm(
        &self,
        values: &mut Assignments,
        prefix: &str,
        layer: &Layer,
    ) -> Result<(), ImportError> {
        for (keras, burn) in [
            ("gamma", "gamma"),
            ("beta", "beta"),
            ("moving_mean", "running_mean"),
            ("moving_variance", "running_var"),
        ] {
            let (shape, data) = self.weight(layer, keras)?;
            values.insert(format!("{prefix}.norm.{burn}"), (shape, data, None));
        }
        Ok(())
    }

    /// The block's two Dense layers in creation order: the squeeze, then the excitation.
    fn squeeze_excite(
        &self,
        values: &mut Assignments,
        prefix: &str,
        layer: &Layer,
    ) -> Result<(), ImportError> {
        let targets = [
            format!("{prefix}.se.squeeze"),
            format!("{prefix}.se.excite"),
        ];
        self.two_sublayers(values, layer, "dense", DENSE, targets)
    }

    /// The weights of the two sublayers of `layer` named `base`, in creation order, onto the
    /// modules `targets`: each `(Keras name, burn name)` of `leaves`.
    fn two_sublayers(
        &self,
        values: &mut Assignments,
        layer: &Layer,
        base: &str,
        leaves: [(&str, &str); 2],
        targets: [String; 2],
    ) -> Result<(), ImportError> {
        for (keras, burn) in leaves {
            let found = self.sublayer_weights(layer, base, keras);
            if found.len() != 2 {
                return Err(self.unsupported(format!(
                    "{}: {} {base} layers with a {keras}, not two",
                    layer.name,
                    found.len()
                )));
            }
            for (target, (shape, data)) in targets.iter().zip(found) {
                values.insert(format!("{target}.{burn}"), (shape, data, None));
            }
        }
        Ok(())
    }

    /// Attention with per-head kernels (`[width, heads, key]`, output `[heads, key, width]`),
    /// flattened to burn's Linear weights; the feed-forward Dense layers and the two layer norms
    /// in creation order.
    fn transformer_block(
        &self,
        values: &mut Assignments,
        prefix: &str,
        block: &Layer,
    ) -> Result<(), ImportError> {
        for (keras, burn) in [
            ("query", "query"),
            ("key", "key"),
            ("value", "value"),
            ("attention_output", "output"),
        ] {
            let (shape, data) = self.weight(block, &format!("{keras}/kernel"))?;
            let flat = if keras == "attention_output" {
                vec![
                    shape.iter().take(2).product(),
                    shape.last().copied().unwrap_or(0),
                ]
            } else {
                vec![
                    shape.first().copied().unwrap_or(0),
                    shape.iter().skip(1).product(),
                ]
            };
            values.insert(
                format!("{prefix}.attention.{burn}.weight"),
                (flat, data, None),
            );
            let (shape, data) = self.weight(block, &format!("{keras}/bias"))?;
            let flat = vec![shape.iter().product()];
            values.insert(
                format!("{prefix}.attention.{burn}.bias"),
                (flat, data, None),
            );
        }
        let dense = [format!("{prefix}.expand"), format!("{prefix}.contract")];
        self.two_sublayers(values, block, "dense", DENSE, dense)?;
        let norms = [
            format!("{prefix}.attention_norm"),
            format!("{prefix}.ffn_norm"),
        ];
        let leaves = [("gamma", "gamma"), ("beta", "beta")];
        self.two_sublayers(values, block, "layer_normalization", leaves, norms)?;
        Ok(())
    }

    /// The weights called `leaf` of the sublayers of `layer` named `base` (`dense`, `dense_1`,
    /// ...), in the sublayers' creation order.
    fn sublayer_weights(&self, layer: &Layer, base: &str, leaf: &str) -> Vec<Value> {
        let mut found: Vec<(usize, Value)> = layer
            .weights
            .iter()
            .filter_map(|(key, value)| {
                let mut path = key.rsplit('/');
                (path.next()? == leaf).then_some(())?;
                let (sublayer_base, number) = numbered(path.next()?);
                (sublayer_base == base).then(|| (number, value.clone()))
            })
            .collect();
        found.sort_by_key(|(number, _)| *number);
        found.into_iter().map(|(_, value)| value).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use burn::prelude::*;
    use serde_json::Value;

    use super::numbered;
    use crate::keras::{KerasModel, Layer};

    fn layer(name: &str, weights: &[(&str, Vec<usize>)]) -> Layer {
        let weights: BTreeMap<String, (Vec<usize>, Vec<f32>)> = weights
            .iter()
            .map(|(key, shape)| {
                let size = shape.iter().product();
                (key.to_string(), (shape.clone(), vec![0.0; size]))
            })
            .collect();
        Layer {
            class: String::new(),
            name: name.into(),
            config: Value::Null,
            inbound: Vec::new(),
            weights,
        }
    }

    /// Kernels with too few axes where the layout needs them are errors naming the layer, not
    /// panics (an edited or foreign file).
    #[test]
    fn malformed_kernels_are_errors_not_panics() {
        let squeeze = [
            ("dense/kernel", vec![4, 2]),
            ("dense/bias", vec![2]),
            ("dense_1/kernel", vec![2, 4]),
            ("dense_1/bias", vec![4]),
        ];
        let flat_conv = [("kernel", vec![11]), ("bias", vec![4])];
        let conv = [("kernel", vec![11, 5, 4]), ("bias", vec![4])];
        let cases = [
            vec![
                layer("conv1d", &flat_conv),
                layer("ecb_1__0", &squeeze),
                layer("conv1d_1", &flat_conv),
            ],
            vec![
                layer("conv1d", &conv),
                layer("ecb_1__0", &squeeze),
                layer("conv1d_1", &conv),
                layer(
                    "transformer_block",
                    &[
                        ("query/kernel", vec![4, 2, 2]),
                        ("dense/kernel", vec![4, 8]),
                    ],
                ),
                layer("dense", &[("kernel", vec![8])]),
            ],
            vec![
                layer("conv1d", &conv),
                layer("ecb_1__0", &[]),
                layer("ecb_1__1", &squeeze),
                layer("conv1d_1", &conv),
            ],
        ];
        for layers in cases {
            let model = KerasModel {
                source: "edited.h5".into(),
                keras_version: String::new(),
                layers,
            };
            let error = model.import(&Device::flex(), "", None).unwrap_err();
            assert!(error.to_string().starts_with("edited.h5: "), "{error}");
        }
    }

    #[test]
    fn default_names_give_base_and_creation_counter() {
        assert_eq!(numbered("conv1d"), ("conv1d", 0));
        assert_eq!(numbered("conv1d_12"), ("conv1d", 12));
        assert_eq!(numbered("conv1d_transpose"), ("conv1d_transpose", 0));
        assert_eq!(numbered("conv1d_transpose_2"), ("conv1d_transpose", 2));
        assert_eq!(numbered("batch_normalization"), ("batch_normalization", 0));
        assert_eq!(numbered("dense_"), ("dense_", 0));
    }
}
