//! What both benchmarks need: real sequences, the models, and one training step.
#![allow(dead_code)] // each benchmark uses its own subset

use std::path::PathBuf;

use burn::optim::{AdamConfig, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::FloatDType;
use crmnet::backend::Backend;
use crmnet::data::readers::{Columns, InputFormat, Record, SequenceReader};
use crmnet::inference::Predictor;
use crmnet::model::{Network, Preset};
use crmnet::train::parallel::DataParallel;
use crmnet::weights::{self, ModelCard};

/// The command line's allocator (see Cargo.toml), so that the benchmarks time what it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The shared real data beside the checkout (`CRMNET_DATA` overrides), as in the tests.
pub fn data_file(name: &str) -> PathBuf {
    std::env::var_os("CRMNET_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
        .join(name)
}

/// `count` measured rows of the native-complex test set, cycled when more are asked for.
pub fn records(count: usize) -> Vec<Record> {
    let path = data_file("test_native_complex.tsv");
    let columns = Columns {
        value: Some("measured".into()),
        ..Columns::default()
    };
    let rows: Vec<Record> =
        SequenceReader::open(&path.to_string_lossy(), InputFormat::Table, &columns)
            .and_then(|reader| reader.collect::<Result<_, _>>())
            .unwrap_or_else(|e| panic!("{e}"));
    rows.into_iter().cycle().take(count).collect()
}

/// `crmnet-web` trained on the pool (`models/crmnet-web.bpk`), or the other presets with
/// seeded weights (their speed does not depend on the values).
pub fn model(preset: Preset, device: &Device) -> (Network, ModelCard) {
    match preset {
        Preset::CrmnetWeb => weights::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/crmnet-web.bpk"),
            device,
        )
        .expect("crmnet-web weights"),
        _ => {
            device.seed(0);
            let architecture = preset.architecture();
            let model = Network::new(&architecture, device).expect("preset");
            let card = ModelCard::describe(preset.name(), &architecture, &model);
            (model, card)
        }
    }
}

/// `CRMNET_BENCH_FLOAT=f16|bf16` runs the benchmarks' devices in that float type (burn's mixed
/// precision: the device's float dtype, as `train --precision` sets it); float32 by default.
fn float_dtype() -> Option<FloatDType> {
    match std::env::var("CRMNET_BENCH_FLOAT").as_deref() {
        Err(_) | Ok("f32") => None,
        Ok("f16") => Some(FloatDType::F16),
        Ok("bf16") => Some(FloatDType::BF16),
        Ok(other) => panic!("CRMNET_BENCH_FLOAT={other}: expected f32, f16 or bf16"),
    }
}

/// The backend's name in benchmark ids, with the float type when it is not float32.
pub fn label(backend: Backend) -> String {
    match std::env::var("CRMNET_BENCH_FLOAT") {
        Ok(float) if float != "f32" => format!("{backend}-{float}"),
        _ => backend.to_string(),
    }
}

/// The backend's device in the float type `CRMNET_BENCH_FLOAT` asks for.
pub fn device(backend: Backend) -> Device {
    let mut device = backend.device().expect("backend");
    if let Some(dtype) = float_dtype()
        && device.settings().float_dtype != dtype
    {
        assert!(
            device.supports_dtype(dtype),
            "{backend} cannot compute in {dtype:?}"
        );
        device
            .configure(dtype)
            .unwrap_or_else(|e| panic!("{backend}: {e:?}"));
    }
    device
}

pub fn predictor(preset: Preset, backend: Backend) -> Predictor {
    let device = device(backend);
    let (model, card) = model(preset, &device);
    Predictor::new(model, card, device)
}

/// The `train` command's own optimiser step (forward, Huber loss, backward, Adam) on one
/// device of `backend`.
pub struct TrainingStep {
    parallel: DataParallel,
    model: Option<Network>,
    optimizer: ModuleOptimizer,
}

impl TrainingStep {
    /// `micro_batch_size`: rows per forward/backward pass (see `train --micro-batch-size`).
    pub fn new(preset: Preset, backend: Backend, micro_batch_size: Option<usize>) -> Self {
        let device = device(backend).autodiff();
        let (model, card) = model(preset, &device);
        Self {
            parallel: DataParallel::new(
                vec![device],
                backend.workers_per_device(),
                1.0,
                card.architecture.input_window(),
                micro_batch_size,
            ),
            model: Some(model),
            optimizer: AdamConfig::new().init(),
        }
    }

    /// One step on `batch`; returns its loss.
    pub fn run(&mut self, batch: &[Record]) -> f64 {
        let model = self.model.take().expect("model");
        let (model, loss) = self
            .parallel
            .step(model, &mut self.optimizer, batch, 1e-4)
            .expect("training step");
        self.model = Some(model);
        loss
    }
}

/// The machine's float32 peak, cores x SIMD lanes x 2 FMA units x 2 operations x clock, read
/// from /proc/cpuinfo (Linux x86-64); the two FMA units per core are an assumption that holds
/// for current server cores. Returns GFLOP/s and how it was computed.
pub fn peak_gflops() -> Option<(f64, String)> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let field = |name: &str| {
        info.lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_once(':'))
            .map(|(_, value)| value.trim().to_string())
    };
    let flags = field("flags")?;
    let has = |flag: &str| flags.split_whitespace().any(|f| f == flag);
    let (lanes, simd) = if has("avx512f") {
        (16.0, "AVX-512")
    } else if has("avx2") && has("fma") {
        (8.0, "AVX2")
    } else {
        return None;
    };
    let ghz = field("cpu MHz")?.parse::<f64>().ok()? / 1000.0;
    let cores = std::thread::available_parallelism().ok()?.get() as f64;
    let model = field("model name").unwrap_or_default();
    Some((
        cores * lanes * 2.0 * 2.0 * ghz,
        format!("{model}: {cores} cores x {lanes} {simd} lanes x 2 FMA units x 2 x {ghz:.2} GHz"),
    ))
}
