//! The training command line, end to end through the binary, on generated and real data.
#![cfg(feature = "train")]

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn crmnet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crmnet"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn succeed(args: &[&str]) -> String {
    let run = crmnet(args);
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(run.status.success(), "{args:?} failed:\n{stderr}");
    String::from_utf8(run.stdout).unwrap() + &stderr
}

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
    std::fs::read_to_string(run.join("metrics.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}

const TINY: [&str; 6] = [
    "--arch",
    "crmnet-tiny",
    "--batch-size",
    "256",
    "--warmup-epochs",
    "1",
];

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
    let mut args = vec!["train", "--data", &data, "--out", run_s, "--epochs", "1"];
    args.extend(TINY);
    succeed(&args);
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
}

#[test]
fn a_killed_run_resumes_losing_only_the_unfinished_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(dir.path(), 4000, 3);
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    let mut args = vec![
        "train",
        "--data",
        &data,
        "--out",
        run_s,
        "--epochs",
        "4",
        "--patience",
        "10",
    ];
    args.extend(TINY);
    let mut child = Command::new(env!("CARGO_BIN_EXE_crmnet"))
        .args(&args)
        .stderr(Stdio::null())
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
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let done_before = metrics_lines(&run).len();
    assert!(
        (1..4).contains(&done_before),
        "{done_before} epochs before the kill"
    );

    succeed(&["train", "--data", &data, "--out", run_s, "--resume"]);
    let lines = metrics_lines(&run);
    assert_eq!(lines.len(), 4);
    let epochs: Vec<&str> = lines.iter().map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(epochs, ["1", "2", "3", "4"]);
    let leftovers: Vec<_> = std::fs::read_dir(&run)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert!(
        leftovers
            .iter()
            .all(|n| !n.to_string_lossy().starts_with(".crmnet-partial")),
        "{leftovers:?}"
    );
}

#[test]
fn a_bad_training_row_stops_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("bad.txt");
    let mut text = std::fs::read_to_string(simulate(dir.path(), 300, 5)).unwrap();
    text.push_str("ACGTQACGT\t3.5\n");
    std::fs::write(&data, text).unwrap();
    let data = data.to_str().unwrap();
    let mut args = vec![
        "train",
        "--data",
        data,
        "--out",
        dir.path().join("run").to_str().unwrap().to_string().leak(),
        "--epochs",
        "1",
    ];
    args.extend(TINY);
    let run = crmnet(&args);
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(&format!("{data}:301: invalid character 'Q' at position 5")),
        "{stderr}"
    );
}

#[test]
fn eval_of_the_embedded_model_reproduces_the_readme_table() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let row = readme
        .lines()
        .find(|l| l.starts_with("| **crmnet"))
        .expect("README table row");
    let published: Vec<&str> = row
        .split('|')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .skip(1)
        .collect();
    let mut measured = Vec::new();
    for file in ["test_native_complex.tsv", "test_random_complex.tsv"] {
        let output = succeed(&["eval", "--data", &common::data_file(file)]);
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
    assert_eq!(published, measured);
}
