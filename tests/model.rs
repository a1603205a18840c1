mod common;

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use crmnet::backend::Backend;
use crmnet::data::alphabet;
use crmnet::data::batching::one_hot_batch;
use crmnet::inference::Predictor;
use crmnet::model::{
    Architecture, CamformerConfig, Crmnet, CrmnetConfig, Network, ParamCounts, PositionMode,
    Preset, TransformerWiring,
};
use crmnet::weights::ModelCard;

#[test]
fn published_architecture_has_the_published_parameter_counts() {
    let device = Device::flex();
    let model = Network::from(Crmnet::new(&CrmnetConfig::published(), &device).unwrap());
    let stages = [
        ("encoder", 4_490_368),
        ("transformer", 25_777_152),
        ("decoder", 2_626_816),
        ("head", 314_928),
        ("mlp", 961_025),
    ];
    assert_eq!(
        model.param_counts(),
        ParamCounts {
            stages: stages.map(|(name, n)| (name.to_string(), n)).into(),
            total: 34_170_289,
            trainable: 34_165_681,
        }
    );
}

#[test]
fn forward_cost_of_the_published_model_is_about_1_3_gflop() {
    // The benchmark issue's independent estimate: about 1.3 GFLOP per sequence.
    let flops = CrmnetConfig::published().forward_flops() as f64;
    assert!((1.25e9..1.35e9).contains(&flops), "{flops}");
    let web = CrmnetConfig::web().forward_flops() as f64;
    assert!(web < flops / 5.0, "{web}");
}

#[test]
fn web_preset_fits_the_browser_budget() {
    let model = Network::from(Crmnet::new(&CrmnetConfig::web(), &Device::flex()).unwrap());
    let counts = model.param_counts();
    assert!(counts.total <= 3_000_000, "{counts:?}");
    assert!(counts.stages["transformer"] > 0 && counts.stages["mlp"] > 0);
}

#[test]
fn invalid_configurations_are_refused_not_panicking() {
    let device = Device::flex();
    let odd_pairs = CrmnetConfig::new().with_transformer_blocks(3);
    assert!(Crmnet::new(&odd_pairs, &device).is_err());
    let stacked = CrmnetConfig::new()
        .with_transformer_blocks(3)
        .with_wiring(TransformerWiring::Stack)
        .with_encoder_filters(vec![8, 8])
        .with_decoder_filters(vec![8])
        .with_heads(2)
        .with_key_dim(4);
    assert!(Crmnet::new(&stacked, &device).is_ok());
    let missing_decoder = CrmnetConfig::new().with_decoder_filters(vec![128]);
    let error = Crmnet::new(&missing_decoder, &device).unwrap_err();
    assert!(error.to_string().contains("decoder"), "{error}");
    assert!(Crmnet::new(&CrmnetConfig::new().with_sequence_length(110), &device).is_err());
}

/// The first `n` sequences of the native test set, as alphabet channels.
fn real_sequences(n: usize) -> Vec<Vec<u8>> {
    let columns = common::tsv_columns("test_native_complex.tsv", &["seq"]);
    columns[0][..n]
        .iter()
        .map(|s| alphabet::channels(s).unwrap())
        .collect()
}

/// Weights of a freshly initialised `config`, as a weights file would hold them, so that every
/// backend and every call below runs the very same parameters.
fn weights_bytes(config: &CrmnetConfig) -> Vec<u8> {
    architecture_weights(Architecture::Crmnet(config.clone()))
}

fn architecture_weights(architecture: Architecture) -> Vec<u8> {
    let model = Network::new(&architecture, &Device::flex()).unwrap();
    let card = ModelCard::describe("test", &architecture, &model);
    crmnet::weights::to_bytes(model, &card).unwrap()
}

