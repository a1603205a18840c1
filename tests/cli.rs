mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use burn::prelude::*;
use crmnet::model::{Network, Preset};
use crmnet::weights::{self, ModelCard};

const NATIVE: &str = "test_native_complex.tsv";

fn crmnet(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crmnet"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let input = input.to_vec();
        std::thread::spawn(move || pipe.write_all(&input));
    }
    child.wait_with_output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// An (untrained) web-preset weights file: the CLI path under test is the same for any weights.
fn web_weights(dir: &Path) -> PathBuf {
    let path = dir.join("web.bpk");
    let device = Device::flex();
    device.seed(3);
    let architecture = Preset::CrmnetWeb.architecture();
    let model = Network::new(&architecture, &device).unwrap();
    let card = ModelCard::describe("crmnet-web", &architecture, &model);
    weights::save(model, &card, &path).unwrap();
    path
}

/// `(id, sequence, prediction)` rows of a TSV written by `predict`.
fn rows(tsv: &str) -> Vec<(String, String, f32)> {
    let mut lines = tsv.lines();
    assert_eq!(lines.next(), Some("id\tsequence\tprediction"));
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 3, "{line}");
            (
                fields[0].to_string(),
                fields[1].to_string(),
                fields[2].parse().unwrap(),
            )
        })
        .collect()
}

/// Largest difference allowed between routes through the CLI (batch sizes, formats), a few
/// times the float32 rounding measured on the trained `crmnet-web`.
const TOLERANCE: f32 = 1e-5;

#[test]
fn predict_streams_the_native_test_set_from_file_stdin_and_gzipped_fasta() {
    let dir = tempfile::tempdir().unwrap();
    // Trained weights, whose predictions spread over the pool's scale and follow the
    // measurements, so that agreement below means the same trained function on every route.
    let weights = concat!(env!("CARGO_MANIFEST_DIR"), "/models/crmnet-web.bpk");
    let input = common::data_file(NATIVE);
    let expected = &common::tsv_columns(NATIVE, &["seq"])[0];

    let out = dir.path().join("out.tsv");
    let run = crmnet(
        &[
            "predict",
            "--input",
            &input,
            "--weights",
            weights,
            "--output",
            out.to_str().unwrap(),
            "--batch-size",
            "512",
        ],
        None,
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let from_file = rows(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(from_file.len(), 3733);
    for (i, (id, sequence, prediction)) in from_file.iter().enumerate() {
        assert_eq!((id, sequence), (&(i + 1).to_string(), &expected[i]));
        assert!(prediction.is_finite());
    }
    let measured = common::parse_floats(&common::tsv_columns(NATIVE, &["measured"])[0]);
    let predicted: Vec<f64> = from_file.iter().map(|row| f64::from(row.2)).collect();
    let r = crmnet::metrics::Metrics::compute(&predicted, &measured).pearson;
    assert!(r > 0.6, "the trained model's r {r}");

    let stdin_run = crmnet(
        &[
            "predict",
            "--input",
            "-",
            "--weights",
            weights,
            "--batch-size",
            "100",
        ],
        Some(&std::fs::read(&input).unwrap()),
    );
    assert!(stdin_run.status.success(), "{}", stderr(&stdin_run));
    let from_stdin = rows(&String::from_utf8(stdin_run.stdout).unwrap());
    assert_eq!(from_stdin.len(), 3733);
    for (a, b) in from_stdin.iter().zip(&from_file) {
        assert_eq!(a.1, b.1);
        assert!(
            (a.2 - b.2).abs() < TOLERANCE,
            "batching changed a prediction: {} vs {}",
            a.2,
            b.2
        );
    }

    let fasta = dir.path().join("native.fa.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&fasta).unwrap(),
        flate2::Compression::fast(),
    );
    for (i, sequence) in expected.iter().enumerate() {
        let (head, tail) = sequence.split_at(60);
        writeln!(encoder, ">native_{i} test row\n{head}\n{tail}").unwrap();
    }
    encoder.finish().unwrap();
    let fasta_run = crmnet(
        &[
            "predict",
            "-i",
            fasta.to_str().unwrap(),
            "--weights",
            weights,
            "--format",
            "json",
        ],
        None,
    );
    assert!(fasta_run.status.success(), "{}", stderr(&fasta_run));
    let json: Vec<serde_json::Value> = serde_json::from_slice(&fasta_run.stdout).unwrap();
    assert_eq!(json.len(), 3733);
    for (i, (row, file_row)) in json.iter().zip(&from_file).enumerate() {
        assert_eq!(row["id"], format!("native_{i}"));
        assert_eq!(row["sequence"], file_row.1);
        assert!((row["prediction"].as_f64().unwrap() as f32 - file_row.2).abs() < TOLERANCE);
    }
}

fn assert_fails_without_output(args: &[&str], output: &Path, expected: &str) {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--output", output.to_str().unwrap()]);
    let run = crmnet(&all, None);
    assert!(!run.status.success(), "should fail: {args:?}");
    let message = stderr(&run);
    assert!(
        message.contains(expected),
        "expected {expected:?} in: {message}"
    );
    assert!(!output.exists(), "a failed run left {}", output.display());
    let leftovers: Vec<_> = std::fs::read_dir(output.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".crmnet-partial")
        })
        .collect();
    assert!(leftovers.is_empty(), "partial files left: {leftovers:?}");
}

