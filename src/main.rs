//! The `crmnet` command line: architecture information and streaming prediction.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crmnet::backend::Backend;
use crmnet::data::batching::Batches;
use crmnet::data::readers::{Columns, InputFormat, Record, SequenceReader};
use crmnet::inference::Predictor;
use crmnet::interpret;
use crmnet::keras::KerasModel;
use crmnet::model::{Network, Preset};
use crmnet::output::{FillError, write_atomically};
use crmnet::weights::{self, ModelCard};

/// See Cargo.toml: the system allocator returned every large tensor to the kernel.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "train")]
#[path = "../train/mod.rs"]
mod train;

#[derive(Parser)]
#[command(
    name = "crmnet",
    version,
    about = "CRMnet promoter-to-expression model"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print an architecture (a preset or a weights file's) with parameter counts per stage.
    Info(InfoArgs),
    /// Predict expression for every sequence of a FASTA, released-format or TSV/CSV file.
    Predict(PredictArgs),
    /// Input x gradient saliency of every sequence: one row per position, A C G T columns.
    Saliency(InterpretArgs),
    /// In-silico mutagenesis: the predicted change of every single-base substitution.
    Mutagenesis(InterpretArgs),
    /// Convert a trained Keras model (full-model `.h5` file) into a weights file.
    Import(ImportArgs),
    #[cfg(feature = "train")]
    #[command(flatten)]
    Train(train::TrainCommand),
}

#[derive(Args)]
struct InfoArgs {
    /// Architecture preset.
    #[arg(long, value_parser = preset_name, conflicts_with_all = ["weights", "default_model"], default_value = "crmnet")]
    arch: Preset,
    /// A weights file: print its model card too.
    #[arg(long, conflicts_with = "default_model")]
    weights: Option<PathBuf>,
    /// The embedded default model, with its model card.
    #[arg(long)]
    default_model: bool,
}

#[derive(Args)]
pub(crate) struct ModelArgs {
    /// Weights file (burnpack with model card); the embedded default model when absent.
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Smoke tests only: an untrained, randomly initialised network of --arch.
    #[arg(long, conflicts_with = "weights")]
    random_init: bool,
    /// Architecture for --random-init.
    #[arg(long, value_parser = preset_name, default_value = "crmnet", requires = "random_init")]
    arch: Preset,
    /// Seed for --random-init.
    #[arg(long, default_value_t = 0, requires = "random_init")]
    seed: u64,
    /// Where the model runs.
    #[arg(long, value_enum, default_value_t = Backend::default())]
    backend: Backend,
}

#[derive(Args)]
struct ImportArgs {
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

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    Tsv,
    Json,
}

/// Where sequences come from.
#[derive(Args)]
struct InputArgs {
    /// Input file, or - for standard input; gzip is detected.
    #[arg(long, short)]
    input: String,
    /// Layout of the input.
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    input_format: InputFormat,
    /// Sequence column of a headered table (default: seq or sequence).
    #[arg(long)]
    seq_column: Option<String>,
}

impl InputArgs {
    fn open(&self) -> Result<SequenceReader> {
        let columns = Columns {
            sequence: self.seq_column.clone(),
            ..Columns::default()
        };
        Ok(SequenceReader::open(
            &self.input,
            self.input_format,
            &columns,
        )?)
    }
}

#[derive(Args)]
struct PredictArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Output file, written atomically; standard output when absent.
    #[arg(long, short)]
    output: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Tsv)]
    format: OutputFormat,
    /// Sequences per forward pass.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=65536))]
    batch_size: u64,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Args)]
struct InterpretArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Output TSV, written atomically; standard output when absent.
    #[arg(long, short)]
    output: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Clone, Copy)]
enum Interpretation {
    Saliency,
    Mutagenesis,
}

fn preset_name(name: &str) -> Result<Preset, String> {
    Preset::from_name(name).ok_or_else(|| {
        let names: Vec<_> = Preset::ALL.iter().map(|p| p.name()).collect();
        format!(
            "unknown architecture '{name}' (known: {})",
            names.join(", ")
        )
    })
}

