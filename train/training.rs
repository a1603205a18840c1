//! `crmnet train` and `crmnet finetune`: the paper's recipe on one or several devices, streaming
//! the data, with an atomic checkpoint at every epoch, `--resume` after a crash, a clean stop on
//! Ctrl-C, and early stopping on validation R^2 that keeps the best weights.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::optim::{AdamConfig, ModuleOptimizer};
use burn::prelude::*;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crmnet::backend::Backend;
use crmnet::data::batching::Batches;
use crmnet::data::readers::{InputError, Record};
use crmnet::inference::Predictor;
use crmnet::metrics::Metrics;
use crmnet::model::{Architecture, Network, Preset};
use crmnet::output::write_atomically;
use crmnet::parallel::DataParallel;
use crmnet::weights::{self, ModelCard};

use super::distill::{
    DistillArgs, Distillation, Generator, Labelled, RealRows, label_scale, mutant_seeds,
    real_calibration,
};
use super::recipe::{Precision, Recipe};
use super::stream::{Mixture, Source};

#[derive(Args)]
pub struct TrainArgs {
    /// Training data (headered table with a value and optionally a `split` column, or the
    /// released format); repeat for several files, mixed by --sampling-weight.
    #[arg(long, required_unless_present = "resume")]
    data: Vec<String>,
    /// Relative sampling weight of each --data file, in order (default: 1 each). An epoch ends
    /// when every file has been read through; files that run out first start over.
    #[arg(long)]
    sampling_weight: Vec<f64>,
    /// Value column of headered tables (default: expression, measured or value).
    #[arg(long)]
    value_column: Option<String>,
    /// Run directory: checkpoints, `best.bpk`, `metrics.csv`.
    #[arg(long)]
    out: PathBuf,
    /// Recipe file (JSON or TOML); flags below override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Continue the run in --out from its last completed epoch (its data and recipe; flags
    /// below still override the recipe, e.g. --epochs to train longer).
    #[arg(long)]
    resume: bool,
    /// Architecture preset name, or a JSON file with a full architecture configuration.
    #[arg(long)]
    arch: Option<String>,
    #[arg(long)]
    epochs: Option<usize>,
    /// Sequences per optimiser step on each device.
    #[arg(long)]
    batch_size: Option<usize>,
    #[arg(long)]
    warmup_epochs: Option<usize>,
    #[arg(long)]
    lr_peak: Option<f64>,
    #[arg(long)]
    patience: Option<usize>,
    #[arg(long)]
    shuffle_buffer: Option<usize>,
    #[arg(long)]
    seed: Option<u64>,
    /// Devices training in data parallel (global batch and learning rates scale with them).
    #[arg(long)]
    devices: Option<usize>,
    /// Float precision of weights and arithmetic.
    #[arg(long, value_enum)]
    precision: Option<Precision>,
    /// Rows per forward/backward pass on a device; larger batches are accumulated from such
    /// passes (for a GPU that cannot hold --batch-size rows at once)
    #[arg(long)]
    micro_batch_size: Option<usize>,
    /// Workers sharing a CPU device, each computing its own part of the device's batch
    /// concurrently; batch norm then normalises over each part, as on several GPUs (1: the
    /// whole batch in one pass) [default: one per core]
    #[arg(long)]
    cpu_workers: Option<usize>,
    #[arg(long, value_enum, default_value_t = Backend::default())]
    backend: Backend,
}

#[derive(Args)]
pub struct FinetuneArgs {
    /// Pre-trained weights; every weight stays trainable.
    #[arg(long)]
    from: PathBuf,
    #[command(flatten)]
    train: TrainArgs,
}

/// One line of the epoch log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochLog {
    pub epoch: usize,
    pub learning_rate: f64,
    pub train_rows: usize,
    pub train_loss: f64,
    pub valid: Metrics,
    pub seconds: f64,
}

/// What `--resume` needs besides the weights and the optimiser state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunState {
    pub recipe: Recipe,
    pub architecture_name: String,
    pub data: Vec<String>,
    /// One per data file; empty means equal weights.
    #[serde(default)]
    pub sampling_weights: Vec<f64>,
    pub epochs_completed: usize,
    pub best_epoch: Option<usize>,
    /// The best epoch's validation score: R^2 when training on measurements, Pearson r when
    /// distilling (the teacher's scale is not the measurements').
    #[serde(alias = "best_valid_r2")]
    pub best_valid_score: f64,
    pub history: Vec<EpochLog>,
    /// How rows are generated and labelled, for `crmnet distill` runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distillation: Option<Distillation>,
}

