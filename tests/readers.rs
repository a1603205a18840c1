mod common;

use std::io::Write;

use crmnet::data::readers::{Columns, InputError, InputFormat, Record, SequenceReader};
use flate2::Compression;
use flate2::write::GzEncoder;

fn read_all(path: &str, format: InputFormat, columns: &Columns) -> Result<Vec<Record>, InputError> {
    SequenceReader::open(path, format, columns)?.collect()
}

fn write_gzip(path: &std::path::Path, content: &[u8]) {
    let mut encoder = GzEncoder::new(std::fs::File::create(path).unwrap(), Compression::default());
    encoder.write_all(content).unwrap();
    encoder.finish().unwrap();
}

#[test]
fn headered_table_reads_every_row_in_order() {
    let path = common::data_file("test_native_complex.tsv");
    let records = read_all(&path, InputFormat::Auto, &Columns::default()).unwrap();
    let expected = &common::tsv_columns("test_native_complex.tsv", &["seq"])[0];
    assert_eq!(records.len(), 3733);
    assert!(records.iter().zip(expected).all(|(r, s)| &r.sequence == s));
    assert_eq!((records[0].id.as_str(), records[0].line), ("1", 2));
    assert_eq!(records[3732].line, 3734);
    let with_values = Columns {
        sequence: Some("seq".into()),
        value: Some("measured".into()),
        extra: vec!["pred_legnet".into()],
        ..Columns::default()
    };
    let records = read_all(&path, InputFormat::Table, &with_values).unwrap();
    assert_eq!(records[0].value, Some(13.1688));
    assert_eq!(records[0].extra, vec!["14.6767".to_string()]);
}

#[test]
fn released_training_format_is_detected_with_its_values() {
    let path = common::data_file("dream_train_sample.txt");
    let records = read_all(&path, InputFormat::Auto, &Columns::default()).unwrap();
    assert_eq!(records.len(), 7369);
    assert_eq!(records[0].value, Some(15.1824));
    assert_eq!(records[1].value, Some(12.0));
    let lengths = records.iter().map(|r| r.channels.len());
    assert!(lengths.clone().min().unwrap() < 110 && lengths.max().unwrap() > 112);
}

#[test]
fn gzipped_multiline_fasta_is_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.fa.gz");
    write_gzip(
        &path,
        b">first some description\nACGT\nacgn\n>second\nRYACGT\n",
    );
    let records = read_all(
        path.to_str().unwrap(),
        InputFormat::Auto,
        &Columns::default(),
    )
    .unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(
        (records[0].id.as_str(), records[0].sequence.as_str()),
        ("first", "ACGTacgn")
    );
    assert_eq!(records[0].channels, vec![0, 1, 2, 3, 0, 1, 2, 4]);
    assert_eq!((records[1].id.as_str(), records[1].line), ("second", 4));
}

fn error_of(content: &[u8], name: &str, format: InputFormat, columns: &Columns) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    let path = path.to_str().unwrap().to_string();
    let error = read_all(&path, format, columns).unwrap_err().to_string();
    assert!(error.starts_with(&path), "{error}");
    error[path.len()..].to_string()
}

#[test]
fn bad_records_stop_with_file_line_and_reason() {
    let none = Columns::default();
    assert_eq!(
        error_of(
            b">a\nACGT\nACXT\n>b\nAC\n",
            "x.fa",
            InputFormat::Auto,
            &none
        ),
        ":3: record 'a': invalid character 'X' at position 7 (allowed: A C G T, IUPAC codes, any case)"
    );
    assert_eq!(
        error_of(
            b">a\nACGT\n>empty\n>c\nAC\n",
            "e.fa",
            InputFormat::Auto,
            &none
        ),
        ":3: record 'empty': empty sequence"
    );
    assert_eq!(
        error_of(
            b"id\tseq\nx\tACGT\ny\tAC-T\n",
            "t.tsv",
            InputFormat::Auto,
            &none
        ),
        ":3: invalid character '-' at position 3 (allowed: A C G T, IUPAC codes, any case)"
    );
    assert_eq!(
        error_of(
            b"seq\tvalue\nACGT\t1\n\t2\n",
            "t.tsv",
            InputFormat::Auto,
            &none
        ),
        ":3: empty sequence"
    );
    assert_eq!(
        error_of(
            b"ACGT\t1.5\nACGT\tlots\n",
            "r.txt",
            InputFormat::Auto,
            &none
        ),
        ":2: value \"lots\" in column 2 is not a finite number"
    );
    let wanted = Columns {
        sequence: Some("promoter".into()),
        ..Columns::default()
    };
    assert_eq!(
        error_of(b"id,seq\nx,ACGT\n", "t.csv", InputFormat::Auto, &wanted),
        ":1: no column 'promoter'; the header has: id, seq"
    );
    assert!(
        error_of(b"id,name\nx,y\n", "t.csv", InputFormat::Auto, &none)
            .starts_with(":1: no sequence column")
    );
}

