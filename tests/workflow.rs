//! Scoring a large file in shards: `crmnet predict --shard K/N` parts concatenate to the
//! single-process output, and the Snakemake workflow (`workflow/Snakefile`) runs the parts in
//! parallel and merges them; a failed part fails it without a merged file, and a second run
//! runs only the missing parts.
//!
//! Needs Snakemake: `.ci/setup` installs it into `target/snakemake-venv`; `CRMNET_SNAKEMAKE`
//! names another.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{crmnet, succeed};

const ROWS: usize = 20_000;

fn snakemake() -> PathBuf {
    std::env::var_os("CRMNET_SNAKEMAKE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/snakemake-venv/bin/snakemake")
        })
}

fn binary() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_crmnet")).to_path_buf()
}

/// The workflow on `input` with `shards` parts through the `crmnet` at `program`; its status
/// and standard error.
fn workflow(
    dir: &Path,
    input: &Path,
    output: &Path,
    shards: usize,
    program: &Path,
) -> (bool, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = Command::new(snakemake())
        .current_dir(dir)
        .arg("-s")
        .arg(root.join("workflow/Snakefile"))
        .arg("--profile")
        .arg(root.join("workflow/profiles/local"))
        .args(["--cores", "2", "--config"])
        .arg(format!("input={}", input.display()))
        .arg(format!("output={}", output.display()))
        .arg(format!("shards={shards}"))
        .arg(format!("crmnet={}", program.display()))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (bash .ci/setup installs Snakemake)",
                snakemake().display()
            )
        });
    (
        run.status.success(),
        String::from_utf8_lossy(&run.stderr).into_owned(),
    )
}

#[test]
fn shards_concatenate_to_the_whole_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("promoters.txt");
    let input_s = input.to_str().unwrap();
    succeed(&["simulate", "--n", "1001", "--seed", "4", "-o", input_s]);
    let whole = succeed(&["predict", "-i", input_s]);
    let mut joined = String::new();
    for index in 1..=3 {
        let part = succeed(&["predict", "-i", input_s, "--shard", &format!("{index}/3")]);
        let mut lines = part.lines();
        let header = lines.next().unwrap();
        if index == 1 {
            joined.push_str(header);
            joined.push('\n');
        }
        for line in lines {
            joined.push_str(line);
            joined.push('\n');
        }
    }
    assert_eq!(joined, whole);
    // More parts than records: the extra parts are empty, not errors.
    let tiny = dir.path().join("two.fa");
    std::fs::write(&tiny, ">a\nACGT\n>b\nTTGA\n").unwrap();
    let empty = succeed(&["predict", "-i", tiny.to_str().unwrap(), "--shard", "2/5"]);
    assert_eq!(empty, "id\tsequence\tprediction\n");
    for (args, reason) in [
        (vec!["--shard", "0/3"], "expected K/N"),
        (vec!["--shard", "4/3"], "expected K/N"),
        (vec!["--shard", "1/3", "--format", "json"], "--format json"),
    ] {
        let mut all = vec!["predict", "-i", input_s];
        all.extend(args);
        common::refused(&all, reason);
    }
    let piped = crmnet(&["predict", "-i", "-", "--shard", "1/2"]);
    assert!(!piped.status.success());
    assert!(String::from_utf8_lossy(&piped.stderr).contains("give a file, not -"));
}

#[test]
fn the_workflow_merges_parts_in_order_fails_cleanly_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("promoters.txt");
    succeed(&[
        "simulate",
        "--n",
        &ROWS.to_string(),
        "--seed",
        "5",
        "-o",
        input.to_str().unwrap(),
    ]);
    let single = dir.path().join("single.tsv");
    succeed(&[
        "predict",
        "-i",
        input.to_str().unwrap(),
        "-o",
        single.to_str().unwrap(),
    ]);

    // A crmnet whose part 2 fails: the workflow fails, and no merged file exists.
    let failing = dir.path().join("failing-crmnet");
    std::fs::write(
        &failing,
        format!(
            "#!/bin/sh\ncase \"$*\" in *'--shard 2/4'*) echo 'part 2 fails' >&2; exit 3;; esac\nexec {} \"$@\"\n",
            binary().display()
        ),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&failing)
        .status()
        .unwrap();
    let merged = dir.path().join("merged.tsv");
    let (ok, log) = workflow(dir.path(), &input, &merged, 4, &failing);
    assert!(!ok, "{log}");
    assert!(!merged.exists(), "a failed part left a merged file");
    let parts = dir.path().join("merged.tsv.parts");
    let part = |k: usize| parts.join(format!("{k}-of-4.tsv"));
    assert!(!part(2).exists(), "the failed part left a file");
    let done: Vec<usize> = (1..=4).filter(|&k| part(k).exists()).collect();
    let modified: Vec<_> = done
        .iter()
        .map(|&k| std::fs::metadata(part(k)).unwrap().modified().unwrap())
        .collect();

    // Again with the working crmnet: only the missing parts run, then the merge.
    let (ok, log) = workflow(dir.path(), &input, &merged, 4, &binary());
    assert!(ok, "{log}");
    for (&k, before) in done.iter().zip(&modified) {
        assert_eq!(
            std::fs::metadata(part(k)).unwrap().modified().unwrap(),
            *before,
            "part {k} ran again"
        );
    }
    assert!(log.contains("--shard 2/4"), "{log}");
    assert_eq!(
        std::fs::read_to_string(&merged).unwrap(),
        std::fs::read_to_string(&single).unwrap(),
        "the merged parts differ from one crmnet predict run"
    );
}
