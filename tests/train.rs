//! The training command line, end to end through the binary, on generated and real data.
#![cfg(feature = "train")]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{crmnet, refused, succeed};

fn simulate(dir: &Path, n: usize, seed: u64) -> String {
    let path = dir.join(format!("sim-{n}-{seed}.txt"));
    let path = path.to_str().unwrap().to_string();
    succeed(&[
        "simulate",
        "--n",
        &n.to_string(),
        "--seed",
        &seed.to_string(),
        "-o",
        &path,
    ]);
    path
}

fn metrics_lines(run: &Path) -> Vec<String> {
    let text = match std::fs::read_to_string(run.join("metrics.csv")) {
        Ok(text) => text,
        // Only a run killed between its first state file and its first metrics table.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => panic!("metrics.csv: {e}"),
    };
    text.lines().skip(1).map(str::to_string).collect()
}

const TINY: [&str; 6] = [
    "--arch",
    "crmnet-tiny",
    "--batch-size",
    "256",
    "--warmup-epochs",
    "1",
];

/// `crmnet train` arguments for a [`TINY`] run of `epochs` on `data` into `out`, with `extra` flags.
fn tiny_train<'a>(data: &'a str, out: &'a str, epochs: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["train", "--data", data, "--out", out, "--epochs", epochs];
    args.extend(extra);
    args.extend(TINY);
    args
}

#[test]
fn simulate_writes_the_released_format_deterministically() {
    let dir = tempfile::tempdir().unwrap();
    let a = std::fs::read_to_string(simulate(dir.path(), 500, 4)).unwrap();
    let b = std::fs::read_to_string(simulate(dir.path(), 500, 4)).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.lines().count(), 500);
    for line in a.lines() {
        let (sequence, value) = line.split_once('\t').unwrap();
        assert_eq!(sequence.len(), 110);
        assert!(sequence.starts_with("TGCATTTTTTTCACATC") && sequence.ends_with("GGTTACGGCTGTT"));
        let value: f64 = value.parse().unwrap();
        assert!((0.0..=17.0).contains(&value));
    }
}

#[test]
fn one_epoch_on_20k_simulated_rows_then_eval_and_finetune() {
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(dir.path(), 20_000, 1);
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    succeed(&tiny_train(&data, run_s, "1", &[]));
    assert_eq!(metrics_lines(&run).len(), 1);
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("state.json")).unwrap()).unwrap();
    assert_eq!(state["epochs_completed"], 1);
    // 10% held out by hash, the rest trained on.
    let rows = state["history"][0]["train_rows"].as_u64().unwrap();
    assert!((17_000..19_000).contains(&rows), "{rows}");
    let best = run.join("best.bpk");
    let info = succeed(&["info", "--weights", best.to_str().unwrap()]);
    assert!(
        info.contains("\"trained\": true") && info.contains("\"valid\""),
        "{info}"
    );

    let evaluation = succeed(&[
        "eval",
        "--weights",
        best.to_str().unwrap(),
        "--data",
        &common::data_file("test_native_complex.tsv"),
    ]);
    assert!(
        evaluation.contains("legnet") && evaluation.contains("0.9712"),
        "{evaluation}"
    );
    assert!(
        evaluation.contains("crmnet (crmnet-tiny)") && evaluation.contains(" 3733 "),
        "{evaluation}"
    );

    let tuned = dir.path().join("tuned");
    let small = simulate(dir.path(), 3000, 2);
    succeed(&[
        "finetune",
        "--from",
        best.to_str().unwrap(),
        "--data",
        &small,
        "--out",
        tuned.to_str().unwrap(),
        "--epochs",
        "1",
        "--batch-size",
        "256",
    ]);
    let tuned_info = succeed(&[
        "info",
        "--weights",
        tuned.join("best.bpk").to_str().unwrap(),
    ]);
    assert!(tuned_info.contains("finetuned_from"), "{tuned_info}");
    // The recipe names the architecture that was fine-tuned, not the default preset.
    assert!(
        tuned_info.contains(r#""arch": "crmnet-tiny""#),
        "{tuned_info}"
    );
}