#[test]
fn bad_input_exits_nonzero_naming_file_and_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let weights = web_weights(dir.path());
    let weights = weights.to_str().unwrap();
    let out = dir.path().join("out.tsv");

    // A bad record after more than one batch of good ones: nothing of the good ones is left half-written.
    let native = std::fs::read_to_string(common::data_file(NATIVE)).unwrap();
    let mut lines: Vec<String> = native.lines().take(300).map(str::to_string).collect();
    lines[250] = lines[250].replacen("ACG", "AXG", 1);
    let x_file = dir.path().join("x.tsv");
    std::fs::write(&x_file, lines.join("\n")).unwrap();
    let x_name = x_file.to_str().unwrap();
    let position = lines[250].find('X').unwrap() + 1;
    assert_fails_without_output(
        &[
            "predict",
            "-i",
            x_name,
            "--weights",
            weights,
            "--batch-size",
            "64",
        ],
        &out,
        &format!("{x_name}:251: invalid character 'X' at position {position}"),
    );

    let empty = dir.path().join("empty.fa");
    std::fs::write(&empty, ">one\nACGT\n>two\n\n>three\nACGT\n").unwrap();
    let empty = empty.to_str().unwrap();
    assert_fails_without_output(
        &["predict", "-i", empty, "--weights", weights],
        &out,
        &format!("{empty}:3: record 'two': empty sequence"),
    );

    let whole = dir.path().join("whole.fa.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&whole).unwrap(),
        flate2::Compression::default(),
    );
    for i in 0..5000 {
        writeln!(
            encoder,
            ">s{i}\n{}",
            &native.lines().nth(1 + i % 3000).unwrap()[..110]
        )
        .unwrap();
    }
    encoder.finish().unwrap();
    let bytes = std::fs::read(&whole).unwrap();
    let truncated = dir.path().join("truncated.fa.gz");
    std::fs::write(&truncated, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let truncated = truncated.to_str().unwrap();
    assert_fails_without_output(
        &["predict", "-i", truncated, "--weights", weights],
        &out,
        &format!("{truncated}:"),
    );

    let native_path = common::data_file(NATIVE);
    assert_fails_without_output(
        &[
            "predict",
            "-i",
            &native_path,
            "--seq-column",
            "promoter",
            "--weights",
            weights,
        ],
        &out,
        &format!("{native_path}:1: no column 'promoter'"),
    );

    let corrupted = dir.path().join("corrupted.bpk");
    let mut weight_bytes = std::fs::read(weights).unwrap();
    weight_bytes.truncate(weight_bytes.len() / 2);
    std::fs::write(&corrupted, &weight_bytes).unwrap();
    let corrupted = corrupted.to_str().unwrap();
    assert_fails_without_output(
        &["predict", "-i", &native_path, "--weights", corrupted],
        &out,
        &format!("{corrupted}: not a readable burnpack weights file"),
    );
}

#[test]
fn predict_uses_the_embedded_trained_model_unless_told_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let fasta = dir.path().join("two.fa");
    std::fs::write(&fasta, ">a\nACGT\n>b\nTTTT\n").unwrap();
    let fasta = fasta.to_str().unwrap();

    let embedded = crmnet(&["predict", "-i", fasta], None);
    assert!(embedded.status.success(), "{}", stderr(&embedded));
    assert!(
        !stderr(&embedded).contains("untrained"),
        "{}",
        stderr(&embedded)
    );
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/models/default.bpk");
    let from_file = crmnet(&["predict", "-i", fasta, "--weights", shipped], None);
    assert_eq!(embedded.stdout, from_file.stdout);
    assert_eq!(rows(&String::from_utf8(embedded.stdout).unwrap()).len(), 2);

    let card = crmnet(&["info", "--default-model"], None);
    let card = String::from_utf8(card.stdout).unwrap();
    assert!(
        card.contains("\"trained\": true") && card.contains("train_pool.tsv"),
        "{card}"
    );

    let random = crmnet(
        &[
            "predict",
            "-i",
            fasta,
            "--random-init",
            "--arch",
            "crmnet-web",
        ],
        None,
    );
    assert!(random.status.success(), "{}", stderr(&random));
    assert!(stderr(&random).contains("untrained"), "{}", stderr(&random));
}

