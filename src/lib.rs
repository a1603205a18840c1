//! CRMnet (Ding et al. 2023), the promoter-to-expression model, on burn: one model code path for
//! the native CLI and the WebAssembly package.

#[cfg(not(target_arch = "wasm32"))]
pub mod allocator;
pub mod backend;
pub mod data;
pub mod inference;
pub mod interpret;
pub mod keras;
pub mod metrics;
pub mod model;
#[cfg(not(target_arch = "wasm32"))]
pub mod output;
/// The data-parallel training step of the `train` command line, in the library so that the
/// benchmarks time the step training really runs.
#[cfg(all(feature = "train", not(target_arch = "wasm32")))]
#[path = "../train/parallel.rs"]
pub mod parallel;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
pub mod weights;
