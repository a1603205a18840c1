//! Argument groups several commands share, and the parsers of the library's named choices
//! (backends, presets, input formats, precisions): every flag is defined once, here or in its
//! command's file.

use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Result, anyhow};
use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};

use crmnet::backend::Backend;
use crmnet::data::readers::{Columns, InputFormat, SequenceReader};
use crmnet::inference::Predictor;
use crmnet::model::{Network, Preset};
use crmnet::weights::{self, ModelCard};

/// A parser for one of the library's named choices: `--help` lists `names`, and a listed name
/// always parses.
pub fn choice<T>(names: impl IntoIterator<Item = &'static str>) -> impl TypedValueParser<Value = T>
where
    T: FromStr + Clone + Send + Sync + 'static,
    T::Err: std::fmt::Debug,
{
    PossibleValuesParser::new(names).map(|name| name.parse::<T>().expect("a listed name parses"))
}

pub fn backends() -> impl TypedValueParser<Value = Backend> {
    choice(Backend::ALL.iter().map(|b| b.name()))
}

pub fn presets() -> impl TypedValueParser<Value = Preset> {
    choice(Preset::ALL.iter().map(|p| p.name()))
}

/// Which model to run and where.
#[derive(Args)]
pub struct ModelArgs {
    /// Weights file (burnpack with model card, or a Keras .h5 of a known architecture); the
    /// embedded default model when absent.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Smoke tests only: an untrained, randomly initialised network of --arch.
    #[arg(long, conflicts_with = "weights")]
    pub random_init: bool,
    /// Architecture for --random-init.
    #[arg(long, value_parser = presets(), default_value = "crmnet", requires = "random_init")]
    pub arch: Preset,
    /// Seed for --random-init.
    #[arg(long, default_value_t = 0, requires = "random_init")]
    pub init_seed: u64,
    /// Where the model runs.
    #[arg(long, value_parser = backends(), default_value_t = Backend::default())]
    pub backend: Backend,
}

impl ModelArgs {
    /// The chosen model on the chosen device; warns when its weights are untrained.
    pub fn load(&self) -> Result<Predictor> {
        let device = self.backend.device()?;
        let (model, card) = match &self.weights {
            Some(path) => weights::load(path, &device)?,
            None if !self.random_init => weights::default_model(&device)?,
            None => {
                device.seed(self.init_seed);
                let architecture = self.arch.architecture();
                let model = Network::new(&architecture, &device)?;
                let card = ModelCard::describe(self.arch.name(), &architecture, &model);
                (model, card)
            }
        };
        if !card.trained {
            eprintln!(
                "crmnet: warning: the {} weights are untrained; predictions are meaningless",
                card.name
            );
        }
        Ok(Predictor::new(model, card, device))
    }
}

/// Where sequences come from.
#[derive(Args)]
pub struct InputArgs {
    /// Input file, or - for standard input; gzip is detected.
    #[arg(long, short)]
    pub input: String,
    /// Layout of the input.
    #[arg(long, value_parser = choice::<InputFormat>(InputFormat::ALL.map(InputFormat::name)), default_value_t = InputFormat::Auto)]
    pub input_format: InputFormat,
    /// Sequence column of a headered table (default: seq or sequence).
    #[arg(long)]
    pub seq_column: Option<String>,
}

impl InputArgs {
    /// The input, reading the per-sequence `features` a model needs where a table has them.
    pub fn open(&self, features: &[String]) -> Result<SequenceReader> {
        let columns = Columns {
            sequence: self.seq_column.clone(),
            features: features.to_vec(),
            ..Columns::default()
        };
        Ok(SequenceReader::open(
            &self.input,
            self.input_format,
            &columns,
        )?)
    }
}

/// A G+C range of whole sequences (designs, random promoters).
#[derive(Args)]
pub struct GcRangeArgs {
    /// Lowest G+C share of a whole sequence (0-1).
    #[arg(long, requires = "gc_max")]
    pub gc_min: Option<f64>,
    /// Highest G+C share of a whole sequence (0-1).
    #[arg(long, requires = "gc_min")]
    pub gc_max: Option<f64>,
}

impl GcRangeArgs {
    /// The range, none when neither flag is given, or why it is not one.
    pub fn range(&self) -> Result<Option<(f64, f64)>> {
        match (self.gc_min, self.gc_max) {
            (Some(low), Some(high)) => Ok(Some(
                crmnet::interpret::gc_range(low, high)
                    .map_err(|e| anyhow!("--gc-min/--gc-max: {e}"))?,
            )),
            _ => Ok(None),
        }
    }
}
