//! `crmnet distill`: a student learns a teacher's predictions on promoters generated on the fly,
//! random 80-mers inside the library's constant flanks, as the random-promoter libraries are
//! made, and mutants of the real training sequences, which carry native-like regulatory
//! structure that random sequences rarely do. Every generated row is new: an epoch is a fixed
//! number of freshly generated, teacher-labelled rows, so no epoch repeats a generated sequence.
//! Measured rows can be mixed in (`--real-fraction`): their values are put on the teacher's
//! scale by an affine map fitted once per run (the teacher's mean and spread on those rows,
//! matched), so that one loss serves both. Validation and model selection are on the real rows
//! of `--data` by Pearson r (scale-free: the teacher's and the measurements' scales differ).

use std::collections::VecDeque;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::data::alphabet;
use crate::data::construct::{FLANK_5, LENGTH, VARIABLE_LENGTH, random_promoter};
use crate::data::readers::{InputError, Record};
use crate::inference::Predictor;
use crate::weights::ModelCard;

use super::stream::{Mixture, Source};

/// Settings given for one distillation run (command-line flags); `None` keeps the run's saved
/// value when resuming, or the default.
#[derive(Debug, Clone, Default)]
pub struct DistillOverrides {
    /// The teacher's weights file (for example DeepAtt imported with `crmnet import`).
    pub teacher: Option<PathBuf>,
    pub rows_per_epoch: Option<usize>,
    pub random_fraction: Option<f64>,
    pub mutation_min: Option<f64>,
    pub mutation_max: Option<f64>,
    pub gc_min: Option<f64>,
    pub gc_max: Option<f64>,
    pub real_fraction: Option<f64>,
}

/// How rows are generated; kept in the run state so that `--resume` continues alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distillation {
    pub teacher: String,
    pub rows_per_epoch: usize,
    pub random_fraction: f64,
    pub mutation_min: f64,
    pub mutation_max: f64,
    /// G+C share range of random rows; runs saved before it existed drew every base uniformly.
    #[serde(default = "uniform_gc")]
    pub gc_min: f64,
    #[serde(default = "uniform_gc")]
    pub gc_max: f64,
    #[serde(default)]
    pub real_fraction: f64,
    /// `(scale, shift)` putting measured values on the teacher's scale; fitted at the start of
    /// a run that mixes real rows in.
    #[serde(default)]
    pub real_calibration: Option<(f64, f64)>,
}

fn uniform_gc() -> f64 {
    0.5
}

impl Distillation {
    pub fn of(args: &DistillOverrides, saved: Option<&Distillation>) -> Result<Self> {
        let defaults = Distillation {
            teacher: String::new(),
            rows_per_epoch: 100_000,
            random_fraction: 0.3,
            mutation_min: 0.02,
            mutation_max: 0.2,
            gc_min: uniform_gc(),
            gc_max: uniform_gc(),
            real_fraction: 0.0,
            real_calibration: None,
        };
        let base = saved.unwrap_or(&defaults);
        let teacher = match (&args.teacher, saved) {
            (Some(path), None) => path.display().to_string(),
            (Some(path), Some(saved)) if path.display().to_string() != saved.teacher => bail!(
                "--resume continues with the run's teacher ({}), not {}",
                saved.teacher,
                path.display()
            ),
            _ => base.teacher.clone(),
        };
        let spec = Distillation {
            teacher,
            rows_per_epoch: args.rows_per_epoch.unwrap_or(base.rows_per_epoch),
            random_fraction: args.random_fraction.unwrap_or(base.random_fraction),
            mutation_min: args.mutation_min.unwrap_or(base.mutation_min),
            mutation_max: args.mutation_max.unwrap_or(base.mutation_max),
            gc_min: args.gc_min.unwrap_or(base.gc_min),
            gc_max: args.gc_max.unwrap_or(base.gc_max),
            real_fraction: args.real_fraction.unwrap_or(base.real_fraction),
            real_calibration: base.real_calibration,
        };
        if !(0.0..1.0).contains(&spec.real_fraction) {
            bail!("--real-fraction must lie in [0, 1)");
        }
        if spec.rows_per_epoch == 0 {
            bail!("--rows-per-epoch must be positive");
        }
        if !(0.0..=1.0).contains(&spec.random_fraction) {
            bail!("--random-fraction must lie in [0, 1]");
        }
        if !(0.0 <= spec.mutation_min
            && spec.mutation_min <= spec.mutation_max
            && spec.mutation_max <= 1.0)
        {
            bail!("mutation shares need 0 <= --mutation-min <= --mutation-max <= 1");
        }
        if !(0.0 <= spec.gc_min && spec.gc_min <= spec.gc_max && spec.gc_max <= 1.0) {
            bail!("G+C shares need 0 <= --gc-min <= --gc-max <= 1");
        }
        Ok(spec)
    }

