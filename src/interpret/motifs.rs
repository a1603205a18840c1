//! Known transcription-factor motifs: position frequency matrices in JASPAR's text format
//! (JASPAR 2024 CORE fungi is embedded), scanned on both strands as log-odds scores, and how
//! much of a model's attribution falls on each motif's hits against the same positions in the
//! sequences without a hit (the CRMnet paper's motif-attribution analysis).

use std::fmt;

use super::BASES;
use crate::data::alphabet::{LETTERS, N};
use crate::inference::{Predictor, ReadbackError};
use crate::metrics::auroc;
use crate::random::SplitMix;

/// JASPAR 2024 CORE, fungi, the latest version of every matrix (`motifs/jaspar.py` wrote it
/// from the database the `pyjaspar` package carries). JASPAR is CC BY 4.0: motifs/README.md
/// gives the citation.
pub const JASPAR_FUNGI: &str = include_str!("../../motifs/JASPAR2024_CORE_fungi.jaspar");
/// How reports name the embedded collection.
pub const JASPAR_FUNGI_NAME: &str = "JASPAR 2024 CORE fungi (CC BY 4.0)";

/// Hits are windows scoring at least this share of the way from the matrix's lowest possible
/// score to its highest (TFBSTools and JASPAR's own scans use 0.8; a little stricter keeps the
/// short, degenerate fungal matrices from hitting nearly everywhere in a promoter).
pub const DEFAULT_MIN_RELATIVE_SCORE: f32 = 0.85;

/// Counts added to every cell, spread over the bases like the background, before the log-odds
/// (keeps an unobserved base finite; negligible for matrices built from hundreds of sites).
const PSEUDOCOUNT: f64 = 0.8;
const BACKGROUND: f64 = 0.25;
/// Background windows drawn for each hit when comparing attributions.
const BACKGROUND_PER_HIT: usize = 20;

/// One motif as a log-odds matrix (bits against a uniform background).
#[derive(Debug, Clone, PartialEq)]
pub struct Motif {
    /// The matrix's identifier (JASPAR's `MA0363.3`).
    pub id: String,
    /// The factor it belongs to (`REB1`).
    pub name: String,
    /// `[position][A, C, G, T]`.
    weights: Vec<[f32; BASES]>,
    lowest: f32,
    highest: f32,
}

impl Motif {
    /// From counts `[position][A, C, G, T]`; `None` when a column has no counts at all.
    pub fn from_counts(id: &str, name: &str, counts: &[[f64; BASES]]) -> Option<Motif> {
        let weights: Vec<[f32; BASES]> = counts
            .iter()
            .map(|column| {
                let total: f64 = column.iter().sum();
                (total > 0.0).then(|| {
                    std::array::from_fn(|base| {
                        let frequency =
                            (column[base] + PSEUDOCOUNT * BACKGROUND) / (total + PSEUDOCOUNT);
                        (frequency / BACKGROUND).log2() as f32
                    })
                })
            })
            .collect::<Option<_>>()?;
        if weights.is_empty() {
            return None;
        }
        let extreme = |pick: fn(f32, f32) -> f32| -> f32 {
            weights
                .iter()
                .map(|column| column.iter().copied().reduce(pick).expect("four bases"))
                .sum()
        };
        Some(Motif {
            id: id.to_string(),
            name: name.to_string(),
            lowest: extreme(f32::min),
            highest: extreme(f32::max),
            weights,
        })
    }

    /// Its width in bases.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// The best-scoring site, as letters.
    pub fn consensus(&self) -> String {
        self.weights
            .iter()
            .map(|column| {
                let best = (0..BASES)
                    .max_by(|&a, &b| column[a].total_cmp(&column[b]))
                    .expect("four bases");
                LETTERS[best]
            })
            .collect()
    }

    /// Log-odds score of the window of `channels` starting at `start` on `strand`; `None` when
    /// the window holds an `N`.
    fn score(&self, channels: &[u8], start: usize, strand: Strand) -> Option<f32> {
        let window = &channels[start..start + self.len()];
        let mut score = 0.0;
        for (offset, &code) in window.iter().enumerate() {
            if code == N {
                return None;
            }
            score += match strand {
                Strand::Forward => self.weights[offset][usize::from(code)],
                // The reverse complement read 5'->3': complement of the last base first (the
                // channels A C G T complement as 3 - code).
                Strand::Reverse => self.weights[self.len() - 1 - offset][3 - usize::from(code)],
            };
        }
        Some(score)
    }

