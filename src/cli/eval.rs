//! `crmnet eval`: the model's metrics on a measured file, beside every peer whose predictions
//! the file carries, printed as a table.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crmnet::train::eval::{EvalOptions, evaluate};

use crate::args::ModelArgs;

#[derive(Args)]
pub struct EvalArgs {
    /// Measured sequences: a headered table or the released format.
    #[arg(long)]
    data: String,
    /// Column of measured expression (default: measured, expression or value).
    #[arg(long)]
    value_column: Option<String>,
    /// Also write `id, sequence, measured, prediction` here.
    #[arg(long)]
    output: Option<PathBuf>,
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=65536))]
    batch_size: u64,
    #[command(flatten)]
    model: ModelArgs,
}

pub fn run(args: EvalArgs) -> Result<()> {
    let predictor = args.model.load()?;
    let options = EvalOptions {
        value_column: args.value_column.as_deref(),
        output: args.output.as_deref(),
        batch_size: args.batch_size as usize,
    };
    let evaluation = evaluate(&predictor, &args.data, &options)?;
    // Written, not printed: a closed pipe (`| head`) is an error to report, not a panic.
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<28} {:>6} {:>8} {:>8} {:>8} {:>10} {:>8}",
        "model", "n", "r", "rho", "R2", "MSE", "MAE"
    )?;
    for (name, m) in &evaluation.rows {
        writeln!(
            out,
            "{name:<28} {:>6} {:>8.4} {:>8.4} {:>8.4} {:>10.4} {:>8.4}",
            m.n, m.pearson, m.spearman, m.r2, m.mse, m.mae
        )?;
    }
    Ok(())
}
