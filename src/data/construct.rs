//! The promoter construct of the Vaishnav et al. (2022) and DREAM 2022 libraries: a variable
//! region between two constant flanks, which every measured sequence carries. Generated
//! promoters (distillation, simulation) are built inside the same flanks.

/// The constant 5' flank.
pub const FLANK_5: &str = "TGCATTTTTTTCACATC";
/// The constant 3' flank.
pub const FLANK_3: &str = "GGTTACGGCTGTT";
/// Length of the variable region between the flanks.
pub const VARIABLE_LENGTH: usize = 80;
/// Length of a whole construct.
pub const LENGTH: usize = FLANK_5.len() + VARIABLE_LENGTH + FLANK_3.len();
