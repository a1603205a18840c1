//! Training runs (train, fine-tune, distil): the paper's recipe on one or several devices,
//! streaming the data, with an atomic checkpoint at every epoch, resumption after a crash, a
//! clean stop when the driving program asks for one, and early stopping that keeps the best
//! weights. A run is the steps a reader looks for: start or resume ([`Run::start`]), the
//! epoch's rows ([`Run::rows_of_epoch`]), one epoch of steps ([`Run::train_epoch`]),
//! validation ([`Run::validate`]), the epoch's record and checkpoint ([`Run::record_epoch`])
//! and the stop rule ([`Run::patience_exhausted`]).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::optim::{AdamConfig, ModuleOptimizer};
use burn::prelude::*;

use crate::backend::Backend;
use crate::data::batching::Batches;
use crate::data::readers::{InputError, Record};
use crate::inference::Predictor;
use crate::metrics::Metrics;
use crate::model::{Architecture, Network, Preset};
use crate::weights::{self, ModelCard};

use super::checkpoint::{self, BEST, EpochLog, RunState};
use super::distill::{
    DistillOverrides, Distillation, Generator, Labelled, RealRows, label_scale, mutant_seeds,
    real_calibration,
};
use super::parallel::DataParallel;
use super::recipe::{Precision, Recipe, RecipeOverrides};
use super::stream::{Mixture, Source};

/// What a run trains on, where it writes, and how.
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    /// Training data (headered tables with a value and optionally a `split` column, or the
    /// released format), mixed by `sampling_weights`. Empty when resuming: the run's own.
    pub data: Vec<String>,
    /// Relative sampling weight of each data file, in order (empty: 1 each). An epoch ends when
    /// every file has been read through; files that run out first start over.
    pub sampling_weights: Vec<f64>,
    /// Value column of headered tables ([`crate::data::readers::VALUE_COLUMNS`] when `None`).
    pub value_column: Option<String>,
    /// Run directory: checkpoints, `best.bpk`, `metrics.csv`, `state.json`.
    pub out: PathBuf,
    /// Recipe file (JSON or TOML); `recipe` overrides it.
    pub config: Option<PathBuf>,
    /// Continue the run in `out` from its last completed epoch.
    pub resume: bool,
    pub recipe: RecipeOverrides,
    /// Workers sharing a CPU device, each computing its own part of the device's batch
    /// (`None`: one per core).
    pub cpu_workers: Option<usize>,
    pub backend: Backend,
}

/// What a run tells the program driving it, and how that program asks it to stop.
pub trait Observer {
    /// Rows trained so far in `epoch` (1-based) and their mean loss.
    fn progress(&mut self, epoch: usize, rows: usize, mean_loss: f64);
    /// The epoch has ended or stopped: its progress display can go.
    fn epoch_ended(&mut self);
    /// A line for the user.
    fn note(&mut self, message: &str);
    /// Polled between batches: `true` stops the run, leaving the last checkpoint standing.
    fn stop_requested(&self) -> bool;
}

/// Trains from scratch (pre-training) with the recipe.
pub fn train(options: TrainOptions, observer: &mut dyn Observer) -> Result<()> {
    run(options, None, None, observer)
}

/// Continues training all weights of the model in `from` on new data.
pub fn finetune(options: TrainOptions, from: &Path, observer: &mut dyn Observer) -> Result<()> {
    run(options, Some(from), None, observer)
}

/// Trains a student on a teacher's labels for promoters generated on the fly (see
/// [`super::distill`]), from `from`'s weights or from the recipe's architecture.
pub fn distill(
    options: TrainOptions,
    from: Option<&Path>,
    overrides: &DistillOverrides,
    observer: &mut dyn Observer,
) -> Result<()> {
    let saved = if options.resume {
        checkpoint::read_state(&options.out)?.distillation
    } else {
        None
    };
    if options.resume && saved.is_none() {
        bail!(
            "{}: not a distillation run (continue it with `crmnet train --resume`)",
            options.out.display()
        );
    }
    let spec = Distillation::of(overrides, saved.as_ref())?;
    run(options, from, Some(spec), observer)
}

/// A preset by name, or a JSON architecture file (named after the file).
pub fn architecture(arch: &str) -> Result<(String, Architecture)> {
    if let Some(preset) = Preset::from_name(arch) {
        return Ok((preset.name().to_string(), preset.architecture()));
    }
    let path = Path::new(arch);
    if !path.is_file() {
        let names: Vec<_> = Preset::ALL.iter().map(|p| p.name()).collect();
        bail!(
            "unknown architecture '{arch}': neither a preset ({}) nor a JSON file",
            names.join(", ")
        );
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("{arch}: cannot read"))?;
    let config: Architecture = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{arch}:{}: not an architecture: {e}", e.line()))?;
    config.validate().with_context(|| arch.to_string())?;
    let name = path
        .file_stem()
        .map_or(arch.into(), |s| s.to_string_lossy().into_owned());
    Ok((name, config))
}

