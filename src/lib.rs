//! CRMnet (Ding et al. 2023), the promoter-to-expression model, on burn: one model code path for
//! the native CLI and the WebAssembly package.

#[cfg(all(feature = "mimalloc", not(target_arch = "wasm32")))]
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
mod platform;
pub mod random;
#[cfg(all(feature = "train", not(target_arch = "wasm32")))]
pub mod train;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
pub mod weights;
