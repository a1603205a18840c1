//! Motif scanning and motif attribution, end to end: a model trained on generated promoters
//! with planted sites puts its attribution on those sites, `crmnet motifs` finds every planted
//! site on both strands and ranks the planted motifs by their effect, and malformed motif files
//! are refused with their line.
#![cfg(feature = "train")]

mod common;

use std::path::Path;

use burn::prelude::*;
use crmnet::data::alphabet::channels;
use crmnet::data::construct::{FLANK_5, VARIABLE_LENGTH};
use crmnet::inference::Predictor;
use crmnet::interpret::motifs::{self, Attribution};
use crmnet::metrics::auroc;
use crmnet::train::simulate::{MOTIFS, planted_motifs_jaspar};
use crmnet::weights;

use common::{refused, succeed};

fn reverse_complement(site: &str) -> String {
    site.chars()
        .rev()
        .map(|base| match base {
            'A' => 'T',
            'C' => 'G',
            'G' => 'C',
            _ => 'A',
        })
        .collect()
}

/// Start positions of `site` in `sequence`, overlapping ones included.
fn occurrences(sequence: &str, site: &str) -> usize {
    (0..=sequence.len() - site.len())
        .filter(|&start| &sequence[start..start + site.len()] == site)
        .count()
}

fn simulate(dir: &Path, n: usize, seed: u64, extra: &[&str]) -> String {
    let path = dir
        .join(format!("sim-{seed}.txt"))
        .to_str()
        .unwrap()
        .to_string();
    let (n, seed) = (n.to_string(), seed.to_string());
    let mut args = vec!["simulate", "--n", &n, "--seed", &seed, "-o", &path];
    args.extend(extra);
    succeed(&args);
    path
}

#[test]
fn a_model_trained_on_planted_motifs_puts_its_attribution_on_them() {
    let dir = tempfile::tempdir().unwrap();
    let planted = dir.path().join("planted.jaspar");
    let planted_s = planted.to_str().unwrap();
    let train = simulate(dir.path(), 10_000, 1, &["--motifs", planted_s]);
    let held_out = simulate(dir.path(), 300, 2, &[]);
    let run = dir.path().join("run");
    // DeepAtt's architecture learns these rows fastest on the CPU (validation r about 0.88).
    succeed(&[
        "train",
        "--data",
        &train,
        "--out",
        run.to_str().unwrap(),
        "--arch",
        "deepatt",
        "--epochs",
        "5",
        "--batch-size",
        "64",
        "--warmup-epochs",
        "0",
        "--lr-peak",
        "3e-3",
        // Without dropout the run is the same every time: concurrent workers draw dropout
        // masks from one generator in whatever order they reach it.
        "--dropout",
        "0",
    ]);
    let weights_path = run.join("best.bpk");

    // Per position of the held-out promoters' variable region: inside a planted site or not,
    // and the model's attribution there.
    let matrices = motifs::parse_jaspar(&planted_motifs_jaspar(), "planted").unwrap();
    let device = Device::flex();
    let (model, card) = weights::load(&weights_path, &device).unwrap();
    let predictor = Predictor::new(model, card, device);
    let sequences: Vec<String> = std::fs::read_to_string(&held_out)
        .unwrap()
        .lines()
        .map(|line| line.split('\t').next().unwrap().to_string())
        .collect();
    let variable = FLANK_5.len()..FLANK_5.len() + VARIABLE_LENGTH;
    // The AUROC of planted-site positions against the others, by one attribution method.
    let planted_site_auroc = |method: Attribution| {
        let (mut on_sites, mut elsewhere) = (Vec::new(), Vec::new());
        for sequence in &sequences {
            let codes = channels(sequence).unwrap();
            let attribution = method.of(&predictor, &codes).unwrap();
            // Sites of the motifs that move expression by at least one bin are the positives;
            // the weak polyT's (0.8 bins, runs of T without clear edges) are neither class.
            let mut planted_here = vec![None; codes.len()];
            for hit in motifs::scan(&matrices, &codes, 0.99) {
                let strong = MOTIFS[hit.motif].effect.abs() >= 1.0;
                for slot in &mut planted_here[hit.start..hit.end] {
                    *slot = Some(strong || slot.unwrap_or(false));
                }
            }
            for position in variable.clone() {
                let value = f64::from(attribution[position]);
                match planted_here[position] {
                    Some(true) => on_sites.push(value),
                    Some(false) => {}
                    None => elsewhere.push(value),
                }
            }
        }
        let area = auroc(&on_sites, &elsewhere);
        eprintln!(
            "{}: planted-site positions {} vs others {}: attribution AUROC {area:.4}",
            method.name(),
            on_sites.len(),
            elsewhere.len()
        );
        area
    };
    let by_mutagenesis = planted_site_auroc(Attribution::Mutagenesis);
    assert!(by_mutagenesis >= 0.95, "AUROC {by_mutagenesis}");
    // Mutagenesis is the default because it finds the sites better than the gradient.
    let by_saliency = planted_site_auroc(Attribution::Saliency);
    assert!(
        by_mutagenesis > by_saliency,
        "{by_mutagenesis} vs {by_saliency}"
    );

    // The command: every exact planted site found once per strand it reads on, and the motifs
    // that move expression most ranked above the weakest (polyT, 0.8 bins).
    let hits = dir.path().join("hits.tsv");
    let summary = dir.path().join("summary.tsv");
    succeed(&[
        "motifs",
        "-i",
        &held_out,
        "--motifs",
        planted_s,
        "--min-score",
        "0.99",
        "--weights",
        weights_path.to_str().unwrap(),
        "--attribution",
        "--summary",
        summary.to_str().unwrap(),
        "-o",
        hits.to_str().unwrap(),
    ]);
    let hits = std::fs::read_to_string(hits).unwrap();
    assert!(
        hits.starts_with("id\tmotif\ttf\tstart\tend\tstrand\tscore\trelative_score\tattribution\n")
    );
    for motif in MOTIFS {
        let expected: usize = sequences
            .iter()
            .map(|s| occurrences(s, motif.site) + occurrences(s, &reverse_complement(motif.site)))
            .sum();
        let found = hits
            .lines()
            .filter(|line| line.split('\t').nth(2) == Some(motif.name))
            .count();
        assert_eq!(found, expected, "{}", motif.name);
    }
    let summary = std::fs::read_to_string(summary).unwrap();
    let auroc_of: std::collections::HashMap<&str, f64> = summary
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            (cells[1], cells[8].parse().unwrap())
        })
        .collect();
    eprintln!("{summary}");
    let weakest = auroc_of["polyT"];
    for motif in MOTIFS.iter().filter(|m| m.effect.abs() >= 1.0) {
        let area = auroc_of[motif.name];
        assert!(
            area >= 0.8 && area > weakest,
            "{}: {area} (polyT {weakest})",
            motif.name
        );
    }
}

