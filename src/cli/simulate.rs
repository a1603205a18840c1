//! `crmnet simulate`: synthetic data with planted ground truth: yeast promoters in the released
//! training format, or genes with half-life features for Xpresso.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};

use crmnet::output::write_atomically;
use crmnet::train::simulate::{planted_motifs_jaspar, write_dataset, write_gene_dataset};

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    /// 110-nt yeast promoters (`sequence<TAB>value` lines).
    Promoter,
    /// 10.5 kb around a TSS with eight half-life features, a table for `--arch xpresso`.
    Gene,
}

#[derive(Args)]
pub struct SimulateArgs {
    /// What to simulate.
    #[arg(long, value_enum, default_value_t = Kind::Promoter)]
    kind: Kind,
    /// Number of sequences.
    #[arg(long)]
    n: u64,
    /// Output file, written atomically.
    #[arg(long, short)]
    output: PathBuf,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also write the planted promoter motifs as JASPAR-format matrices to this file (for
    /// `crmnet motifs --motifs`).
    #[arg(long)]
    motifs: Option<PathBuf>,
}

pub fn run(args: SimulateArgs) -> Result<()> {
    if let Some(path) = &args.motifs {
        write_atomically::<_, anyhow::Error>(path, |out| {
            out.write_all(planted_motifs_jaspar().as_bytes())?;
            Ok(())
        })?;
    }
    match args.kind {
        Kind::Promoter => write_dataset(args.n, args.seed, &args.output),
        Kind::Gene => write_gene_dataset(args.n, args.seed, &args.output),
    }
}
