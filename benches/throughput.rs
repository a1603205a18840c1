//! Criterion suite: inference throughput per preset, backend and batch size; saliency and
//! in-silico mutagenesis latency for one sequence; the training step's throughput.
//!
//! `cargo bench --bench throughput` runs it all on the CPU backends; a filter picks a part
//! (`cargo bench --bench throughput -- predict/crmnet-web`). `CRMNET_BENCH_BACKENDS=flex,wgpu`
//! chooses the backends (default `flex,ndarray`; add `wgpu` on a machine with a GPU; the training
//! step skips ndarray), `CRMNET_BENCH_FLOAT=f16` their float type (ids then end in `-f16`) and
//! `CRMNET_BENCH_MICRO_BATCH=512` the training step's rows per pass (ids `1024-micro512`).

mod common;

use std::sync::OnceLock;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use crmnet::backend::Backend;
use crmnet::inference::Predictor;
use crmnet::interpret::{mutagenesis, saliency};
use crmnet::model::Preset;

use common::{TrainingStep, label, predictor, records};

const PRESETS: [Preset; 2] = [Preset::Crmnet, Preset::CrmnetWeb];
const BATCHES: [usize; 3] = [1, 64, 1024];
/// Variants per forward pass in mutagenesis (the CLI uses 256, the npm package 128; on the CPU
/// throughput is flat from batch 64 up, see the predict benchmarks).
const MUTAGENESIS_BATCH: usize = 64;

fn backends() -> Vec<Backend> {
    let names = std::env::var("CRMNET_BENCH_BACKENDS").unwrap_or_else(|_| "flex,ndarray".into());
    names
        .split(',')
        .map(|name| {
            name.trim()
                .parse::<Backend>()
                .unwrap_or_else(|e| panic!("CRMNET_BENCH_BACKENDS: {e}"))
        })
        .collect()
}

/// Loads a model only when a benchmark that the filter selected first needs it.
fn lazy(cell: &OnceLock<Predictor>, preset: Preset, backend: Backend) -> &Predictor {
    cell.get_or_init(|| predictor(preset, backend))
}

fn inference(c: &mut Criterion) {
    let rows = records(*BATCHES.iter().max().unwrap());
    for backend in backends() {
        for preset in PRESETS {
            let mut group =
                c.benchmark_group(format!("predict/{}/{}", preset.name(), label(backend)));
            group.sample_size(10);
            let model = OnceLock::new();
            for batch in BATCHES {
                // One call of the full model on ndarray at batch 1,024 takes minutes; criterion's
                // ten samples of it would take most of an hour.
                if backend == Backend::Ndarray && preset == Preset::Crmnet && batch > 64 {
                    continue;
                }
                group.throughput(Throughput::Elements(batch as u64));
                group.bench_function(BenchmarkId::from_parameter(batch), |b| {
                    let predictor = lazy(&model, preset, backend);
                    let input =
                        predictor.encode(rows[..batch].iter().map(|r| r.channels.as_slice()));
                    b.iter(|| predictor.predict_encoded(input.clone()).expect("readback"))
                });
            }
            group.finish();
        }
    }
}

fn interpretation(c: &mut Criterion) {
    let sequence = records(1).remove(0).channels;
    for preset in PRESETS {
        let mut group = c.benchmark_group(format!(
            "interpret/{}/{}",
            preset.name(),
            label(Backend::Flex)
        ));
        group.sample_size(10);
        let model = OnceLock::new();
        group.bench_function("saliency", |b| {
            let predictor = lazy(&model, preset, Backend::Flex);
            b.iter(|| saliency(predictor, &sequence).expect("readback"))
        });
        group.bench_function("mutagenesis", |b| {
            let predictor = lazy(&model, preset, Backend::Flex);
            b.iter(|| {
                mutagenesis(predictor, &sequence, 0..usize::MAX, MUTAGENESIS_BATCH)
                    .expect("readback")
            })
        });
        group.finish();
    }
}

/// On the CPU, batches small enough for its cores; on a GPU the paper's 1,024 per device.
fn training(c: &mut Criterion) {
    let micro_batch = std::env::var("CRMNET_BENCH_MICRO_BATCH").ok().map(|rows| {
        rows.parse::<usize>()
            .expect("CRMNET_BENCH_MICRO_BATCH: rows")
    });
    for backend in backends() {
        if backend == Backend::Ndarray {
            continue;
        }
        for preset in PRESETS {
            let batch = match (backend, preset) {
                (Backend::Flex, Preset::Crmnet) => 32,
                (Backend::Flex, _) => 128,
                _ => 1024,
            };
            let id = match micro_batch {
                Some(micro) => format!("{batch}-micro{micro}"),
                None => batch.to_string(),
            };
            let rows = records(batch);
            let mut group =
                c.benchmark_group(format!("train-step/{}/{}", preset.name(), label(backend)));
            group.sample_size(10);
            group.throughput(Throughput::Elements(batch as u64));
            let mut step = None;
            group.bench_function(BenchmarkId::from_parameter(id), |b| {
                let step =
                    step.get_or_insert_with(|| TrainingStep::new(preset, backend, micro_batch));
                b.iter(|| step.run(&rows))
            });
            group.finish();
        }
    }
}

criterion_group!(benches, inference, interpretation, training);

/// `criterion_main!`, after the command line's allocator settings.
fn main() {
    crmnet::allocator::keep_freed_memory();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
