//! The same network in TensorFlow/Keras, the original paper's framework
//! (`benches/keras/crmnet_keras.py`, written from the spec), with crmnet's weights copied in
//! through `save_safetensors`, predicts what crmnet predicts on real sequences: a check of the
//! layer conventions (`same` padding, transposed convolutions, per-head attention, flatten
//! order, batch-norm constants) against an independent implementation.
//!
//!
//! And CRMnet as its authors' Keras code lays it out (`benches/keras/authors_layout.py`: their
//! layer names and order, N, A, C, G, T input channels), saved by Keras to HDF5 with
//! non-trivial weights, imports here and predicts what Keras predicts.
//!
//! And Xpresso's two published models (`../shared/teachers/xpresso/`) import and predict what
//! Keras predicts (`benches/keras/xpresso_keras.py`, the authors' prediction script's
//! encoding and centring) on generated 10.5 kb and shorter promoters with and without features.
//!
//! Needs TensorFlow: `.ci/setup` installs it into `target/keras-venv`; `CRMNET_KERAS_PYTHON`
//! names another interpreter.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::prelude::*;
use crmnet::inference::Predictor;
use crmnet::keras::KerasModel;
use crmnet::model::{Network, Preset};
use crmnet::random::SplitMix;
use crmnet::weights::{self, ModelCard};

const ROWS: usize = 256;

fn python() -> PathBuf {
    std::env::var_os("CRMNET_KERAS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/keras-venv/bin/python")
        })
}

/// The output of a TensorFlow script that succeeded, or a panic saying why not.
fn succeeded(output: std::io::Result<std::process::Output>) -> std::process::Output {
    let output = output.unwrap_or_else(|e| {
        panic!(
            "{}: {e} (bash .ci/setup installs TensorFlow)",
            python().display()
        )
    });
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn keras_difference(model: Network, card: ModelCard, dir: &Path) -> (f64, f64) {
    let name = card.name.clone();
    let weights_path = dir.join(format!("{name}.safetensors"));
    weights::save_safetensors(&model, &card, &weights_path).unwrap();
    let sequences = &common::tsv_columns("test_native_complex.tsv", &["seq"])[0][..ROWS];
    let predictor = Predictor::new(model, card, Device::flex());
    let channels: Vec<Vec<u8>> = sequences
        .iter()
        .map(|s| crmnet::data::alphabet::channels(s).unwrap())
        .collect();
    let reference = predictor
        .predict(channels.iter().map(Vec::as_slice))
        .unwrap();
    let sequences_path = dir.join(format!("{name}-sequences.txt"));
    let reference_path = dir.join(format!("{name}-reference.txt"));
    std::fs::write(&sequences_path, sequences.join("\n")).unwrap();
    let lines: Vec<String> = reference.iter().map(f32::to_string).collect();
    std::fs::write(&reference_path, lines.join("\n")).unwrap();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/keras/crmnet_keras.py");
    let output = Command::new(python())
        .arg(script)
        .arg("--weights")
        .arg(&weights_path)
        .arg("--sequences")
        .arg(&sequences_path)
        .arg("--reference")
        .arg(&reference_path)
        .output();
    let output = succeeded(output);
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["rows_compared"], ROWS);
    (
        result["max_abs_difference"].as_f64().unwrap(),
        result["reference_spread"].as_f64().unwrap(),
    )
}

