mod common;

use crmnet::metrics::Metrics;

fn peer_metrics(file: &str, peer: &str) -> Metrics {
    let columns = common::tsv_columns(file, &["measured", peer]);
    let measured = common::parse_floats(&columns[0]);
    let predicted = common::parse_floats(&columns[1]);
    Metrics::compute(&predicted, &measured)
}

fn assert_4_decimals(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() < 5e-5,
        "{what}: {actual:.6} does not round to {expected}"
    );
}

#[test]
fn published_peer_correlations_are_reproduced() {
    let legnet = peer_metrics("test_native_complex.tsv", "pred_legnet");
    assert_eq!(legnet.n, 3733);
    assert_4_decimals(legnet.pearson, 0.9712, "LegNet r, native complex");
    let transformer = peer_metrics("test_native_complex.tsv", "pred_vaishnav_transformer");
    assert_4_decimals(
        transformer.pearson,
        0.9608,
        "Vaishnav transformer r, native complex",
    );
    let random = peer_metrics("test_random_complex.tsv", "pred_vaishnav_transformer");
    assert_eq!(random.n, 2954);
    assert_4_decimals(
        (random.pearson * 1000.0).round() / 1000.0,
        0.978,
        "transformer r, random complex",
    );
}

/// Values worked out by hand, so that no assertion restates the code's own definition.
#[test]
fn metrics_match_values_worked_by_hand() {
    // Deviations -1.5 -0.5 0.5 1.5 against -1.5 0.5 -0.5 1.5: covariance sum 4 over
    // variance sums 5 and 5; errors 0 1 1 0; the measured values' variance 1.25.
    let m = Metrics::compute(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]);
    assert_eq!(m.n, 4);
    for (what, actual, expected) in [
        ("r", m.pearson, 0.8),
        ("rho", m.spearman, 0.8),
        ("MSE", m.mse, 0.5),
        ("MAE", m.mae, 0.5),
        ("R2", m.r2, 1.0 - 0.5 / 1.25),
    ] {
        assert!((actual - expected).abs() < 1e-12, "{what}: {actual}");
    }
    // Tied predictions share the mean of their ranks (1.5, 1.5, 3, 4): rho is the Pearson r of
    // the ranks, 4.5 / sqrt(4.5 * 5); on a monotone but curved fit r stays below rho = 1.
    let tied = Metrics::compute(&[1.0, 1.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 4.0]);
    assert!((tied.spearman - 4.5 / (4.5f64 * 5.0).sqrt()).abs() < 1e-12);
    let curved = Metrics::compute(&[1.0, 2.0, 4.0, 8.0], &[1.0, 2.0, 3.0, 4.0]);
    assert!((curved.spearman - 1.0).abs() < 1e-12 && curved.pearson < 0.99);
}

/// The README's table of the peers' published predictions on the test sets: every peer row is
/// what their `pred_*` columns give (the rows of our own models are checked by running `eval`,
/// in `tests/train.rs`).
#[test]
fn the_readme_peer_rows_are_what_the_data_files_give() {
    let files = ["test_native_complex.tsv", "test_random_complex.tsv"];
    let headers: Vec<String> = files
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(common::data_dir().join(file)).unwrap();
            text.lines().next().unwrap().to_string()
        })
        .collect();
    let mut checked = 0;
    for cells in common::readme_test_set_rows() {
        let name = cells[0].split_whitespace().next().unwrap();
        if name.starts_with("**") || name == "crmnet-web" {
            continue;
        }
        for ((file, header), printed) in
            files.iter().zip(&headers).zip([&cells[1..3], &cells[3..5]])
        {
            let column = format!("pred_{name}");
            if !header.split('\t').any(|c| c == column) {
                assert_eq!(printed, ["-", "-"], "{name} has no predictions in {file}");
                continue;
            }
            let m = peer_metrics(file, &column);
            assert_4_decimals(
                m.pearson,
                printed[0].parse().unwrap(),
                &format!("{name} r, {file}"),
            );
            assert_4_decimals(
                m.spearman,
                printed[1].parse().unwrap(),
                &format!("{name} rho, {file}"),
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 12, "peer cells checked");
}