    fn relative(&self, score: f32) -> f32 {
        (score - self.lowest) / (self.highest - self.lowest).max(f32::EPSILON)
    }
}

/// Why a motif file cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{source_name}, line {line}: {reason}")]
pub struct MotifFileError {
    pub source_name: String,
    pub line: usize,
    pub reason: String,
}

/// A motif whose rows are being read: its header's line, id and name, and each base's counts.
struct Reading {
    line: usize,
    id: String,
    name: String,
    rows: [Option<Vec<f64>>; BASES],
}

/// Motifs from JASPAR's text format: a `>ID NAME` header, then one row per base, `A [ 3 0 12 ]`
/// (brackets optional), rows in any order. `source_name` names the text in errors.
pub fn parse_jaspar(text: &str, source_name: &str) -> Result<Vec<Motif>, MotifFileError> {
    let error = |line: usize, reason: String| MotifFileError {
        source_name: source_name.to_string(),
        line,
        reason,
    };
    let mut motifs = Vec::new();
    let mut current: Option<Reading> = None;
    let mut finish = |current: Option<Reading>| {
        let Some(Reading {
            line,
            id,
            name,
            rows,
        }) = current
        else {
            return Ok(());
        };
        let mut columns: Vec<[f64; BASES]> = Vec::new();
        for (base, row) in rows.iter().enumerate() {
            let row = row.as_ref().ok_or_else(|| {
                error(line, format!("motif {id} has no row for {}", LETTERS[base]))
            })?;
            if base == 0 {
                columns = vec![[0.0; BASES]; row.len()];
            } else if row.len() != columns.len() {
                return Err(error(
                    line,
                    format!(
                        "motif {id}: the {} row has {} columns, the A row {}",
                        LETTERS[base],
                        row.len(),
                        columns.len()
                    ),
                ));
            }
            for (column, &count) in columns.iter_mut().zip(row) {
                column[base] = count;
            }
        }
        let motif = Motif::from_counts(&id, &name, &columns).ok_or_else(|| {
            error(
                line,
                format!("motif {id} has no columns or a column without counts"),
            )
        })?;
        motifs.push(motif);
        Ok(())
    };
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let text = raw.trim();
        if text.is_empty() {
            continue;
        }
        if let Some(header) = text.strip_prefix('>') {
            finish(current.take())?;
            let mut words = header.split_whitespace();
            let id = words
                .next()
                .ok_or_else(|| error(line, "a header without an identifier".to_string()))?;
            let name = words.collect::<Vec<_>>().join(" ");
            let name = if name.is_empty() {
                id.to_string()
            } else {
                name
            };
            current = Some(Reading {
                line,
                id: id.to_string(),
                name,
                rows: Default::default(),
            });
            continue;
        }
        let Some(Reading { id, rows, .. }) = current.as_mut() else {
            return Err(error(
                line,
                "counts before the first >ID header".to_string(),
            ));
        };
        let letter = text.chars().next().expect("not empty");
        let base = match letter.to_ascii_uppercase() {
            'A' => 0,
            'C' => 1,
            'G' => 2,
            'T' => 3,
            _ => {
                return Err(error(
                    line,
                    format!("expected a row starting with A, C, G or T, found {letter:?}"),
                ));
            }
        };
        if rows[base].is_some() {
            return Err(error(line, format!("motif {id} has two {letter} rows")));
        }
        let counts = text[1..]
            .split(|c: char| c.is_whitespace() || c == '[' || c == ']')
            .filter(|word| !word.is_empty())
            .map(|word| match word.parse::<f64>() {
                Ok(count) if count.is_finite() && count >= 0.0 => Ok(count),
                _ => Err(error(
                    line,
                    format!("{word:?} is not a count (a number >= 0)"),
                )),
            })
            .collect::<Result<Vec<f64>, _>>()?;
        rows[base] = Some(counts);
    }
    finish(current.take())?;
    if motifs.is_empty() {
        return Err(error(0, "no motifs found".to_string()));
    }
    Ok(motifs)
}