#[test]
fn the_embedded_collection_scans_the_library_and_bad_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let native = common::data_file("test_native_complex.tsv");
    let input = dir.path().join("few.tsv");
    let rows: Vec<String> = std::fs::read_to_string(&native)
        .unwrap()
        .lines()
        .take(21)
        .map(str::to_string)
        .collect();
    std::fs::write(&input, rows.join("\n") + "\n").unwrap();
    let input_s = input.to_str().unwrap();
    let hits = succeed(&["motifs", "-i", input_s]);
    let collection = motifs::jaspar_fungi();
    let rows: Vec<Vec<&str>> = hits
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    for row in &rows {
        let motif = collection
            .iter()
            .find(|m| m.id == row[1])
            .expect("a JASPAR id");
        let (start, end): (usize, usize) = (row[3].parse().unwrap(), row[4].parse().unwrap());
        assert_eq!(
            (row[2], end + 1 - start),
            (motif.name.as_str(), motif.len())
        );
        assert!(row[7].parse::<f32>().unwrap() >= motifs::DEFAULT_MIN_RELATIVE_SCORE);
    }
    let strict = succeed(&["motifs", "-i", input_s, "--min-score", "0.95"]);
    assert!(strict.lines().count() < hits.lines().count() / 4);

    let bad = dir.path().join("bad.jaspar");
    std::fs::write(
        &bad,
        ">MA1 X\nA [ 1 2 ]\nC [ 1 2 ]\nG [ 1 two ]\nT [ 1 2 ]\n",
    )
    .unwrap();
    refused(
        &["motifs", "-i", input_s, "--motifs", bad.to_str().unwrap()],
        "bad.jaspar, line 4: \"two\" is not a count",
    );
    refused(
        &["motifs", "-i", input_s, "--min-score", "1.5"],
        "between 0 and 1",
    );
    refused(
        &["motifs", "-i", input_s, "--summary", "s.tsv"],
        "--attribution",
    );
}
