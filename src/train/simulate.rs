//! `crmnet simulate`: synthetic data with known ground truth, for scale tests, training tests
//! and interpretation. Yeast promoters in the released training format: random 80-mers between
//! the real library flanks, expression a sum of planted yeast-like motif effects, one
//! interaction, and Gaussian noise, on the released 0-17 expression-bin scale. Genes for
//! Xpresso: 10.5 kb around a transcription start site with core-promoter motifs planted near it
//! (and decoys far from it, which do nothing), eight z-scored half-life features of which two
//! matter, and log expression.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::data::construct::{FLANK_3, FLANK_5, VARIABLE_LENGTH};
use crate::model::{HALF_LIFE_FEATURES, XpressoConfig};
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
/// The planted promoter sites as JASPAR-format matrices (100 counts on the planted base), the
/// ground truth for `crmnet motifs --motifs` on simulated promoters.
pub fn planted_motifs_jaspar() -> String {
    let mut text = String::new();
    for (index, motif) in MOTIFS.iter().enumerate() {
        text.push_str(&format!(">SIM{}\t{}\n", index + 1, motif.name));
        for base in ['A', 'C', 'G', 'T'] {
            let counts: Vec<&str> = motif
                .site
                .chars()
                .map(|site| if site == base { "100" } else { "0" })
                .collect();
            text.push_str(&format!("{base} [ {} ]\n", counts.join(" ")));
        }
    }
    text
}

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

/// Core-promoter elements planted in simulated genes: the effect applies when the site lies
/// within [`GENE_MOTIF_WINDOW`] of the TSS; copies planted further away are decoys.
pub const GENE_MOTIFS: [Motif; 4] = [
    Motif {
        name: "TATA",
        site: "TATAAAAG",
        effect: 1.0,
        frequency: 0.5,
    },
    Motif {
        name: "SP1",
        site: "GGGGCGGGGC",
        effect: 0.8,
        frequency: 0.5,
    },
    Motif {
        name: "NFY",
        site: "CCAATCA",
        effect: 0.6,
        frequency: 0.5,
    },
    Motif {
        name: "REST",
        site: "TTCAGCACCATGGACAG",
        effect: -1.2,
        frequency: 0.4,
    },
];
/// Distance from the TSS within which a planted element acts.
pub const GENE_MOTIF_WINDOW: usize = 300;
/// Effects of the half-life features on log expression: the coding sequence's G+C share up,
/// the 3' UTR's length down; the other six do nothing.
pub const GENE_FEATURE_EFFECTS: [(&str, f64); 2] = [("cds_gc", 0.5), ("utr3_length", -0.4)];
const GENE_NOISE_SD: f64 = 0.3;

/// One simulated gene: its 10.5 kb sequence (TSS at position 7,000), its eight half-life
/// features and its log expression.
pub fn simulate_gene(rng: &mut StdRng) -> (String, [f64; 8], f64) {
    let config = XpressoConfig::new();
    let (length, tss) = (config.sequence_length, config.tss_position);
    // Mammalian promoters are G+C-poor overall: 42 % G+C.
    let mut sequence: Vec<u8> = (0..length)
        .map(|_| {
            let gc = rng.random_bool(0.42);
            match (gc, rng.random_bool(0.5)) {
                (true, true) => b'G',
                (true, false) => b'C',
                (false, true) => b'A',
                (false, false) => b'T',
            }
        })
        .collect();
    let mut expression = 0.0;
    for motif in GENE_MOTIFS {
        let site = motif.site.as_bytes();
        if rng.random_bool(motif.frequency) {
            let start =
                tss - GENE_MOTIF_WINDOW + rng.random_range(0..2 * GENE_MOTIF_WINDOW - site.len());
            sequence[start..start + site.len()].copy_from_slice(site);
            expression += motif.effect;
        }
        // A decoy copy at least 2 kb from the TSS, upstream or downstream.
        if rng.random_bool(0.5) {
            let start = if rng.random_bool(0.5) {
                rng.random_range(0..tss - 2_000)
            } else {
                rng.random_range(tss + 2_000..length - site.len())
            };
            sequence[start..start + site.len()].copy_from_slice(site);
        }
    }
    let mut features = [0.0; 8];
    for value in &mut features {
        *value = standard_normal(rng);
    }
    for (name, effect) in GENE_FEATURE_EFFECTS {
        let index = HALF_LIFE_FEATURES
            .iter()
            .position(|f| *f == name)
            .expect("a known feature");
        expression += effect * features[index];
    }
    expression += GENE_NOISE_SD * standard_normal(rng);
    let sequence = String::from_utf8(sequence).expect("ACGT only");
    (sequence, features, expression)
}

/// Writes `rows` simulated genes to `output` as a table (`id, sequence`, the eight features
/// under Xpresso's names, `expression`), atomically.
pub fn write_gene_dataset(rows: u64, seed: u64, output: &Path) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(seed);
    write_atomically::<_, anyhow::Error>(output, |out| {
        writeln!(
            out,
            "id\tsequence\t{}\texpression",
            HALF_LIFE_FEATURES.join("\t")
        )?;
        for row in 1..=rows {
            let (sequence, features, expression) = simulate_gene(&mut rng);
            let features: Vec<String> = features.iter().map(|v| format!("{v:.4}")).collect();
            writeln!(
                out,
                "gene{row}\t{sequence}\t{}\t{expression:.4}",
                features.join("\t")
            )?;
        }
        Ok(())
    })
}
