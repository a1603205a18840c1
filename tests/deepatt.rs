//! DeepAtt imported from its authors' Keras file reproduces their published predictions.

mod common;

use std::path::Path;

use burn::prelude::*;
use crmnet::backend::Backend;
use crmnet::data::alphabet;
use crmnet::inference::Predictor;
use crmnet::keras::KerasModel;

use common::succeed;

const TEST_FILES: [&str; 2] = ["test_native_complex.tsv", "test_random_complex.tsv"];
/// The published columns are printed to about five significant digits: a faithful network
/// stays within their rounding (README of the teacher: max |diff| about 5e-5).
const TOLERANCE: f64 = 1e-4;

fn teacher(backend: Backend) -> Predictor {
    let path = common::deepatt_keras_file();
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let keras = KerasModel::from_bytes(bytes, &path.display().to_string()).unwrap();
    let device = backend.device().unwrap();
    let (model, card) = keras.import(&device, "MIT", None).unwrap();
    assert_eq!(card.parameters.total, 84_273);
    Predictor::new(model, card, device)
}

#[test]
fn imported_deepatt_reproduces_the_published_predictions_on_every_row() {
    let teacher = teacher(Backend::Flex);
    for file in TEST_FILES {
        let columns = common::tsv_columns(file, &["seq", "pred_deepatt"]);
        let published = common::parse_floats(&columns[1]);
        let encoded: Vec<Vec<u8>> = columns[0]
            .iter()
            .map(|s| alphabet::channels(s).unwrap())
            .collect();
        let predictions: Vec<f64> = teacher
            .predict(encoded.iter().map(Vec::as_slice))
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect();
        let (difference, row) = common::largest_difference(&predictions, &published);
        assert!(
            difference < TOLERANCE,
            "{file}: row {}: {} predicted, {} published",
            row + 2,
            predictions[row],
            published[row]
        );
    }
}

/// The same through the command line a user runs: `import`, then `eval --output`.
#[test]
fn import_then_eval_reproduces_the_published_column() {
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("deepatt.bpk");
    let keras = common::deepatt_keras_file();
    succeed(&[
        "import",
        "--keras",
        keras.to_str().unwrap(),
        "-o",
        weights.to_str().unwrap(),
    ]);
    let info = succeed(&["info", "--weights", weights.to_str().unwrap()]);
    assert!(info.contains("MIT License"), "the licence travels: {info}");
    let file = TEST_FILES[1];
    let predictions = dir.path().join("predictions.tsv");
    let table = succeed(&[
        "eval",
        "--data",
        &common::data_file(file),
        "--weights",
        weights.to_str().unwrap(),
        "--output",
        predictions.to_str().unwrap(),
    ]);
    // The published column as a peer row, beside ours.
    assert!(table.contains("\ndeepatt "), "{table}");
    let ours = read_column(&predictions, "prediction");
    let published = common::parse_floats(&common::tsv_columns(file, &["pred_deepatt"])[0]);
    let (difference, row) = common::largest_difference(&ours, &published);
    assert!(
        difference < TOLERANCE,
        "{file}: row {}: {difference}",
        row + 2
    );
}

#[test]
fn files_that_are_not_keras_models_are_refused_with_their_name() {
    let not_hdf5 = KerasModel::from_bytes(b"plain text".to_vec(), "notes.txt").unwrap_err();
    assert!(
        not_hdf5.to_string().starts_with("notes.txt: "),
        "{not_hdf5}"
    );
    let bytes = std::fs::read(common::deepatt_keras_file()).unwrap();
    for cut in [0, 100, bytes.len() / 2, bytes.len() - 1] {
        let result = KerasModel::from_bytes(bytes[..cut].to_vec(), "cut.h5")
            .and_then(|keras| keras.import(&Device::flex(), "", None).map(|_| ()));
        let error = result.expect_err("a truncated file must not import");
        assert!(error.to_string().starts_with("cut.h5: "), "{error}");
    }
}

fn read_column(path: &Path, name: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let index = header.iter().position(|h| *h == name).unwrap();
    lines
        .map(|line| line.split('\t').nth(index).unwrap().parse().unwrap())
        .collect()
}

/// Sequences of other lengths fill the input as the authors' preprocessing did: the last 110
/// bases are kept, shorter sequences are padded with N at the 5' end.
#[test]
fn other_lengths_keep_the_three_prime_end_as_deepatt_did() {
    let teacher = teacher(Backend::Flex);
    let native = &common::tsv_columns("test_native_complex.tsv", &["seq"])[0];
    let sequence = &native[0];
    assert_eq!(sequence.len(), 110);
    let predict = |s: &str| {
        let codes = alphabet::channels(s).unwrap();
        teacher.predict(std::iter::once(codes.as_slice())).unwrap()[0]
    };
    let cut = &sequence[10..];
    assert_eq!(predict(cut), predict(&format!("{}{cut}", "N".repeat(10))));
    assert_eq!(predict(&format!("ACGTACGT{sequence}")), predict(sequence));
    assert_ne!(predict(cut), predict(&format!("{cut}{}", "N".repeat(10))));
}
