//! `crmnet motifs`: the hits of known motifs (JASPAR 2024 CORE fungi, or a JASPAR-format file)
//! in every sequence and, with `--attribution`, how much of the model's attribution falls on
//! each motif's hits against the same windows in sequences without them.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crmnet::interpret::motifs::{
    self, Attribution, DEFAULT_MIN_RELATIVE_SCORE, Hit, Motif, MotifAttribution,
};
use crmnet::output::write_atomically;

use crate::args::{InputArgs, ModelArgs, choice};
use crate::predict::{tsv_field, write_output};

/// Motifs with fewer hits are left out of the report on standard error (not of `--summary`).
const REPORTED_MIN_HITS: usize = 10;
const REPORTED_MOTIFS: usize = 15;

#[derive(Args)]
pub struct MotifsArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Hits TSV (id, motif, tf, start, end, strand, score, relative_score[, attribution]),
    /// written atomically; standard output when absent.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Position frequency matrices in JASPAR's format; the embedded JASPAR 2024 CORE fungi
    /// collection when absent.
    #[arg(long)]
    motifs: Option<PathBuf>,
    /// A hit scores at least this share of the way from its matrix's lowest possible score to
    /// its highest (0-1).
    #[arg(long, default_value_t = DEFAULT_MIN_RELATIVE_SCORE, value_parser = unit_share)]
    min_score: f32,
    /// Measure the model's attribution on every position (`--attribution` alone:
    /// mutagenesis): hits gain an `attribution` column (mean over the hit) and each motif's hits
    /// are compared with matched background windows (--summary; the strongest are printed on
    /// standard error).
    #[arg(
        long,
        num_args = 0..=1,
        default_missing_value = Attribution::default().name(),
        value_parser = choice::<Attribution>(Attribution::ALL.map(Attribution::name))
    )]
    attribution: Option<Attribution>,
    /// Per-motif attribution table (TSV, written atomically), sorted by AUROC.
    #[arg(long, requires = "attribution")]
    summary: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
}

fn unit_share(text: &str) -> Result<f32, String> {
    match text.parse::<f32>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!("{text:?} is not a number between 0 and 1")),
    }
}

pub fn run(args: MotifsArgs) -> Result<()> {
    let (motifs, collection) = match &args.motifs {
        None => (
            motifs::jaspar_fungi(),
            motifs::JASPAR_FUNGI_NAME.to_string(),
        ),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let name = path.display().to_string();
            (motifs::parse_jaspar(&text, &name)?, name)
        }
    };
    // The model and how it attributes, with --attribution only.
    let attributing = args
        .attribution
        .map(|method| args.model.load().map(|predictor| (predictor, method)))
        .transpose()?;
    let reader = args.input.open(&[])?;
    let source = reader.source_name().to_string();
    let progress = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {pos} sequences scanned ({per_sec}, {elapsed})")
            .expect("valid template"),
    );
    // Kept for the summary: every sequence's hits and attribution.
    let mut all_hits: Vec<Vec<Hit>> = Vec::new();
    let mut attributions: Vec<Vec<f32>> = Vec::new();
    write_output(
        args.output.as_deref(),
        "motif scans",
        &source,
        |out: &mut dyn Write| {
            write!(
                out,
                "id\tmotif\ttf\tstart\tend\tstrand\tscore\trelative_score"
            )?;
            writeln!(
                out,
                "{}",
                if attributing.is_some() {
                    "\tattribution"
                } else {
                    ""
                }
            )?;
            for record in reader {
                let record = record?;
                let hits = motifs::scan(&motifs, &record.channels, args.min_score);
                let attribution = attributing
                    .as_ref()
                    .map(|(predictor, method)| method.of(predictor, &record.channels))
                    .transpose()?;
                let id = tsv_field(&record.id);
                for hit in &hits {
                    let motif = &motifs[hit.motif];
                    write!(
                        out,
                        "{id}\t{}\t{}\t{}\t{}\t{}\t{:.3}\t{:.3}",
                        motif.id,
                        motif.name,
                        hit.start + 1,
                        hit.end,
                        hit.strand,
                        hit.score,
                        hit.relative_score
                    )?;
                    match &attribution {
                        Some(values) => writeln!(out, "\t{}", hit.mean_of(values))?,
                        None => writeln!(out)?,
                    }
                }
                if let Some(values) = attribution {
                    all_hits.push(hits);
                    attributions.push(values);
                }
                progress.inc(1);
            }
            progress.finish_and_clear();
            if progress.position() == 0 {
                bail!("{source}: no sequences found");
            }
            out.flush()?;
            Ok(progress.position() as usize)
        },
    )?;
    if attributing.is_none() {
        return Ok(());
    }
    let mut results = motifs::attribution_by_motif(&motifs, &all_hits, &attributions);
    motifs::sort_by_auroc(&mut results);
    if let Some(path) = &args.summary {
        write_atomically::<_, anyhow::Error>(path, |out| {
            write_summary(out, &motifs, &results)?;
            Ok(())
        })?;
    }
    report(&motifs, &results, &collection, attributions.len());
    Ok(())
}

fn write_summary(
    out: &mut dyn Write,
    motifs: &[Motif],
    results: &[MotifAttribution],
) -> std::io::Result<()> {
    writeln!(
        out,
        "motif\ttf\tconsensus\thits\tsequences\tattribution_on_hits\tmatched_background\tratio\t\
         auroc\tp_value\tq_value"
    )?;
    for result in results {
        let motif = &motifs[result.motif];
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{:.5}\t{:.5}\t{:.3}\t{:.4}\t{:.3e}\t{:.3e}",
            motif.id,
            motif.name,
            motif.consensus(),
            result.hits,
            result.sequences,
            result.on_hits,
            result.background,
            result.on_hits / result.background,
            result.auroc,
            result.p_value,
            result.q_value
        )?;
    }
    Ok(())
}

/// The motifs whose hits carry the most attribution, on standard error.
fn report(motifs: &[Motif], results: &[MotifAttribution], collection: &str, sequences: usize) {
    eprintln!(
        "crmnet: attribution on {collection} hits in {sequences} sequences, against the same \
         windows in sequences without them (motifs with >= {REPORTED_MIN_HITS} hits, by AUROC):"
    );
    eprintln!(
        "  {:<10} {:<10} {:>6} {:>7} {:>7} {:>9}",
        "motif", "tf", "hits", "ratio", "auroc", "q"
    );
    for result in results
        .iter()
        .filter(|r| r.hits >= REPORTED_MIN_HITS)
        .take(REPORTED_MOTIFS)
    {
        let motif = &motifs[result.motif];
        eprintln!(
            "  {:<10} {:<10} {:>6} {:>7.2} {:>7.3} {:>9.2e}",
            motif.id,
            motif.name,
            result.hits,
            result.on_hits / result.background,
            result.auroc,
            result.q_value
        );
    }
}
