//! Fuzzing of every input reader and of weight loading, seeded and bounded so that it runs in CI
//! (`CRMNET_FUZZ_CASES` raises the random cases for a longer run; docs/reliability.md): real
//! FASTA, table, released-format, gzip, burnpack and Keras files truncated at every offset (or
//! a dense stride through the large ones), with random edits (NUL, CR, bytes that are not
//! UTF-8, deleted and repeated stretches, empty records, huge lines), and random bytes.
//! Properties: never a panic; a failure is an error that names the source (and the line,
//! where there is one); a success is a correct result (a truncated text file reads as a prefix
//! of the whole, a truncated gzip or weights file never reads at all, CRLF reads as LF).

mod common;

use std::cell::Cell;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};

use burn::prelude::*;
use crmnet::data::alphabet;
use crmnet::data::readers::{Columns, InputError, InputFormat, Record, SequenceReader};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

/// Random cases per property: a few thousand in CI, more with `CRMNET_FUZZ_CASES`.
fn cases(ci: u32) -> u32 {
    std::env::var("CRMNET_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ci)
}

/// A runner with a fixed seed: CI tries the same inputs every time.
fn runner(ci_cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases: cases(ci_cases),
        rng_seed: RngSeed::Fixed(0x5eed),
        failure_persistence: None,
        ..Config::default()
    })
}

/// Every record of `bytes`, or the error that stopped the reading; panics are caught and
/// reported as `Err(None)`.
fn read_all(
    name: &str,
    bytes: &[u8],
    format: InputFormat,
) -> Result<Vec<Record>, Option<InputError>> {
    let bytes = bytes.to_vec();
    catch_unwind(AssertUnwindSafe(|| {
        let reader = SequenceReader::from_reader(
            name,
            Box::new(std::io::Cursor::new(bytes)),
            format,
            &Columns::default(),
        )?;
        reader.collect::<Result<Vec<_>, _>>()
    }))
    .map_err(|_| None)?
    .map_err(Some)
}

