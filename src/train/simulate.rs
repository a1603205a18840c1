//! `crmnet simulate`: synthetic promoters in the released training format, for scale tests and as
//! ground truth for interpretation. Random 80-mers sit between the real library flanks;
//! expression is a sum of planted yeast-like motif effects, one interaction, and Gaussian noise,
//! on the released 0-17 expression-bin scale.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::data::construct::{FLANK_3, FLANK_5, VARIABLE_LENGTH};
use crate::output::write_atomically;

/// A planted motif and its additive effect on expression (bins).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Motif {
    pub name: &'static str,
    pub site: &'static str,
    pub effect: f64,
    /// Chance that a sequence gets one copy planted.
    pub frequency: f64,
}

/// Consensus-like sites of yeast factors (activators positive, the Mig1-like site repressive).
pub const MOTIFS: [Motif; 6] = [
    Motif {
        name: "RAP1",
        site: "ACACCCATACAT",
        effect: 2.5,
        frequency: 0.25,
    },
    Motif {
        name: "REB1",
        site: "TTACCCGG",
        effect: 2.0,
        frequency: 0.25,
    },
    Motif {
        name: "ABF1",
        site: "TCACTATAAACG",
        effect: 1.5,
        frequency: 0.25,
    },
    Motif {
        name: "TATA",
        site: "TATAAAAG",
        effect: 1.0,
        frequency: 0.3,
    },
    Motif {
        name: "polyT",
        site: "TTTTTTTTTTTT",
        effect: 0.8,
        frequency: 0.3,
    },
    Motif {
        name: "MIG1",
        site: "CCCCGCGGGG",
        effect: -1.5,
        frequency: 0.25,
    },
];
/// Extra expression when REB1 and TATA are both present.
pub const REB1_TATA_SYNERGY: f64 = 1.0;
const BASELINE: f64 = 7.0;
const NOISE_SD: f64 = 0.5;

/// One synthetic promoter and its expression.
pub fn simulate_one(rng: &mut StdRng) -> (String, f64) {
    let mut variable: Vec<u8> = (0..VARIABLE_LENGTH)
        .map(|_| b"ACGT"[rng.random_range(0..4)])
        .collect();
    let mut expression = BASELINE;
    let mut present = [false; MOTIFS.len()];
    for (index, motif) in MOTIFS.iter().enumerate() {
        if rng.random_bool(motif.frequency) {
            let start = rng.random_range(0..=VARIABLE_LENGTH - motif.site.len());
            variable[start..start + motif.site.len()].copy_from_slice(motif.site.as_bytes());
            present[index] = true;
        }
    }
    // Effects are read from the final sequence: a later site may overwrite an earlier one.
    let text = String::from_utf8(variable).expect("ACGT only");
    for (index, motif) in MOTIFS.iter().enumerate() {
        present[index] = text.contains(motif.site);
        if present[index] {
            expression += motif.effect;
        }
    }
    if present[1] && present[3] {
        expression += REB1_TATA_SYNERGY;
    }
    expression += NOISE_SD * standard_normal(rng);
    (
        format!("{FLANK_5}{text}{FLANK_3}"),
        expression.clamp(0.0, 17.0),
    )
}

fn standard_normal(rng: &mut StdRng) -> f64 {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Writes `rows` synthetic promoters to `output` (`sequence<TAB>value` lines), atomically.
pub fn write_dataset(rows: u64, seed: u64, output: &Path) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(seed);
    write_atomically::<_, anyhow::Error>(output, |out| {
        for _ in 0..rows {
            let (sequence, expression) = simulate_one(&mut rng);
            writeln!(out, "{sequence}\t{expression:.4}")?;
        }
        Ok(())
    })
}
