//! `crmnet saliency` and `crmnet mutagenesis`: one row per position of every sequence, with the
//! input x gradient scores or the predicted change of each single-base substitution.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use crmnet::interpret;

use crate::args::{InputArgs, ModelArgs};
use crate::predict::{tsv_field, write_output};

#[derive(Args)]
pub struct InterpretArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Output TSV, written atomically; standard output when absent.
    #[arg(long, short)]
    output: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Clone, Copy)]
pub enum Interpretation {
    Saliency,
    Mutagenesis,
}

pub fn run(args: InterpretArgs, method: Interpretation) -> Result<()> {
    let predictor = args.model.load()?;
    let features = predictor.card().architecture.features();
    if !features.is_empty() {
        eprintln!(
            "crmnet: explaining from sequence alone: the features {} are 0 (their training mean)",
            features.join(", ")
        );
    }
    let reader = args.input.open(&[])?;
    let source = reader.source_name().to_string();
    let write = |out: &mut dyn Write| -> Result<usize> {
        writeln!(out, "id\tposition\tbase\tprediction\tA\tC\tG\tT")?;
        let mut written = 0;
        for record in reader {
            let record = record?;
            let (prediction, rows) = match method {
                Interpretation::Saliency => {
                    let result = interpret::saliency(&predictor, &record.channels)?;
                    (result.prediction, result.scores)
                }
                Interpretation::Mutagenesis => {
                    let result =
                        interpret::mutagenesis(&predictor, &record.channels, 0..usize::MAX, 256)?;
                    (result.reference, result.effects)
                }
            };
            let id = tsv_field(&record.id);
            for (position, (row, letter)) in rows.iter().zip(record.sequence.chars()).enumerate() {
                let [a, c, g, t] = row;
                writeln!(
                    out,
                    "{id}\t{}\t{letter}\t{prediction}\t{a}\t{c}\t{g}\t{t}",
                    position + 1
                )?;
            }
            written += 1;
        }
        if written == 0 {
            bail!("{source}: no sequences found");
        }
        out.flush()?;
        Ok(written)
    };
    write_output(args.output.as_deref(), "maps", &source, write)
}