const STATE: &str = "state.json";
const BEST: &str = "best.bpk";

fn checkpoint_path(out: &Path, epoch: usize) -> PathBuf {
    out.join(format!("checkpoint-{epoch:04}.bpk"))
}

fn optimizer_path(out: &Path, epoch: usize) -> PathBuf {
    out.join(format!("optimizer-{epoch:04}.bpk"))
}

static STOP: AtomicBool = AtomicBool::new(false);

fn recipe_of(args: &TrainArgs, base: Recipe) -> Result<Recipe> {
    let mut recipe = match &args.config {
        Some(path) => Recipe::from_file(path)?,
        None => base,
    };
    if let Some(arch) = &args.arch {
        recipe.arch = arch.clone();
    }
    recipe.max_epochs = args.epochs.unwrap_or(recipe.max_epochs);
    recipe.batch_size = args.batch_size.unwrap_or(recipe.batch_size);
    recipe.warmup_epochs = args.warmup_epochs.unwrap_or(recipe.warmup_epochs);
    recipe.lr_peak = args.lr_peak.unwrap_or(recipe.lr_peak);
    recipe.patience = args.patience.unwrap_or(recipe.patience);
    recipe.shuffle_buffer = args.shuffle_buffer.unwrap_or(recipe.shuffle_buffer);
    recipe.seed = args.seed.unwrap_or(recipe.seed);
    recipe.devices = args.devices.unwrap_or(recipe.devices);
    recipe.precision = args.precision.unwrap_or(recipe.precision);
    recipe.micro_batch_size = args.micro_batch_size.or(recipe.micro_batch_size);
    recipe.validate()?;
    Ok(recipe)
}

fn sampling_weights(args: &TrainArgs) -> Result<Vec<f64>> {
    let weights = &args.sampling_weight;
    if weights.is_empty() {
        return Ok(Vec::new());
    }
    if weights.len() != args.data.len() {
        bail!(
            "{} --sampling-weight values for {} --data files: give one per file",
            weights.len(),
            args.data.len()
        );
    }
    if let Some(bad) = weights.iter().find(|w| !(w.is_finite() && **w > 0.0)) {
        bail!("--sampling-weight {bad}: weights must be positive");
    }
    Ok(weights.clone())
}