/// The property every read must have: no panic; an error names the source; every record read
/// holds a sequence of the alphabet (IUPAC codes included) whose channels match it.
fn check_read(name: &str, bytes: &[u8], format: InputFormat) -> Result<Vec<Record>, String> {
    match read_all(name, bytes, format) {
        Err(None) => panic!(
            "{name} ({} bytes, {format:?}): the reader panicked",
            bytes.len()
        ),
        Err(Some(error)) => {
            assert_eq!(error.source_name, name, "{error}");
            assert!(!error.reason.is_empty(), "{error}");
            Err(error.to_string())
        }
        Ok(records) => {
            for record in &records {
                assert!(
                    !record.sequence.is_empty()
                        && alphabet::channels(&record.sequence).as_ref() == Ok(&record.channels),
                    "{name}: record {record:?}"
                );
            }
            Ok(records)
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Real inputs of every layout: the first rows of the native test set as a table and as FASTA
/// (wrapped at 60), and of the released-format training sample.
fn samples() -> Vec<(&'static str, Vec<u8>)> {
    let lines = |file: &str, n: usize| -> String {
        let text = std::fs::read_to_string(common::data_dir().join(file)).unwrap();
        text.lines().take(n).map(|l| format!("{l}\n")).collect()
    };
    let table = lines("test_native_complex.tsv", 41);
    let fasta: String = table
        .lines()
        .skip(1)
        .enumerate()
        .map(|(i, row)| {
            let sequence = row.split('\t').next().unwrap();
            let (head, tail) = sequence.split_at(60);
            format!(">native_{i} row {i}\n{head}\n{tail}\n")
        })
        .collect();
    let released = lines("dream_train_sample.txt", 40);
    vec![
        ("table.tsv", table.into_bytes()),
        ("records.fa", fasta.into_bytes()),
        ("released.txt", released.into_bytes()),
    ]
}

fn same_sequences(a: &[Record], b: &[Record]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.id == y.id && x.sequence == y.sequence)
}

#[test]
fn readers_truncated_at_every_offset_read_a_prefix_or_fail_located() {
    let (mut inputs, mut failed) = (0, 0);
    let format = InputFormat::Auto;
    for (name, bytes) in samples() {
        let whole = check_read(name, &bytes, format).expect("the whole sample reads");
        assert_eq!(whole.len(), 40, "{name}");
        // Cut inside the first line, a file may read as another layout (`s` is a sequence);
        // from the first line end on, the layout is settled.
        let first_line_end = bytes.iter().position(|&b| b == b'\n').unwrap();
        for end in 0..bytes.len() {
            inputs += 1;
            let result = check_read(name, &bytes[..end], format);
            if end <= first_line_end {
                failed += usize::from(result.is_err());
                continue;
            }
            match result {
                Err(_) => failed += 1,
                Ok(part) => {
                    // All records but the last are the whole file's; the last may be cut short.
                    let Some((last, complete)) = part.split_last() else {
                        continue;
                    };
                    assert!(part.len() <= whole.len(), "{name} at {end}");
                    assert!(
                        same_sequences(complete, &whole[..complete.len()]),
                        "{name} at {end}"
                    );
                    let full = &whole[complete.len()];
                    assert!(
                        full.sequence.starts_with(&last.sequence) && full.id.starts_with(&last.id),
                        "{name} at {end}: {last:?} is not a prefix of {full:?}"
                    );
                }
            }
        }
        // Compressed, a cut anywhere but the end is an error: a shorter file never passes as
        // the whole.
        let compressed = gzip(&bytes);
        let gz_name = format!("{name}.gz");
        assert!(same_sequences(
            &check_read(&gz_name, &compressed, format).unwrap(),
            &whole
        ));
        for end in 0..compressed.len() {
            inputs += 1;
            let result = check_read(&gz_name, &compressed[..end], format);
            assert!(
                result.is_err(),
                "{gz_name} cut at {end} of {} read",
                compressed.len()
            );
            failed += 1;
        }
    }
    eprintln!("readers, truncations: {inputs} inputs, {failed} located errors, 0 panics");
}

#[test]
fn crlf_reads_as_lf_and_bad_text_fails_located() {
    let format = InputFormat::Auto;
    for (name, bytes) in samples() {
        let lf = check_read(name, &bytes, format).unwrap();
        let crlf = String::from_utf8(bytes.clone())
            .unwrap()
            .replace('\n', "\r\n");
        assert!(
            same_sequences(&check_read(name, crlf.as_bytes(), format).unwrap(), &lf),
            "{name}"
        );
    }
    let located = |name: &str, text: &[u8], expected: &str| {
        let error = check_read(name, text, InputFormat::Auto).unwrap_err();
        assert!(error.contains(expected), "{name}: {error}");
    };
    located("nul.fa", b">a\nACGT\n>b\nAC\0GT\n", "nul.fa:4:");
    located(
        "latin1.fa",
        b">a\nACGT\n>b\nAC\xe9GT\n",
        "latin1.fa:3: record 'b'",
    );
    located("empty-record.fa", b">a\n\n>b\nACGT\n", "empty-record.fa:1:");
    located("nul.txt", b"ACGT\t1.0\nAC\0GT\t2.0\n", "nul.txt:2:");
    located(
        "latin1.tsv",
        b"seq\tvalue\nACGT\t1\nAC\xffGT\t2\n",
        "latin1.tsv:3:",
    );
    located(
        "empty-row.tsv",
        b"seq\tvalue\nACGT\t1\n\t2\n",
        "empty-row.tsv:3:",
    );
    // A huge line: one 8-million-base sequence reads whole, or fails with its line.
    let mut huge = b"seq\n".to_vec();
    huge.extend(std::iter::repeat_n(b'A', 8 << 20));
    huge.push(b'\n');
    let records = check_read("huge.tsv", &huge, InputFormat::Auto).unwrap();
    assert_eq!(records[0].sequence.len(), 8 << 20);
}

/// An edit of a real input: what a damaged or hand-edited file holds.
#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Repeat(usize, usize),
    Overwrite(usize, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    let inserted = prop_oneof![
        Just(b"\0".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\xff\xfe".to_vec()),
        Just(b"\xc3".to_vec()),
        Just(b">\n".to_vec()),
        Just(b"\t".to_vec()),
        Just(b",".to_vec()),
        Just(b"\"".to_vec()),
        prop::collection::vec(any::<u8>(), 1..16),
    ];
    prop_oneof![
        (any::<usize>(), inserted).prop_map(|(at, bytes)| Edit::Insert(at, bytes)),
        (any::<usize>(), 1usize..200).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), 1usize..200).prop_map(|(at, n)| Edit::Repeat(at, n)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Overwrite(at, byte)),
    ]
}

fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
    match edit {
        Edit::Insert(i, inserted) => {
            let i = at(*i, bytes.len());
            bytes.splice(i..i, inserted.iter().copied());
        }
        Edit::Delete(i, n) => {
            let i = at(*i, bytes.len());
            let end = (i + n).min(bytes.len());
            bytes.drain(i..end);
        }
        Edit::Repeat(i, n) => {
            let i = at(*i, bytes.len());
            let end = (i + n).min(bytes.len());
            let stretch = bytes[i..end].to_vec();
            bytes.splice(i..i, stretch);
        }
        Edit::Overwrite(i, byte) => {
            if !bytes.is_empty() {
                let i = *i % bytes.len();
                bytes[i] = *byte;
            }
        }
    }
}