#[test]
fn info_prints_the_published_counts() {
    let run = crmnet(&["info", "--arch", "crmnet"], None);
    assert!(run.status.success(), "{}", stderr(&run));
    let text = String::from_utf8(run.stdout).unwrap();
    for expected in [
        "4490368",
        "25777152",
        "2626816",
        "314928",
        "961025",
        "34170289",
        "34165681 trainable",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    // Camformer: the authors' model summary (16,611,073 trainable); burn also stores the batch
    // norms' running statistics (6 x 2 x 512).
    let run = crmnet(&["info", "--arch", "camformer"], None);
    let text = String::from_utf8(run.stdout).unwrap();
    for expected in ["13143040", "3474177", "16617217", "16611073 trainable"] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    // Xpresso with the paper's eight half-life features (its README: 112,485).
    let run = crmnet(&["info", "--arch", "xpresso"], None);
    let text = String::from_utf8(run.stdout).unwrap();
    assert!(text.contains("112485 (112485 trainable)"), "{text}");
    assert!(
        text.contains("input: each sequence centred on position 7000; unknown bases read as zeros; features utr5_length,"),
        "{text}"
    );
    let unknown = crmnet(&["info", "--arch", "resnet"], None);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains(
            "possible values: crmnet, crmnet-web, crmnet-tiny, deepatt, camformer, camformer-web, xpresso"
        ),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn saliency_and_mutagenesis_write_one_row_per_position() {
    let fasta = b">first\nTGCATTTTTTTCACATCAGGGTAACATGAAGCGGCGCGAG\n>second\nACGTNACGT\n";
    for (command, written_base_is_zero) in [("saliency", false), ("mutagenesis", true)] {
        let run = crmnet(&[command, "-i", "-"], Some(fasta));
        assert!(run.status.success(), "{}", stderr(&run));
        let text = String::from_utf8(run.stdout).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "id\tposition\tbase\tprediction\tA\tC\tG\tT");
        assert_eq!(lines.len(), 1 + 40 + 9);
        let fifth_of_second: Vec<&str> = lines[1 + 40 + 4].split('\t').collect();
        assert_eq!(&fifth_of_second[..3], ["second", "5", "N"]);
        let first: Vec<&str> = lines[1].split('\t').collect();
        assert_eq!(&first[..3], ["first", "1", "T"]);
        // Column T of a T: zero change under mutagenesis; the only non-zero saliency score.
        let t: f32 = first[7].parse().unwrap();
        assert_eq!(t == 0.0, written_base_is_zero, "{command}: {}", lines[1]);
    }
    let bad = crmnet(&["saliency", "-i", "-"], Some(b">x\nACGU\n"));
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("<stdin>:2"), "{}", stderr(&bad));
}

