mod common;

use burn::prelude::*;
use crmnet::backend::Backend;
use crmnet::data::alphabet;
use crmnet::inference::Predictor;
use crmnet::model::{Crmnet, CrmnetConfig, ParamCounts, PositionMode, Preset, TransformerWiring};
use crmnet::weights::ModelCard;

#[test]
fn published_architecture_has_the_published_parameter_counts() {
    let device = Device::flex();
    let model = Crmnet::new(&Preset::Crmnet.config(), &device).unwrap();
    assert_eq!(
        model.param_counts(),
        ParamCounts {
            encoder: 4_490_368,
            transformer: 25_777_152,
            decoder: 2_626_816,
            head: 314_928,
            mlp: 961_025,
            total: 34_170_289,
            trainable: 34_165_681,
        }
    );
}

#[test]
fn web_preset_fits_the_browser_budget() {
    let model = Crmnet::new(&Preset::CrmnetWeb.config(), &Device::flex()).unwrap();
    let counts = model.param_counts();
    assert!(counts.total <= 3_000_000, "{counts:?}");
    assert!(counts.transformer > 0 && counts.mlp > 0);
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
    columns[0][..n].iter().map(|s| alphabet::channels(s).unwrap()).collect()
}

fn predict_on(backend: Backend, config: &CrmnetConfig, sequences: &[Vec<u8>]) -> Vec<f32> {
    let device = backend.device().unwrap();
    device.seed(7);
    // Same weights on every backend: made on flex, moved through a record.
    let reference = Crmnet::new(config, &Device::flex()).unwrap();
    let card = ModelCard::describe("test", config, &reference);
    let bytes = crmnet::weights::to_bytes(reference, &card).unwrap();
    let (model, card) = crmnet::weights::from_bytes(bytes, "test", &device).unwrap();
    Predictor::new(model, card, device)
        .predict(sequences.iter().map(Vec::as_slice))
        .unwrap()
}

fn assert_close(a: &[f32], b: &[f32], tolerance: f32) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tolerance * (1.0 + y.abs()), "row {i}: {x} vs {y}");
    }
}

#[test]
fn full_model_forward_on_real_sequences_is_finite_and_backends_agree() {
    let config = Preset::Crmnet.config();
    let sequences = real_sequences(6);
    let flex = predict_on(Backend::Flex, &config, &sequences);
    assert_eq!(flex.len(), 6);
    assert!(flex.iter().all(|p| p.is_finite()), "{flex:?}");
    // Different inputs give different outputs: the input reaches the output.
    assert!(flex.windows(2).any(|w| w[0] != w[1]), "{flex:?}");
    let ndarray = predict_on(Backend::Ndarray, &config, &sequences);
    assert_close(&ndarray, &flex, 1e-4);
    #[cfg(feature = "wgpu")]
    {
        let wgpu = predict_on(Backend::Wgpu, &config, &sequences);
        assert_close(&wgpu, &flex, 1e-4);
    }
}

#[test]
fn position_modes_and_wirings_all_run_and_differ() {
    let sequences = real_sequences(2);
    let base = Preset::CrmnetWeb.config();
    let variants = [
        base.clone(),
        base.clone().with_position(PositionMode::Additive),
        base.clone().with_wiring(TransformerWiring::Stack),
    ];
    let outputs: Vec<Vec<f32>> = variants
        .iter()
        .map(|config| predict_on(Backend::Flex, config, &sequences))
        .collect();
    for output in &outputs {
        assert!(output.iter().all(|p| p.is_finite()));
    }
    assert_ne!(outputs[0], outputs[1]);
    assert_ne!(outputs[0], outputs[2]);
}

#[test]
fn a_batch_predicts_what_each_sequence_predicts_alone() {
    let config = Preset::CrmnetWeb.config();
    let sequences = real_sequences(3);
    let together = predict_on(Backend::Flex, &config, &sequences);
    for (i, sequence) in sequences.iter().enumerate() {
        let alone = predict_on(Backend::Flex, &config, std::slice::from_ref(sequence));
        assert_close(&alone, &together[i..=i], 1e-5);
    }
}
