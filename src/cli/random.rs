//! `crmnet random`: random promoters of the library (random variable regions in the constant
//! flanks) as FASTA, reproducibly from a seed: the starts of a design from scratch
//! (`crmnet random --n 10 | crmnet design -i -`). Bases are uniform unless a G+C range is given.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, anyhow};
use clap::Args;

use crmnet::data::alphabet::letters;
use crmnet::data::construct::random_promoters;

use crate::args::GcRangeArgs;
use crate::predict::write_output;

#[derive(Args)]
pub struct RandomArgs {
    /// Number of promoters.
    #[arg(long)]
    n: usize,
    /// The same seed gives the same promoters (here and in the npm package's `randomPromoters`).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    gc: GcRangeArgs,
    /// Output FASTA (`>random-1` ...), written atomically; standard output when absent.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub fn run(args: RandomArgs) -> Result<()> {
    let promoters =
        random_promoters(args.n, args.seed, args.gc.range()?).map_err(|e| anyhow!("{e}"))?;
    let source = format!("seed {}", args.seed);
    write_output(
        args.output.as_deref(),
        "random promoters",
        &source,
        |out: &mut dyn Write| {
            for (index, promoter) in promoters.iter().enumerate() {
                writeln!(out, ">random-{}\n{}", index + 1, letters(promoter))?;
            }
            out.flush()?;
            Ok(promoters.len())
        },
    )
}
