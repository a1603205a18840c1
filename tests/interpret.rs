//! Saliency against finite differences, mutagenesis against explicit predictions, and design
//! trajectories against their goal and constraints, on the embedded model and real test
//! sequences.

mod common;

use std::ops::ControlFlow;

use burn::prelude::*;
use crmnet::data::alphabet::{CHANNELS, channels, push_one_hot};
use crmnet::inference::Predictor;
use crmnet::interpret::{
    BASES, Constraints, DesignRound, DesignStep, Goal, Strategy, design, mutagenesis, saliency,
};
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

/// Every step of a trajectory respects the constraints: the kept positions unchanged, at most
/// `max_substitutions` changes (and what `changes` says is what differs), no new forbidden
/// site, G+C in range.
fn assert_respects(start: &[u8], trajectory: &[DesignStep], constraints: &Constraints) {
    assert_eq!(trajectory[0].sequence, start);
    for step in trajectory {
        assert!(
            constraints.allow(start, &step.sequence),
            "{:?}",
            step.changes
        );
        let differing: Vec<usize> = (0..start.len())
            .filter(|&p| start[p] != step.sequence[p])
            .collect();
        assert_eq!(
            differing,
            step.changes.iter().map(|c| c.0).collect::<Vec<_>>()
        );
        assert!(differing.len() <= constraints.max_substitutions);
        for range in &constraints.keep {
            assert_eq!(&step.sequence[range.clone()], &start[range.clone()]);
        }
        let gc =
            step.sequence.iter().filter(|&&c| c == 1 || c == 2).count() as f64 / start.len() as f64;
        let (low, high) = constraints.gc.unwrap();
        assert!((low..=high).contains(&gc), "G+C {gc}");
        let poly_t = [3u8; 8];
        assert!(
            !step.sequence.windows(8).any(|w| w == poly_t),
            "a forbidden site appeared"
        );
    }
}

fn library_constraints(max_substitutions: usize) -> Constraints {
    Constraints {
        max_substitutions,
        // The library's constant flanks (17 and 13 nt of a 110-nt construct).
        keep: vec![0..17, 97..110],
        forbidden: vec![vec![3; 8]],
        gc: Some((0.3, 0.5)),
    }
}

