//! `crmnet distill` end to end: the imported DeepAtt teaches a student on generated promoters.
#![cfg(feature = "train")]

mod common;

use std::path::Path;

use common::{refused, succeed};

/// Pearson r of the `valid_r` column of each epoch in `metrics.csv`.
fn valid_r(run: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = header.iter().position(|h| *h == "valid_r").unwrap();
    lines
        .map(|l| l.split(',').nth(column).unwrap().parse().unwrap())
        .collect()
}

#[test]
fn a_student_learns_the_teacher_and_its_card_names_the_teacher_and_licence() {
    let dir = tempfile::tempdir().unwrap();
    let teacher = dir.path().join("teacher.bpk");
    let keras = common::deepatt_keras_file();
    succeed(&[
        "import",
        "--keras",
        keras.to_str().unwrap(),
        "-o",
        teacher.to_str().unwrap(),
    ]);
    let run = dir.path().join("run");
    let pool = common::data_file("train_pool.tsv");
    let distill = |extra: &[&str]| {
        let mut args = vec![
            "distill",
            "--out",
            run.to_str().unwrap(),
            "--rows-per-epoch",
            "3000",
            "--batch-size",
            "100",
            "--warmup-epochs",
            "0",
            "--seed",
            "5",
        ];
        args.extend_from_slice(extra);
        succeed(&args)
    };
    distill(&[
        "--teacher",
        teacher.to_str().unwrap(),
        "--data",
        &pool,
        "--arch",
        "deepatt",
        "--epochs",
        "1",
    ]);
    // A second session continues the run: same teacher and generator, the next epochs.
    let resumed = distill(&["--resume", "--epochs", "3"]);
    assert!(resumed.contains("resuming"), "{resumed}");
    let r = valid_r(&run);
    assert_eq!(r.len(), 3, "{r:?}");
    // 9,000 teacher-labelled rows already carry the teacher's view to the measured validation
    // rows (an untrained network scores about 0).
    assert!(r[2] > 0.2, "validation r {r:?}");

    let card = succeed(&["info", "--weights", run.join("best.bpk").to_str().unwrap()]);
    for expected in [
        "distilled from the teacher",
        "DeepAtt_model.h5",
        "MIT License",
        "mutants",
    ] {
        assert!(
            card.contains(expected),
            "{expected} missing from the card:\n{card}"
        );
    }
}

#[test]
fn distillation_refuses_what_it_cannot_use() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let pool = common::data_file("train_pool.tsv");
    let missing = dir.path().join("missing.bpk");
    refused(
        &[
            "distill",
            "--teacher",
            missing.to_str().unwrap(),
            "--data",
            &pool,
            "--out",
            run.to_str().unwrap(),
        ],
        "missing.bpk: cannot read",
    );
    let keras = common::deepatt_keras_file();
    refused(
        &[
            "distill",
            "--teacher",
            keras.to_str().unwrap(),
            "--data",
            &pool,
            "--out",
            run.to_str().unwrap(),
            "--random-fraction",
            "1.5",
        ],
        "--random-fraction must lie in [0, 1]",
    );
    refused(
        &["distill", "--resume", "--out", run.to_str().unwrap()],
        "cannot resume",
    );
    // Generated yeast promoters cannot teach a 10.5 kb human-promoter model, nor be labelled by one.
    let xpresso = common::teachers_dir().join("xpresso/human_trainepoch.11-0.426.h5");
    let distill = |teacher: &str, arch: &str| {
        vec![
            "distill".to_string(),
            "--teacher".into(),
            teacher.into(),
            "--data".into(),
            pool.clone(),
            "--arch".into(),
            arch.into(),
            "--out".into(),
            run.to_str().unwrap().into(),
        ]
    };
    let args = distill(keras.to_str().unwrap(), "xpresso");
    refused(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        "the student (xpresso) was not made for it",
    );
    let args = distill(xpresso.to_str().unwrap(), "deepatt");
    refused(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        "the teacher (xpresso) was not made for it",
    );
}