/// A preset by name, or a JSON architecture file (named after the file).
pub(super) fn architecture(arch: &str) -> Result<(String, Architecture)> {
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

fn workers_per_device(args: &TrainArgs) -> Result<usize> {
    match args.cpu_workers {
        None => Ok(args.backend.workers_per_device()),
        Some(0) => bail!("--cpu-workers must be positive"),
        Some(workers) if !args.backend.is_cpu() && workers > 1 => bail!(
            "--cpu-workers is for the CPU backends (flex, ndarray), not {}",
            args.backend
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

pub fn train(args: TrainArgs) -> Result<()> {
    run(args, None, None)
}

pub fn finetune(args: FinetuneArgs) -> Result<()> {
    run(args.train, Some(args.from), None)
}

pub fn distill(args: DistillArgs) -> Result<()> {
    let saved = if args.train.resume {
        read_state(&args.train.out)?.distillation
    } else {
        None
    };
    if args.train.resume && saved.is_none() {
        bail!(
            "{}: not a distillation run (continue it with `crmnet train --resume`)",
            args.train.out.display()
        );
    }
    let spec = Distillation::of(&args, saved.as_ref())?;
    run(args.train, args.from, Some(spec))
}

/// A salt for the generator's seed, so that generated rows do not follow the shuffle's draws.
const GENERATOR_SALT: u64 = 0x6765_6e65_7261_7465;
/// Generated rows whose teacher labels set a new student's output scale.
const CALIBRATION_ROWS: usize = 4096;

fn run(
    args: TrainArgs,
    from: Option<PathBuf>,
    mut distillation: Option<Distillation>,
) -> Result<()> {
    let out = &args.out;
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    // Ctrl-C lets the current epoch's checkpoint stand and stops; a second Ctrl-C kills.
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });

    let saved = if args.resume {
        Some(read_state(out)?)
    } else {
        None
    };
    if let Some(state) = &saved
        && !args.data.is_empty()
        && args.data != state.data
    {
        bail!(
            "--resume continues the run on its own data ({}), not {}",
            state.data.join(", "),
            args.data.join(", ")
        );
    }
    let mut recipe = recipe_of(
        &args,
        saved
            .as_ref()
            .map_or_else(Recipe::default, |s| s.recipe.clone()),
    )?;
    let workers_per_device = workers_per_device(&args)?;
    let devices: Vec<Device> = training_devices(args.backend, &recipe)?
        .into_iter()
        .map(Device::autodiff)
        .collect();
    let device = devices[0].clone();
    let plain_device = device.clone().inner();
    let data = saved
        .as_ref()
        .map_or_else(|| args.data.clone(), |s| s.data.clone());
    let sources: Vec<Source> = data
        .iter()
        .map(|path| Source::open(path, args.value_column.as_deref(), recipe.valid_permille))
        .collect::<Result<_>>()?;
    let teacher = match &distillation {
        Some(spec) => {
            let (model, card) = weights::load(Path::new(&spec.teacher), &plain_device)?;
            Some(Predictor::new(model, card, plain_device.clone()))
        }
        None => None,
    };
    let seeds = match &distillation {
        Some(spec) => mutant_seeds(spec, &sources)?,
        None => Vec::new(),
    };
    if let (Some(spec), Some(teacher)) = (&mut distillation, &teacher)
        && spec.real_fraction > 0.0
        && spec.real_calibration.is_none()
    {
        let (scale, shift) = real_calibration(teacher, &sources)?;
        eprintln!("measured values onto the teacher's scale: x * {scale:.4} + {shift:.4}");
        spec.real_calibration = Some((scale, shift));
    }

    let (mut model, mut card, mut state, mut optimizer) = match saved {
        Some(mut state) => {
            let (model, card, optimizer) = resume(out, &state, &device)?;
            state.recipe = recipe.clone();
            (model, card, state, optimizer)
        }
        None => {
            device.seed(recipe.seed);
            let (model, card) = match &from {
                Some(path) => weights::load(path, &device)?,
                None => {
                    let (name, mut config) = architecture(&recipe.arch)?;
                    if let (Some(spec), Some(teacher)) = (&distillation, &teacher) {
                        let generator = Generator::new(spec, &seeds, recipe.seed ^ GENERATOR_SALT);
                        let (mean, deviation) = label_scale(generator, teacher, CALIBRATION_ROWS)?;
                        config = config.with_output_affine(deviation, mean);
                    }
                    let model = Network::new(&config, &device)?;
                    let card = ModelCard::describe(&name, &config, &model);
                    (model, card)
                }
            };
            let name = card.name.clone();
            // A fine-tuned model's card describes this run, not its source's; its architecture
            // is the source's, whatever the recipe's default says.
            let card = ModelCard::describe(&name, &card.architecture, &model);
            if from.is_some() {
                recipe.arch = name.clone();
            }
            let state = RunState {
                recipe: recipe.clone(),
                architecture_name: name,
                data: args.data.clone(),
                sampling_weights: sampling_weights(&args)?,
                epochs_completed: 0,
                best_epoch: None,
                best_valid_score: f64::NEG_INFINITY,
                history: Vec::new(),
                distillation: distillation.clone(),
            };
            (model, card, state, AdamConfig::new().init())
        }
    };
    state.distillation = distillation.clone();
    card.trained = true;
    card.training_data = state.data.join(", ");
    card.training_recipe = serde_json::to_value(&recipe)?;
    if let (Some(spec), Some(teacher)) = (&distillation, &teacher) {
        let taught = teacher.card();
        let data = state.data.join(", ");
        let real = match spec.real_calibration {
            Some((scale, shift)) if spec.real_fraction > 0.0 => format!(
                "; {:.0} % of the rows measured training rows of {data} (values mapped onto the teacher's scale as x * {scale:.4} + {shift:.4})",
                spec.real_fraction * 100.0,
            ),
            _ => String::new(),
        };
        let gc = if spec.gc_min == spec.gc_max {
            format!("{:.0} % G+C", spec.gc_min * 100.0)
        } else {
            format!(
                "{:.0}-{:.0} % G+C drawn per row",
                spec.gc_min * 100.0,
                spec.gc_max * 100.0
            )
        };
        card.training_data = format!(
            "{} rows an epoch generated and labelled by the teacher: {:.0} % random 80-mers ({gc}) in the constant flanks, the rest mutants ({:.0}-{:.0} % of the variable region substituted) of the training rows of {data}{real}; validation on the measured validation rows of {data}",
            spec.rows_per_epoch,
            spec.random_fraction * 100.0,
            spec.mutation_min * 100.0,
            spec.mutation_max * 100.0,
        );
        card.training_recipe["distillation"] = serde_json::to_value(spec)?;
        card.origin = format!(
            "distilled from the teacher {} ({}{})",
            spec.teacher,
            taught.name,
            if taught.origin.is_empty() {
                String::new()
            } else {
                format!(", {}", taught.origin)
            }
        );
        card.license = taught.license.clone();
    }
    if let Some(path) = &from {
        card.training_recipe["finetuned_from"] =
            serde_json::Value::String(path.display().to_string());
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
        eprintln!(
            "data parallel on {} {} devices: global batch {}",
            recipe.devices,
            args.backend,
            recipe.batch_size * recipe.devices
        );
    }

    let mut since_best = state.history.len() - state.best_epoch.map_or(0, |e| e + 1);
    for epoch in state.epochs_completed..recipe.max_epochs {
        let started = Instant::now();
        let learning_rate = recipe.learning_rate(epoch, recipe.devices);
        let progress = ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("epoch {prefix}: {pos} rows ({per_sec}) loss {msg}")
                .expect("valid template"),
        );
        progress.set_prefix((epoch + 1).to_string());
        let (mut rows, mut loss_sum) = (0usize, 0.0f64);
        let epoch_seed = recipe.seed ^ (epoch as u64) << 32;
        let rows_of_epoch: Box<dyn Iterator<Item = Result<Record, InputError>>> =
            match (&distillation, &teacher) {
                (Some(spec), Some(teacher)) => {
                    let rows = Labelled::new(
                        Generator::new(spec, &seeds, epoch_seed ^ GENERATOR_SALT),
                        teacher,
                        spec.rows_per_epoch,
                    );
                    match spec.real_calibration {
                        Some(calibration) if spec.real_fraction > 0.0 => {
                            let real = RealRows::new(
                                &sources,
                                recipe.shuffle_buffer,
                                epoch_seed,
                                calibration,
                            )?;
                            Box::new(rows.with_real_rows(real, spec.real_fraction, epoch_seed))
                        }
                        _ => Box::new(rows),
                    }
                }
                _ => Box::new(Mixture::new(
                    &sources,
                    &weights_of_sources,
                    recipe.shuffle_buffer,
                    epoch_seed,
                )?),
            };
        for batch in Batches::new(rows_of_epoch, recipe.batch_size * recipe.devices) {
            if STOP.load(Ordering::SeqCst) {
                progress.abandon();
                bail!(
                    "interrupted during epoch {}; {} epochs are checkpointed in {} (continue with --resume)",
                    epoch + 1,
                    state.epochs_completed,
                    out.display()
                );
            }
            let batch: Vec<Record> = batch?;
            let (next, loss) = parallel.step(model, &mut optimizer, &batch, learning_rate)?;
            if !loss.is_finite() {
                progress.abandon();
                bail!(
                    "the training loss became {loss} in epoch {} after {rows} rows ({:?} precision, learning rate {learning_rate:.2e}); {} completed epochs are checkpointed in {}: try bf16 or f32, or a lower --lr-peak",
                    epoch + 1,
                    recipe.precision,
                    state.epochs_completed,
                    out.display()
                );
            }
            model = next;
            rows += batch.len();
            loss_sum += loss * batch.len() as f64;
            progress.set_message(format!("{:.4}", loss_sum / rows as f64));
            progress.inc(batch.len() as u64);
        }
        progress.finish_and_clear();
        if rows == 0 {
            bail!("no training rows in {}", state.data.join(", "));
        }
        let valid = validate(&model, &card, &sources, &plain_device, recipe.batch_size)?;
        let log = EpochLog {
            epoch: epoch + 1,
            learning_rate,
            train_rows: rows,
            train_loss: loss_sum / rows as f64,
            valid,
            seconds: started.elapsed().as_secs_f64(),
        };
        eprintln!(
            "epoch {}: lr {:.2e}, train loss {:.4} on {} rows, valid r {:.4} R2 {:.4} ({:.0} s)",
            log.epoch, learning_rate, log.train_loss, rows, valid.pearson, valid.r2, log.seconds
        );
        state.history.push(log);
        state.epochs_completed = epoch + 1;
        let score = if distillation.is_some() {
            valid.pearson
        } else {
            valid.r2
        };
        if score > state.best_valid_score {
            state.best_valid_score = score;
            state.best_epoch = Some(epoch);
            since_best = 0;
            let mut best_card = card.clone();
            best_card.metrics.insert("valid".into(), valid);
            best_card.training_recipe["epochs"] = serde_json::json!(epoch + 1);
            weights::save(model.valid(), &best_card, &out.join(BEST))?;
        } else {
            since_best += 1;
        }
        save_checkpoint(out, &model, &card, &optimizer, &state)?;
        if since_best >= recipe.patience {
            eprintln!(
                "early stop: no better validation {} for {} epochs",
                score_name(&distillation),
                recipe.patience
            );
            break;
        }
    }
    let best = state.best_epoch.map_or(0, |e| e + 1);
    eprintln!(
        "best weights (epoch {best}, valid {} {:.4}) in {}",
        score_name(&distillation),
        state.best_valid_score,
        out.join(BEST).display()
    );
    Ok(())
}

fn score_name(distillation: &Option<Distillation>) -> &'static str {
    if distillation.is_some() { "r" } else { "R2" }
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

/// Metrics on the validation rows, streamed from the sources: only the value pairs are kept.
fn validate(
    model: &Network,
    card: &ModelCard,
    sources: &[Source],
    device: &Device,
    batch_size: usize,
) -> Result<Metrics> {
    let predictor = Predictor::new(model.valid(), card.clone(), device.clone());
    let (mut predicted, mut measured) = (Vec::new(), Vec::new());
    for source in sources {
        for batch in Batches::new(source.validation_rows()?, batch_size) {
            let batch = batch?;
            predicted.extend(
                predictor
                    .predict(batch.iter().map(|r| r.channels.as_slice()))?
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

/// Weights, optimiser state and the metrics table first, then the state file that points at
/// them (an atomic rename, the checkpoint's commit), then the previous epoch's files go: a kill
/// at any moment leaves a consistent last checkpoint whose files all exist.
fn save_checkpoint(
    out: &Path,
    model: &Network,
    card: &ModelCard,
    optimizer: &ModuleOptimizer,
    state: &RunState,
) -> Result<()> {
    let epoch = state.epochs_completed;
    weights::save(model.valid(), card, &checkpoint_path(out, epoch))?;
    let optimizer_bytes = optimizer
        .into_bytes()
        .map_err(|e| anyhow::anyhow!("optimizer state: {e}"))?;
    write_file(&optimizer_path(out, epoch), &optimizer_bytes)?;
    write_file(
        &out.join("metrics.csv"),
        metrics_csv(&state.history).as_bytes(),
    )?;
    write_file(
        &out.join(STATE),
        serde_json::to_string_pretty(state)?.as_bytes(),
    )?;
    if epoch > 1 {
        let _ = std::fs::remove_file(checkpoint_path(out, epoch - 1));
        let _ = std::fs::remove_file(optimizer_path(out, epoch - 1));
    }
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically::<_, anyhow::Error>(path, |out| Ok(out.write_all(bytes)?))
}

fn metrics_csv(history: &[EpochLog]) -> String {
    let mut csv = String::from(
        "epoch,learning_rate,train_rows,train_loss,valid_n,valid_r,valid_rho,valid_r2,valid_mse,valid_mae,seconds\n",
    );
    for log in history {
        let v = &log.valid;
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{:.1}\n",
            log.epoch,
            log.learning_rate,
            log.train_rows,
            log.train_loss,
            v.n,
            v.pearson,
            v.spearman,
            v.r2,
            v.mse,
            v.mae,
            log.seconds
        ));
    }
    csv
}

fn read_state(out: &Path) -> Result<RunState> {
    let state_path = out.join(STATE);
    let text = std::fs::read_to_string(&state_path)
        .with_context(|| format!("{}: cannot resume: no run state", state_path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not a run state", state_path.display()))
}

fn resume(
    out: &Path,
    state: &RunState,
    device: &Device,
) -> Result<(Network, ModelCard, ModuleOptimizer)> {
    let epoch = state.epochs_completed;
    let (model, card) = weights::load(&checkpoint_path(out, epoch), device)?;
    let optimizer_file = optimizer_path(out, epoch);
    let bytes = std::fs::read(&optimizer_file)
        .with_context(|| format!("{}: cannot read", optimizer_file.display()))?;
    let optimizer = AdamConfig::new()
        .init()
        .from_bytes(burn_pack::Bytes::from_bytes_vec(bytes))
        .map_err(|e| anyhow::anyhow!("{}: {e}", optimizer_file.display()))?;
    eprintln!("resuming {} after epoch {epoch}", out.display());
    Ok((model.train(), card, optimizer))
}