/// `crmnet random` writes seeded random promoters of the library in FASTA, within a G+C range,
/// that `crmnet design` reads from a pipe: a design from scratch.
#[test]
fn random_promoters_are_seeded_and_start_a_design() {
    let random = |args: &[&str]| {
        let run = crmnet(&[&["random"], args].concat(), None);
        assert!(run.status.success(), "{}", stderr(&run));
        String::from_utf8(run.stdout).unwrap()
    };
    let fasta = random(&[
        "--n", "3", "--seed", "4", "--gc-min", "0.3", "--gc-max", "0.45",
    ]);
    assert_eq!(
        fasta,
        random(&[
            "--n", "3", "--seed", "4", "--gc-min", "0.3", "--gc-max", "0.45"
        ])
    );
    assert_ne!(
        fasta,
        random(&[
            "--n", "3", "--seed", "5", "--gc-min", "0.3", "--gc-max", "0.45"
        ])
    );
    let lines: Vec<&str> = fasta.lines().collect();
    assert_eq!(lines.len(), 6);
    for (i, pair) in lines.chunks(2).enumerate() {
        assert_eq!(pair[0], format!(">random-{}", i + 1));
        let sequence = pair[1];
        assert_eq!(sequence.len(), 110);
        assert!(sequence.starts_with("TGCATTTTTTTCACATC") && sequence.ends_with("GGTTACGGCTGTT"));
        let gc = sequence.chars().filter(|&c| c == 'C' || c == 'G').count() as f64 / 110.0;
        assert!((0.3..=0.45).contains(&gc), "{gc}");
    }
    let design = crmnet(
        &["design", "-i", "-", "--max-changes", "2"],
        Some(fasta.as_bytes()),
    );
    assert!(design.status.success(), "{}", stderr(&design));
    let out = String::from_utf8(design.stdout).unwrap();
    for id in ["random-1", "random-2", "random-3"] {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("{id}\t0\t"))),
            "{out}"
        );
    }
    let impossible = crmnet(
        &["random", "--n", "1", "--gc-min", "0.95", "--gc-max", "1"],
        None,
    );
    assert!(!impossible.status.success());
    assert!(
        stderr(&impossible).contains("G+C 0.95-1"),
        "{}",
        stderr(&impossible)
    );
}

/// `crmnet design` writes each input's trajectory (step 0 the start, then one substitution a
/// step, the prediction rising) and refuses goals and sites it cannot use.
#[test]
fn design_writes_trajectories_and_refuses_bad_goals() {
    let dir = tempfile::tempdir().unwrap();
    let fasta = dir.path().join("start.fa");
    let sequences = &common::tsv_columns("test_native_complex.tsv", &["seq"])[0][..2];
    let text: String = sequences
        .iter()
        .enumerate()
        .map(|(i, s)| format!(">p{i}\n{s}\n"))
        .collect();
    std::fs::write(&fasta, text).unwrap();
    let fasta = fasta.to_str().unwrap();
    let run = crmnet(&["design", "-i", fasta, "--max-changes", "3"], None);
    assert!(run.status.success(), "{}", stderr(&run));
    let out = String::from_utf8(run.stdout).unwrap();
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(
        out.lines().next(),
        Some("id\tstep\tprediction\tchanges\tsequence")
    );
    for id in ["p0", "p1"] {
        let mine: Vec<&Vec<&str>> = rows.iter().filter(|r| r[0] == id).collect();
        assert_eq!(mine[0][1], "0");
        assert_eq!(mine[0][3], "");
        let predictions: Vec<f64> = mine.iter().map(|r| r[2].parse().unwrap()).collect();
        assert!(
            predictions.windows(2).all(|w| w[1] > w[0]),
            "{predictions:?}"
        );
        assert_eq!(mine.last().unwrap()[3].split(',').count(), mine.len() - 1);
    }
    // JSON holds the same trajectories, one object per input.
    let json = crmnet(
        &[
            "design",
            "-i",
            fasta,
            "--max-changes",
            "3",
            "--format",
            "json",
        ],
        None,
    );
    let designs: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let from_json: Vec<Vec<String>> = designs
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|design| {
            design["steps"].as_array().unwrap().iter().map(move |step| {
                let changes: Vec<&str> = step["changes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap())
                    .collect();
                vec![
                    design["id"].as_str().unwrap().to_string(),
                    step["step"].to_string(),
                    step["prediction"].to_string(),
                    changes.join(","),
                    step["sequence"].as_str().unwrap().to_string(),
                ]
            })
        })
        .collect();
    let from_tsv: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|cell| cell.to_string()).collect())
        .collect();
    assert_eq!(from_json.len(), from_tsv.len());
    for (a, b) in from_json.iter().zip(&from_tsv) {
        let same_prediction =
            (a[2].parse::<f64>().unwrap() - b[2].parse::<f64>().unwrap()).abs() < 1e-6;
        assert!(
            a[0] == b[0] && a[1] == b[1] && a[3] == b[3] && a[4] == b[4] && same_prediction,
            "{a:?} vs {b:?}"
        );
    }
    for (args, reason) in [
        (vec!["--goal", "most"], "expected max, min or a number"),
        (vec!["--forbid", "TTNN"], "written with A, C, G and T"),
        (
            vec!["--gc-min", "0.6", "--gc-max", "0.4"],
            "a range within 0-1",
        ),
    ] {
        let mut all = vec!["design", "-i", fasta];
        all.extend(args);
        let run = crmnet(&all, None);
        assert!(!run.status.success());
        assert!(stderr(&run).contains(reason), "{}", stderr(&run));
    }
}
