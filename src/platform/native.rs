//! Native builds: rayon's threads, blocking on futures, batch-folded convolutions.

use std::future::Future;

use burn::prelude::*;
use rayon::prelude::*;

use crate::backend::{BackendError, is_flex};

pub use futures_lite::future::block_on;

/// Rows per forward pass on the CPU (flex): larger batches spill each layer's activations
/// (megabytes) out of the caches. The passes run concurrently, one per core, each with the
/// whole core to itself: burn-flex's kernels parallelise only the larger matrix products, so
/// one pass at a time left a core idle for much of the forward pass. 32 rows measured best of
/// the sizes tried (docs/benchmarks.md, "Concurrent CPU passes").
pub const CPU_ROWS_PER_PASS: usize = 32;

/// Convolutions on flex run as one batch-folded product: much faster than flex's conv1d here
/// (docs/benchmarks.md).
pub const BATCH_FOLDED_CONV: bool = true;

/// Forward passes the CPU can run at once.
pub fn cpu_workers() -> usize {
    rayon::current_num_threads()
}

/// Runs two independent parts of a forward pass on `device`, concurrently on flex (with
/// autodiff too: its graph takes nodes from several threads, as with `--cpu-workers`): for one
/// sequence burn-flex's matrix products leave a core idle much of the time (the full model's
/// paired transformer blocks run concurrently: docs/benchmarks.md). Elsewhere one after the
/// other: GPUs queue the work anyway.
pub fn join<A: Send, B: Send>(
    device: &Device,
    first: impl FnOnce() -> A + Send,
    second: impl FnOnce() -> B + Send,
) -> (A, B) {
    if is_flex(device) {
        rayon::join(first, second)
    } else {
        (first(), second())
    }
}

/// `run` on every item, concurrently on rayon's threads, results in order.
pub async fn run_passes<I, O, E, F>(items: Vec<I>, run: impl Fn(I) -> F + Sync) -> Result<Vec<O>, E>
where
    I: Send,
    O: Send,
    E: Send,
    F: Future<Output = Result<O, E>>,
{
    items
        .into_par_iter()
        .map(|item| block_on(run(item)))
        .collect()
}

/// The GPU through wgpu, initialised once per process; later calls reuse that outcome.
#[cfg(feature = "wgpu")]
pub fn wgpu_device() -> Result<Device, BackendError> {
    static DEVICE: std::sync::OnceLock<Result<Device, BackendError>> = std::sync::OnceLock::new();
    DEVICE
        .get_or_init(|| {
            Device::wgpu_options().init().map_err(|e| BackendError {
                backend: "wgpu",
                reason: e.to_string(),
            })
        })
        .clone()
}

/// Natively the GPU starts synchronously: [`wgpu_device`].
#[cfg(feature = "wgpu")]
pub async fn wgpu_device_async() -> Result<Device, BackendError> {
    wgpu_device()
}
