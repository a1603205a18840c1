//! `crmnet simulate`: synthetic promoters with planted motifs in the released training format.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crmnet::train::simulate::write_dataset;

#[derive(Args)]
pub struct SimulateArgs {
    /// Number of sequences.
    #[arg(long)]
    n: u64,
    /// Output file (`sequence<TAB>value` lines), written atomically.
    #[arg(long, short)]
    output: PathBuf,
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

pub fn run(args: SimulateArgs) -> Result<()> {
    write_dataset(args.n, args.seed, &args.output)
}
