//! Regression metrics reported by the paper and its peers. Each is `NaN` where it is undefined
//! (fewer than two points, or a constant series for the correlations), never a panic.

/// All metrics of one prediction set against measurements.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    pub n: usize,
    // Correlations of constant predictions (a collapsed network) are NaN, which JSON writes as
    // null: read back as NaN, so that such a checkpoint's card still loads.
    #[serde(deserialize_with = "number_or_nan")]
    pub pearson: f64,
    #[serde(deserialize_with = "number_or_nan")]
    pub spearman: f64,
    #[serde(deserialize_with = "number_or_nan")]
    pub r2: f64,
    #[serde(deserialize_with = "number_or_nan")]
    pub mse: f64,
    #[serde(deserialize_with = "number_or_nan")]
    pub mae: f64,
}

fn number_or_nan<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    <Option<f64> as serde::Deserialize>::deserialize(deserializer)
        .map(|value| value.unwrap_or(f64::NAN))
}

impl Metrics {
    pub fn compute(predicted: &[f64], measured: &[f64]) -> Self {
        assert_eq!(
            predicted.len(),
            measured.len(),
            "one prediction per measurement"
        );
        Self {
            n: predicted.len(),
            pearson: pearson(predicted, measured),
            spearman: spearman(predicted, measured),
            r2: r2(predicted, measured),
            mse: mse(predicted, measured),
            mae: mae(predicted, measured),
        }
    }
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

/// Pearson's correlation coefficient.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    if x.len() < 2 {
        return f64::NAN;
    }
    let (mean_x, mean_y) = (mean(x), mean(y));
    let (mut covariance, mut var_x, mut var_y) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mean_x, b - mean_y);
        covariance += dx * dy;
        var_x += dx * dx;
        var_y += dy * dy;
    }
    covariance / (var_x * var_y).sqrt()
}

/// Ranks starting at 1, ties given the average of the ranks they span.
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let rank = (start + end + 1) as f64 / 2.0;
        for &index in &order[start..end] {
            ranks[index] = rank;
        }
        start = end;
    }
    ranks
}

/// Spearman's rank correlation: Pearson's r of the average ranks.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&average_ranks(x), &average_ranks(y))
}

/// Area under the ROC curve of `positives` against `negatives` (the Mann-Whitney U over the
/// product of the counts): the chance that a positive scores above a negative, ties counting
/// half; NaN when either is empty.
pub fn auroc(positives: &[f64], negatives: &[f64]) -> f64 {
    if positives.is_empty() || negatives.is_empty() {
        return f64::NAN;
    }
    let all: Vec<f64> = positives.iter().chain(negatives).copied().collect();
    let ranks = average_ranks(&all);
    let (n1, n0) = (positives.len() as f64, negatives.len() as f64);
    let positive_ranks: f64 = ranks[..positives.len()].iter().sum();
    (positive_ranks - n1 * (n1 + 1.0) / 2.0) / (n1 * n0)
}

/// Coefficient of determination of `predicted` as a model of `measured`.
pub fn r2(predicted: &[f64], measured: &[f64]) -> f64 {
    let mean_measured = mean(measured);
    let residual: f64 = predicted
        .iter()
        .zip(measured)
        .map(|(p, m)| (m - p).powi(2))
        .sum();
    let total: f64 = measured.iter().map(|m| (m - mean_measured).powi(2)).sum();
    if measured.len() < 2 || total == 0.0 {
        return f64::NAN;
    }
    1.0 - residual / total
}

pub fn mse(predicted: &[f64], measured: &[f64]) -> f64 {
    mean(
        &predicted
            .iter()
            .zip(measured)
            .map(|(p, m)| (p - m).powi(2))
            .collect::<Vec<_>>(),
    )
}

pub fn mae(predicted: &[f64], measured: &[f64]) -> f64 {
    mean(
        &predicted
            .iter()
            .zip(measured)
            .map(|(p, m)| (p - m).abs())
            .collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_the_average_rank() {
        assert_eq!(
            average_ranks(&[10.0, 20.0, 10.0, 30.0]),
            vec![1.5, 3.0, 1.5, 4.0]
        );
    }

    #[test]
    fn hand_computed_values() {
        let measured = [1.0, 2.0, 3.0, 4.0];
        let predicted = [1.5, 1.5, 3.5, 3.5];
        let m = Metrics::compute(&predicted, &measured);
        assert!((m.mse - 0.25).abs() < 1e-12);
        assert!((m.mae - 0.5).abs() < 1e-12);
        assert!((m.r2 - 0.8).abs() < 1e-12);
        assert!((m.pearson - 0.894_427_190_999_915_9).abs() < 1e-12);
        // ranks 1.5 1.5 3.5 3.5 against 1 2 3 4
        assert!((m.spearman - 0.894_427_190_999_915_9).abs() < 1e-12);
    }

    #[test]
    fn undefined_cases_are_nan_not_panics() {
        assert!(pearson(&[1.0], &[2.0]).is_nan());
        assert!(pearson(&[1.0, 1.0], &[2.0, 3.0]).is_nan());
        assert!(r2(&[1.0, 2.0], &[3.0, 3.0]).is_nan());
        assert!(mse(&[], &[]).is_nan());
    }

    #[test]
    fn auroc_counts_pairs_won_and_half_the_ties() {
        // Pairs (p, n): 3>1, 3>2, 3=3 (half), 2>1, 2=2 (half), 2<3: 4 of 6 won.
        assert!((auroc(&[3.0, 2.0], &[1.0, 2.0, 3.0]) - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!(auroc(&[5.0, 6.0], &[1.0, 2.0]), 1.0);
        assert_eq!(auroc(&[1.0], &[2.0]), 0.0);
        assert!(auroc(&[], &[1.0]).is_nan());
    }

    /// Constant predictions give NaN correlations; their JSON (null) reads back as NaN.
    #[test]
    fn metrics_of_constant_predictions_survive_json() {
        let metrics = Metrics::compute(&[1.0, 1.0, 1.0], &[0.0, 1.0, 2.0]);
        assert!(metrics.pearson.is_nan());
        let json = serde_json::to_string(&metrics).unwrap();
        assert!(json.contains("\"pearson\":null"), "{json}");
        let back: Metrics = serde_json::from_str(&json).unwrap();
        assert!(back.pearson.is_nan() && back.spearman.is_nan());
        assert_eq!(back.mse, metrics.mse);
    }
}
