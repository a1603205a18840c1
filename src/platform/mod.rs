//! What differs between a native build and WebAssembly, in one place: how many forward passes
//! run at once and how long they are, how two halves of a pass and a list of passes run
//! (threads natively, one after the other in a page), blocking on futures (natively only),
//! whether convolutions run as batch-folded products, and how the GPU starts (synchronously
//! natively, asynchronously in a browser). The model, data and interpretation code above it is
//! one code path.

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub use native::*;

#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
pub use wasm::*;
