//! DeepAtt (Vaishnav et al. 2022) as its authors saved it: one Conv1D, MaxPooling1D, a
//! Bidirectional hard-sigmoid LSTM, a `keras-multi-head` MultiHeadAttention and Dense layers,
//! found by class in the file's model configuration and mapped onto [`DeepAtt`].

use std::collections::BTreeMap;

use burn::prelude::*;

use super::{ImportError, KerasModel, Layer, assign};
use crate::model::{DeepAtt, DeepAttConfig};

impl KerasModel {
    /// DeepAtt: the configuration read off the layers, the weights mapped onto [`DeepAtt`].
    pub(super) fn deepatt(
        &self,
        device: &Device,
        output_affine: Option<(f64, f64)>,
    ) -> Result<(DeepAttConfig, DeepAtt), ImportError> {
        let conv = self.one_layer("Conv1D")?;
        let pool = self.one_layer("MaxPooling1D")?;
        let lstm = self.one_layer("Bidirectional")?;
        let attention = self.one_layer("MultiHeadAttention")?;
        let dense = self.layers_of("Dense");
        let input = self.layers_of("InputLayer");
        let number = |layer: &Layer, key: &str| self.integer(layer, &layer.config, key);
        let sequence_length = input
            .first()
            .and_then(|layer| layer.config["batch_input_shape"][1].as_u64())
            .map_or(DeepAttConfig::new().sequence_length, |v| v as usize);
        let (dense_hidden, dense_output) = match dense.split_last() {
            Some((last, hidden)) if number(last, "units")? == 1 => (hidden, last),
            _ => return Err(self.unsupported("DeepAtt ends in a Dense layer of one unit".into())),
        };
        let dropout = self
            .layers_of("Dropout")
            .first()
            .and_then(|layer| layer.config["rate"].as_f64())
            .unwrap_or(0.0);
        let config = DeepAttConfig::new()
            .with_sequence_length(sequence_length)
            .with_filters(number(conv, "filters")?)
            .with_kernel_size(number(conv, "kernel_size")?)
            .with_pool_size(number(pool, "pool_size")?)
            .with_lstm_units(self.integer(lstm, &lstm.config["layer"]["config"], "units")?)
            .with_heads(number(attention, "head_num")?)
            .with_dense_units(
                dense_hidden
                    .iter()
                    .map(|layer| number(layer, "units"))
                    .collect::<Result<_, _>>()?,
            )
            .with_dropout(dropout);
        let config = match output_affine {
            Some((scale, shift)) => config.with_output_scale(scale).with_output_shift(shift),
            None => config,
        };
        let model = DeepAtt::new(&config, device).map_err(|e| self.unsupported(e.to_string()))?;

        let mut values = BTreeMap::new();
        let mut put =
            |target: String, (shape, data): (Vec<usize>, Vec<f32>), permute: Option<[usize; 3]>| {
                values.insert(target, (shape, data, permute));
            };
        // Keras' Conv1D kernel is `[kernel, inputs, filters]`, burn's `[filters, inputs, kernel]`.
        put(
            "conv.weight".into(),
            self.weight(conv, "kernel")?,
            Some([2, 1, 0]),
        );
        put("conv.bias".into(), self.weight(conv, "bias")?, None);
        for direction in ["forward", "backward"] {
            let weight = |name: &str| {
                self.weight(lstm, &format!("{direction}_lstm/{name}"))
                    .or_else(|_| self.weight(lstm, &format!("{direction}_lstm/lstm_cell/{name}")))
            };
            put(
                format!("lstm.{direction}.input.weight"),
                weight("kernel")?,
                None,
            );
            put(
                format!("lstm.{direction}.input.bias"),
                weight("bias")?,
                None,
            );
            put(
                format!("lstm.{direction}.recurrent"),
                weight("recurrent_kernel")?,
                None,
            );
        }
        for (target, letter) in [
            ("query", "q"),
            ("key", "k"),
            ("value", "v"),
            ("output", "o"),
        ] {
            let weight =
                |kind: &str| self.weight(attention, &format!("{}_{kind}{letter}", attention.name));
            put(format!("attention.{target}.weight"), weight("W")?, None);
            put(format!("attention.{target}.bias"), weight("b")?, None);
        }
        for (index, layer) in dense_hidden.iter().enumerate() {
            put(
                format!("hidden.{index}.weight"),
                self.weight(layer, "kernel")?,
                None,
            );
            put(
                format!("hidden.{index}.bias"),
                self.weight(layer, "bias")?,
                None,
            );
        }
        put(
            "output.weight".into(),
            self.weight(dense_output, "kernel")?,
            None,
        );
        put(
            "output.bias".into(),
            self.weight(dense_output, "bias")?,
            None,
        );
        let model = assign(model, values, &self.source)?;
        Ok((config, model))
    }
}
