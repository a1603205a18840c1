//! `crmnet train`, `finetune` and `distill`: the flags of a training run, turned into the
//! library's [`TrainOptions`], with a progress line per epoch and Ctrl-C stopping cleanly.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crmnet::backend::Backend;
use crmnet::train::distill::DistillOverrides;
use crmnet::train::recipe::{Precision, RecipeOverrides};
use crmnet::train::{self, Observer, TrainOptions};

use crate::args::{backends, choice};

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
    /// Value column of headered tables (default: measured, expression or value).
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
    #[arg(long, value_parser = choice::<Precision>(Precision::ALL.map(Precision::name)))]
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
    /// Keep every epoch's weights in --out, not only the last (for averaging them with
    /// `crmnet export --from`).
    #[arg(long)]
    keep_checkpoints: bool,
    /// Dropout rate of every dropout layer while training, in place of the architecture's
    /// (0 for distillation: fresh rows leave nothing to overfit).
    #[arg(long)]
    dropout: Option<f64>,
    #[arg(long, value_parser = backends(), default_value_t = Backend::default())]
    backend: Backend,
}

impl TrainArgs {
    fn options(self) -> TrainOptions {
        TrainOptions {
            data: self.data,
            sampling_weights: self.sampling_weight,
            value_column: self.value_column,
            out: self.out,
            config: self.config,
            resume: self.resume,
            recipe: RecipeOverrides {
                arch: self.arch,
                max_epochs: self.epochs,
                batch_size: self.batch_size,
                warmup_epochs: self.warmup_epochs,
                lr_peak: self.lr_peak,
                patience: self.patience,
                shuffle_buffer: self.shuffle_buffer,
                seed: self.seed,
                devices: self.devices,
                precision: self.precision,
                micro_batch_size: self.micro_batch_size,
                // A flag can only switch keeping on: off is the recipe's (or resumed run's) say.
                keep_checkpoints: self.keep_checkpoints.then_some(true),
                dropout: self.dropout,
            },
            cpu_workers: self.cpu_workers,
            backend: self.backend,
        }
    }
}

#[derive(Args)]
pub struct FinetuneArgs {
    /// Pre-trained weights; every weight stays trainable.
    #[arg(long)]
    from: PathBuf,
    #[command(flatten)]
    train: TrainArgs,
}

#[derive(Args)]
pub struct DistillArgs {
    /// The teacher's weights file (for example DeepAtt imported with `crmnet import`).
    #[arg(long, required_unless_present = "resume")]
    teacher: Option<PathBuf>,
    /// Generated rows per epoch.
    #[arg(long)]
    rows_per_epoch: Option<usize>,
    /// Share of generated rows that are random 80-mers in the flanks; the rest are mutants of
    /// the real training sequences of --data.
    #[arg(long)]
    random_fraction: Option<f64>,
    /// Least share of a mutant's variable region substituted.
    #[arg(long)]
    mutation_min: Option<f64>,
    /// Largest share of a mutant's variable region substituted.
    #[arg(long)]
    mutation_max: Option<f64>,
    /// Least G+C share of a random 80-mer; each random row draws its own share between
    /// --gc-min and --gc-max, so that AT-rich promoters, as native yeast ones are, are seen too.
    #[arg(long)]
    gc_min: Option<f64>,
    /// Largest G+C share of a random 80-mer.
    #[arg(long)]
    gc_max: Option<f64>,
    /// Share of each epoch's rows that are measured training rows of --data (their values
    /// mapped onto the teacher's scale) rather than generated ones.
    #[arg(long)]
    real_fraction: Option<f64>,
    /// Start the student from these weights (its architecture and output scale), not from
    /// --arch's random initialisation.
    #[arg(long, conflicts_with = "resume")]
    from: Option<PathBuf>,
    /// --data: real rows, whose training rows seed the mutants and whose validation rows choose
    /// the best student.
    #[command(flatten)]
    train: TrainArgs,
}

pub fn train(args: TrainArgs) -> Result<()> {
    train::train(args.options(), &mut Console::new())
}

pub fn finetune(args: FinetuneArgs) -> Result<()> {
    train::finetune(args.train.options(), &args.from, &mut Console::new())
}

pub fn distill(args: DistillArgs) -> Result<()> {
    let overrides = DistillOverrides {
        teacher: args.teacher,
        rows_per_epoch: args.rows_per_epoch,
        random_fraction: args.random_fraction,
        mutation_min: args.mutation_min,
        mutation_max: args.mutation_max,
        gc_min: args.gc_min,
        gc_max: args.gc_max,
        real_fraction: args.real_fraction,
    };
    train::distill(
        args.train.options(),
        args.from.as_deref(),
        &overrides,
        &mut Console::new(),
    )
}

static STOP: AtomicBool = AtomicBool::new(false);

/// A run's progress on the terminal: a spinner line per epoch, notes on stderr; Ctrl-C asks the
/// run to stop with its last checkpoint standing, a second Ctrl-C kills.
struct Console {
    epoch: Option<ProgressBar>,
}

impl Console {
    fn new() -> Self {
        let _ = ctrlc::set_handler(|| {
            if STOP.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
        Self { epoch: None }
    }
}

impl Observer for Console {
    fn progress(&mut self, epoch: usize, rows: usize, mean_loss: f64) {
        let bar = self.epoch.get_or_insert_with(|| {
            let bar = ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("epoch {prefix}: {pos} rows ({per_sec}) loss {msg}")
                    .expect("valid template"),
            );
            bar.set_prefix(epoch.to_string());
            bar
        });
        bar.set_message(format!("{mean_loss:.4}"));
        bar.set_position(rows as u64);
    }

    fn epoch_ended(&mut self) {
        if let Some(bar) = self.epoch.take() {
            bar.finish_and_clear();
        }
    }

    fn note(&mut self, message: &str) {
        eprintln!("{message}");
    }

    fn stop_requested(&self) -> bool {
        STOP.load(Ordering::SeqCst)
    }
}