fn predict_on(backend: Backend, weights: &[u8], sequences: &[Vec<u8>]) -> Vec<f32> {
    let device = backend.device().unwrap();
    let (model, card) = crmnet::weights::from_bytes(weights.to_vec(), "test", &device).unwrap();
    Predictor::new(model, card, device)
        .predict(sequences.iter().map(Vec::as_slice))
        .unwrap()
}

fn assert_close(a: &[f32], b: &[f32], tolerance: f32) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tolerance * (1.0 + y.abs()),
            "row {i}: {x} vs {y}"
        );
    }
}

#[test]
fn full_model_forward_on_real_sequences_is_finite_and_backends_agree() {
    let weights = weights_bytes(&CrmnetConfig::published());
    let sequences = real_sequences(6);
    let flex = predict_on(Backend::Flex, &weights, &sequences);
    assert_eq!(flex.len(), 6);
    assert!(flex.iter().all(|p| p.is_finite()), "{flex:?}");
    // Different inputs give different outputs: the input reaches the output.
    assert!(flex.windows(2).any(|w| w[0] != w[1]), "{flex:?}");
    let ndarray = predict_on(Backend::Ndarray, &weights, &sequences);
    assert_close(&ndarray, &flex, 1e-4);
    // wgpu is compared on trained weights (`backends_agree_on_trained_weights`), where a
    // difference can show; the full network on lavapipe would only add minutes.
}

/// Largest difference between backends allowed on the default model's predictions (0-17 bins),
/// a few times what was measured (docs/reliability.md).
const DEFAULT_TOLERANCE: f32 = 1e-5;
/// The same on `crmnet-web`'s (the pool's MAUDE scale, about -1.4 to 1.7).
const WEB_TOLERANCE: f32 = 1e-5;

/// Trained weights on every backend: the embedded default (a DeepAtt-architecture student) and
/// `crmnet-web` trained on the pool. Their predictions spread over units of expression (untrained
/// networks predict about 1e-4), so a backend that dropped a layer or ignored its input would be
/// off by about the spread; the tolerances sit a few times above the differences measured.
#[test]
fn backends_agree_on_trained_weights() {
    // 16 sequences: enough spread, and crmnet-web on lavapipe (the CPU) is slow.
    let sequences = real_sequences(16);
    let trained: [(&str, &[u8], f32); 2] = [
        (
            "default",
            include_bytes!("../models/default.bpk"),
            DEFAULT_TOLERANCE,
        ),
        (
            "crmnet-web",
            include_bytes!("../models/crmnet-web.bpk"),
            WEB_TOLERANCE,
        ),
    ];
    for (name, weights, tolerance) in trained {
        let flex = predict_on(Backend::Flex, weights, &sequences);
        let mean = flex.iter().sum::<f32>() / flex.len() as f32;
        let spread =
            (flex.iter().map(|p| (p - mean).powi(2)).sum::<f32>() / flex.len() as f32).sqrt();
        assert!(spread > 100.0 * tolerance, "{name}: spread {spread}");
        let mut others = vec![(
            Backend::Ndarray,
            predict_on(Backend::Ndarray, weights, &sequences),
        )];
        #[cfg(feature = "wgpu")]
        others.push((
            Backend::Wgpu,
            predict_on(Backend::Wgpu, weights, &sequences),
        ));
        for (backend, predictions) in others {
            let largest = predictions
                .iter()
                .zip(&flex)
                .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
            eprintln!(
                "{name} on {backend}: largest difference from flex {largest:.2e}, spread {spread:.3}"
            );
            assert!(
                largest <= tolerance,
                "{name} on {backend}: {largest} from flex (tolerance {tolerance})"
            );
        }
    }
}