/// The flags of the interrupted runs: a tiny model with no warm-up, so that a run restarted
/// from scratch instead of resumed would show a first-epoch loss again.
const INTERRUPTED: [&str; 8] = [
    "--arch",
    "crmnet-tiny",
    "--batch-size",
    "256",
    "--warmup-epochs",
    "0",
    "--patience",
    "50",
];

fn train_loss(line: &str) -> f64 {
    line.split(',').nth(3).unwrap().parse().unwrap()
}

/// What a stopped run left: its completed epochs, their metrics lines, the files in the run
/// folder and the process's standard error.
struct Stopped {
    done: usize,
    lines: Vec<String>,
    files: Vec<String>,
    stderr: String,
}

/// Starts a long training run, waits for its first completed epoch, then sends `signal`.
fn start_then_stop(data: &str, run: &Path, signal: &str) -> Stopped {
    let mut args = vec![
        "train",
        "--data",
        data,
        "--out",
        run.to_str().unwrap(),
        "--epochs",
        "40",
    ];
    args.extend(INTERRUPTED);
    let child = Command::new(env!("CARGO_BIN_EXE_crmnet"))
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !run.join("state.json").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no checkpoint after 5 minutes"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success(), "a stopped run reports failure");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    // The state names the completed epochs; a kill between writing it and the metrics leaves
    // the metrics one line short (or absent after the first epoch), which resume rewrites.
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("state.json")).unwrap()).unwrap();
    let done = state["epochs_completed"].as_u64().unwrap() as usize;
    let mut lines = metrics_lines(run);
    assert!(
        (done - 1..=done).contains(&lines.len()),
        "{lines:?} for {done} epochs"
    );
    lines.truncate(done);
    assert!((1..40).contains(&done), "{done} epochs");
    let files: Vec<String> = std::fs::read_dir(run)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for name in &files {
        assert!(!name.starts_with(".crmnet-partial"), "{name} left behind");
    }
    Stopped {
        done,
        lines,
        files,
        stderr,
    }
}

/// Resumes a stopped run for two more epochs and checks that it continued the same run: the
/// earlier epochs' lines unchanged and not trained again, the resumed process reading the
/// stopped run's last checkpoint, and the loss going on from where it was rather than from a
/// fresh network's.
fn resume_continues(data: &str, run: &Path, stopped: &Stopped) {
    let done = stopped.done;
    let checkpoint = format!("checkpoint-{done:04}.bpk");
    for left in [&checkpoint, "best.bpk"] {
        assert!(
            stopped.files.iter().any(|n| n == left),
            "{left} missing: {:?}",
            stopped.files
        );
        // Complete weights files: they load.
        succeed(&["info", "--weights", run.join(left).to_str().unwrap()]);
    }
    let total = (done + 2).to_string();
    let log = succeed(&[
        "train",
        "--data",
        data,
        "--out",
        run.to_str().unwrap(),
        "--resume",
        "--epochs",
        &total,
    ]);
    assert!(
        log.contains(&format!("resuming {} after epoch {done}", run.display())),
        "{log}"
    );
    for epoch in 1..=done {
        assert!(
            !log.contains(&format!("epoch {epoch}:")),
            "epoch {epoch} trained again:\n{log}"
        );
    }
    let after = metrics_lines(run);
    assert_eq!(after.len(), done + 2);
    let before = &stopped.lines;
    assert_eq!(&after[..before.len()], before, "earlier epochs rewritten");
    // A fresh network's first epoch (the yardstick) against the resumed run's first epoch.
    let fresh = train_loss(&after[0]);
    let resumed = train_loss(&after[done]);
    assert!(
        resumed < 0.5 * fresh,
        "resumed epoch's loss {resumed} against a fresh network's {fresh}"
    );
}

#[test]
fn a_killed_run_resumes_losing_only_the_unfinished_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(dir.path(), 4000, 3);
    let run = dir.path().join("run");
    // SIGKILL: no chance to clean up.
    let stopped = start_then_stop(&data, &run, "-KILL");
    resume_continues(&data, &run, &stopped);
}

