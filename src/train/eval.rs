//! Evaluation on measured data: the model's metrics on a file, beside every peer whose
//! predictions the file carries (`pred_*` columns), on the same rows.

use std::io::Write;
use std::path::Path;

use anyhow::{Result, anyhow, bail};

use crate::data::batching::Batches;
use crate::data::readers::{self, Columns, InputFormat, SequenceReader};
use crate::inference::Predictor;
use crate::metrics::Metrics;
use crate::output::write_atomically;

const PEER_PREFIX: &str = "pred_";

/// Metrics of every model on the file, ours first.
pub struct Evaluation {
    pub rows: Vec<(String, Metrics)>,
}

/// What to read and write besides the predictor and the file.
#[derive(Debug, Clone, Default)]
pub struct EvalOptions<'a> {
    /// Column of measured expression ([`readers::VALUE_COLUMNS`] when `None`).
    pub value_column: Option<&'a str>,
    /// Also write `id, sequence, measured, prediction` here.
    pub output: Option<&'a Path>,
    pub batch_size: usize,
}

/// The predictor's metrics on the measured sequences of `data`, and the file's peers'.
pub fn evaluate(predictor: &Predictor, data: &str, options: &EvalOptions) -> Result<Evaluation> {
    let header = SequenceReader::open(data, InputFormat::Auto, &Columns::default())?.header();
    let value_column = readers::value_column(&header, options.value_column)
        .map_err(|e| anyhow!("{data}:1: {e}"))?;
    let peers: Vec<String> = header
        .iter()
        .filter(|h| h.starts_with(PEER_PREFIX))
        .cloned()
        .collect();
    let columns = Columns {
        sequence: None,
        value: value_column,
        extra: peers.clone(),
        features: predictor.card().architecture.features().to_vec(),
    };
    let reader = SequenceReader::open(data, InputFormat::Auto, &columns)?;
    let source = reader.source_name().to_string();

    let mut measured = Vec::new();
    let mut ours = Vec::new();
    let mut theirs: Vec<Vec<f64>> = vec![Vec::new(); peers.len()];
    let mut table = Vec::new();
    for batch in Batches::new(reader, options.batch_size.max(1)) {
        let batch = batch?;
        let predictions = predictor.predict_records(&batch)?;
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
            if options.output.is_some() {
                table.push((record.id.clone(), record.sequence.clone()));
            }
        }
    }
    if measured.is_empty() {
        bail!("{source}: no sequences found");
    }
    if let Some(path) = options.output {
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
