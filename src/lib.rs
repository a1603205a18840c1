//! CRMnet (Ding et al. 2023), the promoter-to-expression model, on burn: one model code path for
//! the native CLI and the WebAssembly package.

pub mod backend;
pub mod data;
pub mod inference;
pub mod interpret;
pub mod metrics;
pub mod model;
#[cfg(not(target_arch = "wasm32"))]
pub mod output;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
pub mod weights;
