//! Xpresso (Agarwal & Shendure 2020) as its authors saved it (Keras 2.0.5): a `promoter` input,
//! Conv1D (`same`, ReLU) and MaxPooling1D layers, Flatten, a Concatenate with the half-life
//! input, Dense layers with ReLU activations and dropout, one linear output unit; mapped onto
//! [`Xpresso`].

use std::collections::BTreeMap;

use burn::prelude::*;
use serde_json::Value;

use super::{ImportError, KerasModel, Layer, assign};
use crate::model::{Xpresso, XpressoConfig};

impl KerasModel {
    /// Whether the file holds a convolutional network whose flattened output is concatenated
    /// with a second, per-sequence input: Xpresso's shape.
    pub(super) fn is_xpresso(&self) -> bool {
        let classes: Vec<&str> = self.layers.iter().map(|l| l.class.as_str()).collect();
        classes.contains(&"Conv1D")
            && classes.contains(&"Concatenate")
            && classes.contains(&"Flatten")
            && self.layers_of("InputLayer").len() == 2
    }

    /// Xpresso: the configuration read off the layers (checked to be what [`Xpresso`]
    /// computes), the weights mapped onto it. The six-feature files carry no feature names;
    /// they are named after the input layer (`halflife_1` ...).
    pub(super) fn xpresso(&self, device: &Device) -> Result<(XpressoConfig, Xpresso), ImportError> {
        let inputs = self.layers_of("InputLayer");
        let shape = |layer: &Layer| -> Vec<Option<u64>> {
            layer.config["batch_input_shape"]
                .as_array()
                .map(|dims| dims.iter().map(Value::as_u64).collect())
                .unwrap_or_default()
        };
        let (promoter, features) = match (shape(inputs[0]).len(), shape(inputs[1]).len()) {
            (3, 2) => (inputs[0], inputs[1]),
            (2, 3) => (inputs[1], inputs[0]),
            _ => {
                return Err(self.unsupported(
                    "Xpresso has a sequence input [length, 4] and a feature input [features]"
                        .into(),
                ));
            }
        };
        let (length, channels) = match shape(promoter)[1..] {
            [Some(length), Some(channels)] => (length as usize, channels as usize),
            _ => return Err(self.unsupported("the sequence input has no fixed length".into())),
        };
        let feature_count = shape(features)[1]
            .ok_or_else(|| self.unsupported("the feature input has no fixed width".into()))?
            as usize;
        if channels != 4 {
            return Err(self.unsupported(format!(
                "the sequence input has {channels} channels, Xpresso's one-hot has 4"
            )));
        }
        let concatenate = self.one_layer("Concatenate")?;
        if concatenate.inbound.first() == Some(&features.name) {
            return Err(self.unsupported(
                "the features come before the sequence in the Concatenate layer".into(),
            ));
        }
        let text = |layer: &Layer, key: &str| layer.config[key].as_str().unwrap_or("").to_string();
        let integer = |layer: &Layer, key: &str| self.integer(layer, &layer.config, key);
        let convs = self.layers_of("Conv1D");
        let pools = self.layers_of("MaxPooling1D");
        if convs.len() != pools.len() {
            return Err(self.unsupported(format!(
                "{} Conv1D but {} MaxPooling1D layers: Xpresso pools after every convolution",
                convs.len(),
                pools.len()
            )));
        }
        for conv in &convs {
            let settings = (
                text(conv, "padding"),
                text(conv, "activation"),
                integer(conv, "strides")?,
                integer(conv, "dilation_rate")?,
            );
            if settings != ("same".into(), "relu".into(), 1, 1) {
                return Err(self.unsupported(format!(
                    "layer {}: (padding, activation, strides, dilation) {settings:?}, Xpresso's \
                     are (same, relu, 1, 1)",
                    conv.name
                )));
            }
        }
        for pool in &pools {
            if integer(pool, "strides")? != integer(pool, "pool_size")? {
                return Err(self.unsupported(format!(
                    "layer {}: pooling stride differs from its window",
                    pool.name
                )));
            }
        }
        let dense = self.layers_of("Dense");
        let (output, hidden) = match dense.split_last() {
            Some((last, hidden)) if integer(last, "units")? == 1 => (last, hidden),
            _ => return Err(self.unsupported("Xpresso ends in a Dense layer of one unit".into())),
        };
        // A hidden layer is ReLU either itself or through the Activation layer after it.
        let activations = self.layers_of("Activation");
        for layer in hidden {
            let own = text(layer, "activation");
            let follows = activations
                .iter()
                .any(|a| a.inbound.first() == Some(&layer.name) && text(a, "activation") == "relu");
            if own != "relu" && !(own == "linear" && follows) {
                return Err(self.unsupported(format!(
                    "layer {}: hidden dense layers must be ReLU",
                    layer.name
                )));
            }
        }
        if text(output, "activation") != "linear" {
            return Err(
                self.unsupported(format!("layer {}: the output must be linear", output.name))
            );
        }
        let rates: Vec<f64> = self
            .layers_of("Dropout")
            .iter()
            .map(|layer| layer.config["rate"].as_f64().unwrap_or(0.0))
            .collect();
        let dense_dropout = (0..hidden.len())
            .map(|index| rates.get(index).copied().unwrap_or(0.0))
            .collect();
        let defaults = XpressoConfig::new();
        let tss_position = if length == defaults.sequence_length {
            defaults.tss_position
        } else {
            length / 2
        };
        let config = XpressoConfig::new()
            .with_sequence_length(length)
            .with_tss_position(tss_position)
            .with_filters(
                convs
                    .iter()
                    .map(|l| integer(l, "filters"))
                    .collect::<Result<_, _>>()?,
            )
            .with_kernel_sizes(
                convs
                    .iter()
                    .map(|l| integer(l, "kernel_size"))
                    .collect::<Result<_, _>>()?,
            )
            .with_pool_sizes(
                pools
                    .iter()
                    .map(|l| integer(l, "pool_size"))
                    .collect::<Result<_, _>>()?,
            )
            .with_features(
                (1..=feature_count)
                    .map(|index| format!("{}_{index}", features.name))
                    .collect(),
            )
            .with_dense_units(
                hidden
                    .iter()
                    .map(|l| integer(l, "units"))
                    .collect::<Result<_, _>>()?,
            )
            .with_dense_dropout(dense_dropout);
        let model = Xpresso::new(&config, device).map_err(|e| self.unsupported(e.to_string()))?;

        let mut values = BTreeMap::new();
        for (index, conv) in convs.iter().enumerate() {
            let (shape, data) = self.weight(conv, "kernel")?;
            // Keras' Conv1D kernel is `[kernel, inputs, filters]`, burn's `[filters, inputs, kernel]`.
            values.insert(
                format!("convs.{index}.weight"),
                (shape, data, Some([2, 1, 0])),
            );
            let (shape, data) = self.weight(conv, "bias")?;
            values.insert(format!("convs.{index}.bias"), (shape, data, None));
        }
        for (index, layer) in hidden.iter().enumerate() {
            for (name, target) in [("kernel", "weight"), ("bias", "bias")] {
                let (shape, data) = self.weight(layer, name)?;
                values.insert(
                    format!("hidden.{index}.linear.{target}"),
                    (shape, data, None),
                );
            }
        }
        for (name, target) in [("kernel", "weight"), ("bias", "bias")] {
            let (shape, data) = self.weight(output, name)?;
            values.insert(format!("output.{target}"), (shape, data, None));
        }
        let model = assign(model, values, &self.source)?;
        Ok((config, model))
    }
}
