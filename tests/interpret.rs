//! Saliency against finite differences and mutagenesis against explicit predictions, on the
//! embedded model and real test sequences.

mod common;

use burn::prelude::*;
use crmnet::data::alphabet::{CHANNELS, channels, push_one_hot};
use crmnet::inference::Predictor;
use crmnet::interpret::{BASES, mutagenesis, saliency};
use crmnet::weights;

fn predictor() -> Predictor {
    let device = Device::flex();
    let (model, card) = weights::default_model(&device).unwrap();
    Predictor::new(model, card, device)
}

fn real_sequences(n: usize) -> Vec<Vec<u8>> {
    common::tsv_columns("test_native_complex.tsv", &["seq"])[0][..n]
        .iter()
        .map(|s| channels(s).unwrap())
        .collect()
}

#[test]
fn saliency_gradient_matches_finite_differences() {
    let predictor = predictor();
    let window = predictor.card().architecture.input_window();
    let length = window.length;
    // Small enough that a perturbation seldom crosses a ReLU kink (where a difference quotient
    // averages two slopes; 2e-3 did at one probe), large enough for float32 outputs near 1.
    let step = 5e-4f32;
    // Three promoters as measured, and one with its first ten bases cut, which sits elsewhere in
    // the model's input (padded at the end the model pads).
    let mut sequences = real_sequences(3);
    sequences.push(sequences[0][10..].to_vec());
    for codes in sequences {
        let result = saliency(&predictor, &codes).unwrap();
        assert_eq!(result.scores.len(), codes.len());
        let plain = predictor
            .predict(std::iter::once(codes.as_slice()))
            .unwrap()[0];
        assert!((result.prediction - plain).abs() < 1e-4);
        let mut one_hot = Vec::new();
        push_one_hot(&codes, window, &mut one_hot);
        // Central differences for every base at spread-out positions (flanks and variable region).
        let mut inputs = Vec::new();
        let probes: Vec<(usize, usize)> = (0..codes.len())
            .step_by(9)
            .flat_map(|position| (0..BASES).map(move |base| (position, base)))
            .collect();
        for &(position, base) in &probes {
            for sign in [1.0, -1.0] {
                let mut perturbed = one_hot.clone();
                let at = window.input_position(codes.len(), position).unwrap();
                perturbed[base * length + at] += sign * step;
                inputs.extend(perturbed);
            }
        }
        let input = Tensor::<3>::from_data(
            TensorData::new(inputs, [probes.len() * 2, CHANNELS, length]),
            predictor.device(),
        );
        let outputs = predictor.predict_encoded(input).unwrap();
        let scale = result
            .gradient
            .iter()
            .flatten()
            .fold(0f32, |m, g| m.max(g.abs()));
        for (i, &(position, base)) in probes.iter().enumerate() {
            let numeric = (outputs[2 * i] - outputs[2 * i + 1]) / (2.0 * step);
            let analytic = result.gradient[position][base];
            assert!(
                (numeric - analytic).abs() <= 0.02 * scale + 1e-3,
                "position {position} base {base}: gradient {analytic}, finite difference {numeric}"
            );
            // Input x gradient: only the written base scores.
            let expected = if usize::from(codes[position]) == base {
                analytic
            } else {
                0.0
            };
            assert_eq!(result.scores[position][base], expected);
        }
    }
}

#[test]
fn mutagenesis_equals_explicit_predictions_of_every_variant() {
    let predictor = predictor();
    let codes = real_sequences(1).remove(0);
    let result = mutagenesis(&predictor, &codes, 0..usize::MAX, 64).unwrap();
    assert_eq!(result.effects.len(), codes.len());
    assert_eq!(result.first_position, 0);
    // A part, as the npm package's workers each compute one: the same rows, clamped to the end.
    let part = mutagenesis(&predictor, &codes, 100..200, 7).unwrap();
    assert_eq!(
        (part.first_position, part.effects.len()),
        (100, codes.len() - 100)
    );
    assert_eq!(part.reference, result.reference);
    // Other batches sum in another order: each prediction (about 10 on this scale) carries
    // float32 rounding of about 1e-6, and an effect is the difference of two.
    for (mine, whole) in part.effects.iter().zip(&result.effects[100..]) {
        for (a, b) in mine.iter().zip(whole) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }
    let beyond = mutagenesis(&predictor, &codes, 500..600, 7).unwrap();
    assert_eq!(
        (beyond.first_position, beyond.effects.len()),
        (codes.len(), 0)
    );
    let mut variants = Vec::new();
    for position in 0..codes.len() {
        for base in 0..BASES as u8 {
            let mut variant = codes.clone();
            variant[position] = base;
            variants.push(variant);
        }
    }
    // One batch of all 4L sequences, a different batching from mutagenesis's.
    let explicit = predictor
        .predict(variants.iter().map(Vec::as_slice))
        .unwrap();
    for (i, prediction) in explicit.iter().enumerate() {
        let (position, base) = (i / BASES, i % BASES);
        let expected = if usize::from(codes[position]) == base {
            0.0
        } else {
            prediction - result.reference
        };
        assert!(
            (result.effects[position][base] - expected).abs() < 1e-4,
            "position {position} base {base}: {} vs {expected}",
            result.effects[position][base]
        );
    }
    assert!(
        result.effects.iter().flatten().any(|e| e.abs() > 1e-3),
        "no variant changes anything"
    );
}
