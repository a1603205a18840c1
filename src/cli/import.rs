//! `crmnet import`: a trained Keras model (`.h5`) of a known architecture as a weights file
//! whose card names its origin and keeps its licence notice.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use crmnet::backend::Backend;
use crmnet::keras::KerasModel;
use crmnet::weights;

#[derive(Args)]
pub struct ImportArgs {
    /// Keras full-model HDF5 file (`model.save("model.h5")`).
    #[arg(long)]
    keras: PathBuf,
    /// Weights file to write (burnpack with model card), atomically.
    #[arg(long, short)]
    output: PathBuf,
    /// Licence notice to keep with the weights [default: a LICENSE file beside the .h5 file]
    #[arg(long)]
    license: Option<PathBuf>,
    /// Scale of the StandardScaler that maps the network's output to expression (with
    /// --output-shift) [default: the architecture's; DeepAtt: the authors' complex medium]
    #[arg(long, requires = "output_shift")]
    output_scale: Option<f64>,
    /// Mean of that StandardScaler.
    #[arg(long, requires = "output_scale")]
    output_shift: Option<f64>,
}

pub fn run(args: ImportArgs) -> Result<()> {
    let source = args.keras.display().to_string();
    let bytes = std::fs::read(&args.keras).with_context(|| format!("{source}: cannot read"))?;
    let model = KerasModel::from_bytes(bytes, &source)?;
    let beside = args.keras.with_file_name("LICENSE");
    let license_path = match &args.license {
        Some(path) => Some(path.clone()),
        None => beside.is_file().then_some(beside),
    };
    let license = match &license_path {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read the licence", path.display()))?,
        None => {
            eprintln!(
                "crmnet: warning: no licence notice for {source} (--license FILE keeps one in the model card)"
            );
            String::new()
        }
    };
    let affine = args.output_scale.zip(args.output_shift);
    let (network, card) = model.import(&Backend::Flex.device()?, &license, affine)?;
    weights::save(network, &card, &args.output)?;
    eprintln!(
        "crmnet: {} ({} parameters) from {source} written to {}",
        card.name,
        card.parameters.total,
        args.output.display()
    );
    Ok(())
}