#[test]
fn position_modes_and_wirings_change_what_the_same_weights_compute() {
    let sequences = real_sequences(2);
    let base = CrmnetConfig::web();
    let model = Network::from(Crmnet::new(&base, &Device::flex()).unwrap());
    let variants = [
        base.clone(),
        base.clone().with_position(PositionMode::Additive),
        base.clone().with_wiring(TransformerWiring::Stack),
    ];
    let outputs: Vec<Vec<f32>> = variants
        .iter()
        .map(|config| {
            let card =
                ModelCard::describe("variant", &Architecture::Crmnet(config.clone()), &model);
            let weights = crmnet::weights::to_bytes(model.clone(), &card).unwrap();
            predict_on(Backend::Flex, &weights, &sequences)
        })
        .collect();
    for output in &outputs {
        assert!(output.iter().all(|p| p.is_finite()));
    }
    assert_ne!(outputs[0], outputs[1]);
    assert_ne!(outputs[0], outputs[2]);
}

/// 70 rows: on the CPU more than two 32-row passes, the last one short, run concurrently;
/// their predictions must come back in order and equal the one-sequence forward passes.
#[test]
fn a_batch_predicts_what_each_sequence_predicts_alone() {
    let weights = weights_bytes(&CrmnetConfig::web());
    let sequences = real_sequences(70);
    let together = predict_on(Backend::Flex, &weights, &sequences);
    for (i, sequence) in sequences.iter().enumerate() {
        let alone = predict_on(Backend::Flex, &weights, std::slice::from_ref(sequence));
        assert_close(&alone, &together[i..=i], 1e-5);
    }
}

/// `crmnet-tiny` without dropout, so that forward passes in training are comparable.
fn tiny_without_dropout() -> CrmnetConfig {
    CrmnetConfig::tiny()
        .with_mlp_dropout(vec![0.0, 0.0])
        .with_dropout(0.0)
}

/// `sequences` one-hot encoded for `config` on `device`.
fn encode(sequences: &[Vec<u8>], config: &CrmnetConfig, device: &Device) -> Tensor<3> {
    one_hot_batch(
        sequences.iter().map(Vec::as_slice),
        Architecture::Crmnet(config.clone()).input_window(),
        device,
    )
}

fn floats(predictions: Tensor<1>) -> Vec<f32> {
    predictions
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap()
}

/// After optimiser steps on the CPU the model, in training (autodiff) and as its inference copy
/// (validation uses that), computes what its weights compute when loaded afresh. The flex path
/// keeps layouts of the convolution weights; kept across a step, they would go on computing
/// the first weights.
#[test]
fn after_training_steps_the_model_computes_what_its_weights_say() {
    let config = tiny_without_dropout();
    let (training, plain) = (Device::flex().autodiff(), Device::flex());
    let sequences = real_sequences(6);
    let encode = |device: &Device| encode(&sequences, &config, device);
    let fresh = |device: &Device, record| {
        Crmnet::new(&config, device)
            .unwrap()
            .load_record(record)
            .forward(encode(device))
    };
    let mut model = Crmnet::new(&config, &training).unwrap();
    let mut optimizer = AdamConfig::new().init();
    for _ in 0..2 {
        let loss = model.forward(encode(&training)).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(1e-2, model, grads);
    }
    let trained = floats(model.forward(encode(&training)));
    let inference = floats(model.valid().forward(encode(&plain)));
    assert_close(
        &trained,
        &floats(fresh(&training, model.clone().into_record())),
        1e-5,
    );
    assert_close(
        &inference,
        &floats(fresh(&plain, model.valid().into_record())),
        1e-5,
    );
}

/// The predictions of `weights` on flex (channels last, its own kernels) and on ndarray
/// (channels first, burn's), each `[inference before, a training pass, inference after]`, the
/// batch from `encode` on each device.
fn passes_on_flex_and_ndarray(
    weights: &[u8],
    encode: impl Fn(&Device) -> Tensor<3>,
) -> Vec<[Vec<f32>; 3]> {
    #[allow(deprecated)]
    let devices = [Device::flex(), Device::ndarray()];
    devices
        .iter()
        .map(|plain| {
            let training = plain.clone().autodiff();
            let (model, _) = crmnet::weights::from_bytes(weights.to_vec(), "test", &training)
                .expect("weights load");
            let before = floats(model.valid().forward(encode(plain)));
            let trained = floats(model.forward(encode(&training)));
            let after = floats(model.valid().forward(encode(plain)));
            [before, trained, after]
        })
        .collect()
}

