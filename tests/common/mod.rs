#![allow(dead_code)] // each test crate uses its own subset

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The shared real data, beside the checkout (`CRMNET_DATA` overrides).
pub fn data_dir() -> PathBuf {
    std::env::var_os("CRMNET_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
}

pub fn data_file(name: &str) -> String {
    data_dir().join(name).to_string_lossy().into_owned()
}

/// Columns of a headered TSV by name.
pub fn tsv_columns(name: &str, wanted: &[&str]) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .from_path(data_dir().join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let header = reader.headers().unwrap().clone();
    let indices: Vec<usize> = wanted
        .iter()
        .map(|w| {
            header
                .iter()
                .position(|h| h == *w)
                .unwrap_or_else(|| panic!("{name}: no column {w}"))
        })
        .collect();
    let mut columns = vec![Vec::new(); wanted.len()];
    for row in reader.records() {
        let row = row.unwrap();
        for (column, &index) in columns.iter_mut().zip(&indices) {
            column.push(row[index].to_string());
        }
    }
    columns
}

/// The rows of the README's test-set table (between its `default-model-table` markers), header
/// left out (the `|---|` separator does not start with `| `): each row's cells, trimmed (the
/// model's name first).
pub fn readme_test_set_rows() -> Vec<Vec<String>> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = readme
        .split("<!-- default-model-table -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- /default-model-table -->").next())
        .expect("README default-model table");
    table
        .lines()
        .filter(|l| l.starts_with("| "))
        .skip(1)
        .map(|row| {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            cells[1..cells.len() - 1]
                .iter()
                .map(|c| c.to_string())
                .collect()
        })
        .collect()
}

pub fn parse_floats(column: &[String]) -> Vec<f64> {
    column.iter().map(|v| v.parse().unwrap()).collect()
}

/// The folder of the published Keras models, beside the data (`CRMNET_TEACHERS` overrides it).
pub fn teachers_dir() -> PathBuf {
    std::env::var_os("CRMNET_TEACHERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir().join("../teachers"))
}

/// The DeepAtt teacher's Keras file.
pub fn deepatt_keras_file() -> PathBuf {
    teachers_dir().join("deepatt/DeepAtt_model.h5")
}

/// The `crmnet` binary run with `args`, no standard input.
pub fn crmnet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crmnet"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Runs `crmnet` and asserts success; returns its standard output followed by its standard error.
pub fn succeed(args: &[&str]) -> String {
    let run = crmnet(args);
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(run.status.success(), "{args:?} failed:\n{stderr}");
    String::from_utf8(run.stdout).unwrap() + &stderr
}

/// Runs `crmnet` and asserts that it fails with `reason` on standard error.
pub fn refused(args: &[&str], reason: &str) {
    let run = crmnet(args);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success() && stderr.contains(reason),
        "{args:?}: {stderr}"
    );
}

/// Largest |a - b| over paired rows, and the row where it occurs.
pub fn largest_difference(a: &[f64], b: &[f64]) -> (f64, usize) {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(a, b)| (a - b).abs())
        .enumerate()
        .fold(
            (0.0, 0),
            |(worst, at), (row, d)| {
                if d > worst { (d, row) } else { (worst, at) }
            },
        )
}

/// Largest minus smallest value.
pub fn spread(values: &[f64]) -> f64 {
    values.iter().cloned().fold(f64::MIN, f64::max)
        - values.iter().cloned().fold(f64::MAX, f64::min)
}
