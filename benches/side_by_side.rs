//! crmnet (native, flex) against the same network in TensorFlow/Keras, the original paper's
//! framework, with identical weights, in one run on one machine: the Keras model must predict
//! what crmnet predicts on real sequences, then both are timed turn by turn. Keras stays up as
//! a server (`crmnet_keras.py --serve`) so that each case runs in `CRMNET_BENCH_PAIRS` (12)
//! pairs of turns, crmnet first in every other pair; a turn is the median seconds per call of
//! at least `CRMNET_BENCH_SECONDS` (1) of calls after an untimed warm-up. This machine's speed
//! drifts over minutes: both turns of a pair see nearly the same machine, so each pair's ratio
//! is a fair comparison, and the run prints their median, their range and how many pairs
//! crmnet won.
//!
//! `bash benches/side-by-side.sh` installs TensorFlow into a virtual environment and runs this
//! (`cargo bench --bench side_by_side`, with `PYTHON` naming the interpreter).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::time::Instant;

use burn::prelude::*;
use burn::tensor::Distribution;
use crmnet::backend::Backend;
use crmnet::inference::Predictor;
use crmnet::model::Preset;
use crmnet::weights;
use serde_json::Value;

use common::{TrainingStep, model, peak_gflops, records};

const BATCHES: [usize; 3] = [1, 64, 1024];
/// Rows whose predictions are compared, and the largest batch timed.
const ROWS: usize = 1024;

fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Seconds of calls a turn lasts at least.
fn turn_seconds() -> f64 {
    setting("CRMNET_BENCH_SECONDS", 1.0)
}

/// Median seconds per call over at least [`turn_seconds`], at least one call: what the Keras
/// side's `turn` measures.
fn turn(mut call: impl FnMut()) -> f64 {
    let (started, mut times) = (Instant::now(), Vec::new());
    while times.is_empty() || started.elapsed().as_secs_f64() < turn_seconds() {
        let begin = Instant::now();
        call();
        times.push(begin.elapsed().as_secs_f64());
    }
    median(times)
}

/// flex's own rate on a large square matrix product: what this library gets out of this CPU
/// at best, a practical ceiling beside the nominal peak (cores may run above their base clock).
fn matmul_gflops() -> f64 {
    const SIZE: usize = 2048;
    let device = Device::flex();
    let random = || Tensor::<2>::random([SIZE, SIZE], Distribution::Normal(0.0, 1.0), &device);
    let (a, b) = (random(), random());
    let product = || {
        let _ = a.clone().matmul(b.clone()).into_data();
    };
    product();
    2.0 * (SIZE as f64).powi(3) / turn(product) / 1e9
}