/// The window a kill can hit between a checkpoint's state file and its metrics table, made
/// certain: the first epoch's table removed, resume writes every line again.
#[test]
fn resume_rewrites_a_metrics_table_the_kill_left_missing() {
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(dir.path(), 1000, 6);
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    let mut args = vec!["train", "--data", &data, "--out", run_s, "--epochs", "1"];
    args.extend(INTERRUPTED);
    succeed(&args);
    let first = metrics_lines(&run);
    std::fs::remove_file(run.join("metrics.csv")).unwrap();
    succeed(&[
        "train", "--data", &data, "--out", run_s, "--resume", "--epochs", "2",
    ]);
    let after = metrics_lines(&run);
    assert_eq!(after.len(), 2, "{after:?}");
    assert_eq!(after[0], first[0]);
}

#[test]
fn ctrl_c_stops_at_the_last_checkpoint_and_resume_continues() {
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(dir.path(), 4000, 4);
    let run = dir.path().join("run");
    let stopped = start_then_stop(&data, &run, "-INT");
    let (done, stderr) = (stopped.done, &stopped.stderr);
    assert_eq!(
        stopped.lines.len(),
        done,
        "a clean stop writes every metrics line"
    );
    assert!(
        stderr.contains(&format!(
            "interrupted during epoch {}; {done} epochs are checkpointed",
            done + 1
        )) && stderr.contains("continue with --resume"),
        "{stderr}"
    );
    resume_continues(&data, &run, &stopped);
}

#[test]
fn a_bad_training_row_stops_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("bad.txt");
    let mut text = std::fs::read_to_string(simulate(dir.path(), 300, 5)).unwrap();
    text.push_str("ACGTQACGT\t3.5\n");
    std::fs::write(&data, text).unwrap();
    let data = data.to_str().unwrap();
    let out = dir.path().join("run");
    let run = crmnet(&tiny_train(data, out.to_str().unwrap(), "1", &[]));
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(&format!("{data}:301: invalid character 'Q' at position 5")),
        "{stderr}"
    );
}

/// Our rows of the README's test-set table, each what `eval` prints for those weights (the
/// peers' rows are checked against their data columns in `tests/metrics.rs`).
#[test]
fn eval_reproduces_our_rows_of_the_readme_table() {
    let rows = common::readme_test_set_rows();
    let web = concat!(env!("CARGO_MANIFEST_DIR"), "/models/crmnet-web.bpk");
    for (row_start, weights) in [("**crmnet", None), ("crmnet-web ", Some(web))] {
        let row = rows
            .iter()
            .find(|cells| cells[0].starts_with(row_start))
            .unwrap_or_else(|| panic!("README table row {row_start}"));
        let published = &row[1..];
        let mut measured = Vec::new();
        for file in ["test_native_complex.tsv", "test_random_complex.tsv"] {
            let data = common::data_file(file);
            let mut args = vec!["eval", "--data", &data];
            if let Some(weights) = weights {
                args.extend(["--weights", weights]);
            }
            let output = succeed(&args);
            let ours = output
                .lines()
                .find(|l| l.starts_with("crmnet ("))
                .unwrap()
                .to_string();
            let fields: Vec<&str> = ours.split_whitespace().collect();
            let n = fields.len();
            measured.push(fields[n - 5].to_string());
            measured.push(fields[n - 4].to_string());
        }
        assert_eq!(published, measured, "{row_start}");
    }
}