/// The embedded JASPAR 2024 CORE fungi collection.
pub fn jaspar_fungi() -> Vec<Motif> {
    parse_jaspar(JASPAR_FUNGI, JASPAR_FUNGI_NAME).expect("the embedded collection parses")
}

/// Which strand a hit lies on: `Reverse` hits match the reverse complement of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strand {
    Forward,
    Reverse,
}

impl fmt::Display for Strand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Strand::Forward => "+",
            Strand::Reverse => "-",
        })
    }
}

/// A window of a sequence that scores as a site of a motif.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Index of the motif in the scanned list.
    pub motif: usize,
    /// 0-based first position of the window.
    pub start: usize,
    pub end: usize,
    pub strand: Strand,
    /// Log-odds score in bits.
    pub score: f32,
    /// Where the score lies between the matrix's lowest and highest possible score, 0 to 1.
    pub relative_score: f32,
}

impl Hit {
    /// The mean of a per-position `attribution` over the hit's window.
    pub fn mean_of(&self, attribution: &[f32]) -> f32 {
        let window = &attribution[self.start..self.end];
        window.iter().sum::<f32>() / window.len() as f32
    }
}

/// Every window of `channels` that scores at least `min_relative_score` for a motif, on either
/// strand, by motif and then position.
pub fn scan(motifs: &[Motif], channels: &[u8], min_relative_score: f32) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (index, motif) in motifs.iter().enumerate() {
        if motif.len() > channels.len() {
            continue;
        }
        for start in 0..=channels.len() - motif.len() {
            for strand in [Strand::Forward, Strand::Reverse] {
                let Some(score) = motif.score(channels, start, strand) else {
                    continue;
                };
                let relative_score = motif.relative(score);
                if relative_score >= min_relative_score {
                    hits.push(Hit {
                        motif: index,
                        start,
                        end: start + motif.len(),
                        strand,
                        score,
                        relative_score,
                    });
                }
            }
        }
    }
    hits
}

/// Where a per-position attribution comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Attribution {
    /// The mean absolute predicted change of the three substitutions: 3 x length predictions a
    /// sequence. The default: it finds planted sites far more reliably than the gradient
    /// (tests/motifs.rs, docs/motifs.md).
    #[default]
    Mutagenesis,
    /// The gradient at the written base minus the mean gradient over the four bases, in
    /// absolute value: one backward pass a sequence, a first-order view that saturating layers
    /// blur.
    Saliency,
}

impl Attribution {
    pub const ALL: [Attribution; 2] = [Attribution::Mutagenesis, Attribution::Saliency];

    pub fn name(self) -> &'static str {
        match self {
            Attribution::Saliency => "saliency",
            Attribution::Mutagenesis => "mutagenesis",
        }
    }

    /// How much the model's prediction depends on each position of `channels` (0 outside the
    /// model's input and at `N`).
    pub async fn of_async(
        self,
        predictor: &Predictor,
        channels: &[u8],
    ) -> Result<Vec<f32>, ReadbackError> {
        let mut values = vec![0.0; channels.len()];
        match self {
            Attribution::Saliency => {
                let saliency = super::saliency_async(predictor, channels).await?;
                for ((value, row), &code) in values.iter_mut().zip(&saliency.gradient).zip(channels)
                {
                    if code != N {
                        let mean = row.iter().sum::<f32>() / BASES as f32;
                        *value = (row[usize::from(code)] - mean).abs();
                    }
                }
            }
            Attribution::Mutagenesis => {
                let result =
                    super::mutagenesis_async(predictor, channels, 0..usize::MAX, 256).await?;
                for (offset, row) in result.effects.iter().enumerate() {
                    let position = result.first_position + offset;
                    if channels[position] != N {
                        // The written base's own entry is 0: the sum is over the other three.
                        values[position] =
                            row.iter().map(|effect| effect.abs()).sum::<f32>() / (BASES - 1) as f32;
                    }
                }
            }
        }
        Ok(values)
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn of(self, predictor: &Predictor, channels: &[u8]) -> Result<Vec<f32>, ReadbackError> {
        crate::platform::block_on(self.of_async(predictor, channels))
    }
}

