#![allow(dead_code)] // each test crate uses its own subset

use std::path::PathBuf;

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

pub fn parse_floats(column: &[String]) -> Vec<f64> {
    column.iter().map(|v| v.parse().unwrap()).collect()
}

/// The DeepAtt teacher's Keras file, beside the data (`CRMNET_TEACHERS` overrides the folder).
pub fn deepatt_keras_file() -> PathBuf {
    std::env::var_os("CRMNET_TEACHERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir().join("../teachers"))
        .join("deepatt/DeepAtt_model.h5")
}
