//! `crmnet export`: shipping weights from a training run.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};

use crmnet::train::export::{ExportFormat, ExportOptions, export};

#[derive(Args)]
pub struct ExportArgs {
    /// Weights to export, e.g. a run's `best.bpk`. Several (`--from a.bpk b.bpk ...`) write
    /// their parameter-wise mean: checkpoint averaging, for epochs of one run and its
    /// continuations (weights of unrelated runs do not average into a working model).
    #[arg(long, required = true, num_args = 1..)]
    from: Vec<PathBuf>,
    #[arg(long, short)]
    output: PathBuf,
    /// Store parameters as float16.
    #[arg(long)]
    half: bool,
    /// The name the model card gives the model (`info`, `eval` and the site show it); the
    /// run's by default.
    #[arg(long)]
    name: Option<String>,
    /// `bpk`: burnpack with model card, what crmnet and the npm package load; `safetensors`:
    /// the same tensors and card for numpy, PyTorch or Keras.
    #[arg(long, value_enum, default_value_t = Format::Bpk)]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Bpk,
    Safetensors,
}

pub fn run(args: ExportArgs) -> Result<()> {
    let options = ExportOptions {
        half: args.half,
        name: args.name,
        format: match args.format {
            Format::Bpk => ExportFormat::Bpk,
            Format::Safetensors => ExportFormat::Safetensors,
        },
    };
    export(&args.from, &args.output, &options)?;
    eprintln!(
        "{}: {} bytes",
        args.output.display(),
        std::fs::metadata(&args.output)?.len()
    );
    Ok(())
}
