//! `crmnet design`: in-silico evolution of every input sequence toward a goal under
//! constraints; the trajectory (each step's best sequence, its prediction and its changes from
//! the start) as TSV or JSON.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crmnet::data::alphabet::{LETTERS, letters};
use crmnet::interpret::{self, Constraints, Goal, Strategy};

use crate::args::{GcRangeArgs, InputArgs, ModelArgs};
use crate::predict::{OutputFormat, tsv_field, write_output};

#[derive(Clone, Copy, ValueEnum)]
pub enum StrategyName {
    /// The best single substitution at each step, while it improves (deterministic).
    Greedy,
    /// A seeded population recombined and mutated each generation.
    Genetic,
}

#[derive(Args)]
pub struct DesignArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Output TSV (id, step, prediction, changes, sequence), written atomically; standard
    /// output when absent.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// `max`, `min`, or a predicted value to reach.
    #[arg(long, default_value = "max", value_parser = |text: &str| text.parse::<Goal>())]
    goal: Goal,
    /// At most this many substitutions from the start.
    #[arg(long, default_value_t = interpret::DEFAULT_MAX_SUBSTITUTIONS)]
    max_changes: usize,
    /// Sites that must not appear (A C G T), repeatable; a site already in the start may stay.
    #[arg(long)]
    forbid: Vec<String>,
    #[command(flatten)]
    gc: GcRangeArgs,
    /// Allow changes in the library's constant flanks (kept by default where a sequence
    /// carries them, for models made for that library).
    #[arg(long)]
    change_flanks: bool,
    #[arg(long, value_enum, default_value_t = StrategyName::Greedy)]
    strategy: StrategyName,
    /// Variants per generation (genetic).
    #[arg(long, default_value_t = interpret::DEFAULT_POPULATION)]
    population: usize,
    /// Generations (genetic).
    #[arg(long, default_value_t = interpret::DEFAULT_GENERATIONS)]
    generations: usize,
    /// Seed of the genetic algorithm's draws: the same seed gives the same designs.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// TSV (a row a step) or JSON (`[{ id, steps: [{ step, prediction, changes, sequence }] }]`).
    #[arg(long, value_enum, default_value_t = OutputFormat::Tsv)]
    format: OutputFormat,
    #[command(flatten)]
    model: ModelArgs,
}

pub fn run(args: DesignArgs) -> Result<()> {
    let forbidden = args
        .forbid
        .iter()
        .map(|text| interpret::site(text).map_err(|e| anyhow!("--forbid: {e}")))
        .collect::<Result<Vec<_>>>()?;
    let gc = args.gc.range()?;
    let strategy = match args.strategy {
        StrategyName::Greedy => Strategy::Greedy,
        StrategyName::Genetic => Strategy::Genetic {
            population: args.population,
            generations: args.generations,
        },
    };
    let predictor = args.model.load()?;
    let reader = args.input.open(&[])?;
    let source = reader.source_name().to_string();
    let progress = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {pos} sequences designed ({elapsed}) {msg}")
            .expect("valid template"),
    );
    let write = |out: &mut dyn Write| -> Result<usize> {
        match args.format {
            OutputFormat::Tsv => writeln!(out, "id\tstep\tprediction\tchanges\tsequence")?,
            OutputFormat::Json => write!(out, "[")?,
        }
        let mut written = 0;
        for record in reader {
            let record = record?;
            let keep = if args.change_flanks {
                Vec::new()
            } else {
                interpret::flank_positions(&predictor.card().input, &record.sequence)
            };
            let constraints = Constraints {
                max_substitutions: args.max_changes,
                keep,
                forbidden: forbidden.clone(),
                gc,
            };
            let trajectory = interpret::design(
                &predictor,
                &record.channels,
                args.goal,
                &constraints,
                strategy,
                args.seed,
                |round| {
                    progress.set_message(format!(
                        "{}: round {} of {}, best {:.3}",
                        record.id, round.done, round.rounds, round.best.prediction
                    ));
                    ControlFlow::Continue(())
                },
            )?;
            let mut steps = Vec::new();
            for (index, step) in trajectory.iter().enumerate() {
                let changes: Vec<String> = step
                    .changes
                    .iter()
                    .map(|&(p, from, to)| {
                        format!(
                            "{}{}{}",
                            LETTERS[usize::from(from)],
                            p + 1,
                            LETTERS[usize::from(to)]
                        )
                    })
                    .collect();
                let sequence = letters(&step.sequence);
                match args.format {
                    OutputFormat::Tsv => writeln!(
                        out,
                        "{}\t{index}\t{}\t{}\t{sequence}",
                        tsv_field(&record.id),
                        step.prediction,
                        changes.join(",")
                    )?,
                    OutputFormat::Json => steps.push(serde_json::json!({
                        "step": index, "prediction": step.prediction, "changes": changes,
                        "sequence": sequence,
                    })),
                }
            }
            if let OutputFormat::Json = args.format {
                let separator = if written == 0 { "\n" } else { ",\n" };
                let design = serde_json::json!({ "id": record.id, "steps": steps });
                write!(out, "{separator}{design}")?;
            }
            written += 1;
            progress.inc(1);
        }
        progress.finish_and_clear();
        if written == 0 {
            bail!("{source}: no sequences found");
        }
        if let OutputFormat::Json = args.format {
            writeln!(out, "\n]")?;
        }
        out.flush()?;
        Ok(written)
    };
    write_output(args.output.as_deref(), "designs", &source, write)
}
