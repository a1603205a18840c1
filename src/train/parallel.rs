//! Synchronous data-parallel optimiser steps on burn-train's multi-device worker pool
//! (`MultiDevicesTrainStep`, the engine of `ExecutionStrategy::multi` with
//! `MultiDeviceOptim::OptimMainDevice`): each device runs forward and backward on its shard of
//! the global batch with its own copy of the weights, the gradients are moved to the first
//! device and summed there (burn's `GradientsAccumulator`), and one optimiser step updates the
//! weights every device starts the next step from. One device is the same path with one worker.
//! A device that cannot hold its whole shard computes it in several passes (micro-batches) whose
//! gradients join the same sum: gradient accumulation on the same machinery. A CPU device
//! serves several workers, one per core, the same way several GPUs do.

use anyhow::{Result, anyhow};
use burn::data::dataloader::{DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;
use burn::module::Module;
use burn::nn::loss::{HuberLossConfig, Reduction};
use burn::optim::{GradientsAccumulator, ModuleOptimizer};
use burn::prelude::*;
use burn::train::train::MultiDevicesTrainStep;
use burn::train::{InferenceStep, RegressionOutput, TrainOutput, TrainStep};

use crate::data::alphabet::InputWindow;
use crate::data::batching::one_hot_batch;
use crate::data::readers::Record;
use crate::model::Network;

/// The model as burn-train's workers see it: one forward/backward on one shard.
#[derive(Module, Debug)]
pub struct Trainee {
    model: Network,
}

/// One device's part of a global batch.
pub struct Shard {
    inputs: Tensor<3>,
    /// `[rows, features]` for an architecture that reads per-sequence features.
    features: Option<Tensor<2>>,
    targets: Tensor<1>,
    /// Rows in the whole global batch: each shard's summed loss is divided by it, so that the
    /// summed gradients of all shards are exactly the gradient of the global batch's mean loss.
    global_rows: usize,
    huber_delta: f32,
}

impl Trainee {
    fn loss(&self, shard: Shard) -> RegressionOutput {
        let predictions = self
            .model
            .forward_with_features(shard.inputs, shard.features);
        let rows = predictions.dims()[0];
        let loss = HuberLossConfig::new(shard.huber_delta).init().forward(
            predictions.clone(),
            shard.targets.clone(),
            Reduction::Sum,
        ) / shard.global_rows as f32;
        RegressionOutput::new(
            loss,
            predictions.reshape([rows, 1]),
            shard.targets.reshape([rows, 1]),
        )
    }
}

impl TrainStep for Trainee {
    type Input = Shard;
    type Output = RegressionOutput;

    fn step(&self, shard: Shard) -> TrainOutput<RegressionOutput> {
        let output = self.loss(shard);
        let gradients = output.loss.backward();
        TrainOutput::new(self, gradients, output)
    }
}

impl InferenceStep for Trainee {
    type Input = Shard;
    type Output = RegressionOutput;

    fn step(&self, shard: Shard) -> RegressionOutput {
        self.loss(shard)
    }
}

/// A loader that hands its worker exactly one shard: the global batch is cut here, so the
/// workers see the same rows whatever the number of devices.
struct OneShard(Option<Shard>);

impl Iterator for OneShard {
    type Item = Result<Shard, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.take().map(Ok)
    }
}

impl DataLoaderIterator<Shard> for OneShard {
    fn progress(&self) -> Progress {
        Progress::new(usize::from(self.0.is_none()), 1, None)
    }
}

pub struct DataParallel {
    /// The workers' autodiff devices (a device once per worker on it); the first holds the
    /// weights and the optimiser state.
    devices: Vec<Device>,
    workers: MultiDevicesTrainStep<Trainee>,
    huber_delta: f32,
    window: InputWindow,
    /// Rows per forward/backward pass on one device; `None`: the whole shard in one pass.
    micro_batch_size: Option<usize>,
}

