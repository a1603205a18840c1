//! Promoter design by in-silico evolution, as Vaishnav et al. (2022) and Camformer's authors use
//! their models: a starting sequence is changed base by base toward a goal (highest or lowest
//! expression, or a given value) under constraints (positions kept, at most K substitutions,
//! forbidden sites, a G+C range). Two strategies: greedy hill climbing, which scores every
//! allowed single substitution (the mutagenesis map) and takes the best while it improves, and a
//! genetic algorithm with a population, seeded. Each step's best is reported, so the trajectory
//! only ever moves toward the goal.

use std::ops::{ControlFlow, Range};

use super::BASES;
use crate::data::alphabet::{self, InputSpec};
use crate::inference::{Predictor, ReadbackError};
use crate::random::SplitMix;

/// Substitutions allowed by default.
pub const DEFAULT_MAX_SUBSTITUTIONS: usize = 5;
/// The genetic algorithm's default population and generations.
pub const DEFAULT_POPULATION: usize = 64;
pub const DEFAULT_GENERATIONS: usize = 20;

/// What the design aims for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    Maximise,
    Minimise,
    /// A predicted value as close as possible to this one.
    Reach(f32),
}

impl std::str::FromStr for Goal {
    type Err = String;

    /// `max`, `min`, or a number to reach.
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "max" => Ok(Goal::Maximise),
            "min" => Ok(Goal::Minimise),
            value => value
                .parse::<f32>()
                .ok()
                .filter(|v| v.is_finite())
                .map(Goal::Reach)
                .ok_or_else(|| format!("goal {value:?}: expected max, min or a number")),
        }
    }
}

impl Goal {
    /// Higher is better.
    fn score(self, prediction: f32) -> f32 {
        match self {
            Goal::Maximise => prediction,
            Goal::Minimise => -prediction,
            Goal::Reach(target) => -(prediction - target).abs(),
        }
    }
}

/// What every designed sequence must respect.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    /// At most this many positions differ from the start.
    pub max_substitutions: usize,
    /// Positions never changed (the library's constant flanks, say).
    pub keep: Vec<Range<usize>>,
    /// Sites (alphabet channels) that must not occur anywhere in a designed sequence, unless
    /// the start already has them at that place.
    pub forbidden: Vec<Vec<u8>>,
    /// The G+C share of the whole sequence stays in this range.
    pub gc: Option<(f64, f64)>,
}

/// A forbidden site as alphabet channels, or why it cannot be one.
pub fn site(text: &str) -> Result<Vec<u8>, String> {
    match alphabet::channels(text) {
        Ok(codes) if codes.iter().all(|&c| usize::from(c) < BASES) => Ok(codes),
        _ => Err(format!(
            "site {text:?}: a site is written with A, C, G and T"
        )),
    }
}

/// The positions of `sequence` in the constant flanks of the library a model was made for
/// (`input.flanks`), where the sequence carries them: what design keeps by default.
pub fn flank_positions(input: &InputSpec, sequence: &str) -> Vec<Range<usize>> {
    let Some([flank5, flank3]) = &input.flanks else {
        return Vec::new();
    };
    let upper = sequence.to_ascii_uppercase();
    let mut kept = Vec::new();
    if upper.starts_with(flank5.as_str()) {
        kept.push(0..flank5.len());
    }
    if upper.ends_with(flank3.as_str()) {
        kept.push(upper.len() - flank3.len()..upper.len());
    }
    kept
}

/// A G+C range, or why it is not one.
pub fn gc_range(low: f64, high: f64) -> Result<(f64, f64), String> {
    let share = 0.0..=1.0;
    if low > high || !share.contains(&low) || !share.contains(&high) {
        return Err(format!("G+C range {low}-{high}: a range within 0-1"));
    }
    Ok((low, high))
}

impl Constraints {
    fn kept(&self, position: usize) -> bool {
        self.keep.iter().any(|range| range.contains(&position))
    }

