//! Shipping weights from a training run: optionally in half precision (the browser download
//! halves; loading casts back to float32), as a burnpack or as safetensors for other frameworks,
//! and optionally the mean of several checkpoints of one run (checkpoint averaging).

use std::path::{Path, PathBuf};

use anyhow::Result;
use burn::module::{Module, ModuleMapper, Param};
use burn::prelude::*;
use burn::tensor::DType;

use crate::weights;

/// The file layouts `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportFormat {
    /// Burnpack with model card: what crmnet and the npm package load.
    #[default]
    Bpk,
    /// The same tensors and card for numpy, PyTorch or Keras.
    Safetensors,
}

/// What to write besides the weights themselves.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Store parameters as float16.
    pub half: bool,
    /// The name the model card gives the model; the run's when `None`.
    pub name: Option<String>,
    pub format: ExportFormat,
}

struct CastTo(DType);

impl ModuleMapper for CastTo {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let dtype = self.0;
        param.map(|tensor| tensor.cast(dtype))
    }
}

/// Reads the weights at `from` (their parameter-wise mean when there are several,
/// [`weights::mean_of`]) and writes them to `output` as `options` say.
pub fn export(from: &[PathBuf], output: &Path, options: &ExportOptions) -> Result<()> {
    let device = Device::flex();
    let (model, mut card) = match from {
        [one] => weights::load(one, &device)?,
        several => {
            let models = several
                .iter()
                .map(|path| {
                    let (model, card) = weights::load(path, &device)?;
                    Ok((model, card, path.display().to_string()))
                })
                .collect::<Result<Vec<_>, weights::WeightsError>>()?;
            weights::mean_of(models, &device)?
        }
    };
    if let Some(name) = &options.name {
        card.name = name.clone();
    }
    let model = if options.half {
        card.training_recipe["exported_as"] = serde_json::json!("float16");
        model.map(&mut CastTo(DType::F16))
    } else {
        model
    };
    match options.format {
        ExportFormat::Bpk => weights::save(model, &card, output)?,
        ExportFormat::Safetensors => weights::save_safetensors(&model, &card, output)?,
    }
    Ok(())
}
