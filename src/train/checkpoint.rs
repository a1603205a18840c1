//! A run folder on disk: the state `--resume` reads (`state.json`), a checkpoint per epoch
//! (weights and optimiser state), the best weights and `metrics.csv`. Every file is written
//! atomically and the state file last, so a kill at any moment leaves a consistent run.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use burn::module::Module;
use burn::optim::{AdamConfig, ModuleOptimizer};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::metrics::Metrics;
use crate::model::Network;
use crate::output::write_atomically;
use crate::weights::{self, ModelCard};

use super::distill::Distillation;
use super::recipe::Recipe;

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
/// The best epoch's weights in a run folder.
pub const BEST: &str = "best.bpk";

fn checkpoint_path(out: &Path, epoch: usize) -> PathBuf {
    out.join(format!("checkpoint-{epoch:04}.bpk"))
}

fn optimizer_path(out: &Path, epoch: usize) -> PathBuf {
    out.join(format!("optimizer-{epoch:04}.bpk"))
}

/// Weights and optimiser state first, then the state file that points at them (an atomic
/// rename, the checkpoint's commit), then the metrics table, then the previous epoch's files
/// go: a kill at any moment leaves a consistent last checkpoint whose files all exist.
pub fn save(
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
        .map_err(|e| anyhow!("optimizer state: {e}"))?;
    write_file(&optimizer_path(out, epoch), &optimizer_bytes)?;
    // The state is the commit point (resume reads it); the metrics are a view of its history,
    // rewritten from it on resume if a crash lands between the two.
    write_file(
        &out.join(STATE),
        serde_json::to_string_pretty(state)?.as_bytes(),
    )?;
    write_file(
        &out.join("metrics.csv"),
        metrics_csv(&state.history).as_bytes(),
    )?;
    if epoch > 1 {
        if !state.recipe.keep_checkpoints {
            let _ = std::fs::remove_file(checkpoint_path(out, epoch - 1));
        }
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

/// The state of the run in `out`.
pub fn read_state(out: &Path) -> Result<RunState> {
    let state_path = out.join(STATE);
    let text = std::fs::read_to_string(&state_path)
        .with_context(|| format!("{}: cannot resume: no run state", state_path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not a run state", state_path.display()))
}

/// The last checkpoint's model (in training mode), card and optimiser state.
pub fn load_last(
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
        .map_err(|e| anyhow!("{}: {e}", optimizer_file.display()))?;
    Ok((model.train(), card, optimizer))
}