    /// Whether `candidate` (a variant of `start`) respects every constraint.
    pub fn allow(&self, start: &[u8], candidate: &[u8]) -> bool {
        let changed: Vec<usize> = differing(start, candidate).collect();
        if changed.len() > self.max_substitutions || changed.iter().any(|&p| self.kept(p)) {
            return false;
        }
        let new_site = |site: &Vec<u8>| {
            !site.is_empty()
                && candidate
                    .windows(site.len())
                    .enumerate()
                    .any(|(at, window)| window == site && &start[at..at + site.len()] != site)
        };
        if self.forbidden.iter().any(new_site) {
            return false;
        }
        match self.gc {
            Some((low, high)) => (low..=high).contains(&alphabet::gc_share(candidate)),
            None => true,
        }
    }
}

/// How to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Best single substitution at each step, while it improves.
    Greedy,
    /// A population of variants, recombined and mutated each generation; the best kept.
    Genetic {
        population: usize,
        generations: usize,
    },
}

/// One point of the trajectory: the best sequence so far.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignStep {
    pub sequence: Vec<u8>,
    pub prediction: f32,
    /// `(position, from, to)` for every position that differs from the start, in order.
    pub changes: Vec<(usize, u8, u8)>,
}

fn step(start: &[u8], sequence: Vec<u8>, prediction: f32) -> DesignStep {
    let changes = differing(start, &sequence)
        .map(|p| (p, start[p], sequence[p]))
        .collect();
    DesignStep {
        sequence,
        prediction,
        changes,
    }
}

/// Where a design stands after a round (a greedy step or a genetic generation): `done` of at
/// most `rounds` rounds (0 when the start is scored), and the best sequence so far. The
/// greedy search ends early once no substitution improves.
#[derive(Debug, Clone, Copy)]
pub struct DesignRound<'a> {
    pub done: usize,
    pub rounds: usize,
    pub best: &'a DesignStep,
}

impl<'a> DesignRound<'a> {
    fn after(done: usize, rounds: usize, trajectory: &'a [DesignStep]) -> Self {
        let best = trajectory.last().expect("the start is in the trajectory");
        DesignRound { done, rounds, best }
    }
}