/// Trains a dropout-free tiny model for one epoch on `data` with batch `256 / devices` per
/// device (in passes of `micro_batch` rows, if given) and the learning rate divided by the
/// devices, which the recipe multiplies back (the paper's per-device rule): every run sees the
/// same global batches and step sizes. Returns the epoch's training loss.
fn train_on_devices(
    dir: &Path,
    data: &str,
    devices: usize,
    cpu_workers: usize,
    micro_batch: Option<usize>,
    rate: f64,
    shuffle_buffer: usize,
) -> f64 {
    // Dropout draws differ between one and two workers; without it the runs are comparable.
    let config = crmnet::model::CrmnetConfig::tiny()
        .with_dropout(0.0)
        .with_mlp_dropout(vec![0.0, 0.0]);
    let arch = dir.join("tiny-no-dropout.json");
    std::fs::write(&arch, serde_json::to_string(&config).unwrap()).unwrap();
    let recipe = dir.join("recipe.json");
    let rate = rate / devices as f64;
    std::fs::write(
        &recipe,
        format!(
            r#"{{"batch_size": {}, "lr_start": {rate}, "lr_peak": {rate}, "warmup_epochs": 1, "shuffle_buffer": {shuffle_buffer}, "micro_batch_size": {}}}"#,
            256 / devices,
            micro_batch.map_or("null".into(), |rows| rows.to_string()),
        ),
    )
    .unwrap();
    let run = tempfile::tempdir_in(dir).unwrap();
    let log = succeed(&[
        "train",
        "--data",
        data,
        "--out",
        run.path().to_str().unwrap(),
        "--config",
        recipe.to_str().unwrap(),
        "--arch",
        arch.to_str().unwrap(),
        "--epochs",
        "1",
        "--devices",
        &devices.to_string(),
        "--cpu-workers",
        &cpu_workers.to_string(),
    ]);
    if devices == 2 {
        assert!(
            log.contains("data parallel on 2 flex devices: global batch 256"),
            "{log}"
        );
    }
    metrics_lines(run.path())[0]
        .split(',')
        .nth(3)
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn two_devices_two_workers_or_two_passes_train_like_one_device_with_the_same_global_batch() {
    let dir = tempfile::tempdir().unwrap();
    let simulated = std::fs::read_to_string(simulate(dir.path(), 1024, 5)).unwrap();
    let rows: Vec<&str> = simulated.lines().collect();
    // Four steps, each on a global batch of 256 that is a half-batch of 128 rows twice, read in
    // order: split over two devices, two CPU workers or two passes of 128 rows, each device,
    // worker or pass normalises
    // exactly the rows one device normalises, so only the data-parallel and accumulation
    // machinery (sharding, gradient transfer and sum, the optimiser step) can make runs differ.
    let mut twin = String::from("sequence\texpression\tsplit\n");
    for half in rows[..512].chunks(128) {
        for _ in 0..2 {
            for row in half {
                twin.push_str(&format!("{row}\ttrain\n"));
            }
        }
    }
    for row in &rows[512..] {
        twin.push_str(&format!("{row}\tvalid\n"));
    }
    let twin_file = dir.path().join("twin.tsv");
    std::fs::write(&twin_file, twin).unwrap();
    let twin_file = twin_file.to_str().unwrap();
    let one = train_on_devices(dir.path(), twin_file, 1, 1, None, 4e-3, 1);
    let two = train_on_devices(dir.path(), twin_file, 2, 1, None, 4e-3, 1);
    let workers = train_on_devices(dir.path(), twin_file, 1, 2, None, 4e-3, 1);
    let passes = train_on_devices(dir.path(), twin_file, 1, 1, Some(128), 4e-3, 1);
    // The yardstick: what a step 10% off does to the same run. Data parallelism and gradient
    // accumulation must stay far below it (they agree exactly here, but summation order may
    // differ).
    let off = train_on_devices(dir.path(), twin_file, 1, 1, None, 4.4e-3, 1);
    assert!(
        (one - two).abs() < 0.1 * (one - off).abs(),
        "train loss {one} on one device, {two} on two, {off} with a 10% larger step"
    );
    assert!(
        (one - workers).abs() < 0.1 * (one - off).abs(),
        "train loss {one} with one CPU worker, {workers} with two, {off} with a 10% larger step"
    );
    assert!(
        (one - passes).abs() < 0.1 * (one - off).abs(),
        "train loss {one} in one pass per step, {passes} in two, {off} with a 10% larger step"
    );

    // Shuffled ordinary data: the devices' batch statistics differ (as in any data-parallel
    // training without synchronised batch norm), and the training loss still agrees closely.
    let data = simulate(dir.path(), 3000, 7);
    let one = train_on_devices(dir.path(), &data, 1, 1, None, 2e-3, 100_000);
    let two = train_on_devices(dir.path(), &data, 2, 1, None, 2e-3, 100_000);
    assert!(
        (one - two).abs() < 1e-2 * one,
        "train loss {one} on one device, {two} on two"
    );
}

#[test]
fn bf16_trains_and_a_diverging_run_keeps_its_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(dir.path(), 1500, 6);
    let run = dir.path().join("bf16");
    succeed(&tiny_train(
        &data,
        run.to_str().unwrap(),
        "1",
        &["--precision", "bf16"],
    ));
    let info = succeed(&["info", "--weights", run.join("best.bpk").to_str().unwrap()]);
    assert!(info.contains("\"precision\": \"bf16\""), "{info}");

    // A run that diverges after completed epochs keeps them: the stop leaves the checkpoint,
    // the best weights and the metrics as they were, and names them.
    let diverging = dir.path().join("diverging");
    let diverging_s = diverging.to_str().unwrap();
    succeed(&tiny_train(&data, diverging_s, "1", &[]));
    // Each file's name, size and a hash of its bytes.
    let kept = |dir: &Path| -> Vec<(String, usize, u64)> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .map(|e| {
                let bytes = std::fs::read(e.path()).unwrap();
                let mut hasher = std::hash::DefaultHasher::new();
                std::hash::Hash::hash(&bytes, &mut hasher);
                let name = e.file_name().to_string_lossy().into_owned();
                (name, bytes.len(), std::hash::Hasher::finish(&hasher))
            })
            .collect();
        files.sort();
        files
    };
    let before = kept(&diverging);
    assert!(before.iter().any(|(n, _, _)| n == "checkpoint-0001.bpk"));
    let failed = crmnet(&[
        "train",
        "--data",
        &data,
        "--out",
        diverging_s,
        "--resume",
        "--epochs",
        "2",
        "--lr-peak",
        "1e30",
    ]);
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("the training loss became")
            && stderr.contains(&format!(
                "1 completed epochs are checkpointed in {diverging_s}"
            )),
        "{stderr}"
    );
    assert_eq!(
        kept(&diverging),
        before,
        "the diverging run changed its checkpoints"
    );
}