#[test]
fn truncated_gzip_is_an_error_not_an_early_end() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.txt.gz");
    let content: String = (0..20_000)
        .map(|i| {
            let sequence: String = (0..40)
                .map(|j| ['A', 'C', 'G', 'T'][(i * 7 + j * j) % 4])
                .collect();
            format!("{sequence}\t{}\n", i % 17)
        })
        .collect();
    write_gzip(&whole, content.as_bytes());
    let bytes = std::fs::read(&whole).unwrap();
    let cut = dir.path().join("cut.txt.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let cut = cut.to_str().unwrap();
    let error = read_all(cut, InputFormat::Auto, &Columns::default()).unwrap_err();
    assert_eq!(error.source_name, cut);
    assert!(error.line > 1, "{error}");
    assert!(error.reason.contains("cannot read"), "{error}");
}

#[test]
fn missing_file_names_the_file() {
    let error = SequenceReader::open("/nonexistent/in.fa", InputFormat::Auto, &Columns::default())
        .err()
        .unwrap();
    assert!(
        error
            .to_string()
            .starts_with("/nonexistent/in.fa: cannot open:"),
        "{error}"
    );
}

#[test]
fn blank_input_says_so_rather_than_naming_a_missing_column() {
    let none = Columns::default();
    assert_eq!(
        error_of(b"\n\n\n", "blank.txt", InputFormat::Auto, &none),
        ":1: no sequences found"
    );
}

/// A model's feature columns: read as numbers when a table has all of them, absent when it has
/// none (sequence-only prediction), refused when it has some, and a cell that is not a finite
/// number names its line and column.
#[test]
fn feature_columns_are_all_or_none() {
    let features = Columns {
        features: vec!["utr5_gc".into(), "cds_gc".into()],
        ..Columns::default()
    };
    let path = std::env::temp_dir().join(format!("crmnet-features-{}.tsv", std::process::id()));
    let path_s = path.to_str().unwrap().to_string();
    std::fs::write(
        &path,
        "seq\tcds_gc\tUTR5_GC\nACGT\t0.5\t-1.25\nTTTT\t2\t0\n",
    )
    .unwrap();
    let records = read_all(&path_s, InputFormat::Auto, &features).unwrap();
    assert_eq!(records[0].features, vec![-1.25, 0.5]);
    assert_eq!(records[1].features, vec![0.0, 2.0]);
    std::fs::write(&path, "seq\tother\nACGT\t1\n").unwrap();
    let records = read_all(&path_s, InputFormat::Auto, &features).unwrap();
    assert!(records[0].features.is_empty());
    std::fs::write(&path, ">a\nACGT\n").unwrap();
    assert!(
        read_all(&path_s, InputFormat::Auto, &features).unwrap()[0]
            .features
            .is_empty()
    );
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        error_of(
            b"seq,cds_gc\nACGT,1\n",
            "t.csv",
            InputFormat::Auto,
            &features
        ),
        ":1: the model reads the features utr5_gc, cds_gc; the header lacks utr5_gc (give all of \
         them, or none to predict from sequence alone)"
    );
    assert_eq!(
        error_of(
            b"seq,cds_gc,utr5_gc\nACGT,1,2\nACGT,x,2\n",
            "t.csv",
            InputFormat::Auto,
            &features
        ),
        ":3: feature cds_gc \"x\" in column 2 is not a finite number"
    );
}
