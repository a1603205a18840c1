//! The training command line (`train` feature): pre-training, fine-tuning, distillation,
//! evaluation, export and synthetic data.

mod distill;
mod eval;
mod export;
mod recipe;
mod simulate;
mod stream;
mod training;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum TrainCommand {
    /// Train from scratch (pre-training) with the paper's recipe.
    Train(training::TrainArgs),
    /// Continue training all weights of a trained model on new data.
    Finetune(training::FinetuneArgs),
    /// Train a student on a teacher's predictions for promoters generated on the fly.
    Distill(Box<distill::DistillArgs>),
    /// Metrics of a model on measured data, beside the file's peer predictions.
    Eval(eval::EvalArgs),
    /// Write shipping weights from a run's best checkpoint.
    Export(export::ExportArgs),
    /// Write a synthetic dataset with planted motifs in the released format.
    Simulate(simulate::SimulateArgs),
}

pub fn run(command: TrainCommand) -> Result<()> {
    match command {
        TrainCommand::Train(args) => training::train(args),
        TrainCommand::Finetune(args) => training::finetune(args),
        TrainCommand::Distill(args) => training::distill(*args),
        TrainCommand::Eval(args) => eval::run(args),
        TrainCommand::Export(args) => export::run(args),
        TrainCommand::Simulate(args) => simulate::run(args),
    }
}