fn main() -> ExitCode {
    crmnet::allocator::keep_freed_memory();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Info(args) => info(args),
        Command::Predict(args) => predict(args),
        Command::Saliency(args) => interpret(args, Interpretation::Saliency),
        Command::Mutagenesis(args) => interpret(args, Interpretation::Mutagenesis),
        Command::Import(args) => import(args),
        #[cfg(feature = "train")]
        Command::Train(command) => train::run(command),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("crmnet: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn info(args: InfoArgs) -> Result<()> {
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
    let counts = &card.parameters;
    println!("architecture: {} ({})", card.name, card.architecture.kind());
    println!(
        "sequence length: {} nt, alphabet {}",
        card.sequence_length, card.alphabet
    );
    // Stages in the order data flows through them, as the architecture lists them.
    for (stage, _) in Network::new(&card.architecture, &device)?.stages() {
        let count = counts.stages.get(stage).copied().unwrap_or(0);
        println!("{stage:>12}: {count:>12}");
    }
    println!(
        "{:>12}: {:>12} ({} trainable)",
        "total", counts.total, counts.trainable
    );
    println!(
        "{:>12}: {:>12.1} MB as float32",
        "size",
        counts.total as f64 * 4.0 / 1e6
    );
    println!(
        "{:>12}: {:>12.3} GFLOP a sequence, forward",
        "compute",
        card.architecture.forward_flops() as f64 / 1e9
    );
    println!(
        "configuration: {}",
        serde_json::to_string(&card.architecture)?
    );
    if args.weights.is_some() || args.default_model {
        println!("model card: {}", serde_json::to_string_pretty(&card)?);
    }
    Ok(())
}

fn import(args: ImportArgs) -> Result<()> {
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

pub(crate) fn load_predictor(args: &ModelArgs) -> Result<Predictor> {
    let device = args.backend.device()?;
    let (model, card) = match &args.weights {
        Some(path) => weights::load(path, &device)?,
        None if !args.random_init => weights::default_model(&device)?,
        None => {
            device.seed(args.seed);
            let architecture = args.arch.architecture();
            let model = Network::new(&architecture, &device)?;
            let card = ModelCard::describe(args.arch.name(), &architecture, &model);
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

fn predict(args: PredictArgs) -> Result<()> {
    let reader = args.input.open()?;
    let predictor = load_predictor(&args.model)?;
    let source = reader.source_name().to_string();
    match &args.output {
        Some(path) => {
            let written = write_atomically(path, |out| {
                write_predictions(reader, &predictor, &args, out).map_err(FillError::Fill)
            })?;
            report_done(written, &source, Some(path));
        }
        None => {
            let stdout = io::stdout();
            let written = write_predictions(
                reader,
                &predictor,
                &args,
                &mut BufWriter::new(stdout.lock()),
            )?;
            report_done(written, &source, None);
        }
    }
    Ok(())
}

fn interpret(args: InterpretArgs, method: Interpretation) -> Result<()> {
    let reader = args.input.open()?;
    let predictor = load_predictor(&args.model)?;
    let source = reader.source_name().to_string();
    let write = |out: &mut dyn Write| -> Result<usize> {
        writeln!(out, "id\tposition\tbase\tprediction\tA\tC\tG\tT")?;
        let mut written = 0;
        for record in reader {
            let record = record?;
            let (prediction, rows) = match method {
                Interpretation::Saliency => {
                    let result = interpret::saliency(&predictor, &record.channels)?;
                    (result.prediction, result.scores)
                }
                Interpretation::Mutagenesis => {
                    let result =
                        interpret::mutagenesis(&predictor, &record.channels, 0..usize::MAX, 256)?;
                    (result.reference, result.effects)
                }
            };
            let id = tsv_field(&record.id);
            for (position, (row, letter)) in rows.iter().zip(record.sequence.chars()).enumerate() {
                let [a, c, g, t] = row;
                writeln!(
                    out,
                    "{id}\t{}\t{letter}\t{prediction}\t{a}\t{c}\t{g}\t{t}",
                    position + 1
                )?;
            }
            written += 1;
        }
        if written == 0 {
            bail!("{source}: no sequences found");
        }
        out.flush()?;
        Ok(written)
    };
    let written = match &args.output {
        Some(path) => write_atomically(path, |out| write(out).map_err(FillError::Fill))?,
        None => write(&mut BufWriter::new(io::stdout().lock()))?,
    };
    report_done(written, &source, args.output.as_deref());
    Ok(())
}

fn report_done(written: usize, source: &str, output: Option<&Path>) {
    if io::stderr().is_terminal() {
        let target = output.map_or("standard output".to_string(), |p| p.display().to_string());
        eprintln!("crmnet: {written} predictions for {source} written to {target}");
    }
}

/// Streams batches from `reader` through the model into `out`; returns the number of rows.
fn write_predictions(
    reader: SequenceReader,
    predictor: &Predictor,
    args: &PredictArgs,
    out: &mut impl Write,
) -> Result<usize> {
    let source = reader.source_name().to_string();
    let progress = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {pos} sequences predicted ({per_sec}, {elapsed})")
            .expect("valid template"),
    );
    let mut written = 0;
    match args.format {
        OutputFormat::Tsv => writeln!(out, "id\tsequence\tprediction")?,
        OutputFormat::Json => write!(out, "[")?,
    }
    for batch in Batches::new(reader, args.batch_size as usize) {
        let batch: Vec<Record> = batch?;
        let predictions = predictor.predict(batch.iter().map(|r| r.channels.as_slice()))?;
        for (record, prediction) in batch.iter().zip(predictions) {
            match args.format {
                OutputFormat::Tsv => writeln!(
                    out,
                    "{}\t{}\t{prediction}",
                    tsv_field(&record.id),
                    record.sequence
                )?,
                OutputFormat::Json => {
                    let separator = if written == 0 { "\n" } else { ",\n" };
                    let row = serde_json::json!({
                        "id": record.id, "sequence": record.sequence, "prediction": prediction
                    });
                    write!(out, "{separator}{row}")?;
                }
            }
            written += 1;
        }
        progress.inc(batch.len() as u64);
    }
    progress.finish_and_clear();
    if written == 0 {
        bail!("{source}: no sequences found");
    }
    if let OutputFormat::Json = args.format {
        writeln!(out, "\n]")?;
    }
    out.flush()?;
    Ok(written)
}

/// Ids come from FASTA headers and table cells: keep the TSV's columns intact.
fn tsv_field(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}
