//! `crmnet train` and `crmnet finetune`: the paper's recipe on one device, streaming the data,
//! with an atomic checkpoint at every epoch, `--resume` after a crash, a clean stop on Ctrl-C,
//! and early stopping on validation R^2 that keeps the best weights.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::nn::loss::{HuberLossConfig, Reduction};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crmnet::backend::Backend;
use crmnet::data::batching::{Batches, one_hot_batch};
use crmnet::data::readers::Record;
use crmnet::inference::Predictor;
use crmnet::metrics::Metrics;
use crmnet::model::{Crmnet, Preset};
use crmnet::output::write_atomically;
use crmnet::weights::{self, ModelCard};

use super::recipe::Recipe;
use super::stream::{Shuffled, Source};

#[derive(Args)]
pub struct TrainArgs {
    /// Training data (headered table with a value and optionally a `split` column, or the
    /// released format); repeat for several files, read one after another.
    #[arg(long, required = true)]
    data: Vec<String>,
    /// Value column of headered tables (default: expression, measured or value).
    #[arg(long)]
    value_column: Option<String>,
    /// Run directory: checkpoints, `best.bpk`, `metrics.csv`.
    #[arg(long)]
    out: PathBuf,
    /// Recipe file (JSON or TOML); flags below override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Continue the run in --out from its last completed epoch.
    #[arg(long)]
    resume: bool,
    #[arg(long)]
    arch: Option<String>,
    #[arg(long)]
    epochs: Option<usize>,
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
    pub epochs_completed: usize,
    pub best_epoch: Option<usize>,
    pub best_valid_r2: f64,
    pub history: Vec<EpochLog>,
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

fn recipe_of(args: &TrainArgs) -> Result<Recipe> {
    let mut recipe = match &args.config {
        Some(path) => Recipe::from_file(path)?,
        None => Recipe::default(),
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
    recipe.validate()?;
    Ok(recipe)
}

pub fn train(args: TrainArgs) -> Result<()> {
    run(args, None)
}

pub fn finetune(args: FinetuneArgs) -> Result<()> {
    run(args.train, Some(args.from))
}

fn run(args: TrainArgs, from: Option<PathBuf>) -> Result<()> {
    let out = &args.out;
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    let plain_device = args.backend.device()?;
    let device = plain_device.clone().autodiff();
    // Ctrl-C lets the current epoch's checkpoint stand and stops; a second Ctrl-C kills.
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });

    let (mut model, mut card, mut state, mut optimizer) = if args.resume {
        resume(out, &device)?
    } else {
        let recipe = recipe_of(&args)?;
        device.seed(recipe.seed);
        let (model, card) = match &from {
            Some(path) => weights::load(path, &device)?,
            None => {
                let preset = Preset::from_name(&recipe.arch)
                    .with_context(|| format!("unknown architecture '{}'", recipe.arch))?;
                let config = preset.config();
                let model = Crmnet::new(&config, &device)?;
                let card = ModelCard::describe(preset.name(), &config, &model);
                (model, card)
            }
        };
        let name = card.name.clone();
        // A fine-tuned model's card describes this run, not its source's.
        let card = ModelCard::describe(&name, &card.architecture, &model);
        let state = RunState {
            recipe,
            architecture_name: name,
            data: args.data.clone(),
            epochs_completed: 0,
            best_epoch: None,
            best_valid_r2: f64::NEG_INFINITY,
            history: Vec::new(),
        };
        (model, card, state, AdamConfig::new().init())
    };
    let recipe = state.recipe.clone();
    card.trained = true;
    card.training_data = state.data.join(", ");
    card.training_recipe = serde_json::to_value(&recipe)?;
    if let Some(path) = &from {
        card.training_recipe["finetuned_from"] =
            serde_json::Value::String(path.display().to_string());
    }

    let sources: Vec<Source> = state
        .data
        .iter()
        .map(|path| Source::open(path, args.value_column.as_deref(), recipe.valid_permille))
        .collect::<Result<_>>()?;
    let mut validation = Vec::new();
    for source in &sources {
        validation.extend(source.validation_rows()?);
    }
    if validation.is_empty() {
        bail!(
            "no validation rows: add a `split` column with `valid` rows, or raise valid_permille"
        );
    }
    let loss_fn = HuberLossConfig::new(recipe.huber_delta as f32).init();