fn run(
    options: TrainOptions,
    from: Option<&Path>,
    distillation: Option<Distillation>,
    observer: &mut dyn Observer,
) -> Result<()> {
    let (mut run, mut model, mut optimizer) = Run::start(&options, from, distillation, observer)?;
    for epoch in run.state.epochs_completed..run.recipe.max_epochs {
        let started = Instant::now();
        let learning_rate = run.recipe.learning_rate(epoch, run.recipe.devices);
        let trained = run.train_epoch(epoch, model, &mut optimizer, learning_rate, observer);
        observer.epoch_ended();
        let (trained, rows, loss_sum) = trained?;
        model = trained;
        let valid = run.validate(&model)?;
        let log = EpochLog {
            epoch: epoch + 1,
            learning_rate,
            train_rows: rows,
            train_loss: loss_sum / rows as f64,
            valid,
            seconds: started.elapsed().as_secs_f64(),
        };
        observer.note(&format!(
            "epoch {}: lr {:.2e}, train loss {:.4} on {} rows, valid r {:.4} R2 {:.4} ({:.0} s)",
            log.epoch, learning_rate, log.train_loss, rows, valid.pearson, valid.r2, log.seconds
        ));
        run.record_epoch(&model, &optimizer, log)?;
        if run.patience_exhausted() {
            observer.note(&format!(
                "early stop: no better validation {} for {} epochs",
                run.score_name(),
                run.recipe.patience
            ));
            break;
        }
    }
    let best = run.state.best_epoch.map_or(0, |e| e + 1);
    observer.note(&format!(
        "best weights (epoch {best}, valid {} {:.4}) in {}",
        run.score_name(),
        run.state.best_valid_score,
        run.out.join(BEST).display()
    ));
    Ok(())
}

/// The teacher of a distillation run and what its rows are generated from.
struct Teacher {
    predictor: Predictor,
    spec: Distillation,
    /// Real training sequences that generated mutants start from.
    seeds: Vec<Vec<u8>>,
}

/// A salt for the generator's seed, so that generated rows do not follow the shuffle's draws.
const GENERATOR_SALT: u64 = 0x6765_6e65_7261_7465;
/// Generated rows whose teacher labels set a new student's output scale.
const CALIBRATION_ROWS: usize = 4096;

/// Everything an epoch needs besides the model and the optimiser, which the steps consume.
struct Run {
    out: PathBuf,
    recipe: Recipe,
    /// The first training device without autodiff, where validation runs.
    plain_device: Device,
    sources: Vec<Source>,
    weights_of_sources: Vec<f64>,
    teacher: Option<Teacher>,
    card: ModelCard,
    state: RunState,
    parallel: DataParallel,
    /// Epochs since the best one.
    since_best: usize,
}