#[test]
fn training_flags_that_cannot_work_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(dir.path(), 300, 8);
    let out = dir.path().join("run");
    let out = out.to_str().unwrap();
    for (args, reason) in [
        (
            vec!["--sampling-weight", "1", "--sampling-weight", "2"],
            "2 --sampling-weight values for 1 --data files",
        ),
        (vec!["--sampling-weight=-1"], "weights must be positive"),
        (
            vec!["--arch", "crmnet-huge"],
            "unknown architecture 'crmnet-huge'",
        ),
        (vec!["--devices", "0"], "devices must be positive"),
        (
            vec!["--micro-batch-size", "0"],
            "micro_batch_size must be positive",
        ),
        (vec!["--cpu-workers", "0"], "--cpu-workers must be positive"),
        (vec!["--dropout", "1"], "dropout must lie in [0, 1)"),
        (
            vec!["--backend", "wgpu", "--cpu-workers", "2"],
            "--cpu-workers is for the CPU backends",
        ),
    ] {
        let mut all = vec!["train", "--data", &data, "--out", out];
        all.extend(args);
        refused(&all, reason);
    }
    // A bad value in a recipe file is blamed on the file.
    let recipe = dir.path().join("bad.toml");
    std::fs::write(&recipe, "dropout = 1.5\n").unwrap();
    refused(
        &[
            "train",
            "--data",
            &data,
            "--out",
            out,
            "--config",
            recipe.to_str().unwrap(),
        ],
        "bad.toml: dropout must lie in [0, 1)",
    );
    succeed(&tiny_train(&data, out, "1", &[]));
    let other = simulate(dir.path(), 300, 9);
    refused(
        &["train", "--data", &other, "--out", out, "--resume"],
        "--resume continues the run on its own data",
    );
}