    /// Fills the student's card: the rows it learnt from, the teacher and the teacher's
    /// licence, which weights derived from it keep.
    pub fn describe(&self, card: &mut ModelCard, teacher: &ModelCard, data: &str) -> Result<()> {
        let real = match self.real_calibration {
            Some((scale, shift)) if self.real_fraction > 0.0 => format!(
                "; {:.0} % of the rows measured training rows of {data} (values mapped onto the teacher's scale as x * {scale:.4} + {shift:.4})",
                self.real_fraction * 100.0,
            ),
            _ => String::new(),
        };
        let gc = if self.gc_min == self.gc_max {
            format!("{:.0} % G+C", self.gc_min * 100.0)
        } else {
            format!(
                "{:.0}-{:.0} % G+C drawn per row",
                self.gc_min * 100.0,
                self.gc_max * 100.0
            )
        };
        card.training_data = format!(
            "{} rows an epoch generated and labelled by the teacher: {:.0} % random 80-mers ({gc}) in the constant flanks, the rest mutants ({:.0}-{:.0} % of the variable region substituted) of the training rows of {data}{real}; validation on the measured validation rows of {data}",
            self.rows_per_epoch,
            self.random_fraction * 100.0,
            self.mutation_min * 100.0,
            self.mutation_max * 100.0,
        );
        card.training_recipe["distillation"] = serde_json::to_value(self)?;
        card.origin = format!(
            "distilled from the teacher {} ({}{})",
            self.teacher,
            teacher.name,
            if teacher.origin.is_empty() {
                String::new()
            } else {
                format!(", {}", teacher.origin)
            }
        );
        card.license = teacher.license.clone();
        Ok(())
    }
}

/// Promoters like the training library's: random variable regions in the constant flanks, or
/// real sequences with a random share of their variable region substituted.
pub struct Generator<'a> {
    rng: StdRng,
    /// Channels of the real training sequences that seed mutants ([`mutant_seeds`]).
    seeds: &'a [Vec<u8>],
    random_fraction: f64,
    mutation: (f64, f64),
    gc: (f64, f64),
}

