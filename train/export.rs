//! `crmnet export`: shipping weights from a training run, optionally in half precision (the
//! browser download halves; loading casts back to float32).

use std::path::PathBuf;

use anyhow::Result;
use burn::module::{Module, ModuleMapper, Param};
use burn::prelude::*;
use burn::tensor::DType;
use clap::{Args, ValueEnum};

use crmnet::weights;

#[derive(Args)]
pub struct ExportArgs {
    /// Weights to export, e.g. a run's `best.bpk`.
    #[arg(long)]
    from: PathBuf,
    #[arg(long, short)]
    output: PathBuf,
    /// Store parameters as float16.
    #[arg(long)]
    half: bool,
    /// The name the model card gives the model (`info`, `eval` and the site show it); the
    /// run's by default.
    #[arg(long)]
    name: Option<String>,
    /// `bpk`: burnpack with model card, what crmnet and the npm package load; `safetensors`:
    /// the same tensors and card for numpy, PyTorch or Keras.
    #[arg(long, value_enum, default_value_t = Format::Bpk)]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Bpk,
    Safetensors,
}

struct CastTo(DType);

impl ModuleMapper for CastTo {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let dtype = self.0;
        param.map(|tensor| tensor.cast(dtype))
    }
}

pub fn run(args: ExportArgs) -> Result<()> {
    let (model, mut card) = weights::load(&args.from, &Device::flex())?;
    if let Some(name) = args.name {
        card.name = name;
    }
    let model = if args.half {
        card.training_recipe["exported_as"] = serde_json::json!("float16");
        model.map(&mut CastTo(DType::F16))
    } else {
        model
    };
    match args.format {
        Format::Bpk => weights::save(model, &card, &args.output)?,
        Format::Safetensors => weights::save_safetensors(&model, &card, &args.output)?,
    }
    eprintln!(
        "{}: {} bytes",
        args.output.display(),
        std::fs::metadata(&args.output)?.len()
    );
    Ok(())
}