/// `--dropout` replaces every dropout rate of the architecture while training, the weights'
/// cards say so, and a resumed run takes the rate it is given.
#[test]
fn training_dropout_is_the_flags_and_a_resumed_run_takes_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(dir.path(), 300, 8);
    let run = dir.path().join("run");
    let out = run.to_str().unwrap();
    let configuration = |epoch: usize| {
        let checkpoint = run.join(format!("checkpoint-{epoch:04}.bpk"));
        let info = succeed(&["info", "--weights", checkpoint.to_str().unwrap()]);
        info.lines()
            .find_map(|line| line.strip_prefix("configuration: "))
            .unwrap()
            .to_string()
    };
    succeed(&tiny_train(&data, out, "1", &["--dropout", "0"]));
    let first = configuration(1);
    assert!(
        first.contains("\"dropout\":0.0") && first.contains("\"mlp_dropout\":[0.0,0.0]"),
        "{first}"
    );
    succeed(&[
        "train",
        "--resume",
        "--out",
        out,
        "--epochs",
        "2",
        "--dropout",
        "0.3",
    ]);
    let second = configuration(2);
    assert!(
        second.contains("\"dropout\":0.3") && second.contains("\"mlp_dropout\":[0.3,0.3]"),
        "{second}"
    );
}

/// The shipped default is exactly what the documented command writes from the carried run
/// (docs/distillation.md, "The choice of the default"): no hand-edited card or weights.
#[test]
fn the_default_model_is_what_the_documented_export_writes() {
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let written = dir.path().join("default.bpk");
    succeed(&[
        "export",
        "--from",
        &format!("{root}/train/checkpoints/distill-deepatt-nodrop/best.bpk"),
        "--name",
        "deepatt-distilled",
        "-o",
        written.to_str().unwrap(),
    ]);
    let shipped = std::fs::read(format!("{root}/models/default.bpk")).unwrap();
    assert!(
        std::fs::read(&written).unwrap() == shipped,
        "models/default.bpk differs from what the documented export writes"
    );
}

/// `export` writes shipping weights: renamed, in float16 at half the size, predicting what the
/// float32 weights predict to float16's precision; and as safetensors with the same card.
#[test]
fn export_renames_halves_and_keeps_the_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/models/crmnet-web.bpk");
    let full = dir.path().join("full.bpk");
    let half = dir.path().join("half.bpk");
    let tensors = dir.path().join("model.safetensors");
    let (full_s, half_s, tensors_s) = (
        full.to_str().unwrap(),
        half.to_str().unwrap(),
        tensors.to_str().unwrap(),
    );
    succeed(&[
        "export", "--from", source, "-o", full_s, "--name", "renamed",
    ]);
    succeed(&["export", "--from", full_s, "-o", half_s, "--half"]);
    succeed(&[
        "export",
        "--from",
        full_s,
        "-o",
        tensors_s,
        "--format",
        "safetensors",
    ]);

    let card = succeed(&["info", "--weights", half_s]);
    assert!(card.contains("\"name\": \"renamed\""), "{card}");
    assert!(card.contains("\"exported_as\": \"float16\""), "{card}");
    let size = |path: &Path| std::fs::metadata(path).unwrap().len() as f64;
    assert!(
        size(&half) < 0.55 * size(&full),
        "{} vs {}",
        size(&half),
        size(&full)
    );
    let header = std::fs::read(&tensors).unwrap();
    assert!(
        String::from_utf8_lossy(&header[..header.len().min(1 << 16)]).contains("renamed"),
        "the safetensors header carries the card"
    );

    let data = common::data_file("test_native_complex.tsv");
    let full_p = predictions(&data, full_s);
    assert_eq!(full_p.len(), 3_733);
    assert_half_keeps_predictions(&full_p, &predictions(&data, half_s));
}