impl std::str::FromStr for Attribution {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Attribution::ALL
            .into_iter()
            .find(|method| method.name() == text)
            .ok_or_else(|| format!("unknown attribution {text:?} (saliency or mutagenesis)"))
    }
}

/// How much attribution one motif's hits carry over a set of sequences.
#[derive(Debug, Clone, PartialEq)]
pub struct MotifAttribution {
    pub motif: usize,
    /// Distinct hit windows compared (a window hit on both strands counts once; a window hit
    /// in every sequence has no background and is not counted).
    pub hits: usize,
    /// Sequences with at least one compared hit.
    pub sequences: usize,
    /// Mean attribution per position over the hit windows.
    pub on_hits: f64,
    /// Mean attribution per position over the same windows in sequences without a hit there.
    pub background: f64,
    /// The chance that a hit window carries more attribution than a matched background window
    /// (0.5: no more than chance).
    pub auroc: f64,
    /// One-sided chance of an AUROC this high if hits carried no more attribution than their
    /// background (the Mann-Whitney test's normal approximation; approximate, since background
    /// windows share sequences).
    pub p_value: f64,
    /// The p-value adjusted for the number of motifs tested (Benjamini-Hochberg).
    pub q_value: f64,
}

/// For every motif with a hit that has a background, its hits' attribution against matched background windows: for
/// each hit, up to a fixed number of windows at the same positions in other sequences, drawn
/// (seeded, so reproducible) among those with no hit of that motif overlapping them. Matching
/// positions keeps position effects (constant flanks, distance to the start) out of the
/// comparison. `hits[i]` and `attributions[i]` belong to sequence `i`.
pub fn attribution_by_motif(
    motifs: &[Motif],
    hits: &[Vec<Hit>],
    attributions: &[Vec<f32>],
) -> Vec<MotifAttribution> {
    // Prefix sums make every window's mean O(1).
    let prefix: Vec<Vec<f64>> = attributions
        .iter()
        .map(|values| {
            std::iter::once(0.0)
                .chain(values.iter().scan(0.0, |sum, &v| {
                    *sum += f64::from(v);
                    Some(*sum)
                }))
                .collect()
        })
        .collect();
    let window_mean = |sequence: usize, start: usize, end: usize| {
        (prefix[sequence][end] - prefix[sequence][start]) / (end - start) as f64
    };
    let mut results = Vec::new();
    for motif in 0..motifs.len() {
        // Per sequence, this motif's distinct windows.
        let windows: Vec<Vec<(usize, usize)>> = hits
            .iter()
            .map(|sequence_hits| {
                let mut windows: Vec<(usize, usize)> = sequence_hits
                    .iter()
                    .filter(|hit| hit.motif == motif)
                    .map(|hit| (hit.start, hit.end))
                    .collect();
                windows.dedup();
                windows
            })
            .collect();
        if windows.iter().all(Vec::is_empty) {
            continue;
        }
        let mut compared_sequences = vec![false; hits.len()];
        let mut random = SplitMix(motif as u64);
        let (mut on_hits, mut background) = (Vec::new(), Vec::new());
        for (sequence, sequence_windows) in windows.iter().enumerate() {
            for &(start, end) in sequence_windows {
                let mut drawn = 0;
                // Rejection sampling with a bound, so a motif hitting nearly every sequence
                // ends with fewer background windows instead of never.
                for _ in 0..BACKGROUND_PER_HIT * 10 {
                    if drawn == BACKGROUND_PER_HIT {
                        break;
                    }
                    let other = random.below(hits.len());
                    let free = other != sequence
                        && end <= attributions[other].len()
                        && windows[other].iter().all(|&(s, e)| e <= start || end <= s);
                    if free {
                        background.push(window_mean(other, start, end));
                        drawn += 1;
                    }
                }
                // A window hit in every sequence (a constant flank) has nothing to be compared
                // with, and stays out.
                if drawn > 0 {
                    on_hits.push(window_mean(sequence, start, end));
                    compared_sequences[sequence] = true;
                }
            }
        }
        if on_hits.is_empty() {
            continue;
        }
        let mean = |values: &[f64]| values.iter().sum::<f64>() / values.len() as f64;
        let area = auroc(&on_hits, &background);
        results.push(MotifAttribution {
            motif,
            hits: on_hits.len(),
            sequences: compared_sequences.iter().filter(|&&c| c).count(),
            on_hits: mean(&on_hits),
            background: mean(&background),
            auroc: area,
            p_value: mann_whitney_p(area, on_hits.len(), background.len()),
            q_value: f64::NAN,
        });
    }
    benjamini_hochberg(&mut results);
    results
}

