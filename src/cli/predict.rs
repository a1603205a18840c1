//! `crmnet predict`: expression for every sequence of a file, streamed in batches, in input
//! order, to a TSV or JSON file written atomically or to standard output.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crmnet::data::batching::{Batches, Shard};
use crmnet::data::readers::{InputError, Record};
use crmnet::inference::Predictor;
use crmnet::output::{FillError, write_atomically};

use crate::args::{InputArgs, ModelArgs};

#[derive(Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    Tsv,
    Json,
}

#[derive(Args)]
pub struct PredictArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Output file, written atomically; standard output when absent.
    #[arg(long, short)]
    output: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Tsv)]
    format: OutputFormat,
    /// Sequences per forward pass.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=65536))]
    batch_size: u64,
    /// Predict only part K of N equal, contiguous parts of the input's records (`3/8`): the
    /// parts' TSV outputs, concatenated without their repeated header lines, are the whole
    /// file's. Reads the input twice (once to count), so it must be a file.
    #[arg(long, value_parser = |text: &str| text.parse::<Shard>())]
    shard: Option<Shard>,
    #[command(flatten)]
    model: ModelArgs,
}

pub fn run(args: PredictArgs) -> Result<()> {
    if args.shard.is_some() {
        if args.input.input == "-" {
            bail!("--shard reads the input twice (once to count it): give a file, not -");
        }
        if let OutputFormat::Json = args.format {
            bail!("--shard writes TSV, whose parts concatenate; --format json does not");
        }
    }
    let predictor = args.model.load()?;
    let features = predictor.card().architecture.features();
    let reader = args.input.open(features)?;
    let source = reader.source_name().to_string();
    let records: Box<dyn Iterator<Item = _>> = match args.shard {
        None => Box::new(reader),
        Some(shard) => {
            let mut total = 0;
            for record in args.input.open(features)? {
                record?;
                total += 1;
            }
            let range = shard.range(total);
            Box::new(reader.skip(range.start).take(range.len()))
        }
    };
    write_output(args.output.as_deref(), "predictions", &source, |out| {
        write_predictions(records, &source, &predictor, &args, out)
    })
}

/// A command's rows, filled by `write` (which returns how many inputs it wrote for), to
/// `output` atomically (a failure leaves no file) or to standard output; says where they went
/// when standard error is a terminal.
pub fn write_output(
    output: Option<&Path>,
    what: &str,
    source: &str,
    write: impl FnOnce(&mut dyn Write) -> Result<usize>,
) -> Result<()> {
    let written = match output {
        Some(path) => write_atomically(path, |out| write(out).map_err(FillError::Fill))?,
        None => write(&mut BufWriter::new(io::stdout().lock()))?,
    };
    if io::stderr().is_terminal() {
        let target = output.map_or("standard output".to_string(), |p| p.display().to_string());
        eprintln!("crmnet: {written} {what} for {source} written to {target}");
    }
    Ok(())
}

/// Streams batches from `reader` through the model into `out`; returns the number of rows.
fn write_predictions(
    records: impl Iterator<Item = Result<Record, InputError>>,
    source: &str,
    predictor: &Predictor,
    args: &PredictArgs,
    out: &mut dyn Write,
) -> Result<usize> {
    let progress = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {pos} sequences predicted ({per_sec}, {elapsed})")
            .expect("valid template"),
    );
    let mut written = 0;
    match args.format {
        OutputFormat::Tsv => writeln!(out, "id\tsequence\tprediction")?,
        OutputFormat::Json => write!(out, "[")?,
    }
    let features = predictor.card().architecture.features();
    for batch in Batches::new(records, args.batch_size as usize) {
        let batch: Vec<Record> = batch?;
        if written == 0 && !features.is_empty() && batch[0].features.is_empty() {
            eprintln!(
                "crmnet: {source} has no columns {}: predicting from sequence alone (every \
                 feature 0, its training mean)",
                features.join(", ")
            );
        }
        let predictions = predictor.predict_records(&batch)?;
        for (record, prediction) in batch.iter().zip(predictions) {
            match args.format {
                OutputFormat::Tsv => writeln!(
                    out,
                    "{}\t{}\t{prediction}",
                    tsv_field(&record.id),
                    record.sequence
                )?,
                OutputFormat::Json => {
                    let separator = if written == 0 { "\n" } else { ",\n" };
                    let row = serde_json::json!({
                        "id": record.id, "sequence": record.sequence, "prediction": prediction
                    });
                    write!(out, "{separator}{row}")?;
                }
            }
            written += 1;
        }
        progress.inc(batch.len() as u64);
    }
    progress.finish_and_clear();
    // A part of a file with fewer records than parts may be empty; a whole file may not.
    if written == 0 && args.shard.is_none() {
        bail!("{source}: no sequences found");
    }
    if let OutputFormat::Json = args.format {
        writeln!(out, "\n]")?;
    }
    out.flush()?;
    Ok(written)
}

/// Ids come from FASTA headers and table cells: keep the TSV's columns intact.
pub fn tsv_field(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}