fn lines(path: &Path, values: impl Iterator<Item = String>) {
    std::fs::write(path, values.collect::<Vec<_>>().join("\n")).expect("temporary file");
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

/// The Keras side, up for the whole comparison of one preset.
struct Keras {
    process: Child,
    requests: ChildStdin,
    answers: BufReader<ChildStdout>,
    /// Its standard error (TensorFlow's log), shown if it stops.
    log: std::path::PathBuf,
    /// Its agreement with crmnet's predictions and its versions (the first line it prints).
    agreement: Value,
}

impl Keras {
    fn start(weights_path: &Path, file: &dyn Fn(&str) -> std::path::PathBuf) -> Self {
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/keras/crmnet_keras.py");
        let log = file("keras-log");
        let mut process = Command::new(&python)
            .arg(&script)
            .arg("--weights")
            .arg(weights_path)
            .args(["sequences", "targets", "reference"].map(|name| {
                let mut pair = std::ffi::OsString::from(format!("--{name}="));
                pair.push(file(name));
                pair
            }))
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("temporary file"))
            .spawn()
            .unwrap_or_else(|e| panic!("{python}: {e} (run benches/side-by-side.sh)"));
        let requests = process.stdin.take().expect("piped stdin");
        let answers = BufReader::new(process.stdout.take().expect("piped stdout"));
        let mut keras = Self {
            process,
            requests,
            answers,
            log,
            agreement: Value::Null,
        };
        keras.agreement = serde_json::from_str(&keras.read_line()).expect("Keras side's JSON");
        keras
    }

    fn read_line(&mut self) -> String {
        let mut line = String::new();
        match self.answers.read_line(&mut line) {
            Ok(n) if n > 0 => line,
            _ => panic!(
                "the Keras side stopped:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            ),
        }
    }

    /// One turn of `case` (`predict` or `train`) on the first `batch` rows: median seconds a
    /// call.
    fn turn(&mut self, case: &str, batch: usize) -> f64 {
        // A failed write means the process ended: `read_line` reports why.
        let _ = writeln!(self.requests, "{case} {batch} {}", turn_seconds());
        self.read_line()
            .trim()
            .parse()
            .expect("seconds from the Keras side")
    }
}

impl Drop for Keras {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// One timed case: what it runs on both sides and its batch.
struct Case {
    label: String,
    keras_request: &'static str,
    batch: usize,
}

fn cases(train_batch: usize) -> Vec<Case> {
    BATCHES
        .iter()
        .map(|&batch| Case {
            label: format!("predict, batch {batch}"),
            keras_request: "predict",
            batch,
        })
        .chain([Case {
            label: format!("train step, batch {train_batch}"),
            keras_request: "train",
            batch: train_batch,
        }])
        .collect()
}

/// Pairs of turns per case.
fn pairs() -> usize {
    setting("CRMNET_BENCH_PAIRS", 12).max(1)
}

/// Compares and times one preset; returns whether Keras agreed.
fn compare(preset: Preset, train_batch: usize, dir: &Path, matmul_rate: f64) -> bool {
    let device = Device::flex();
    let (network, card) = model(preset, &device);
    let weights_path = dir.join(format!("{}.safetensors", preset.name()));
    weights::save_safetensors(&network, &card, &weights_path).expect("export");
    let predictor = Predictor::new(network, card, device);

    let rows = records(ROWS);
    let channels = || rows.iter().map(|r| r.channels.as_slice());
    let reference = predictor.predict(channels()).expect("predict");
    let file = |name: &str| dir.join(format!("{}-{name}.txt", preset.name()));
    lines(&file("sequences"), rows.iter().map(|r| r.sequence.clone()));
    lines(
        &file("targets"),
        rows.iter().map(|r| r.value.unwrap_or(0.0).to_string()),
    );
    lines(&file("reference"), reference.iter().map(f32::to_string));

    let name = preset.name();
    let mut keras = Keras::start(&weights_path, &file);
    let agreement = &keras.agreement;
    let difference = agreement["max_abs_difference"].as_f64().unwrap_or(f64::NAN);
    let spread = agreement["reference_spread"].as_f64().unwrap_or(f64::NAN);
    let agrees = difference <= 1e-3 * spread;
    println!(
        "{name}: TensorFlow {} / Keras {}",
        agreement["tensorflow"], agreement["keras"]
    );
    println!(
        "{name}: Keras vs crmnet on {ROWS} real sequences: max |difference| {difference:.2e}, predictions spread over {spread:.2e}: {}",
        if agrees { "agree" } else { "DISAGREE" }
    );

    let mut step = TrainingStep::new(preset, Backend::Flex, None);
    println!(
        "{name}: {:<22} {:>10} {:>10} {:>7} {:>13} {:>11}   ({} pairs of turns, crmnet first in every other)",
        "sequences/s, median",
        "crmnet",
        "Keras",
        "ratio",
        "pairs' range",
        "crmnet won",
        pairs()
    );
    let mut predict_rate_at_rows = f64::NAN;
    for case in cases(train_batch) {
        let batch = case.batch;
        let mut crmnet_call: Box<dyn FnMut()> = if case.keras_request == "train" {
            Box::new(|| {
                step.run(&rows[..batch]);
            })
        } else {
            let input = predictor.encode(rows[..batch].iter().map(|r| r.channels.as_slice()));
            let predictor = &predictor;
            Box::new(move || {
                predictor.predict_encoded(input.clone()).expect("predict");
            })
        };
        crmnet_call();
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for pair in 0..pairs() {
            if pair % 2 == 0 {
                ours.push(turn(&mut crmnet_call));
                theirs.push(keras.turn(case.keras_request, batch));
            } else {
                theirs.push(keras.turn(case.keras_request, batch));
                ours.push(turn(&mut crmnet_call));
            }
        }
        // Seconds a call, so a pair's speed ratio is Keras' time over crmnet's.
        let ratios: Vec<f64> = theirs.iter().zip(&ours).map(|(k, c)| k / c).collect();
        let won = ratios.iter().filter(|&&ratio| ratio > 1.0).count();
        let (lowest, highest) = ratios.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &r| {
            (lo.min(r), hi.max(r))
        });
        let rate = |seconds: Vec<f64>| batch as f64 / median(seconds);
        let crmnet_rate = rate(ours);
        if case.keras_request == "predict" && batch == ROWS {
            predict_rate_at_rows = crmnet_rate;
        }
        println!(
            "{name}: {:<22} {crmnet_rate:>10.1} {:>10.1} {:>6.2}x {:>13} {:>5} of {}",
            case.label,
            rate(theirs),
            median(ratios),
            format!("{lowest:.2}x-{highest:.2}x"),
            won,
            pairs()
        );
    }
    if let Some((peak, how)) = peak_gflops() {
        let flops = predictor.card().architecture.forward_flops() as f64;
        let achieved = predict_rate_at_rows * flops / 1e9;
        println!(
            "{name}: {:.3} GFLOP a sequence; predict at batch {ROWS} (median): {achieved:.1} GFLOP/s = {:.1} % of the {peak:.0} GFLOP/s nominal peak ({how}), {:.1} % of flex's matmul rate",
            flops / 1e9,
            100.0 * achieved / peak,
            100.0 * achieved / matmul_rate
        );
    }
    agrees
}

fn main() -> ExitCode {
    crmnet::allocator::keep_freed_memory();
    let dir = tempfile::tempdir().expect("temporary directory");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("crmnet (flex backend) vs TensorFlow/Keras, same weights, {cores} CPU threads");
    let matmul_rate = matmul_gflops();
    println!("flex, 2048 x 2048 x 2048 float32 matmul: {matmul_rate:.1} GFLOP/s");
    let mut agreed = true;
    for (preset, train_batch) in [(Preset::CrmnetWeb, 128), (Preset::Crmnet, 32)] {
        agreed &= compare(preset, train_batch, dir.path(), matmul_rate);
    }
    if agreed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
