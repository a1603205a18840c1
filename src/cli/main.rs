//! The `crmnet` command line: a thin layer over the library. Each command's flags and its
//! printing live in its own file; argument groups several commands share are in `args.rs`.

mod args;
mod design;
#[cfg(feature = "train")]
mod eval;
#[cfg(feature = "train")]
mod export;
mod import;
mod info;
mod interpret;
mod motifs;
mod predict;
mod random;
#[cfg(feature = "train")]
mod simulate;
#[cfg(feature = "train")]
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use interpret::Interpretation;

/// See Cargo.toml: the system allocator returned every large tensor to the kernel.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "crmnet",
    version,
    about = "CRMnet promoter-to-expression model"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print an architecture (a preset or a weights file's) with parameter counts per stage.
    Info(info::InfoArgs),
    /// Predict expression for every sequence of a FASTA, released-format or TSV/CSV file.
    Predict(predict::PredictArgs),
    /// Input x gradient saliency of every sequence: one row per position, A C G T columns.
    Saliency(interpret::InterpretArgs),
    /// In-silico mutagenesis: the predicted change of every single-base substitution.
    Mutagenesis(interpret::InterpretArgs),
    /// Known motifs' hits in every sequence and, with --attribution, the model's attribution on
    /// each motif's hits against matched background.
    Motifs(Box<motifs::MotifsArgs>),
    /// Evolve every sequence toward a predicted expression under constraints.
    Design(Box<design::DesignArgs>),
    /// Write random promoters of the library as FASTA: starts for a design from scratch.
    Random(random::RandomArgs),
    /// Convert a trained Keras model (full-model `.h5` file) into a weights file.
    Import(import::ImportArgs),
    /// Train from scratch (pre-training) with the paper's recipe.
    #[cfg(feature = "train")]
    Train(train::TrainArgs),
    /// Continue training all weights of a trained model on new data.
    #[cfg(feature = "train")]
    Finetune(train::FinetuneArgs),
    /// Train a student on a teacher's predictions for promoters generated on the fly.
    #[cfg(feature = "train")]
    Distill(Box<train::DistillArgs>),
    /// Metrics of a model on measured data, beside the file's peer predictions.
    #[cfg(feature = "train")]
    Eval(eval::EvalArgs),
    /// Write shipping weights from a run's best checkpoint.
    #[cfg(feature = "train")]
    Export(export::ExportArgs),
    /// Write a synthetic dataset with planted motifs in the released format.
    #[cfg(feature = "train")]
    Simulate(simulate::SimulateArgs),
}

fn main() -> ExitCode {
    crmnet::allocator::keep_freed_memory();
    let outcome = match Cli::parse().command {
        Command::Info(args) => info::run(args),
        Command::Predict(args) => predict::run(args),
        Command::Saliency(args) => interpret::run(args, Interpretation::Saliency),
        Command::Mutagenesis(args) => interpret::run(args, Interpretation::Mutagenesis),
        Command::Motifs(args) => motifs::run(*args),
        Command::Design(args) => design::run(*args),
        Command::Random(args) => random::run(args),
        Command::Import(args) => import::run(args),
        #[cfg(feature = "train")]
        Command::Train(args) => train::train(args),
        #[cfg(feature = "train")]
        Command::Finetune(args) => train::finetune(args),
        #[cfg(feature = "train")]
        Command::Distill(args) => train::distill(*args),
        #[cfg(feature = "train")]
        Command::Eval(args) => eval::run(args),
        #[cfg(feature = "train")]
        Command::Export(args) => export::run(args),
        #[cfg(feature = "train")]
        Command::Simulate(args) => simulate::run(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("crmnet: {error:#}");
            ExitCode::FAILURE
        }
    }
}