#[test]
fn keras_with_the_same_weights_predicts_what_crmnet_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let device = Device::flex();
    let trained = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/crmnet-web.bpk");
    let (shipped, card) = weights::load(&trained, &device).unwrap();
    // The tolerance is a few times the difference measured (docs/reliability.md), far below
    // what a wrong layer or weight order would do.
    let (difference, spread) = keras_difference(shipped, card, dir.path());
    eprintln!("crmnet-web: largest difference from Keras {difference:.2e}, spread {spread:.2}");
    assert!(
        difference < 1e-5 * spread,
        "crmnet-web: {difference} (predictions spread over {spread})"
    );

    // The published architecture, seeded Glorot weights: every layer type at full size.
    device.seed(7);
    let architecture = Preset::Crmnet.architecture();
    let model = Network::new(&architecture, &device).unwrap();
    let card = ModelCard::describe("crmnet", &architecture, &model);
    // Untrained outputs are tiny: the bound is relative to their spread, as above.
    let (difference, spread) = keras_difference(model, card, dir.path());
    eprintln!("crmnet: largest difference from Keras {difference:.2e}, spread {spread:.2e}");
    assert!(
        difference < 5e-5 * spread,
        "crmnet: {difference} (predictions spread over {spread})"
    );
}

/// Within 1e-4 of Keras on every row, predictions on a trained model's scale (spread about 2).
#[test]
fn the_authors_keras_layout_imports_and_predicts_what_keras_predicts() {
    let dir = tempfile::tempdir().unwrap();
    // Native promoters and random ones, some of them left-padded with N.
    let mut sequences = common::tsv_columns("test_native_complex.tsv", &["seq"]).remove(0);
    sequences.truncate(ROWS / 2);
    let random = common::tsv_columns("test_random_complex.tsv", &["seq"]).remove(0);
    sequences.extend(
        random
            .iter()
            .filter(|s| s.starts_with('N'))
            .take(ROWS / 4)
            .cloned(),
    );
    sequences.extend(
        random
            .iter()
            .filter(|s| !s.starts_with('N'))
            .take(ROWS / 4)
            .cloned(),
    );
    let sequences_path = dir.path().join("sequences.txt");
    std::fs::write(&sequences_path, sequences.join("\n")).unwrap();
    let full = dir.path().join("crmnet-full.h5");
    let weights_only = dir.path().join("crmnet-weights.h5");
    let keras_path = dir.path().join("keras-predictions.txt");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/keras/authors_layout.py");
    let output = Command::new(python())
        .arg(script)
        .args(["--full".as_ref(), full.as_os_str()])
        .args(["--weights-only".as_ref(), weights_only.as_os_str()])
        .args(["--sequences".as_ref(), sequences_path.as_os_str()])
        .args(["--predictions".as_ref(), keras_path.as_os_str()])
        .output();
    succeeded(output);
    let keras: Vec<f64> = common::parse_floats(
        &std::fs::read_to_string(&keras_path)
            .unwrap()
            .lines()
            .map(String::from)
            .collect::<Vec<_>>(),
    );
    assert_eq!(keras.len(), ROWS);
    let spread = common::spread(&keras);
    assert!(spread > 1.0, "Keras' predictions spread over {spread} only");

    for file in [&full, &weights_only] {
        let source = file.display().to_string();
        let model = KerasModel::from_bytes(std::fs::read(file).unwrap(), &source).unwrap();
        let device = Device::flex();
        let (network, card) = model.import(&device, "test weights", None).unwrap();
        assert_eq!(card.name, "crmnet");
        assert_eq!(card.parameters.total, 34_170_289, "{source}");
        let predictor = Predictor::new(network, card, device);
        let channels: Vec<Vec<u8>> = sequences
            .iter()
            .map(|s| crmnet::data::alphabet::channels(s).unwrap())
            .collect();
        let ours = predictor
            .predict(channels.iter().map(Vec::as_slice))
            .unwrap();
        let ours_f64: Vec<f64> = ours.iter().map(|&v| f64::from(v)).collect();
        let (difference, row) = common::largest_difference(&ours_f64, &keras);
        eprintln!("{source}: largest difference from Keras {difference:.2e} (row {row})");
        assert!(
            difference < 1e-4,
            "{source}: row {row} ({}): crmnet {}, Keras {}",
            sequences[row],
            ours[row],
            keras[row]
        );
    }
}

