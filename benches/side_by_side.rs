//! crmnet (native, flex) against the same network in TensorFlow/Keras, the original paper's
//! framework, with identical weights, in one run on one machine: the Keras model must predict
//! what crmnet predicts on real sequences, then both are timed the same way (median seconds per
//! call after a warm-up, at least `CRMNET_BENCH_SECONDS` per case), in `CRMNET_BENCH_ROUNDS`
//! rounds (3) that alternate which side goes first, and the median of each round's ratio is
//! printed with every round's.
//!
//! `bash benches/side-by-side.sh` installs TensorFlow into a virtual environment and runs this
//! (`cargo bench --bench side_by_side`, with `PYTHON` naming the interpreter).

mod common;

use std::path::Path;
use std::process::{Command, ExitCode};
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

fn min_seconds() -> f64 {
    std::env::var("CRMNET_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0)
}

/// Median seconds per call after one untimed warm-up, as the Keras side measures.
fn timed(mut call: impl FnMut()) -> f64 {
    call();
    let (started, mut times) = (Instant::now(), Vec::new());
    while times.len() < 3 || started.elapsed().as_secs_f64() < min_seconds() {
        let begin = Instant::now();
        call();
        times.push(begin.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// flex's own rate on a large square matrix product: what this library gets out of this CPU
/// at best, a practical ceiling beside the nominal peak (cores may run above their base clock).
fn matmul_gflops() -> f64 {
    const SIZE: usize = 2048;
    let device = Device::flex();
    let random = || Tensor::<2>::random([SIZE, SIZE], Distribution::Normal(0.0, 1.0), &device);
    let (a, b) = (random(), random());
    let seconds = timed(|| {
        let _ = a.clone().matmul(b.clone()).into_data();
    });
    2.0 * (SIZE as f64).powi(3) / seconds / 1e9
}

fn lines(path: &Path, values: impl Iterator<Item = String>) {
    std::fs::write(path, values.collect::<Vec<_>>().join("\n")).expect("temporary file");
}

/// Rounds of timing per preset, alternating which side goes first: this machine's speed drifts
/// over minutes, so a ratio from one pair of timings can be off by a quarter.
fn rounds() -> usize {
    std::env::var("CRMNET_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(3)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Runs the Keras side once: its agreement with crmnet's predictions and its timings.
fn run_keras(
    weights_path: &Path,
    file: &dyn Fn(&str) -> std::path::PathBuf,
    train_batch: usize,
) -> Value {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/keras/crmnet_keras.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg("--weights")
        .arg(weights_path)
        .arg("--sequences")
        .arg(file("sequences"))
        .arg("--targets")
        .arg(file("targets"))
        .arg("--reference")
        .arg(file("reference"))
        .args(["--train-batch", &train_batch.to_string()])
        .args(["--min-seconds", &min_seconds().to_string()])
        .output()
        .unwrap_or_else(|e| panic!("{python}: {e} (run benches/side-by-side.sh)"));
    if !output.status.success() {
        panic!(
            "{}: {}\n{}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    serde_json::from_slice(&output.stdout).expect("Keras side's JSON")
}

/// Keras' sequences/s for each case, in the order of [`cases`].
fn keras_rates(keras: &Value) -> Vec<f64> {
    let rate = |value: &Value| value.as_f64().unwrap_or(f64::NAN);
    BATCHES
        .iter()
        .map(|batch| rate(&keras["predict_per_second"][batch.to_string()]))
        .chain([rate(&keras["train_step_per_second"])])
        .collect()
}

fn cases(train_batch: usize) -> Vec<String> {
    BATCHES
        .iter()
        .map(|batch| format!("predict, batch {batch}"))
        .chain([format!("train step, batch {train_batch}")])
        .collect()
}

/// Compares and times one preset; returns whether Keras agreed in every round.
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

    let mut step = TrainingStep::new(preset, Backend::Flex, None);
    let inputs: Vec<_> = BATCHES
        .iter()
        .map(|&batch| predictor.encode(rows[..batch].iter().map(|r| r.channels.as_slice())))
        .collect();
    let mut time_crmnet = || -> Vec<f64> {
        let mut rates: Vec<f64> = inputs
            .iter()
            .zip(BATCHES)
            .map(|(input, batch)| {
                batch as f64
                    / timed(|| {
                        predictor.predict_encoded(input.clone()).expect("predict");
                    })
            })
            .collect();
        rates.push(
            train_batch as f64
                / timed(|| {
                    step.run(&rows[..train_batch]);
                }),
        );
        rates
    };

    let name = preset.name();
    let (mut ours, mut theirs, mut agrees) = (Vec::new(), Vec::new(), true);
    for round in 0..rounds() {
        let crmnet_first = round % 2 == 1;
        if crmnet_first {
            ours.push(time_crmnet());
        }
        let keras = run_keras(&weights_path, &file, train_batch);
        if !crmnet_first {
            ours.push(time_crmnet());
        }
        let difference = keras["max_abs_difference"].as_f64().unwrap_or(f64::NAN);
        let spread = keras["reference_spread"].as_f64().unwrap_or(f64::NAN);
        let agreed = difference <= 1e-3 * spread;
        agrees &= agreed;
        if round == 0 || !agreed {
            println!(
                "{name}: TensorFlow {} / Keras {}",
                keras["tensorflow"], keras["keras"]
            );
            println!(
                "{name}: Keras vs crmnet on {ROWS} real sequences: max |difference| {difference:.2e}, predictions spread over {spread:.2e}: {}",
                if agreed { "agree" } else { "DISAGREE" }
            );
        }
        theirs.push(keras_rates(&keras));
    }

    println!(
        "{name}: {:<22} {:>10} {:>10} {:>7}   ratio in each of {} rounds (odd rounds: Keras first)",
        "sequences/s, median",
        "crmnet",
        "Keras",
        "ratio",
        ours.len()
    );
    let column = |rounds: &[Vec<f64>], case: usize| -> Vec<f64> {
        rounds.iter().map(|rates| rates[case]).collect()
    };
    for (case, label) in cases(train_batch).iter().enumerate() {
        let (crmnet_rates, keras_rates) = (column(&ours, case), column(&theirs, case));
        let ratios: Vec<f64> = crmnet_rates
            .iter()
            .zip(&keras_rates)
            .map(|(a, b)| a / b)
            .collect();
        let each = ratios
            .iter()
            .map(|ratio| format!("{ratio:.2}x"))
            .collect::<Vec<_>>()
            .join(" / ");
        println!(
            "{name}: {label:<22} {:>10.1} {:>10.1} {:>6.2}x   {each}",
            median(crmnet_rates),
            median(keras_rates),
            median(ratios),
        );
    }
    if let Some((peak, how)) = peak_gflops() {
        let flops = predictor.card().architecture.forward_flops() as f64;
        let achieved = median(column(&ours, BATCHES.len() - 1)) * flops / 1e9;
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
