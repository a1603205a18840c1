//! Why the model predicts what it does: gradient saliency and in-silico mutagenesis.

mod mutagenesis;
mod saliency;

pub use mutagenesis::{Mutagenesis, mutagenesis};
pub use saliency::{Saliency, saliency};

use crate::data::alphabet::CHANNELS;

/// The bases scored at every position, in channel order (`N` is not a base one can write).
pub const BASES: usize = CHANNELS - 1;