/// A design that hears of every round and stops nowhere.
fn to_the_end(_: DesignRound<'_>) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// Every round is reported in order with the best step so far, and a design stopped after a
/// round returns the trajectory up to there: the start of the full one.
#[test]
fn design_reports_each_round_and_stops_where_asked() {
    let predictor = predictor();
    let start = &real_sequences(1)[0];
    let constraints = library_constraints(4);
    for strategy in [
        Strategy::Greedy,
        Strategy::Genetic {
            population: 16,
            generations: 5,
        },
    ] {
        let mut heard = Vec::new();
        let full = design(
            &predictor,
            start,
            Goal::Maximise,
            &constraints,
            strategy,
            3,
            |round| {
                heard.push((round.done, round.rounds, round.best.clone()));
                ControlFlow::Continue(())
            },
        )
        .unwrap();
        let rounds = match strategy {
            Strategy::Greedy => 4,
            Strategy::Genetic { generations, .. } => generations,
        };
        assert!(heard.len() > 2, "{strategy:?}: {} rounds", heard.len());
        for (index, (done, total, best)) in heard.iter().enumerate() {
            assert_eq!((*done, *total), (index, rounds), "{strategy:?}");
            assert!(full.contains(best), "{strategy:?}: round {done}'s best");
        }
        assert_eq!(heard.last().unwrap().2, *full.last().unwrap());
        let stopped = design(
            &predictor,
            start,
            Goal::Maximise,
            &constraints,
            strategy,
            3,
            |round| match round.done {
                2 => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            },
        )
        .unwrap();
        let upto = full.iter().position(|step| *step == heard[2].2).unwrap();
        assert_eq!(stopped, full[..=upto], "{strategy:?}");
    }
}

/// Greedy design moves the prediction up (or down) at every step, one substitution a step,
/// within every constraint; each step is the best allowed single substitution of the one
/// before (checked against explicit predictions of all of them for the first step).
#[test]
fn greedy_design_climbs_at_every_step_within_the_constraints() {
    let predictor = predictor();
    for start in real_sequences(3).iter().filter(|s| s.len() == 110) {
        for goal in [Goal::Maximise, Goal::Minimise] {
            let constraints = library_constraints(4);
            let trajectory = design(
                &predictor,
                start,
                goal,
                &constraints,
                Strategy::Greedy,
                0,
                to_the_end,
            )
            .unwrap();
            assert!(trajectory.len() > 1, "no step improved");
            assert_respects(start, &trajectory, &constraints);
            for pair in trajectory.windows(2) {
                let better = match goal {
                    Goal::Maximise => pair[1].prediction > pair[0].prediction,
                    _ => pair[1].prediction < pair[0].prediction,
                };
                assert!(
                    better,
                    "{goal:?}: {} then {}",
                    pair[0].prediction, pair[1].prediction
                );
                assert_eq!(pair[1].changes.len(), pair[0].changes.len() + 1);
            }
            // The first step is the best allowed single substitution.
            let variants: Vec<Vec<u8>> = (0..start.len())
                .flat_map(|p| (0..BASES as u8).map(move |b| (p, b)))
                .filter(|&(p, b)| start[p] != b)
                .map(|(p, b)| {
                    let mut v = start.clone();
                    v[p] = b;
                    v
                })
                .filter(|v| constraints.allow(start, v))
                .collect();
            let predictions = predictor
                .predict(variants.iter().map(Vec::as_slice))
                .unwrap();
            let best = predictions.iter().copied().fold(
                if goal == Goal::Maximise {
                    f32::MIN
                } else {
                    f32::MAX
                },
                |m, p| {
                    if goal == Goal::Maximise {
                        m.max(p)
                    } else {
                        m.min(p)
                    }
                },
            );
            assert_eq!(trajectory[1].prediction, best);
        }
    }
}

/// Kept positions are kept even where changing them would help most: the positions an
/// unconstrained climb changes first, kept, are never changed, and the climb goes elsewhere.
#[test]
fn design_never_changes_kept_positions() {
    let predictor = predictor();
    let start = &real_sequences(1)[0];
    let free = Constraints {
        max_substitutions: 3,
        ..Constraints::default()
    };
    let climb = |constraints: &Constraints| {
        design(
            &predictor,
            start,
            Goal::Maximise,
            constraints,
            Strategy::Greedy,
            0,
            to_the_end,
        )
        .unwrap()
    };
    let unconstrained = climb(&free);
    let favourite: Vec<usize> = unconstrained
        .last()
        .unwrap()
        .changes
        .iter()
        .map(|c| c.0)
        .collect();
    assert!(!favourite.is_empty());
    let kept = Constraints {
        keep: favourite.iter().map(|&p| p..p + 1).collect(),
        ..free.clone()
    };
    for strategy in [
        Strategy::Greedy,
        Strategy::Genetic {
            population: 16,
            generations: 4,
        },
    ] {
        let trajectory = design(
            &predictor,
            start,
            Goal::Maximise,
            &kept,
            strategy,
            1,
            to_the_end,
        )
        .unwrap();
        for step in &trajectory {
            assert!(
                step.changes.iter().all(|c| !favourite.contains(&c.0)),
                "{strategy:?} changed a kept position: {:?}",
                step.changes
            );
        }
    }
}

/// The genetic algorithm is reproducible from its seed, moves toward a target value at every
/// reported generation, and respects the constraints; another seed takes another path.
#[test]
fn genetic_design_is_seeded_and_approaches_its_target() {
    let predictor = predictor();
    let start = &real_sequences(1)[0];
    let constraints = library_constraints(5);
    let strategy = Strategy::Genetic {
        population: 24,
        generations: 6,
    };
    let target = 10.0;
    let run = |seed| {
        design(
            &predictor,
            start,
            Goal::Reach(target),
            &constraints,
            strategy,
            seed,
            to_the_end,
        )
        .unwrap()
    };
    let (first, again, other) = (run(7), run(7), run(8));
    assert_eq!(first, again, "the same seed gave another trajectory");
    assert_ne!(first, other, "another seed gave the same trajectory");
    for trajectory in [&first, &other] {
        assert!(trajectory.len() > 1, "no generation improved");
        assert_respects(start, trajectory, &constraints);
        for pair in trajectory.windows(2) {
            assert!((pair[1].prediction - target).abs() < (pair[0].prediction - target).abs());
        }
    }
}
