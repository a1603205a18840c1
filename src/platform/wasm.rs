//! WebAssembly: one thread, no blocking (a page must never wait on the GPU), burn's conv1d, and
//! WebGPU started asynchronously where `navigator.gpu` offers it.

use std::future::Future;

use burn::prelude::*;
#[cfg(feature = "wgpu")]
use js_sys::Reflect;

#[cfg(feature = "wgpu")]
use crate::backend::BackendError;

/// Rows per forward pass on the CPU: on one thread 128-row passes measured faster than 32-row
/// ones (docs/benchmarks.md, "Concurrent CPU passes").
pub const CPU_ROWS_PER_PASS: usize = 128;

/// In wasm (one thread, 128-bit SIMD) the batch-folded product measured no faster than
/// burn's conv1d, so wasm keeps the simpler conv1d (docs/benchmarks.md).
pub const BATCH_FOLDED_CONV: bool = false;

/// A page's WebAssembly runs on one thread.
pub fn cpu_workers() -> usize {
    1
}

/// One after the other: there is one thread.
pub fn join<A, B>(_: &Device, first: impl FnOnce() -> A, second: impl FnOnce() -> B) -> (A, B) {
    (first(), second())
}

/// `run` on every item, one after the other, results in order.
pub async fn run_passes<I, O, E, F>(items: Vec<I>, run: impl Fn(I) -> F) -> Result<Vec<O>, E>
where
    F: Future<Output = Result<O, E>>,
{
    let mut outputs = Vec::with_capacity(items.len());
    for item in items {
        outputs.push(run(item).await?);
    }
    Ok(outputs)
}

/// A browser cannot block while the GPU starts: [`wgpu_device_async`].
#[cfg(feature = "wgpu")]
pub fn wgpu_device() -> Result<Device, BackendError> {
    Err(BackendError {
        backend: "wgpu",
        reason: "in WebAssembly, WebGPU starts asynchronously".into(),
    })
}

/// `navigator.gpu` exists: a browser (or runtime) that offers WebGPU at all.
#[cfg(feature = "wgpu")]
fn webgpu_offered() -> bool {
    let global = js_sys::global();
    Reflect::get(&global, &"navigator".into())
        .ok()
        .filter(|navigator| navigator.is_object())
        .and_then(|navigator| Reflect::get(&navigator, &"gpu".into()).ok())
        .is_some_and(|gpu| gpu.is_object())
}

/// WebGPU, started without blocking the page.
#[cfg(feature = "wgpu")]
pub async fn wgpu_device_async() -> Result<Device, BackendError> {
    if !webgpu_offered() {
        return Err(BackendError {
            backend: "wgpu",
            reason: "WebGPU is not available here (no navigator.gpu)".into(),
        });
    }
    Device::wgpu_options()
        .init_async()
        .await
        .map_err(|e| BackendError {
            backend: "wgpu",
            reason: format!("WebGPU could not start: {e}"),
        })
}