/// A real input after `edits`, gzipped if `compress`.
fn damaged(sample: &[u8], edits: &[Edit], compress: bool) -> Vec<u8> {
    let mut bytes = sample.to_vec();
    for edit in edits {
        apply(&mut bytes, edit);
    }
    if compress { gzip(&bytes) } else { bytes }
}

#[test]
fn readers_never_panic_on_edited_or_random_input() {
    let samples = samples();
    let formats = [
        InputFormat::Auto,
        InputFormat::Fasta,
        InputFormat::Released,
        InputFormat::Table,
    ];
    let (inputs, failed) = (Cell::new(0usize), Cell::new(0usize));
    let tried = |failure: bool| {
        inputs.set(inputs.get() + 1);
        failed.set(failed.get() + usize::from(failure));
    };
    let strategy = (
        0..samples.len(),
        prop::collection::vec(edit(), 1..8),
        0..formats.len(),
        any::<bool>(),
    );
    runner(3000)
        .run(&strategy, |(sample, edits, format, compress)| {
            let (name, bytes) = &samples[sample];
            let bytes = damaged(bytes, &edits, compress);
            tried(check_read(name, &bytes, formats[format]).is_err());
            Ok(())
        })
        .unwrap();
    runner(2000)
        .run(
            &(
                prop::collection::vec(any::<u8>(), 0..4096),
                0..formats.len(),
            ),
            |(bytes, format)| {
                tried(check_read("random", &bytes, formats[format]).is_err());
                Ok(())
            },
        )
        .unwrap();
    eprintln!(
        "readers, edits and random bytes: {} inputs, {} located errors, 0 panics",
        inputs.get(),
        failed.get()
    );
}

/// Loads weights from bytes; panics are caught and reported as `Err(None)`.
fn load(bytes: &[u8], device: &Device) -> Result<(), Option<String>> {
    let bytes = bytes.to_vec();
    catch_unwind(AssertUnwindSafe(|| {
        crmnet::weights::from_bytes(bytes, "weights under test", device)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }))
    .map_err(|_| None)?
    .map_err(Some)
}

/// Truncations of a weights file: every offset of its first `dense` bytes (headers, metadata),
/// then every `stride`-th; none may load, and each error names the source.
fn truncations(file: &[u8], dense: usize, stride: usize, device: &Device) -> usize {
    let ends: Vec<usize> = (0..dense.min(file.len()))
        .chain((dense..file.len()).step_by(stride))
        .chain(file.len().saturating_sub(64)..file.len())
        .collect();
    for &end in &ends {
        match load(&file[..end], device) {
            Ok(()) => panic!("weights cut at {end} of {} bytes loaded", file.len()),
            Err(None) => panic!("weights cut at {end} of {} bytes: a panic", file.len()),
            Err(Some(message)) => assert!(message.contains("weights under test"), "{message}"),
        }
    }
    ends.len()
}