/// `--keep-checkpoints` keeps every epoch's weights (the optimizer state only of the last, for
/// resuming), and `export` with several `--from` files writes their mean, which predicts.
#[test]
fn kept_checkpoints_export_as_their_average() {
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(dir.path(), 1500, 7);
    let run = dir.path().join("kept");
    succeed(&tiny_train(
        &data,
        run.to_str().unwrap(),
        "3",
        &["--keep-checkpoints"],
    ));
    let exists = |name: &str| run.join(name).exists();
    assert!(
        exists("checkpoint-0001.bpk") && exists("checkpoint-0002.bpk"),
        "earlier epochs' weights kept"
    );
    assert!(
        !exists("optimizer-0001.bpk") && exists("optimizer-0003.bpk"),
        "only the last optimizer state kept"
    );

    let checkpoints: Vec<String> = (1..=3)
        .map(|epoch| {
            run.join(format!("checkpoint-{epoch:04}.bpk"))
                .display()
                .to_string()
        })
        .collect();
    let averaged = dir.path().join("averaged.bpk");
    let mut export = vec!["export", "--from"];
    export.extend(checkpoints.iter().map(String::as_str));
    export.extend(["-o", averaged.to_str().unwrap()]);
    succeed(&export);
    let card = succeed(&["info", "--weights", averaged.to_str().unwrap()]);
    assert!(
        card.contains("averaged_from") && card.contains("checkpoint-0003.bpk"),
        "{card}"
    );
    let averaged_p = predictions(&data, averaged.to_str().unwrap());
    let last_p = predictions(&data, &checkpoints[2]);
    assert_eq!(averaged_p.len(), last_p.len());
    assert!(
        averaged_p
            .iter()
            .zip(&last_p)
            .any(|(a, l)| (a - l).abs() > 1e-4),
        "the average is not the last epoch"
    );

    // Weights of another architecture do not average.
    refused(
        &[
            "export",
            "--from",
            &checkpoints[0],
            concat!(env!("CARGO_MANIFEST_DIR"), "/models/crmnet-web.bpk"),
            "-o",
            dir.path().join("mixed.bpk").to_str().unwrap(),
        ],
        "only weights of one architecture average",
    );
}

/// The prediction column of `crmnet predict`'s TSV output.
fn prediction_column(tsv: &str) -> Vec<f64> {
    tsv.lines()
        .skip(1)
        .map(|line| line.rsplit('\t').next().unwrap().parse().unwrap())
        .collect()
}

/// What `crmnet predict` predicts for `input` with `weights`.
fn predictions(input: &str, weights: &str) -> Vec<f64> {
    prediction_column(&succeed(&["predict", "-i", input, "--weights", weights]))
}

/// Float16 weights predict what their float32 source predicts, to float16's precision.
fn assert_half_keeps_predictions(full: &[f64], half: &[f64]) {
    assert_eq!(full.len(), half.len());
    let largest = full
        .iter()
        .zip(half)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(largest < 0.05, "float16 moved a prediction by {largest}");
}

/// Camformer goes through the same commands as CRMnet: `camformer-web` trains two epochs on
/// simulated rows and learns (validation r rises), `eval` reports it on a real test file beside
/// the peers, `export --half` writes weights that `predict` runs and that predict what the
/// float32 weights predict to float16's precision.
#[test]
fn camformer_trains_evaluates_exports_and_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(dir.path(), 3000, 1);
    let run = dir.path().join("run");
    succeed(&[
        "train",
        "--data",
        &data,
        "--out",
        run.to_str().unwrap(),
        "--arch",
        "camformer-web",
        "--epochs",
        "2",
        "--batch-size",
        "128",
        "--warmup-epochs",
        "1",
    ]);
    let valid_r: Vec<f64> = metrics_lines(&run)
        .iter()
        .map(|line| line.split(',').nth(5).unwrap().parse().unwrap())
        .collect();
    assert!(valid_r[1] > valid_r[0] + 0.2, "validation r {valid_r:?}");
    let best = run.join("best.bpk");
    let best_s = best.to_str().unwrap();
    let info = succeed(&["info", "--weights", best_s]);
    assert!(
        info.contains("architecture: camformer-web (camformer)"),
        "{info}"
    );

    let test_file = common::data_file("test_native_complex.tsv");
    let evaluation = succeed(&["eval", "--weights", best_s, "--data", &test_file]);
    assert!(
        evaluation.contains("crmnet (camformer-web)") && evaluation.contains(" 3733 "),
        "{evaluation}"
    );

    let half = dir.path().join("half.bpk");
    succeed(&[
        "export",
        "--from",
        best_s,
        "-o",
        half.to_str().unwrap(),
        "--half",
    ]);
    let full_p = predictions(&data, best_s);
    assert_eq!(full_p.len(), 3000);
    assert_half_keeps_predictions(&full_p, &predictions(&data, half.to_str().unwrap()));
}