/// The training rows of `sources` as mutant seeds (only sequences of the library's length,
/// where the variable region is where the flanks say); read once a run.
pub fn mutant_seeds(spec: &Distillation, sources: &[Source]) -> Result<Vec<Vec<u8>>> {
    let mut seeds = Vec::new();
    for source in sources {
        for row in source.training_rows()? {
            let row = row?;
            if row.channels.len() == LENGTH {
                seeds.push(row.channels);
            }
        }
    }
    if seeds.is_empty() && spec.random_fraction < 1.0 {
        bail!(
            "no {LENGTH}-nt training rows in {} to mutate: give real data with --data, or --random-fraction 1",
            sources
                .iter()
                .map(|s| s.path.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(seeds)
}

impl<'a> Generator<'a> {
    pub fn new(spec: &Distillation, seeds: &'a [Vec<u8>], seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            seeds,
            random_fraction: spec.random_fraction,
            mutation: (spec.mutation_min, spec.mutation_max),
            gc: (spec.gc_min, spec.gc_max),
        }
    }

    fn random_base(&mut self) -> u8 {
        self.rng.random_range(0..4u8)
    }

    /// One promoter's channels.
    pub fn next_sequence(&mut self) -> Vec<u8> {
        if self.seeds.is_empty() || self.rng.random_bool(self.random_fraction) {
            let gc = self.rng.random_range(self.gc.0..=self.gc.1);
            return random_promoter(gc, |p| self.rng.random_bool(p));
        }
        let mut sequence = self.seeds[self.rng.random_range(0..self.seeds.len())].clone();
        let share = self.rng.random_range(self.mutation.0..=self.mutation.1);
        let substitutions = (share * VARIABLE_LENGTH as f64).round() as usize;
        for _ in 0..substitutions {
            let position = FLANK_5.len() + self.rng.random_range(0..VARIABLE_LENGTH);
            // A substitution changes the base: one of the three others.
            let current = sequence[position];
            let shift = self.rng.random_range(1..4u8);
            sequence[position] = if current < 4 {
                (current + shift) % 4
            } else {
                self.random_base()
            };
        }
        sequence
    }
}

/// Measured training rows, read through again and again (each pass shuffled anew), their values
/// mapped onto the teacher's scale.
pub struct RealRows<'a> {
    sources: &'a [Source],
    shuffle_buffer: usize,
    seed: u64,
    passes: u64,
    rows: Mixture<'a>,
    calibration: (f64, f64),
}

impl<'a> RealRows<'a> {
    pub fn new(
        sources: &'a [Source],
        shuffle_buffer: usize,
        seed: u64,
        calibration: (f64, f64),
    ) -> Result<Self, InputError> {
        Ok(Self {
            sources,
            shuffle_buffer,
            seed,
            passes: 0,
            rows: Mixture::new(sources, &vec![1.0; sources.len()], shuffle_buffer, seed)?,
            calibration,
        })
    }

    fn next_row(&mut self) -> Result<Record, InputError> {
        for _ in 0..2 {
            if let Some(row) = self.rows.next() {
                let mut row = row?;
                let (scale, shift) = self.calibration;
                row.value = row.value.map(|v| v * scale + shift);
                return Ok(row);
            }
            self.passes += 1;
            self.rows = Mixture::new(
                self.sources,
                &vec![1.0; self.sources.len()],
                self.shuffle_buffer,
                self.seed ^ self.passes << 24,
            )?;
        }
        Err(InputError {
            source_name: "--data".into(),
            line: 0,
            reason: "no training rows to mix in".into(),
        })
    }
}

/// The affine map that gives measured values the teacher's mean and spread on the same rows
/// (the sign of their correlation kept): `(scale, shift)`.
pub fn real_calibration(teacher: &Predictor, sources: &[Source]) -> Result<(f64, f64)> {
    let (mut taught, mut measured) = (Vec::new(), Vec::new());
    for source in sources {
        let rows: Vec<Record> = source.training_rows()?.collect::<Result<_, _>>()?;
        for chunk in rows.chunks(1024) {
            let labels = teacher.predict(chunk.iter().map(|r| r.channels.as_slice()))?;
            taught.extend(labels.into_iter().map(f64::from));
            measured.extend(chunk.iter().map(|r| r.value.unwrap_or(0.0)));
        }
    }
    if measured.len() < 2 {
        bail!(
            "fewer than two measured training rows to calibrate the real rows against the teacher"
        );
    }
    let ((mean_t, sd_t), (mean_m, sd_m)) = (moments(&taught), moments(&measured));
    if sd_m == 0.0 {
        bail!("the measured values do not vary: nothing to calibrate");
    }
    let covariance: f64 = taught
        .iter()
        .zip(&measured)
        .map(|(t, m)| (t - mean_t) * (m - mean_m))
        .sum();
    let scale = (sd_t / sd_m).copysign(covariance);
    Ok((scale, mean_t - scale * mean_m))
}

/// Rows the teacher labels, generated in chunks (one batched teacher pass each), with measured
/// rows mixed in at `real_fraction`.
pub struct Labelled<'a> {
    generator: Generator<'a>,
    teacher: &'a Predictor,
    real: Option<(RealRows<'a>, f64)>,
    mix: StdRng,
    chunk: usize,
    remaining: usize,
    ready: VecDeque<Record>,
}

impl<'a> Labelled<'a> {
    pub fn new(generator: Generator<'a>, teacher: &'a Predictor, rows: usize) -> Self {
        Self {
            generator,
            teacher,
            real: None,
            mix: StdRng::seed_from_u64(0),
            chunk: 1024,
            remaining: rows,
            ready: VecDeque::new(),
        }
    }

    /// Mixes `real` rows in: each row is a real one with probability `fraction`.
    pub fn with_real_rows(mut self, real: RealRows<'a>, fraction: f64, seed: u64) -> Self {
        self.real = Some((real, fraction));
        self.mix = StdRng::seed_from_u64(seed);
        self
    }

    fn refill(&mut self) -> Result<(), InputError> {
        let count = self.chunk.min(self.remaining);
        let fraction = self.real.as_ref().map_or(0.0, |(_, f)| *f);
        let real_rows = (0..count)
            .filter(|_| self.mix.random_bool(fraction))
            .count();
        if let Some((real, _)) = &mut self.real {
            for _ in 0..real_rows {
                self.ready.push_back(real.next_row()?);
            }
        }
        let generated = count - real_rows;
        let sequences: Vec<Vec<u8>> = (0..generated)
            .map(|_| self.generator.next_sequence())
            .collect();
        let labels = self
            .teacher
            .predict(sequences.iter().map(Vec::as_slice))
            .map_err(|e| InputError {
                source_name: "teacher".into(),
                line: 0,
                reason: e.to_string(),
            })?;
        for (channels, label) in sequences.into_iter().zip(labels) {
            self.ready.push_back(Record {
                id: String::new(),
                sequence: alphabet::letters(&channels),
                channels,
                value: Some(f64::from(label)),
                extra: Vec::new(),
                features: Vec::new(),
                line: 0,
            });
        }
        // Real and generated rows in one random order, so that every batch mixes both.
        let ready = self.ready.make_contiguous();
        for i in (1..ready.len()).rev() {
            ready.swap(i, self.mix.random_range(0..=i));
        }
        self.remaining -= count;
        Ok(())
    }
}

impl Iterator for Labelled<'_> {
    type Item = Result<Record, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ready.is_empty()
            && self.remaining > 0
            && let Err(error) = self.refill()
        {
            self.remaining = 0;
            return Some(Err(error));
        }
        self.ready.pop_front().map(Ok)
    }
}

