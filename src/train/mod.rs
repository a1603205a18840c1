//! Training (`train` feature, native only): pre-training with the paper's recipe, fine-tuning,
//! distillation from a teacher, evaluation on measured data, export and synthetic data. The
//! command line drives it through [`TrainOptions`] and an [`Observer`]; the benchmarks time its
//! data-parallel step ([`parallel`]).

mod checkpoint;
pub mod distill;
pub mod eval;
pub mod export;
pub mod parallel;
pub mod recipe;
mod run;
pub mod simulate;
pub mod stream;

pub use checkpoint::{EpochLog, RunState};
pub use run::{Observer, TrainOptions, architecture, distill, finetune, train};