impl Run {
    /// A new run in `options.out`, or the one there resumed: devices, data, teacher, model,
    /// card and optimiser.
    fn start(
        options: &TrainOptions,
        from: Option<&Path>,
        distillation: Option<Distillation>,
        observer: &mut dyn Observer,
    ) -> Result<(Run, Network, ModuleOptimizer)> {
        let out = &options.out;
        std::fs::create_dir_all(out)
            .with_context(|| format!("{}: cannot create", out.display()))?;
        let saved = if options.resume {
            Some(checkpoint::read_state(out)?)
        } else {
            None
        };
        if let Some(state) = &saved
            && !options.data.is_empty()
            && options.data != state.data
        {
            bail!(
                "--resume continues the run on its own data ({}), not {}",
                state.data.join(", "),
                options.data.join(", ")
            );
        }
        let base = match &options.config {
            Some(path) => Recipe::from_file(path)?,
            None => saved
                .as_ref()
                .map_or_else(Recipe::default, |s| s.recipe.clone()),
        };
        let mut recipe = options.recipe.apply(base)?;
        let workers_per_device = workers_per_device(options)?;
        let devices: Vec<Device> = training_devices(options.backend, &recipe)?
            .into_iter()
            .map(Device::autodiff)
            .collect();
        let device = devices[0].clone();
        let plain_device = device.clone().inner();
        let data = saved
            .as_ref()
            .map_or_else(|| options.data.clone(), |s| s.data.clone());
        let mut sources: Vec<Source> = data
            .iter()
            .map(|path| Source::open(path, options.value_column.as_deref(), recipe.valid_permille))
            .collect::<Result<_>>()?;
        let teacher = match distillation {
            Some(mut spec) => {
                let (model, card) = weights::load(Path::new(&spec.teacher), &plain_device)?;
                made_for_the_library("teacher", &card)?;
                let predictor = Predictor::new(model, card, plain_device.clone());
                let seeds = mutant_seeds(&spec, &sources)?;
                if spec.real_fraction > 0.0 && spec.real_calibration.is_none() {
                    let (scale, shift) = real_calibration(&predictor, &sources)?;
                    observer.note(&format!(
                        "measured values onto the teacher's scale: x * {scale:.4} + {shift:.4}"
                    ));
                    spec.real_calibration = Some((scale, shift));
                }
                Some(Teacher {
                    predictor,
                    spec,
                    seeds,
                })
            }
            None => None,
        };

        let (model, card, mut state, optimizer) = match saved {
            Some(mut state) => {
                let (model, mut card, optimizer) = checkpoint::load_last(out, &state, &device)?;
                let (model, architecture) =
                    with_training_dropout(model, card.architecture, &recipe, &device)?;
                card.architecture = architecture;
                observer.note(&format!(
                    "resuming {} after epoch {}",
                    out.display(),
                    state.epochs_completed
                ));
                state.recipe = recipe.clone();
                (model, card, state, optimizer)
            }
            None => {
                device.seed(recipe.seed);
                let (model, name, architecture) =
                    initial_model(from, &recipe, teacher.as_ref(), &device)?;
                let (model, architecture) =
                    with_training_dropout(model, architecture, &recipe, &device)?;
                // A fine-tuned model's card describes this run, not its source's; its
                // architecture is the source's, whatever the recipe's default says.
                if from.is_some() {
                    recipe.arch = name.clone();
                }
                let card = ModelCard::describe(&name, &architecture, &model);
                let state = RunState {
                    recipe: recipe.clone(),
                    architecture_name: name,
                    data: options.data.clone(),
                    sampling_weights: sampling_weights(options)?,
                    epochs_completed: 0,
                    best_epoch: None,
                    best_valid_score: f64::NEG_INFINITY,
                    history: Vec::new(),
                    distillation: None,
                };
                (model, card, state, AdamConfig::new().init())
            }
        };
        state.distillation = teacher.as_ref().map(|t| t.spec.clone());
        let card = run_card(card, &state, &recipe, teacher.as_ref(), from)?;
        if teacher.is_some() {
            made_for_the_library("student", &card)?;
        }
        for source in &mut sources {
            source.read_features(card.architecture.features())?;
        }

        let mut weights_of_sources = state.sampling_weights.clone();
        weights_of_sources.resize(sources.len(), 1.0);
        if !has_validation_rows(&sources)? {
            bail!(
                "no validation rows: add a `split` column with `valid` rows, or raise valid_permille"
            );
        }
        let parallel = DataParallel::new(
            devices,
            workers_per_device,
            recipe.huber_delta,
            card.architecture.input_window(),
            recipe.micro_batch_size,
        );
        if recipe.devices > 1 {
            observer.note(&format!(
                "data parallel on {} {} devices: global batch {}",
                recipe.devices,
                options.backend,
                recipe.batch_size * recipe.devices
            ));
        }
        let since_best = state.history.len() - state.best_epoch.map_or(0, |e| e + 1);
        let run = Run {
            out: out.clone(),
            recipe,
            plain_device,
            sources,
            weights_of_sources,
            teacher,
            card,
            state,
            parallel,
            since_best,
        };
        Ok((run, model, optimizer))
    }