impl DataParallel {
    /// `workers_per_device` workers share each device, each with its own part of the batch
    /// (whose batch norm normalises over that part, as on several GPUs).
    pub fn new(
        devices: Vec<Device>,
        workers_per_device: usize,
        huber_delta: f64,
        window: InputWindow,
        micro_batch_size: Option<usize>,
    ) -> Self {
        assert!(!devices.is_empty(), "at least one device");
        assert!(workers_per_device > 0, "at least one worker per device");
        assert_ne!(micro_batch_size, Some(0), "micro-batches need rows");
        let devices: Vec<Device> = devices
            .iter()
            .flat_map(|device| std::iter::repeat_n(device.clone(), workers_per_device))
            .collect();
        let workers = MultiDevicesTrainStep::new(&devices);
        Self {
            devices,
            workers,
            huber_delta: huber_delta as f32,
            window,
            micro_batch_size,
        }
    }

    pub fn main_device(&self) -> &Device {
        &self.devices[0]
    }

    /// One optimiser step on `batch` split evenly over the workers (each worker's part in passes
    /// of at most `micro_batch_size` rows); returns the updated model and the batch's mean loss.
    pub fn step(
        &self,
        model: Network,
        optimizer: &mut ModuleOptimizer,
        batch: &[Record],
        learning_rate: f64,
    ) -> Result<(Network, f64)> {
        let shard_rows = batch.len().div_ceil(self.devices.len());
        let pass_rows = self
            .micro_batch_size
            .map_or(shard_rows, |rows| rows.min(shard_rows));
        let trainee = Trainee { model };
        let mut accumulator = GradientsAccumulator::new();
        let mut loss = 0.0;
        // Each round gives every device its next pass; with whole shards there is one round.
        for round in batch.chunks(pass_rows * self.devices.len()) {
            let mut loaders: Vec<Box<dyn DataLoaderIterator<Shard>>> = round
                .chunks(pass_rows)
                .zip(&self.devices)
                .map(|(rows, device)| {
                    Box::new(OneShard(Some(self.shard(rows, batch.len(), device))))
                        as Box<dyn DataLoaderIterator<Shard>>
                })
                .collect();
            let (outputs, _) = self
                .workers
                .step(&mut loaders, &trainee)
                .map_err(|e| anyhow!("training step: {e}"))?;
            for output in outputs {
                // The first read of a pass's results: where a device that could not run the
                // pass (out of memory, a buffer over its size limit) reports it.
                let pass_loss = output
                    .output
                    .item
                    .loss
                    .try_into_scalar::<f32>()
                    .map_err(|e| {
                        anyhow!(
                            "training step on {pass_rows} rows per device pass failed: {e}\n\
                             (a device that cannot hold that many rows fails so: lower \
                             --micro-batch-size, or --batch-size)"
                        )
                    })?;
                loss += f64::from(pass_loss);
                let gradients = output
                    .output
                    .grads
                    .to_device(self.main_device(), &trainee.model);
                accumulator.accumulate(&trainee.model, gradients);
            }
        }
        let model = optimizer.step(learning_rate, trainee.model, accumulator.grads());
        Ok((model, loss))
    }

    fn shard(&self, rows: &[Record], global_rows: usize, device: &Device) -> Shard {
        let inputs = one_hot_batch(
            rows.iter().map(|r| r.channels.as_slice()),
            self.window,
            device,
        );
        let targets: Vec<f32> = rows
            .iter()
            .map(|r| r.value.expect("training rows carry values") as f32)
            .collect();
        let width = rows.first().map_or(0, |r| r.features.len());
        let features = (width > 0).then(|| {
            let values: Vec<f32> = rows.iter().flat_map(|r| r.features.clone()).collect();
            Tensor::from_data(TensorData::new(values, [rows.len(), width]), device)
        });
        Shard {
            inputs,
            features,
            targets: Tensor::from_floats(targets.as_slice(), device),
            global_rows,
            huber_delta: self.huber_delta,
        }
    }
}
