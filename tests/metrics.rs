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

#[test]
fn rank_and_error_metrics_are_consistent_on_real_predictions() {
    let m = peer_metrics("test_native_complex.tsv", "pred_legnet");
    // Spearman with ties averaged lies near Pearson for a near-linear, near-monotone fit.
    assert!(m.spearman > 0.9 && m.spearman < 1.0, "rho = {}", m.spearman);
    // Same 0-17 scale: R^2 = 1 - MSE / variance(measured).
    let columns = common::tsv_columns("test_native_complex.tsv", &["measured"]);
    let measured = common::parse_floats(&columns[0]);
    let mean = measured.iter().sum::<f64>() / measured.len() as f64;
    let variance = measured.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / measured.len() as f64;
    assert!((m.r2 - (1.0 - m.mse / variance)).abs() < 1e-9);
    assert!(m.mae > 0.0 && m.mae * m.mae <= m.mse + 1e-12);
}