/// Random overwrites of a weights file: loading succeeds (a damaged number is still a number)
/// or fails with an error naming the source; it never panics.
fn overwrites(file: &[u8], ci_cases: u32, device: &Device) -> (usize, usize) {
    let (inputs, failed) = (Cell::new(0), Cell::new(0));
    let strategy = prop::collection::vec((any::<usize>(), any::<u8>()), 1..8);
    runner(ci_cases)
        .run(&strategy, |changes| {
            let mut bytes = file.to_vec();
            for (at, byte) in changes {
                // Half the changes land in the first 4 KiB, where the structure is.
                let at = if at % 2 == 0 { at % 4096 } else { at } % bytes.len();
                bytes[at] = byte;
            }
            inputs.set(inputs.get() + 1);
            match load(&bytes, device) {
                Err(None) => panic!("overwritten weights: a panic"),
                Err(Some(message)) => {
                    assert!(message.contains("weights under test"), "{message}");
                    failed.set(failed.get() + 1);
                }
                Ok(()) => {}
            }
            Ok(())
        })
        .unwrap();
    (inputs.get(), failed.get())
}

#[test]
fn weights_files_truncated_edited_or_random_never_load_wrongly_or_panic() {
    let device = Device::flex();
    let burnpack = include_bytes!("../models/default.bpk");
    let keras = std::fs::read(common::deepatt_keras_file()).unwrap();
    let truncated =
        truncations(burnpack, 4096, 97, &device) + truncations(&keras, 4096, 97, &device);
    let (burnpack_inputs, burnpack_failed) = overwrites(burnpack, 300, &device);
    let (keras_inputs, keras_failed) = overwrites(&keras, 300, &device);
    let random = Cell::new(0);
    runner(500)
        .run(&prop::collection::vec(any::<u8>(), 0..8192), |bytes| {
            random.set(random.get() + 1);
            assert!(matches!(load(&bytes, &device), Err(Some(_))));
            Ok(())
        })
        .unwrap();
    // Random bytes behind each format's magic: past the first check.
    for magic in [&burnpack[..16], &keras[..16]] {
        runner(300)
            .run(&prop::collection::vec(any::<u8>(), 0..8192), |tail| {
                random.set(random.get() + 1);
                let bytes: Vec<u8> = magic.iter().copied().chain(tail).collect();
                assert!(matches!(load(&bytes, &device), Err(Some(_))));
                Ok(())
            })
            .unwrap();
    }
    eprintln!(
        "weights: {truncated} truncations and {} random files refused, 0 panics; overwritten bytes refused in {burnpack_failed} of {burnpack_inputs} burnpacks and {keras_failed} of {keras_inputs} Keras files, the rest loaded",
        random.get()
    );
}

/// The command line on damaged files: all the output or none of it, and a located error.
#[test]
fn predict_on_damaged_files_writes_everything_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let samples = samples();
    let tried = Cell::new(0);
    let strategy = (
        0..samples.len(),
        prop::collection::vec(edit(), 0..4),
        any::<bool>(),
    );
    runner(40)
        .run(&strategy, |(sample, edits, compress)| {
            let (name, bytes) = &samples[sample];
            let bytes = damaged(bytes, &edits, compress);
            let input = dir.path().join(name);
            let output = dir.path().join("predictions.tsv");
            std::fs::write(&input, &bytes).unwrap();
            let _ = std::fs::remove_file(&output);
            let (input_s, output_s) = (input.to_str().unwrap(), output.to_str().unwrap());
            let run = common::crmnet(&["predict", "-i", input_s, "-o", output_s]);
            let stderr = String::from_utf8_lossy(&run.stderr);
            match check_read(name, &bytes, InputFormat::Auto) {
                Ok(records) => {
                    assert!(run.status.success(), "{stderr}");
                    let written = std::fs::read_to_string(&output).unwrap();
                    assert_eq!(written.lines().count(), records.len() + 1);
                }
                Err(error) => {
                    assert_eq!(run.status.code(), Some(1), "{stderr}");
                    let reason = error.split_once(": ").map_or("", |(_, r)| r);
                    assert!(
                        stderr.contains(&format!("{input_s}:")) && stderr.contains(reason),
                        "{stderr} (the reader says {error})"
                    );
                    assert!(!output.exists(), "a partial output after: {stderr}");
                }
            }
            for entry in std::fs::read_dir(dir.path()).unwrap() {
                let file = entry.unwrap().file_name().to_string_lossy().into_owned();
                let known = file == "predictions.tsv" || samples.iter().any(|(n, _)| *n == file);
                assert!(known, "{file} left behind");
            }
            tried.set(tried.get() + 1);
            Ok(())
        })
        .unwrap();
    eprintln!(
        "predict on damaged files: {} runs, no partial output",
        tried.get()
    );
}
