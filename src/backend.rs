//! Choosing where the model runs.

use std::fmt;

use burn::prelude::*;

/// The compute backends this build can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(clap::ValueEnum))]
pub enum Backend {
    /// burn-flex: the pure-Rust CPU backend (the default on CPU: measured faster, see README).
    #[default]
    Flex,
    /// burn-ndarray: the older CPU backend.
    Ndarray,
    /// burn-wgpu: the GPU through Vulkan/Metal/DX12/WebGPU (lavapipe without a GPU).
    #[cfg(feature = "wgpu")]
    Wgpu,
    /// burn-cuda: NVIDIA GPUs (the `cuda` feature; its build needs the CUDA toolchain).
    #[cfg(feature = "cuda")]
    Cuda,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Ndarray => "ndarray",
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => "wgpu",
            #[cfg(feature = "cuda")]
            Backend::Cuda => "cuda",
        }
    }

    /// The device, initialised now so that a missing GPU is an error here and not a panic at
    /// the first tensor.
    pub fn device(self) -> Result<Device, BackendError> {
        match self {
            Backend::Flex => Ok(Device::flex()),
            #[allow(deprecated)] // kept available beside flex, as the design asks
            Backend::Ndarray => Ok(Device::ndarray()),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => wgpu_device(),
            #[cfg(feature = "cuda")]
            Backend::Cuda => Ok(Device::cuda(0)),
        }
    }

    /// Training workers per device by default: on the CPU one per core, each running the
    /// forward and backward pass of its own part of the device's batch (burn's CPU kernels keep
    /// only 1.2 of 2 cores busy on one pass: README, Benchmarks); on a GPU one.
    pub fn workers_per_device(self) -> usize {
        if self.is_cpu() { cpu_workers() } else { 1 }
    }

    pub fn is_cpu(self) -> bool {
        matches!(self, Backend::Flex | Backend::Ndarray)
    }

    /// `count` devices for data-parallel training. The CPU backends have one device, returned
    /// `count` times (which exercises the multi-device path; the cores are used by
    /// [`Backend::workers_per_device`]); GPU backends need `count` distinct devices.
    pub fn devices(self, count: usize) -> Result<Vec<Device>, BackendError> {
        match self {
            Backend::Flex | Backend::Ndarray => Ok(vec![self.device()?; count]),
            #[cfg(all(feature = "wgpu", not(target_arch = "wasm32")))]
            Backend::Wgpu if count > 1 => {
                let found: Vec<Device> = Device::enumerate(burn::tensor::DeviceType::Wgpu)
                    .into_iter()
                    .collect();
                if found.len() < count {
                    return Err(BackendError {
                        backend: "wgpu",
                        reason: format!("{count} devices asked for, {} found", found.len()),
                    });
                }
                Ok(found.into_iter().take(count).collect())
            }
            #[cfg(feature = "cuda")]
            Backend::Cuda => Ok((0..count).map(Device::cuda).collect()),
            #[allow(unreachable_patterns)]
            _ => Ok(vec![self.device()?]),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("the {backend} backend is not available: {reason}")]
pub struct BackendError {
    pub backend: &'static str,
    pub reason: String,
}

/// The runtime can be initialised once per process; later calls reuse that outcome.
#[cfg(all(feature = "wgpu", not(target_arch = "wasm32")))]
fn wgpu_device() -> Result<Device, BackendError> {
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

/// A browser cannot block while the GPU starts: `wasm.rs` initialises WebGPU asynchronously.
#[cfg(all(feature = "wgpu", target_arch = "wasm32"))]
fn wgpu_device() -> Result<Device, BackendError> {
    Err(BackendError {
        backend: "wgpu",
        reason:
            "in WebAssembly, WebGPU starts asynchronously (Device::wgpu_options().init_async())"
                .into(),
    })
}

/// Forward passes the CPU can run at once.
#[cfg(not(target_arch = "wasm32"))]
pub fn cpu_workers() -> usize {
    rayon::current_num_threads()
}

/// A page's WebAssembly runs on one thread.
#[cfg(target_arch = "wasm32")]
pub fn cpu_workers() -> usize {
    1
}

/// Whether `device` is flex, with or without autodiff (burn's device equality ignores
/// autodiff: `Device::flex().autodiff() == Device::flex()`), where the CPU paths run: the
/// batch-folded convolutions, concurrent passes and transformer pairs. With autodiff too:
/// training steps and saliency measured faster there than on burn's conv1d (README, Benchmarks).
pub fn is_flex(device: &Device) -> bool {
    *device == Device::flex()
}

/// Runs two independent parts of a forward pass on `device`, concurrently on flex natively
/// (with autodiff too: its graph takes nodes from several threads, as with `--cpu-workers`):
/// for one sequence burn-flex's matrix products leave a core idle much of the time (the full
/// model's paired transformer blocks run concurrently: README, Benchmarks). Elsewhere one
/// after the other: GPUs queue the work anyway.
#[cfg(not(target_arch = "wasm32"))]
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

#[cfg(target_arch = "wasm32")]
pub fn join<A, B>(_: &Device, first: impl FnOnce() -> A, second: impl FnOnce() -> B) -> (A, B) {
    (first(), second())
}
