//! `crmnet design`: in-silico evolution of every input sequence toward a goal under
//! constraints; the trajectory (each step's best sequence, its prediction and its changes from
//! the start) as TSV.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};

use crmnet::data::alphabet::{self, LETTERS};
use crmnet::interpret::{self, Constraints, Goal, Strategy};
use crmnet::output::{FillError, write_atomically};

use crate::args::{InputArgs, ModelArgs};
use crate::predict::{report_done, tsv_field};

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
    #[arg(long, default_value = "max", value_parser = parse_goal)]
    goal: Goal,
    /// At most this many substitutions from the start.
    #[arg(long, default_value_t = 5)]
    max_changes: usize,
    /// Sites that must not appear (A C G T), repeatable; a site already in the start may stay.
    #[arg(long)]
    forbid: Vec<String>,
    /// Lowest G+C share of a designed sequence (0-1).
    #[arg(long, requires = "gc_max")]
    gc_min: Option<f64>,
    /// Highest G+C share of a designed sequence (0-1).
    #[arg(long, requires = "gc_min")]
    gc_max: Option<f64>,
    /// Allow changes in the library's constant flanks (kept by default where a sequence
    /// carries them, for models made for that library).
    #[arg(long)]
    change_flanks: bool,
    #[arg(long, value_enum, default_value_t = StrategyName::Greedy)]
    strategy: StrategyName,
    /// Variants per generation (genetic).
    #[arg(long, default_value_t = 64)]
    population: usize,
    /// Generations (genetic).
    #[arg(long, default_value_t = 20)]
    generations: usize,
    /// Seed of the genetic algorithm's draws: the same seed gives the same designs.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    model: ModelArgs,
}

fn parse_goal(text: &str) -> Result<Goal, String> {
    match text {
        "max" => Ok(Goal::Maximise),
        "min" => Ok(Goal::Minimise),
        value => value
            .parse::<f32>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Goal::Reach)
            .ok_or_else(|| format!("goal {value:?}: expected max, min or a number")),
    }
}

pub fn run(args: DesignArgs) -> Result<()> {
    let forbidden = args
        .forbid
        .iter()
        .map(|site| match alphabet::channels(site) {
            Ok(codes) if codes.iter().all(|&c| usize::from(c) < interpret::BASES) => Ok(codes),
            _ => bail!("--forbid {site:?}: a site is written with A, C, G and T"),
        })
        .collect::<Result<Vec<_>>>()?;
    if let (Some(low), Some(high)) = (args.gc_min, args.gc_max) {
        let share = 0.0..=1.0;
        if low > high || !share.contains(&low) || !share.contains(&high) {
            bail!("--gc-min {low} and --gc-max {high}: a range within 0-1");
        }
    }
    let strategy = match args.strategy {
        StrategyName::Greedy => Strategy::Greedy,
        StrategyName::Genetic => Strategy::Genetic {
            population: args.population,
            generations: args.generations,
        },
    };
    let predictor = args.model.load()?;
    let flanks = predictor
        .card()
        .input
        .flanks
        .clone()
        .filter(|_| !args.change_flanks);
    let reader = args.input.open(&[])?;
    let source = reader.source_name().to_string();
    let write = |out: &mut dyn Write| -> Result<usize> {
        writeln!(out, "id\tstep\tprediction\tchanges\tsequence")?;
        let mut written = 0;
        for record in reader {
            let record = record?;
            let upper = record.sequence.to_ascii_uppercase();
            let mut keep = Vec::new();
            if let Some([flank5, flank3]) = &flanks {
                if upper.starts_with(flank5.as_str()) {
                    keep.push(0..flank5.len());
                }
                if upper.ends_with(flank3.as_str()) {
                    keep.push(upper.len() - flank3.len()..upper.len());
                }
            }
            let constraints = Constraints {
                max_substitutions: args.max_changes,
                keep,
                forbidden: forbidden.clone(),
                gc: args.gc_min.zip(args.gc_max),
            };
            let trajectory = interpret::design(
                &predictor,
                &record.channels,
                args.goal,
                &constraints,
                strategy,
                args.seed,
                |_, _| {},
            )?;
            let id = tsv_field(&record.id);
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
                let sequence: String = step
                    .sequence
                    .iter()
                    .map(|&c| LETTERS[usize::from(c)])
                    .collect();
                writeln!(
                    out,
                    "{id}\t{index}\t{}\t{}\t{sequence}",
                    step.prediction,
                    changes.join(",")
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
    let written = match &args.output {
        Some(path) => write_atomically(path, |out| write(out).map_err(FillError::Fill))?,
        None => write(&mut BufWriter::new(io::stdout().lock()))?,
    };
    report_done(written, &source, args.output.as_deref());
    Ok(())
}