/// The trajectory from `start` (alphabet channels, A C G T only where changes may happen): the
/// start, then the best sequence after each step or generation, every one closer to `goal`
/// than the one before. `on_round` hears of every round and may stop the design there with
/// `ControlFlow::Break`: the trajectory so far is returned. It is awaited, so a caller on an
/// event loop can let other work (a cancellation, a repaint) run between rounds.
pub async fn design_async(
    predictor: &Predictor,
    start: &[u8],
    goal: Goal,
    constraints: &Constraints,
    strategy: Strategy,
    seed: u64,
    mut on_round: impl AsyncFnMut(DesignRound<'_>) -> ControlFlow<()>,
) -> Result<Vec<DesignStep>, ReadbackError> {
    let predict = |sequences: Vec<Vec<u8>>| async move {
        predictor
            .predict_async(sequences.iter().map(Vec::as_slice))
            .await
    };
    let rounds = match strategy {
        Strategy::Greedy => constraints.max_substitutions,
        Strategy::Genetic { generations, .. } => generations,
    };
    let first = predict(vec![start.to_vec()]).await?[0];
    let mut trajectory = vec![step(start, start.to_vec(), first)];
    if on_round(DesignRound::after(0, rounds, &trajectory))
        .await
        .is_break()
    {
        return Ok(trajectory);
    }
    match strategy {
        Strategy::Greedy => {
            let (mut current, mut best) = (start.to_vec(), first);
            for done in 1..=rounds {
                let candidates: Vec<Vec<u8>> = (0..current.len())
                    .flat_map(|p| (0..BASES as u8).map(move |base| (p, base)))
                    .filter(|&(p, base)| current[p] != base)
                    .map(|(p, base)| {
                        let mut variant = current.clone();
                        variant[p] = base;
                        variant
                    })
                    .filter(|variant| constraints.allow(start, variant))
                    .collect();
                if candidates.is_empty() {
                    break;
                }
                let predictions = predict(candidates.clone()).await?;
                // The first best wins ties: positions and bases in order, so the result does
                // not depend on how the batch was split.
                let (index, &prediction) = predictions
                    .iter()
                    .enumerate()
                    .fold(None, |chosen: Option<(usize, &f32)>, (i, p)| match chosen {
                        Some((_, q)) if goal.score(*q) >= goal.score(*p) => chosen,
                        _ => Some((i, p)),
                    })
                    .expect("candidates are not empty");
                if goal.score(prediction) <= goal.score(best) {
                    break;
                }
                current = candidates[index].clone();
                best = prediction;
                trajectory.push(step(start, current.clone(), best));
                if on_round(DesignRound::after(done, rounds, &trajectory))
                    .await
                    .is_break()
                {
                    return Ok(trajectory);
                }
            }
        }
        Strategy::Genetic {
            population,
            generations,
        } => {
            let mut random = SplitMix(seed);
            let free: Vec<usize> = (0..start.len())
                .filter(|&p| !constraints.kept(p) && usize::from(start[p]) < BASES)
                .collect();
            let population = population.max(2);
            // A variant of `parent` with one more random substitution, or `None` when the draw
            // breaks a constraint.
            let mutate = |parent: &[u8], random: &mut SplitMix| -> Option<Vec<u8>> {
                let position = *free.get(random.below(free.len()))?;
                let mut child = parent.to_vec();
                let base = (child[position] as usize + 1 + random.below(BASES - 1)) % BASES;
                child[position] = base as u8;
                // Beyond the substitution budget, a random change is undone instead.
                loop {
                    let changed: Vec<usize> = differing(start, &child).collect();
                    if changed.len() <= constraints.max_substitutions {
                        break;
                    }
                    let undo = changed[random.below(changed.len())];
                    child[undo] = start[undo];
                }
                constraints.allow(start, &child).then_some(child)
            };
            let mut members: Vec<(Vec<u8>, f32)> = vec![(start.to_vec(), first)];
            let mut best = (start.to_vec(), first);
            for done in 1..=generations {
                let mut children = Vec::with_capacity(population);
                let mut attempts = 0;
                while children.len() < population && attempts < 20 * population {
                    attempts += 1;
                    let a = &members[random.below(members.len())].0;
                    let b = &members[random.below(members.len())].0;
                    // Uniform crossover, then one substitution.
                    let crossed: Vec<u8> = a
                        .iter()
                        .zip(b)
                        .map(|(&x, &y)| if random.below(2) == 0 { x } else { y })
                        .collect();
                    if let Some(child) = mutate(&crossed, &mut random) {
                        children.push(child);
                    }
                }
                if children.is_empty() {
                    break;
                }
                let predictions = predict(children.clone()).await?;
                members.extend(children.into_iter().zip(predictions));
                // The fittest survive (stable sort: earlier members win ties).
                members.sort_by(|x, y| goal.score(y.1).total_cmp(&goal.score(x.1)));
                members.truncate(population);
                if goal.score(members[0].1) > goal.score(best.1) {
                    best = members[0].clone();
                    trajectory.push(step(start, best.0.clone(), best.1));
                }
                if on_round(DesignRound::after(done, rounds, &trajectory))
                    .await
                    .is_break()
                {
                    return Ok(trajectory);
                }
            }
        }
    }
    Ok(trajectory)
}

#[cfg(not(target_arch = "wasm32"))]
pub fn design(
    predictor: &Predictor,
    start: &[u8],
    goal: Goal,
    constraints: &Constraints,
    strategy: Strategy,
    seed: u64,
    mut on_round: impl FnMut(DesignRound<'_>) -> ControlFlow<()>,
) -> Result<Vec<DesignStep>, ReadbackError> {
    crate::platform::block_on(design_async(
        predictor,
        start,
        goal,
        constraints,
        strategy,
        seed,
        async |round| on_round(round),
    ))
}

/// The positions where `sequence` differs from `start`, in order.
fn differing<'a>(start: &'a [u8], sequence: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    (0..start.len()).filter(|&p| start[p] != sequence[p])
}