/// A training pass normalises by the batch's statistics and moves the running ones on every
/// backend: on flex's autodiff device (channels last, its own batch norm) as on ndarray's
/// (channels first, burn's). Same weights, no dropout: the two agree on the predictions and on
/// what the inference copy computes after (the running statistics), which is not what it
/// computed before. (The gradients are compared at the layer, in `se.rs`: through a whole
/// network at initialisation, rounding flips a ReLU now and then, which moves the gradient by
/// per cents.)
#[test]
fn training_passes_normalise_by_the_batch_on_every_backend() {
    let config = tiny_without_dropout();
    let weights = weights_bytes(&config);
    let sequences = real_sequences(6);
    let passes = passes_on_flex_and_ndarray(&weights, |device| encode(&sequences, &config, device));
    // An untrained network predicts about 1e-4, so differences are measured against its scale.
    let difference = |a: &[f32], b: &[f32]| {
        let scale = b.iter().fold(0f32, |m, y| m.max(y.abs()));
        a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs())) / scale
    };
    let [flex, ndarray] = [&passes[0], &passes[1]];
    for (pass, name) in ["inference before", "training", "inference after"]
        .iter()
        .enumerate()
    {
        let apart = difference(&flex[pass], &ndarray[pass]);
        assert!(apart < 1e-3, "{name}: flex and ndarray {apart} apart");
    }
    // Normalising by the batch is not the running statistics' map, and it moved them.
    for pass in [flex, ndarray] {
        assert!(difference(&pass[1], &pass[0]) > 0.05, "{pass:?}");
        assert!(difference(&pass[2], &pass[0]) > 0.05, "{pass:?}");
    }
}

/// Camformer at test size without dropout: the published topology (residual pairs, kernel 10,
/// pooling 10 by 4 in the fifth block) with 16 filters.
fn small_camformer() -> CamformerConfig {
    CamformerConfig::new()
        .with_filters(vec![16; 6])
        .with_dense_units(vec![16, 16])
        .with_dropout(0.0)
}

/// Camformer in both activation layouts computes the same: flex (channels last, batch-folded
/// even-kernel convolutions, its own batch norm) and ndarray (channels first, burn's conv1d and
/// batch norm), in inference, in a training pass (batch statistics) and in inference after it
/// (moved running statistics), on real sequences; wgpu in inference.
#[test]
fn camformer_computes_the_same_in_both_layouts() {
    let architecture = Architecture::Camformer(small_camformer());
    let weights = architecture_weights(architecture.clone());
    let sequences = real_sequences(6);
    let window = architecture.input_window();
    let encode =
        |device: &Device| one_hot_batch(sequences.iter().map(Vec::as_slice), window, device);
    let passes = passes_on_flex_and_ndarray(&weights, encode);
    for (pass, name) in ["inference before", "training", "inference after"]
        .iter()
        .enumerate()
    {
        assert_close(&passes[0][pass], &passes[1][pass], 1e-4);
        assert!(passes[0][pass].windows(2).any(|w| w[0] != w[1]), "{name}");
    }
    assert!(passes[0][1] != passes[0][0] && passes[0][2] != passes[0][0]);
    #[cfg(feature = "wgpu")]
    assert_close(
        &predict_on(Backend::Wgpu, &weights, &sequences),
        &passes[0][0],
        1e-4,
    );
}