/// Strongest first: by AUROC, highest first.
pub fn sort_by_auroc(results: &mut [MotifAttribution]) {
    results.sort_by(|a, b| b.auroc.total_cmp(&a.auroc));
}

/// One-sided p-value of an AUROC from `n1` positives and `n0` negatives, without the ties
/// correction.
fn mann_whitney_p(auroc: f64, n1: usize, n0: usize) -> f64 {
    if auroc.is_nan() {
        return f64::NAN;
    }
    let (n1, n0) = (n1 as f64, n0 as f64);
    let z = (auroc - 0.5) / ((n1 + n0 + 1.0) / (12.0 * n1 * n0)).sqrt();
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

/// Fills `q_value` from the results' p-values (NaN p-values are not counted as tests).
fn benjamini_hochberg(results: &mut [MotifAttribution]) {
    let mut order: Vec<usize> = (0..results.len())
        .filter(|&i| !results[i].p_value.is_nan())
        .collect();
    order.sort_by(|&a, &b| results[a].p_value.total_cmp(&results[b].p_value));
    let tests = order.len() as f64;
    let mut running_min = 1.0f64;
    for (rank, &index) in order.iter().enumerate().rev() {
        running_min = running_min.min(results[index].p_value * tests / (rank + 1) as f64);
        results[index].q_value = running_min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::alphabet::channels;

    fn motif(consensus: &str) -> Motif {
        let counts: Vec<[f64; BASES]> = channels(consensus)
            .unwrap()
            .iter()
            .map(|&code| {
                std::array::from_fn(|base| if base == usize::from(code) { 10.0 } else { 0.0 })
            })
            .collect();
        Motif::from_counts("M", "m", &counts).unwrap()
    }

    #[test]
    fn the_embedded_collection_holds_the_yeast_promoter_factors() {
        let motifs = jaspar_fungi();
        assert_eq!(motifs.len(), 178);
        for name in ["REB1", "ABF1", "RAP1", "SPT15", "MIG1"] {
            assert!(motifs.iter().any(|m| m.name == name), "{name}");
        }
        let reb1 = motifs.iter().find(|m| m.name == "REB1").unwrap();
        assert_eq!(reb1.id, "MA0363.3");
        assert_eq!(reb1.consensus(), "GTTACCCGG");
    }

    #[test]
    fn hits_are_found_on_both_strands_at_their_positions() {
        let reb1 = motif("TTACCCGG");
        // The site at 3..11 forward, its reverse complement CCGGGTAA at 14..22.
        let sequence = channels("ACGTTACCCGGAAACCGGGTAATT").unwrap();
        let hits = scan(&[reb1], &sequence, 0.99);
        let found: Vec<(usize, Strand)> = hits.iter().map(|h| (h.start, h.strand)).collect();
        assert_eq!(found, vec![(3, Strand::Forward), (14, Strand::Reverse)]);
        assert!(hits.iter().all(|h| (h.relative_score - 1.0).abs() < 1e-6));
        // One mismatch scores lower but above 0.85 of the way for an 8-mer.
        let mismatch = channels("TTACGCGG").unwrap();
        let hit = scan(&[motif("TTACCCGG")], &mismatch, 0.0)[0];
        assert!(
            hit.relative_score < 0.95 && hit.relative_score > 0.8,
            "{hit:?}"
        );
        // A window with an N is never a hit.
        let unknown = channels("TTACNCGG").unwrap();
        assert!(scan(&[motif("TTACCCGG")], &unknown, 0.0).is_empty());
    }

    #[test]
    fn malformed_files_name_their_line() {
        let cases = [
            ("A [ 1 2 ]\n", 1, "before the first"),
            (
                ">M1 X\nA [ 1 2 ]\nC [ 1 2 ]\nG [ 1 ]\nT [ 1 2 ]\n",
                1,
                "the G row has 1",
            ),
            (">M1 X\nA [ 1 2 ]\nC [ 1 x ]\n", 3, "\"x\" is not a count"),
            (
                ">M1 X\nA [ 1 2 ]\nC [ 1 2 ]\nG [ 1 2 ]\n",
                1,
                "no row for T",
            ),
            (">M1 X\nA 1\nA 1\n", 3, "two A rows"),
            (">M1 X\nU [ 1 ]\n", 2, "found 'U'"),
            ("\n", 0, "no motifs"),
        ];
        for (text, line, reason) in cases {
            let error = parse_jaspar(text, "m.jaspar").unwrap_err();
            assert_eq!(error.line, line, "{text:?}: {error}");
            assert!(error.to_string().contains(reason), "{text:?}: {error}");
            assert!(error.to_string().starts_with("m.jaspar, line"), "{error}");
        }
    }

    #[test]
    fn attribution_on_hits_is_compared_with_the_same_windows_elsewhere() {
        let motifs = [motif("TTACCCGG")];
        let background = "ACGTACGTACGTACGTACGTACGTACGTAC";
        let with_site = "ACGTACGTACTTACCCGGGTACGTACGTAC";
        let mut sequences = vec![with_site; 5];
        sequences.extend(vec![background; 15]);
        let codes: Vec<Vec<u8>> = sequences.iter().map(|s| channels(s).unwrap()).collect();
        let hits: Vec<Vec<Hit>> = codes.iter().map(|c| scan(&motifs, c, 0.99)).collect();
        // Attribution high on the site (positions 10..18) where it is present, and a position
        // effect that the matched background shares: everything after position 20 is high.
        let attributions: Vec<Vec<f32>> = codes
            .iter()
            .zip(&hits)
            .map(|(c, h)| {
                (0..c.len())
                    .map(|p| {
                        let on_site = h.iter().any(|hit| (hit.start..hit.end).contains(&p));
                        if on_site {
                            2.0
                        } else if p >= 20 {
                            5.0
                        } else {
                            0.1
                        }
                    })
                    .collect()
            })
            .collect();
        let result = attribution_by_motif(&motifs, &hits, &attributions);
        assert_eq!(result.len(), 1);
        let r = &result[0];
        assert_eq!((r.hits, r.sequences), (5, 5));
        assert!(
            (r.on_hits - 2.0).abs() < 1e-9 && (r.background - 0.1).abs() < 1e-6,
            "{r:?}"
        );
        assert_eq!(r.auroc, 1.0);
        assert!(r.p_value < 1e-3 && r.q_value == r.p_value, "{r:?}");
    }

    #[test]
    fn q_values_follow_benjamini_hochberg() {
        let mut results: Vec<MotifAttribution> = [0.01, 0.04, 0.03, f64::NAN]
            .into_iter()
            .enumerate()
            .map(|(motif, p_value)| MotifAttribution {
                motif,
                hits: 1,
                sequences: 1,
                on_hits: 0.0,
                background: 0.0,
                auroc: 0.5,
                p_value,
                q_value: f64::NAN,
            })
            .collect();
        benjamini_hochberg(&mut results);
        // Sorted 0.01, 0.03, 0.04 of 3 tests: 0.03, min(0.045, 0.04), 0.04.
        let q: Vec<f64> = results.iter().map(|r| r.q_value).collect();
        assert!((q[0] - 0.03).abs() < 1e-12 && (q[1] - 0.04).abs() < 1e-12);
        assert!((q[2] - 0.04).abs() < 1e-12 && q[3].is_nan(), "{q:?}");
        assert!((mann_whitney_p(0.5, 10, 10) - 0.5).abs() < 1e-12);
    }
}
