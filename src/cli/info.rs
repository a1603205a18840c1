//! `crmnet info`: an architecture (a preset, a weights file's or the default model's) with its
//! parameter counts per stage, size, forward cost and, for weights, the model card.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crmnet::backend::Backend;
use crmnet::model::{Network, Preset};
use crmnet::weights::{self, ModelCard};

use crate::args::presets;

#[derive(Args)]
pub struct InfoArgs {
    /// Architecture preset.
    #[arg(long, value_parser = presets(), conflicts_with_all = ["weights", "default_model"], default_value = "crmnet")]
    arch: Preset,
    /// A weights file: print its model card too.
    #[arg(long, conflicts_with = "default_model")]
    weights: Option<PathBuf>,
    /// The embedded default model, with its model card.
    #[arg(long)]
    default_model: bool,
}

pub fn run(args: InfoArgs) -> Result<()> {
    let device = Backend::Flex.device()?;
    let card = match &args.weights {
        Some(path) => weights::load(path, &device)?.1,
        None if args.default_model => weights::default_model(&device)?.1,
        None => {
            let architecture = args.arch.architecture();
            let model = Network::new(&architecture, &device)?;
            ModelCard::describe(args.arch.name(), &architecture, &model)
        }
    };
    // Written as one text: a reader that stops early (`| head`) ends the command with an
    // error, not a panic.
    let mut out = String::new();
    let counts = &card.parameters;
    writeln!(
        out,
        "architecture: {} ({})",
        card.name,
        card.architecture.kind()
    )?;
    writeln!(
        out,
        "sequence length: {} nt, alphabet {}",
        card.sequence_length, card.alphabet
    )?;
    let input = &card.input;
    let placement = match input.anchor.as_str() {
        "5'" => "from the 5' end".to_string(),
        "3'" => "up to the 3' end".to_string(),
        _ => format!("centred on position {}", input.centre.unwrap_or(0)),
    };
    writeln!(
        out,
        "input: each sequence {placement}; unknown bases read as {}{}",
        input.unknown_bases,
        if input.features.is_empty() {
            String::new()
        } else {
            format!("; features {}", input.features.join(", "))
        }
    )?;
    // Stages in the order data flows through them, as the architecture lists them.
    for (stage, _) in Network::new(&card.architecture, &device)?.stages() {
        let count = counts.stages.get(stage).copied().unwrap_or(0);
        writeln!(out, "{stage:>12}: {count:>12}")?;
    }
    writeln!(
        out,
        "{:>12}: {:>12} ({} trainable)",
        "total", counts.total, counts.trainable
    )?;
    writeln!(
        out,
        "{:>12}: {:>12.1} MB as float32",
        "size",
        counts.total as f64 * 4.0 / 1e6
    )?;
    writeln!(
        out,
        "{:>12}: {:>12.3} GFLOP a sequence, forward",
        "compute",
        card.architecture.forward_flops() as f64 / 1e9
    )?;
    writeln!(
        out,
        "configuration: {}",
        serde_json::to_string(&card.architecture)?
    )?;
    if args.weights.is_some() || args.default_model {
        writeln!(out, "model card: {}", serde_json::to_string_pretty(&card)?)?;
    }
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(())
}
