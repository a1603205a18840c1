//! Why the model predicts what it does, and what would make it predict otherwise: gradient
//! saliency, in-silico mutagenesis, known motifs and the attribution on their sites, and
//! promoter design by in-silico evolution.

mod design;
pub mod motifs;
mod mutagenesis;
mod saliency;

#[cfg(not(target_arch = "wasm32"))]
pub use design::design;
pub use design::{
    Constraints, DEFAULT_GENERATIONS, DEFAULT_MAX_SUBSTITUTIONS, DEFAULT_POPULATION, DesignRound,
    DesignStep, Goal, Strategy, design_async, flank_positions, gc_range, site,
};
#[cfg(not(target_arch = "wasm32"))]
pub use mutagenesis::mutagenesis;
pub use mutagenesis::{Mutagenesis, mutagenesis_async};
#[cfg(not(target_arch = "wasm32"))]
pub use saliency::saliency;
pub use saliency::{Saliency, saliency_async};

use crate::data::alphabet::CHANNELS;

/// The bases scored at every position, in channel order (`N` is not a base one can write).
pub const BASES: usize = CHANNELS - 1;