    let mut since_best = state.history.len() - state.best_epoch.map_or(0, |e| e + 1);
    for epoch in state.epochs_completed..recipe.max_epochs {
        let started = Instant::now();
        let learning_rate = recipe.learning_rate(epoch, 1);
        let progress = ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("epoch {prefix}: {pos} rows ({per_sec}) loss {msg}")
                .expect("valid template"),
        );
        progress.set_prefix((epoch + 1).to_string());
        let (mut rows, mut loss_sum) = (0usize, 0.0f64);
        for source in &sources {
            let shuffled = Shuffled::new(
                source.training_rows()?,
                recipe.shuffle_buffer,
                recipe.seed ^ (epoch as u64) << 32,
            );
            for batch in Batches::new(shuffled, recipe.batch_size) {
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
                let (next, loss) = step(
                    model,
                    &mut optimizer,
                    &loss_fn,
                    &batch,
                    learning_rate,
                    card.sequence_length,
                    &device,
                );
                model = next;
                rows += batch.len();
                loss_sum += loss * batch.len() as f64;
                progress.set_message(format!("{:.4}", loss_sum / rows as f64));
                progress.inc(batch.len() as u64);
            }
        }
        progress.finish_and_clear();
        if rows == 0 {
            bail!("no training rows in {}", state.data.join(", "));
        }
        let valid = validate(&model, &card, &validation, &plain_device, recipe.batch_size)?;
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
        if valid.r2 > state.best_valid_r2 {
            state.best_valid_r2 = valid.r2;
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
                "early stop: no better validation R2 for {} epochs",
                recipe.patience
            );
            break;
        }
    }
    let best = state.best_epoch.map_or(0, |e| e + 1);
    eprintln!(
        "best weights (epoch {best}, valid R2 {:.4}) in {}",
        state.best_valid_r2,
        out.join(BEST).display()
    );
    Ok(())
}

/// One optimiser step; returns the updated model and the batch loss.
fn step(
    model: Crmnet,
    optimizer: &mut ModuleOptimizer,
    loss_fn: &burn::nn::loss::HuberLoss,
    batch: &[Record],
    learning_rate: f64,
    sequence_length: usize,
    device: &Device,
) -> (Crmnet, f64) {
    let input = one_hot_batch(
        batch.iter().map(|r| r.channels.as_slice()),
        sequence_length,
        device,
    );
    let targets: Vec<f32> = batch
        .iter()
        .map(|r| r.value.expect("training rows carry values") as f32)
        .collect();
    let targets = Tensor::<1>::from_floats(targets.as_slice(), device);
    let loss = loss_fn.forward(model.forward(input), targets, Reduction::Mean);
    let value: f32 = loss.clone().into_scalar();
    let gradients = GradientsParams::from_grads(loss.backward(), &model);
    (
        optimizer.step(learning_rate, model, gradients),
        f64::from(value),
    )
}

fn validate(
    model: &Crmnet,
    card: &ModelCard,
    rows: &[Record],
    device: &Device,
    batch_size: usize,
) -> Result<Metrics> {
    let predictor = Predictor::new(model.valid(), card.clone(), device.clone());
    let mut predicted = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(batch_size) {
        predicted.extend(
            predictor
                .predict(chunk.iter().map(|r| r.channels.as_slice()))?
                .into_iter()
                .map(f64::from),
        );
    }
    let measured: Vec<f64> = rows
        .iter()
        .map(|r| r.value.expect("validation rows carry values"))
        .collect();
    Ok(Metrics::compute(&predicted, &measured))
}

/// Weights and optimiser state under epoch-numbered names first, then the state file that
/// points at them (an atomic rename), then the previous epoch's files go: a kill at any moment
/// leaves a consistent last checkpoint.
fn save_checkpoint(
    out: &Path,
    model: &Crmnet,
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
        &out.join(STATE),
        serde_json::to_string_pretty(state)?.as_bytes(),
    )?;
    write_file(
        &out.join("metrics.csv"),
        metrics_csv(&state.history).as_bytes(),
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

fn resume(out: &Path, device: &Device) -> Result<(Crmnet, ModelCard, RunState, ModuleOptimizer)> {
    let state_path = out.join(STATE);
    let text = std::fs::read_to_string(&state_path)
        .with_context(|| format!("{}: cannot resume: no run state", state_path.display()))?;
    let state: RunState = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a run state", state_path.display()))?;
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
    Ok((model.train(), card, state, optimizer))
}