/// Mean and standard deviation of the teacher's labels on `rows` generated promoters: the
/// student's output scale starts there, so that its first steps learn shape, not offset.
pub fn label_scale(generator: Generator, teacher: &Predictor, rows: usize) -> Result<(f64, f64)> {
    let labels: Vec<f64> = Labelled::new(generator, teacher, rows)
        .map(|row| row.map(|r| r.value.unwrap_or(0.0)))
        .collect::<Result<_, _>>()
        .context("labelling calibration rows")?;
    let (mean, deviation) = moments(&labels);
    Ok((mean, deviation.max(1e-6)))
}

/// Mean and (population) standard deviation.
fn moments(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, variance.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::construct::FLANK_3;

    fn generator(random_fraction: f64, seeds: &[Vec<u8>]) -> Generator<'_> {
        Generator {
            rng: StdRng::seed_from_u64(1),
            seeds,
            random_fraction,
            mutation: (0.05, 0.1),
            gc: (0.5, 0.5),
        }
    }

    #[test]
    fn random_promoters_follow_the_asked_gc_share() {
        let gc_share = |gc: (f64, f64)| {
            let mut generator = Generator {
                gc,
                ..generator(1.0, &[])
            };
            let (mut gc_bases, mut bases) = (0, 0);
            for _ in 0..500 {
                let sequence = generator.next_sequence();
                let variable = &sequence[FLANK_5.len()..FLANK_5.len() + VARIABLE_LENGTH];
                gc_bases += variable.iter().filter(|&&b| b == 1 || b == 2).count();
                bases += variable.len();
            }
            gc_bases as f64 / bases as f64
        };
        assert!((gc_share((0.5, 0.5)) - 0.5).abs() < 0.01);
        assert!((gc_share((0.2, 0.2)) - 0.2).abs() < 0.01);
        let drawn = gc_share((0.2, 0.4));
        assert!((drawn - 0.3).abs() < 0.02, "{drawn}");
    }

    #[test]
    fn random_promoters_keep_the_flanks_and_differ_inside() {
        let mut generator = generator(1.0, &[]);
        let a = generator.next_sequence();
        let b = generator.next_sequence();
        let flank5 = alphabet::channels(FLANK_5).unwrap();
        let flank3 = alphabet::channels(FLANK_3).unwrap();
        for s in [&a, &b] {
            assert_eq!(s.len(), 110);
            assert_eq!(&s[..17], flank5.as_slice());
            assert_eq!(&s[97..], flank3.as_slice());
        }
        assert_ne!(a[17..97], b[17..97]);
    }

    #[test]
    fn mutants_change_only_the_variable_region_by_the_asked_share() {
        let seed: Vec<u8> = (0..110).map(|i| (i % 4) as u8).collect();
        let seeds = [seed.clone()];
        let mut generator = generator(0.0, &seeds);
        for _ in 0..50 {
            let mutant = generator.next_sequence();
            assert_eq!(mutant[..17], seed[..17]);
            assert_eq!(mutant[97..], seed[97..]);
            let changed = mutant.iter().zip(&seed).filter(|(a, b)| a != b).count();
            // 4-8 substitutions asked; a position drawn twice can change back or stay changed.
            assert!((1..=8).contains(&changed), "{changed}");
        }
    }
}