    /// The rows of epoch `epoch` (0-based), in training order: teacher-labelled generated rows
    /// (with measured ones mixed in) when distilling, else the data files' training rows.
    fn rows_of_epoch(
        &self,
        epoch: usize,
    ) -> Result<Box<dyn Iterator<Item = Result<Record, InputError>> + '_>> {
        let epoch_seed = self.recipe.seed ^ (epoch as u64) << 32;
        let Some(teacher) = &self.teacher else {
            return Ok(Box::new(Mixture::new(
                &self.sources,
                &self.weights_of_sources,
                self.recipe.shuffle_buffer,
                epoch_seed,
            )?));
        };
        let spec = &teacher.spec;
        let rows = Labelled::new(
            Generator::new(spec, &teacher.seeds, epoch_seed ^ GENERATOR_SALT),
            &teacher.predictor,
            spec.rows_per_epoch,
        );
        Ok(match spec.real_calibration {
            Some(calibration) if spec.real_fraction > 0.0 => {
                let real = RealRows::new(
                    &self.sources,
                    self.recipe.shuffle_buffer,
                    epoch_seed,
                    calibration,
                )?;
                Box::new(rows.with_real_rows(real, spec.real_fraction, epoch_seed))
            }
            _ => Box::new(rows),
        })
    }

    /// One epoch of optimiser steps: the trained model, the rows seen and their summed loss.
    fn train_epoch(
        &self,
        epoch: usize,
        mut model: Network,
        optimizer: &mut ModuleOptimizer,
        learning_rate: f64,
        observer: &mut dyn Observer,
    ) -> Result<(Network, usize, f64)> {
        let (mut rows, mut loss_sum) = (0usize, 0.0f64);
        let global_batch = self.recipe.batch_size * self.recipe.devices;
        for batch in Batches::new(self.rows_of_epoch(epoch)?, global_batch) {
            if observer.stop_requested() {
                bail!(
                    "interrupted during epoch {}; {} epochs are checkpointed in {} (continue with --resume)",
                    epoch + 1,
                    self.state.epochs_completed,
                    self.out.display()
                );
            }
            let batch: Vec<Record> = batch?;
            let (next, loss) = self
                .parallel
                .step(model, optimizer, &batch, learning_rate)?;
            if !loss.is_finite() {
                bail!(
                    "the training loss became {loss} in epoch {} after {rows} rows ({:?} precision, learning rate {learning_rate:.2e}); {} completed epochs are checkpointed in {}: try bf16 or f32, or a lower --lr-peak",
                    epoch + 1,
                    self.recipe.precision,
                    self.state.epochs_completed,
                    self.out.display()
                );
            }
            model = next;
            rows += batch.len();
            loss_sum += loss * batch.len() as f64;
            observer.progress(epoch + 1, rows, loss_sum / rows as f64);
        }
        if rows == 0 {
            bail!("no training rows in {}", self.state.data.join(", "));
        }
        Ok((model, rows, loss_sum))
    }

    /// Metrics on the validation rows, streamed from the sources: only the value pairs are kept.
    fn validate(&self, model: &Network) -> Result<Metrics> {
        let predictor = Predictor::new(model.valid(), self.card.clone(), self.plain_device.clone());
        let (mut predicted, mut measured) = (Vec::new(), Vec::new());
        for source in &self.sources {
            for batch in Batches::new(source.validation_rows()?, self.recipe.batch_size) {
                let batch = batch?;
                predicted.extend(
                    predictor
                        .predict_records(&batch)?
                        .into_iter()
                        .map(f64::from),
                );
                measured.extend(
                    batch
                        .iter()
                        .map(|r| r.value.expect("validation rows carry values")),
                );
            }
        }
        Ok(Metrics::compute(&predicted, &measured))
    }

    /// Logs the epoch, keeps its weights as the best when its validation score is, and
    /// checkpoints the run.
    fn record_epoch(
        &mut self,
        model: &Network,
        optimizer: &ModuleOptimizer,
        log: EpochLog,
    ) -> Result<()> {
        let epoch = log.epoch - 1;
        let valid = log.valid;
        let score = if self.teacher.is_some() {
            valid.pearson
        } else {
            valid.r2
        };
        self.state.history.push(log);
        self.state.epochs_completed = epoch + 1;
        if score > self.state.best_valid_score {
            self.state.best_valid_score = score;
            self.state.best_epoch = Some(epoch);
            self.since_best = 0;
            let mut best_card = self.card.clone();
            best_card.metrics.insert("valid".into(), valid);
            best_card.training_recipe["epochs"] = serde_json::json!(epoch + 1);
            weights::save(model.valid(), &best_card, &self.out.join(BEST))?;
        } else {
            self.since_best += 1;
        }
        checkpoint::save(&self.out, model, &self.card, optimizer, &self.state)
    }

    /// The stop rule: no better validation score for `patience` epochs.
    fn patience_exhausted(&self) -> bool {
        self.since_best >= self.recipe.patience
    }

    /// The validation score the run chooses its best epoch by: Pearson r when distilling (the
    /// teacher's scale is not the measurements'), else R^2.
    fn score_name(&self) -> &'static str {
        if self.teacher.is_some() { "r" } else { "R2" }
    }
}