/// Camformer reads `N` as all four channels zero (the authors' one-hot): setting the crate's N
/// channel changes nothing, while the bases do change the prediction.
#[test]
fn camformer_reads_n_as_zeros() {
    let device = Device::flex();
    let model = Network::new(&Architecture::Camformer(small_camformer()), &device).unwrap();
    let sequences = real_sequences(2);
    let window = Architecture::Camformer(small_camformer()).input_window();
    let one_hot = one_hot_batch(sequences.iter().map(Vec::as_slice), window, &device);
    let n = usize::from(alphabet::N);
    let without_n = one_hot.clone().slice_assign(
        [0..2, n..n + 1, 0..110],
        Tensor::zeros([2, 1, 110], &device),
    );
    let n_everywhere = one_hot
        .clone()
        .slice_assign([0..2, n..n + 1, 0..110], Tensor::ones([2, 1, 110], &device));
    let reference = floats(model.forward(one_hot.clone()));
    assert_eq!(floats(model.forward(without_n)), reference);
    assert_eq!(floats(model.forward(n_everywhere)), reference);
    assert_ne!(reference[0], reference[1]);
}

#[test]
fn invalid_camformer_configurations_are_refused_with_a_reason() {
    let cases = [
        (
            CamformerConfig::new().with_filters(vec![8; 5]),
            "residual pairs",
        ),
        (
            CamformerConfig::new().with_pool_sizes(vec![1, 10, 1, 1, 1, 1]),
            "adds its input back",
        ),
        (
            CamformerConfig::new().with_filters(vec![8, 16, 8, 8, 8, 8]),
            "adds its input back",
        ),
        (
            CamformerConfig::new().with_sequence_length(8),
            "wider than the 8 positions",
        ),
        (
            CamformerConfig::new().with_pool_strides(vec![1; 5]),
            "pool strides",
        ),
        (CamformerConfig::new().with_kernel_size(0), "positive"),
    ];
    for (config, reason) in cases {
        let error = Network::new(&Architecture::Camformer(config), &Device::flex()).unwrap_err();
        assert!(error.to_string().contains(reason), "{error}");
    }
}

/// Every dropout rate named anywhere in `architecture`'s configuration.
fn dropout_rates(architecture: &Architecture) -> Vec<f64> {
    let config = serde_json::to_value(architecture).unwrap();
    config
        .as_object()
        .unwrap()
        .iter()
        .filter(|(key, _)| key.contains("dropout"))
        .flat_map(|(_, value)| match value {
            serde_json::Value::Array(rates) => rates.iter().map(|r| r.as_f64().unwrap()).collect(),
            rate => vec![rate.as_f64().unwrap()],
        })
        .collect()
}

/// Training without dropout (`--dropout 0`, as the distillation recipes do) rebuilds the network
/// around the same parameters: its training passes then compute what inference computes, where
/// the architecture's own dropout made two training passes differ.
#[test]
fn dropout_switched_off_keeps_the_parameters_and_stops_the_noise() {
    for preset in Preset::ALL {
        let rates = dropout_rates(&preset.architecture().with_dropout(0.0));
        assert!(
            !rates.is_empty() && rates.iter().all(|&rate| rate == 0.0),
            "{}: {rates:?}",
            preset.name()
        );
    }
    // DeepAtt has no batch normalisation, so only dropout tells training from inference.
    let architecture = Preset::DeepAtt.architecture();
    let (training, plain) = (Device::flex().autodiff(), Device::flex());
    let sequences = real_sequences(6);
    let batch = |device: &Device| {
        one_hot_batch(
            sequences.iter().map(Vec::as_slice),
            architecture.input_window(),
            device,
        )
    };
    let model = Network::new(&architecture, &training).unwrap();
    let inference = floats(model.valid().forward(batch(&plain)));
    assert_ne!(
        floats(model.forward(batch(&training))),
        floats(model.forward(batch(&training))),
        "DeepAtt's own dropout is on in training"
    );
    let rebuilt = model
        .rebuilt(&architecture.clone().with_dropout(0.0), &training)
        .unwrap();
    assert_close(&floats(rebuilt.forward(batch(&training))), &inference, 1e-5);
}