/// Xpresso trains on simulated genes (10.5 kb, eight half-life features, `crmnet simulate
/// --kind gene`) through the same commands: its features are read from the table's columns,
/// validation r rises above what a collapsed network gives, `eval` reports it, `export` keeps
/// what it predicts, and a table without the feature columns is predicted from sequence alone.
#[test]
fn xpresso_trains_on_simulated_genes_with_their_features() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("genes.tsv");
    let data_s = data.to_str().unwrap();
    succeed(&[
        "simulate", "--kind", "gene", "--n", "800", "--seed", "3", "-o", data_s,
    ]);
    let run = dir.path().join("run");
    succeed(&[
        "train",
        "--data",
        data_s,
        "--out",
        run.to_str().unwrap(),
        "--arch",
        "xpresso",
        "--config",
        concat!(env!("CARGO_MANIFEST_DIR"), "/train/xpresso.toml"),
        "--epochs",
        "6",
    ]);
    let valid_r: Vec<f64> = metrics_lines(&run)
        .iter()
        .map(|line| line.split(',').nth(5).unwrap().parse().unwrap())
        .collect();
    // The two half-life features that matter explain r 0.55 of the simulated expression.
    assert!(valid_r.iter().any(|r| *r > 0.3), "validation r {valid_r:?}");
    let best = run.join("best.bpk");
    let best_s = best.to_str().unwrap();
    let evaluation = succeed(&["eval", "--weights", best_s, "--data", data_s]);
    assert!(
        evaluation.contains("crmnet (xpresso)") && evaluation.contains(" 800 "),
        "{evaluation}"
    );
    let exported = dir.path().join("xpresso.bpk");
    succeed(&["export", "--from", best_s, "-o", exported.to_str().unwrap()]);
    let with_features = predictions(data_s, best_s);
    assert_eq!(
        with_features,
        predictions(data_s, exported.to_str().unwrap())
    );
    // The same genes without their feature columns: predicted from sequence alone.
    let bare = dir.path().join("bare.tsv");
    let table = std::fs::read_to_string(&data).unwrap();
    let bare_rows: Vec<String> = table
        .lines()
        .map(|line| line.split('\t').take(2).collect::<Vec<_>>().join("\t"))
        .collect();
    std::fs::write(&bare, bare_rows.join("\n")).unwrap();
    let run = crmnet(&["predict", "-i", bare.to_str().unwrap(), "--weights", best_s]);
    assert!(run.status.success());
    let notice = String::from_utf8_lossy(&run.stderr);
    assert!(
        notice.contains("predicting from sequence alone"),
        "{notice}"
    );
    let alone = prediction_column(&String::from_utf8(run.stdout).unwrap());
    assert_eq!(alone.len(), 800);
    assert_ne!(alone, with_features);
}

/// The published Camformer (16.6 M parameters) itself through the commands, on a few rows (its
/// learning is checked on `camformer-web` above): one epoch, `eval`, `export --half`, and
/// `info` of the exported file with the published count.
#[test]
fn the_full_camformer_trains_evaluates_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(dir.path(), 300, 2);
    let run = dir.path().join("run");
    succeed(&[
        "train",
        "--data",
        &data,
        "--out",
        run.to_str().unwrap(),
        "--arch",
        "camformer",
        "--epochs",
        "1",
        "--batch-size",
        "64",
    ]);
    assert_eq!(metrics_lines(&run).len(), 1);
    let best = run.join("best.bpk");
    let evaluation = succeed(&["eval", "--weights", best.to_str().unwrap(), "--data", &data]);
    assert!(
        evaluation.contains("crmnet (camformer)") && evaluation.contains(" 300 "),
        "{evaluation}"
    );
    let half = dir.path().join("camformer.bpk");
    succeed(&[
        "export",
        "--from",
        best.to_str().unwrap(),
        "-o",
        half.to_str().unwrap(),
        "--half",
    ]);
    let info = succeed(&["info", "--weights", half.to_str().unwrap()]);
    assert!(info.contains("16617217 (16611073 trainable)"), "{info}");
    assert!(std::fs::metadata(&half).unwrap().len() < 35_000_000);
}