/// A new run's model, its name and architecture: `from`'s trained weights, or the recipe's
/// architecture initialised at random, its output scale set to the teacher's labels when
/// distilling.
fn initial_model(
    from: Option<&Path>,
    recipe: &Recipe,
    teacher: Option<&Teacher>,
    device: &Device,
) -> Result<(Network, String, Architecture)> {
    if let Some(path) = from {
        let (model, card) = weights::load(path, device)?;
        return Ok((model, card.name, card.architecture));
    }
    let (name, mut config) = architecture(&recipe.arch)?;
    if let Some(teacher) = teacher {
        let generator = Generator::new(&teacher.spec, &teacher.seeds, recipe.seed ^ GENERATOR_SALT);
        let (mean, deviation) = label_scale(generator, &teacher.predictor, CALIBRATION_ROWS)?;
        config = config.with_output_affine(deviation, mean);
    }
    Ok((Network::new(&config, device)?, name, config))
}

/// `model` and its architecture with the recipe's training dropout, where it sets one.
fn with_training_dropout(
    model: Network,
    architecture: Architecture,
    recipe: &Recipe,
    device: &Device,
) -> Result<(Network, Architecture)> {
    let Some(rate) = recipe.dropout else {
        return Ok((model, architecture));
    };
    let architecture = architecture.with_dropout(rate);
    Ok((model.rebuilt(&architecture, device)?, architecture))
}

/// Distillation generates promoters of the yeast libraries' construct: teacher and student must
/// both read that construct (a model of 10.5 kb human promoters would learn nothing from them,
/// and its features would all be 0).
fn made_for_the_library(role: &str, card: &ModelCard) -> Result<()> {
    if card.input.flanks.is_none() || !card.architecture.features().is_empty() {
        bail!(
            "distillation generates {}-nt promoters of the yeast libraries' construct; the \
             {role} ({}) was not made for it",
            crate::data::construct::LENGTH,
            card.name
        );
    }
    Ok(())
}

/// The card the run's weights carry: trained, on what, with which recipe, from which teacher
/// or source weights.
fn run_card(
    mut card: ModelCard,
    state: &RunState,
    recipe: &Recipe,
    teacher: Option<&Teacher>,
    from: Option<&Path>,
) -> Result<ModelCard> {
    card.trained = true;
    card.training_data = state.data.join(", ");
    card.training_recipe = serde_json::to_value(recipe)?;
    if let Some(teacher) = teacher {
        teacher
            .spec
            .describe(&mut card, teacher.predictor.card(), &state.data.join(", "))?;
    }
    if let Some(path) = from {
        card.training_recipe["finetuned_from"] =
            serde_json::Value::String(path.display().to_string());
    }
    Ok(card)
}

fn sampling_weights(options: &TrainOptions) -> Result<Vec<f64>> {
    let weights = &options.sampling_weights;
    if weights.is_empty() {
        return Ok(Vec::new());
    }
    if weights.len() != options.data.len() {
        bail!(
            "{} --sampling-weight values for {} --data files: give one per file",
            weights.len(),
            options.data.len()
        );
    }
    if let Some(bad) = weights.iter().find(|w| !(w.is_finite() && **w > 0.0)) {
        bail!("--sampling-weight {bad}: weights must be positive");
    }
    Ok(weights.clone())
}

fn workers_per_device(options: &TrainOptions) -> Result<usize> {
    match options.cpu_workers {
        None => Ok(options.backend.workers_per_device()),
        Some(0) => bail!("--cpu-workers must be positive"),
        Some(workers) if !options.backend.is_cpu() && workers > 1 => bail!(
            "--cpu-workers is for the CPU backends (flex, ndarray), not {}",
            options.backend
        ),
        Some(workers) => Ok(workers),
    }
}

/// The backend's devices, switched to the recipe's precision before any tensor exists on them.
fn training_devices(backend: Backend, recipe: &Recipe) -> Result<Vec<Device>> {
    let mut devices = backend.devices(recipe.devices)?;
    if recipe.precision != Precision::F32 {
        let dtype = recipe.precision.dtype();
        for device in &mut devices {
            if !device.supports_dtype(dtype) {
                bail!(
                    "the {backend} backend cannot compute in {:?}",
                    recipe.precision
                );
            }
            // A device shared by several workers is configured once; it then reports the
            // settings as taken, which is what we asked for.
            if device.settings().float_dtype != dtype {
                device
                    .configure(dtype)
                    .map_err(|e| anyhow::anyhow!("{backend}: {e:?}"))?;
            }
        }
    }
    Ok(devices)
}

fn has_validation_rows(sources: &[Source]) -> Result<bool> {
    for source in sources {
        if let Some(row) = source.validation_rows()?.next() {
            row?;
            return Ok(true);
        }
    }
    Ok(false)
}