/// A generated promoter of `length` bases: A, C, G, T in both cases with an occasional N or
/// IUPAC code.
fn generated_promoter(random: &mut SplitMix, length: usize) -> String {
    (0..length)
        .map(|_| {
            let draw = random.next_u64();
            match draw % 200 {
                0 => 'N',
                1 => 'R',
                _ => b"ACGTacgt"[(draw >> 8) as usize % 8] as char,
            }
        })
        .collect()
}

/// Both published models: 24 generated promoters of the full 10,500 nt and 8 shorter ones
/// (500-7,000 nt, centred on the TSS as the authors' script does), predicted with random
/// z-scored features and with all-zero ones (the authors' sequence-only scans), within 1e-4 of
/// Keras on every row; the six-feature files have the README's 112,357 parameters.
#[test]
fn imported_xpresso_predicts_what_keras_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let teachers = common::teachers_dir().join("xpresso");
    let mut random = SplitMix(20);
    let mut sequences: Vec<String> = (0..24)
        .map(|_| generated_promoter(&mut random, 10_500))
        .collect();
    for length in [500, 1_001, 2_000, 3_333, 4_500, 5_000, 6_001, 7_000] {
        sequences.push(generated_promoter(&mut random, length));
    }
    let features: Vec<f32> = (0..sequences.len() * 6)
        .map(|_| (random.next_u64() % 4001) as f32 / 1000.0 - 2.0)
        .collect();
    let sequences_path = dir.path().join("sequences.txt");
    let features_path = dir.path().join("features.tsv");
    std::fs::write(&sequences_path, sequences.join("\n")).unwrap();
    let rows: Vec<String> = features
        .chunks(6)
        .map(|row| {
            row.iter()
                .map(f32::to_string)
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect();
    std::fs::write(&features_path, rows.join("\n")).unwrap();
    let channels: Vec<Vec<u8>> = sequences
        .iter()
        .map(|s| crmnet::data::alphabet::channels(s).unwrap())
        .collect();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/keras/xpresso_keras.py");
    for species in [
        "human_trainepoch.11-0.426.h5",
        "mouse_trainepoch.05-0.278.h5",
    ] {
        let file = teachers.join(species);
        let source = file.display().to_string();
        let model = KerasModel::from_bytes(std::fs::read(&file).unwrap(), &source).unwrap();
        let device = Device::flex();
        let (network, card) = model.import(&device, "MIT (test)", None).unwrap();
        assert_eq!(card.name, "xpresso");
        assert_eq!(card.parameters.total, 112_357, "{source}");
        let predictor = Predictor::new(network, card, device);
        for with_features in [true, false] {
            let keras_path = dir.path().join("keras.txt");
            let mut command = Command::new(python());
            command
                .arg(&script)
                .args(["--model".as_ref(), file.as_os_str()])
                .args(["--sequences".as_ref(), sequences_path.as_os_str()])
                .args(["--predictions".as_ref(), keras_path.as_os_str()]);
            if with_features {
                command.args(["--features".as_ref(), features_path.as_os_str()]);
            }
            succeeded(command.output());
            let keras = common::parse_floats(
                &std::fs::read_to_string(&keras_path)
                    .unwrap()
                    .lines()
                    .map(String::from)
                    .collect::<Vec<_>>(),
            );
            let ours = predictor
                .predict_with_features(
                    channels.iter().map(Vec::as_slice),
                    with_features.then_some(features.as_slice()),
                )
                .unwrap();
            assert_eq!(ours.len(), keras.len());
            let spread = common::spread(&keras);
            let ours_f64: Vec<f64> = ours.iter().map(|&v| f64::from(v)).collect();
            let (difference, row) = common::largest_difference(&ours_f64, &keras);
            eprintln!(
                "{species} (features: {with_features}): largest difference from Keras \
                 {difference:.2e} (row {row}), spread {spread:.3}"
            );
            assert!(
                spread > 0.05,
                "{species}: Keras' predictions spread over {spread} only"
            );
            assert!(
                difference < 1e-4,
                "{species}: row {row} ({} nt): crmnet {}, Keras {}",
                sequences[row].len(),
                ours[row],
                keras[row]
            );
        }
    }
}
