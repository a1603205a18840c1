//! `crmnet eval`: the model's metrics on a measured file, beside every peer whose predictions
//! the file carries (`pred_*` columns), on the same rows.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;

use crmnet::data::batching::Batches;
use crmnet::data::readers::{Columns, InputFormat, SequenceReader};
use crmnet::metrics::Metrics;
use crmnet::output::write_atomically;

use crate::{ModelArgs, load_predictor};

/// Measurement columns looked for when `--value-column` is not given.
const VALUE_COLUMNS: [&str; 3] = ["measured", "expression", "value"];
const PEER_PREFIX: &str = "pred_";

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
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    #[command(flatten)]
    model: ModelArgs,
}

/// Metrics of every model on the file, ours first.
pub struct Evaluation {
    pub rows: Vec<(String, Metrics)>,
}

pub fn run(args: EvalArgs) -> Result<()> {
    let evaluation = evaluate(&args)?;
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

pub fn evaluate(args: &EvalArgs) -> Result<Evaluation> {
    let mut probe = SequenceReader::open(&args.data, InputFormat::Auto, &Columns::default())?;
    let header = probe.header();
    let value_column = match (&args.value_column, header.is_empty()) {
        (Some(chosen), _) => Some(chosen.clone()),
        (None, true) => None, // released format: the value is the second field
        (None, false) => Some(
            VALUE_COLUMNS
                .iter()
                .find(|name| header.iter().any(|h| h.eq_ignore_ascii_case(name)))
                .map(|name| name.to_string())
                .with_context(|| format!("{}:1: no measurement column (looked for {}; choose one with --value-column)", args.data, VALUE_COLUMNS.join(", ")))?,
        ),
    };
    let peers: Vec<String> = header
        .iter()
        .filter(|h| h.starts_with(PEER_PREFIX))
        .cloned()
        .collect();
    let columns = Columns {
        sequence: None,
        value: value_column,
        extra: peers.clone(),
    };
    let reader = SequenceReader::open(&args.data, InputFormat::Auto, &columns)?;
    let source = reader.source_name().to_string();
    let predictor = load_predictor(&args.model)?;

    let mut measured = Vec::new();
    let mut ours = Vec::new();
    let mut theirs: Vec<Vec<f64>> = vec![Vec::new(); peers.len()];
    let mut table = Vec::new();
    for batch in Batches::new(reader, args.batch_size) {
        let batch = batch?;
        let predictions = predictor.predict(batch.iter().map(|r| r.channels.as_slice()))?;
        for (record, prediction) in batch.iter().zip(predictions) {
            let Some(value) = record.value else {
                bail!("{source}:{}: no measured value", record.line);
            };
            for (column, (cell, name)) in theirs.iter_mut().zip(record.extra.iter().zip(&peers)) {
                let peer: f64 = cell.parse().map_err(|_| {
                    anyhow::anyhow!(
                        "{source}:{}: {name} value {cell:?} is not a number",
                        record.line
                    )
                })?;
                column.push(peer);
            }
            measured.push(value);
            ours.push(f64::from(prediction));
            if args.output.is_some() {
                table.push((record.id.clone(), record.sequence.clone()));
            }
        }
    }
    if measured.is_empty() {
        bail!("{source}: no sequences found");
    }
    if let Some(path) = &args.output {
        write_atomically::<_, anyhow::Error>(path, |out| {
            writeln!(out, "id\tsequence\tmeasured\tprediction")?;
            for ((id, sequence), (m, p)) in table.iter().zip(measured.iter().zip(&ours)) {
                writeln!(out, "{id}\t{sequence}\t{m}\t{p}")?;
            }
            Ok(())
        })?;
    }
    let mut rows = vec![(
        format!("crmnet ({})", predictor.card().name),
        Metrics::compute(&ours, &measured),
    )];
    for (name, column) in peers.iter().zip(&theirs) {
        rows.push((
            name[PEER_PREFIX.len()..].to_string(),
            Metrics::compute(column, &measured),
        ));
    }
    Ok(Evaluation { rows })
}
