//! Choosing where the model runs.

use std::fmt;
use std::str::FromStr;

use burn::prelude::*;

use crate::platform;

/// The compute backends this build can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// burn-flex: the pure-Rust CPU backend (the default on CPU: measured faster, docs/usage.md).
    #[default]
    Flex,
    /// burn-ndarray: the older CPU backend (the `ndarray` feature; not in the WebAssembly
    /// modules, where flex is the CPU backend).
    #[cfg(feature = "ndarray")]
    Ndarray,
    /// burn-wgpu: the GPU through Vulkan/Metal/DX12/WebGPU (lavapipe without a GPU).
    #[cfg(feature = "wgpu")]
    Wgpu,
    /// burn-cuda: NVIDIA GPUs (the `cuda` feature; its build needs the CUDA toolchain).
    #[cfg(feature = "cuda")]
    Cuda,
}

impl Backend {
    /// The backends this build has, in the order `--help` lists them.
    pub const ALL: &[Backend] = &[
        Backend::Flex,
        #[cfg(feature = "ndarray")]
        Backend::Ndarray,
        #[cfg(feature = "wgpu")]
        Backend::Wgpu,
        #[cfg(feature = "cuda")]
        Backend::Cuda,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            #[cfg(feature = "ndarray")]
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
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)] // kept available beside flex, as the design asks
            Backend::Ndarray => Ok(Device::ndarray()),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => platform::wgpu_device(),
            #[cfg(feature = "cuda")]
            Backend::Cuda => Ok(Device::cuda(0)),
        }
    }

    /// Training workers per device by default: on the CPU one per core, each running the
    /// forward and backward pass of its own part of the device's batch (burn's CPU kernels keep
    /// a core idle for much of one pass: docs/benchmarks.md); on a GPU one.
    /// The device, in a browser too: WebGPU starts asynchronously there.
    pub async fn device_async(self) -> Result<Device, BackendError> {
        match self {
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => platform::wgpu_device_async().await,
            _ => self.device(),
        }
    }

    pub fn workers_per_device(self) -> usize {
        if self.is_cpu() {
            platform::cpu_workers()
        } else {
            1
        }
    }

    pub fn is_cpu(self) -> bool {
        match self {
            Backend::Flex => true,
            #[cfg(feature = "ndarray")]
            Backend::Ndarray => true,
            #[allow(unreachable_patterns)] // GPU backends, where the build has them
            _ => false,
        }
    }

    /// `count` devices for data-parallel training. The CPU backends have one device, returned
    /// `count` times (which exercises the multi-device path; the cores are used by
    /// [`Backend::workers_per_device`]); GPU backends need `count` distinct devices.
    pub fn devices(self, count: usize) -> Result<Vec<Device>, BackendError> {
        match self {
            _ if self.is_cpu() => Ok(vec![self.device()?; count]),
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

impl FromStr for Backend {
    type Err = String;

    /// A backend's name, or `cpu` (flex) and `webgpu` (wgpu), the names of the npm package.
    fn from_str(name: &str) -> Result<Self, String> {
        let name = match name.to_ascii_lowercase().as_str() {
            "cpu" => "flex",
            "webgpu" => "wgpu",
            _ => name,
        };
        Backend::ALL
            .iter()
            .copied()
            .find(|b| b.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let names: Vec<_> = Backend::ALL.iter().map(|b| b.name()).collect();
                format!(
                    "unknown backend '{name}' (this build has: {})",
                    names.join(", ")
                )
            })
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("the {backend} backend is not available: {reason}")]
pub struct BackendError {
    pub backend: &'static str,
    pub reason: String,
}

/// Whether `device` is flex, with or without autodiff (burn's device equality ignores
/// autodiff: `Device::flex().autodiff() == Device::flex()`), where the CPU paths run: the
/// batch-folded convolutions, concurrent passes and transformer pairs. With autodiff too:
/// training steps and saliency measured faster there than on burn's conv1d (docs/benchmarks.md).
pub fn is_flex(device: &Device) -> bool {
    *device == Device::flex()
}
