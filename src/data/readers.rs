//! Streaming readers: FASTA (needletail), the released training format (headerless
//! `sequence<TAB>value`, or bare sequences one per line) and headered TSV/CSV (csv). Input may be
//! gzip-compressed (detected by its magic bytes) and may be standard input. Records are read one
//! at a time; a bad record stops the stream with `file:line: reason`.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use needletail::parser::FastxReader;

use super::alphabet;

/// One input sequence. `channels` is the validated sequence in alphabet channels.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: String,
    pub sequence: String,
    pub channels: Vec<u8>,
    pub value: Option<f64>,
    /// The cells of [`Columns::extra`], in that order (empty for FASTA).
    pub extra: Vec<String>,
    /// The values of [`Columns::features`], in that order; empty when the input has none of
    /// those columns (FASTA, headerless lines, a table without them).
    pub features: Vec<f32>,
    /// 1-based line where the record starts.
    pub line: u64,
}

/// An input problem, located as `source:line: reason` (`source: reason` before any line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}:{}{reason}", line_prefix(*.line))]
pub struct InputError {
    pub source_name: String,
    pub line: u64,
    pub reason: String,
}

fn line_prefix(line: u64) -> String {
    if line == 0 {
        " ".to_string()
    } else {
        format!("{line}: ")
    }
}

/// The layout of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// Decide from the content: `>` starts FASTA; a first line of a sequence (and optionally a
    /// tab and a number) is the released format; anything else is a headered table.
    Auto,
    Fasta,
    /// Headerless `sequence[<TAB>value]` lines, as in the released training files.
    Released,
    /// A table with a header line, tab- or comma-separated.
    Table,
}

impl InputFormat {
    pub const ALL: [InputFormat; 4] = [
        InputFormat::Auto,
        InputFormat::Fasta,
        InputFormat::Released,
        InputFormat::Table,
    ];

    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Auto => "auto",
            InputFormat::Fasta => "fasta",
            InputFormat::Released => "released",
            InputFormat::Table => "table",
        }
    }
}

impl std::fmt::Display for InputFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for InputFormat {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        InputFormat::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                format!("unknown input format '{name}' (known: auto, fasta, released, table)")
            })
    }
}

/// Column choices for headered tables.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    /// The sequence column; by default the first named `seq` or `sequence`.
    pub sequence: Option<String>,
    /// The value column, when one is wanted.
    pub value: Option<String>,
    /// Further columns to carry along as text (a `split` column, peer predictions, ...).
    pub extra: Vec<String>,
    /// Per-sequence feature columns a model reads (its card's `features`): a table has all of
    /// them or none (then records carry no features); numbers, finite.
    pub features: Vec<String>,
}

const SEQUENCE_COLUMNS: [&str; 2] = ["seq", "sequence"];
const ID_COLUMNS: [&str; 2] = ["id", "name"];
/// Measurement columns looked for, in this order, where a value is wanted and no column is named.
pub const VALUE_COLUMNS: [&str; 3] = ["measured", "expression", "value"];

/// The value column of a table whose header is `header` (as [`SequenceReader::header`] gives
/// it): `chosen`, or else the first of [`VALUE_COLUMNS`] there. `None` for headerless input,
/// whose value is each line's second field. Every command that reads measurements decides it
/// here, so that a file readable by one is readable by all.
pub fn value_column(header: &[String], chosen: Option<&str>) -> Result<Option<String>, String> {
    match chosen {
        Some(chosen) => Ok(Some(chosen.to_string())),
        None if header.is_empty() => Ok(None),
        None => VALUE_COLUMNS
            .iter()
            .find(|name| header.iter().any(|h| h.eq_ignore_ascii_case(name)))
            .map(|name| Some(name.to_string()))
            .ok_or_else(|| {
                format!(
                    "no measurement column (looked for {}; choose one with --value-column); the header has: {}",
                    VALUE_COLUMNS.join(", "),
                    header.join(", ")
                )
            }),
    }
}
const BUFFER: usize = 1 << 16;

type Input = Box<dyn BufRead + Send>;

/// A stream of records from one file or from standard input (`-`).
pub struct SequenceReader {
    source_name: String,
    inner: Inner,
    records_read: usize,
}

enum Inner {
    Fasta(Box<dyn FastxReader>),
    Delimited {
        reader: csv::Reader<Input>,
        layout: RowLayout,
    },
    Done,
}

impl SequenceReader {
    /// Opens `path` (`-` for standard input) in the given format.
    pub fn open(path: &str, format: InputFormat, columns: &Columns) -> Result<Self, InputError> {
        let source_name = if path == "-" {
            "<stdin>".to_string()
        } else {
            path.to_string()
        };
        let raw: Box<dyn Read + Send> = if path == "-" {
            Box::new(io::stdin())
        } else {
            Box::new(File::open(Path::new(path)).map_err(|e| InputError {
                source_name: source_name.clone(),
                line: 0,
                reason: format!("cannot open: {e}"),
            })?)
        };
        Self::from_reader(source_name, raw, format, columns)
    }

    /// Reads from any byte stream (a pasted text, a dropped file's bytes); `source_name`
    /// names it in errors.
    pub fn from_reader(
        source_name: impl Into<String>,
        raw: Box<dyn Read + Send>,
        format: InputFormat,
        columns: &Columns,
    ) -> Result<Self, InputError> {
        let source_name = source_name.into();
        let fail = |line, reason: String| InputError {
            source_name: source_name.clone(),
            line,
            reason,
        };
        let mut input = decompressed(raw).map_err(|e| fail(0, format!("cannot read: {e}")))?;
        let format = match format {
            InputFormat::Auto => {
                detect(&mut input).map_err(|e| fail(1, format!("cannot read: {e}")))?
            }
            chosen => chosen,
        };
        let inner = match format {
            InputFormat::Fasta => Inner::Fasta(
                needletail::parse_fastx_reader(input)
                    .map_err(|e| fail(e.position.line, fasta_reason(&e)))?,
            ),
            InputFormat::Released => Inner::Delimited {
                reader: csv_reader(input, b'\t', false),
                layout: RowLayout {
                    sequence: 0,
                    value: Some(1),
                    id: None,
                    extra: Vec::new(),
                    features: Vec::new(),
                },
            },
            InputFormat::Table => table(input, columns).map_err(|reason| fail(1, reason))?,
            InputFormat::Auto => unreachable!("resolved above"),
        };
        Ok(Self {
            source_name,
            inner,
            records_read: 0,
        })
    }

    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// Column names of a headered table (empty for other formats).
    pub fn header(&mut self) -> Vec<String> {
        match &mut self.inner {
            Inner::Delimited { reader, .. } if reader.has_headers() => reader
                .headers()
                .map(|h| h.iter().map(str::to_string).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    fn error(&self, line: u64, reason: impl Into<String>) -> InputError {
        InputError {
            source_name: self.source_name.clone(),
            line,
            reason: reason.into(),
        }
    }

    fn next_record(&mut self) -> Option<Result<Record, InputError>> {
        let number = self.records_read + 1;
        let result = match &mut self.inner {
            Inner::Done => return None,
            Inner::Fasta(reader) => match reader.next()? {
                Err(e) => Err(self.error(e.position.line, fasta_reason(&e))),
                Ok(record) => {
                    fasta_record(&record).map_err(|(line, reason)| self.error(line, reason))
                }
            },
            Inner::Delimited { reader, layout } => {
                let mut row = csv::StringRecord::new();
                match reader.read_record(&mut row) {
                    Ok(false) => return None,
                    Err(e) => {
                        let line = e.position().map_or(reader.position().line(), |p| p.line());
                        Err(self.error(line, csv_reason(&e)))
                    }
                    Ok(true) => {
                        let line = row.position().map_or(0, |p| p.line());
                        layout
                            .record(&row, number)
                            .map(|mut record| {
                                record.line = line;
                                record
                            })
                            .map_err(|reason| self.error(line, reason))
                    }
                }
            }
        };
        match result {
            Ok(record) => {
                self.records_read = number;
                Some(Ok(record))
            }
            Err(error) => {
                self.inner = Inner::Done;
                Some(Err(error))
            }
        }
    }
}

impl Iterator for SequenceReader {
    type Item = Result<Record, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record()
    }
}

/// What a FASTA parse error means: needletail leaves the message of some kinds empty.
fn fasta_reason(error: &needletail::errors::ParseError) -> String {
    use needletail::errors::ParseErrorKind;
    match error.kind {
        _ if !error.msg.is_empty() => error.msg.clone(),
        ParseErrorKind::UnexpectedEnd => "the input ends inside a record (cut short?)".into(),
        ParseErrorKind::EmptyFile => "no sequences found".into(),
        ref kind => format!("not readable as FASTA ({kind:?})"),
    }
}

/// Wraps the input in a gzip decoder when it starts with gzip's magic bytes.
fn decompressed(raw: Box<dyn Read + Send>) -> io::Result<Input> {
    let mut buffered = BufReader::with_capacity(BUFFER, raw);
    if buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::with_capacity(
            BUFFER,
            MultiGzDecoder::new(buffered),
        )))
    } else {
        Ok(Box::new(buffered))
    }
}

/// Looks at the first line without consuming it.
fn detect(input: &mut Input) -> io::Result<InputFormat> {
    let head = input.fill_buf()?;
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    if head.get(start) == Some(&b'>') {
        return Ok(InputFormat::Fasta);
    }
    let first_line = head[start..]
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or_default();
    let first_line = String::from_utf8_lossy(first_line);
    let mut fields = first_line.trim_end_matches('\r').split('\t');
    let looks_like_sequence = fields
        .next()
        .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| alphabet::channel(b).is_some()));
    let rest: Vec<&str> = fields.collect();
    let released = looks_like_sequence
        && (rest.is_empty() || (rest.len() == 1 && rest[0].trim().parse::<f64>().is_ok()));
    Ok(if released {
        InputFormat::Released
    } else {
        InputFormat::Table
    })
}

fn csv_reader(input: Input, delimiter: u8, has_headers: bool) -> csv::Reader<Input> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(has_headers)
        .flexible(!has_headers)
        .from_reader(input)
}

fn table(mut input: Input, columns: &Columns) -> Result<Inner, String> {
    let head = input.fill_buf().map_err(|e| format!("cannot read: {e}"))?;
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let delimiter = if first_line.contains(&b'\t') {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv_reader(input, delimiter, true);
    let header = reader.headers().map_err(|e| csv_reason(&e))?.clone();
    // The csv reader skips blank lines: no header at all is blank input, not a bad table.
    if header.is_empty() {
        return Err("no sequences found".into());
    }
    let names: Vec<&str> = header.iter().collect();
    let find = |name: &str| {
        names
            .iter()
            .position(|column| column.eq_ignore_ascii_case(name))
    };
    let find_chosen = |chosen: &str| {
        find(chosen)
            .ok_or_else(|| format!("no column '{chosen}'; the header has: {}", names.join(", ")))
    };
    let sequence = match &columns.sequence {
        Some(chosen) => find_chosen(chosen)?,
        None => SEQUENCE_COLUMNS.iter().find_map(|name| find(name)).ok_or_else(|| {
            format!(
                "no sequence column (looked for {}; choose one with --seq-column); the header has: {}",
                SEQUENCE_COLUMNS.join(" or "),
                names.join(", ")
            )
        })?,
    };
    let value = columns.value.as_deref().map(find_chosen).transpose()?;
    let id = ID_COLUMNS.iter().find_map(|name| find(name));
    let extra = columns
        .extra
        .iter()
        .map(|name| find_chosen(name))
        .collect::<Result<_, _>>()?;
    let found: Vec<Option<usize>> = columns.features.iter().map(|name| find(name)).collect();
    let features = if found.iter().all(Option::is_none) {
        Vec::new()
    } else {
        let missing: Vec<&str> = columns
            .features
            .iter()
            .zip(&found)
            .filter(|(_, index)| index.is_none())
            .map(|(name, _)| name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the model reads the features {}; the header lacks {} (give all of them, or \
                 none to predict from sequence alone)",
                columns.features.join(", "),
                missing.join(", ")
            ));
        }
        columns
            .features
            .iter()
            .zip(found.into_iter().flatten())
            .map(|(name, index)| (name.clone(), index))
            .collect()
    };
    Ok(Inner::Delimited {
        reader,
        layout: RowLayout {
            sequence,
            value,
            id,
            extra,
            features,
        },
    })
}

fn csv_reason(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Io(e) => format!("cannot read: {e}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8 text".to_string(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("{len} fields where the header has {expected_len}")
        }
        _ => error.to_string(),
    }
}

/// Where a delimited row keeps what a record needs.
struct RowLayout {
    sequence: usize,
    value: Option<usize>,
    id: Option<usize>,
    extra: Vec<usize>,
    /// Feature columns: name and index.
    features: Vec<(String, usize)>,
}

impl RowLayout {
    fn record(&self, row: &csv::StringRecord, number: usize) -> Result<Record, String> {
        let field = |index: usize| row.get(index).map(str::trim);
        let text = field(self.sequence)
            .ok_or_else(|| format!("missing column {} (the sequence)", self.sequence + 1))?;
        let channels = alphabet::channels(text).map_err(|e| e.to_string())?;
        let value = match self
            .value
            .and_then(|index| field(index).map(|v| (index, v)))
        {
            None => None,
            Some((index, raw)) => Some(
                raw.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        format!(
                            "value {raw:?} in column {} is not a finite number",
                            index + 1
                        )
                    })?,
            ),
        };
        let id = self
            .id
            .and_then(field)
            .filter(|s| !s.is_empty())
            .map_or_else(|| number.to_string(), str::to_string);
        let extra = self
            .extra
            .iter()
            .map(|&index| field(index).unwrap_or_default().to_string())
            .collect();
        let features = self
            .features
            .iter()
            .map(|(name, index)| {
                let raw = field(*index).unwrap_or_default();
                raw.parse::<f32>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        format!(
                            "feature {name} {raw:?} in column {} is not a finite number",
                            index + 1
                        )
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Record {
            id,
            sequence: text.to_string(),
            channels,
            value,
            extra,
            features,
            line: 0,
        })
    }
}

fn fasta_record(record: &needletail::parser::SequenceRecord) -> Result<Record, (u64, String)> {
    let header_line = record.start_line_number();
    let id = String::from_utf8_lossy(record.id());
    let id = id.split_whitespace().next().unwrap_or_default().to_string();
    let in_record = |reason: String| format!("record '{id}': {reason}");
    let sequence = String::from_utf8(record.seq().into_owned()).map_err(|_| {
        (
            header_line,
            in_record("sequence is not valid UTF-8 text".into()),
        )
    })?;
    let channels = alphabet::channels(&sequence).map_err(|error| {
        let line = match error {
            alphabet::SequenceError::InvalidCharacter { position, .. } => {
                header_line + line_of_base(record.raw_seq(), position)
            }
            alphabet::SequenceError::Empty => header_line,
        };
        (line, in_record(error.to_string()))
    })?;
    Ok(Record {
        id,
        sequence,
        channels,
        value: None,
        extra: Vec::new(),
        features: Vec::new(),
        line: header_line,
    })
}

/// 1-based line, counted from the header, of the `position`-th base of a multi-line sequence.
fn line_of_base(raw: &[u8], position: usize) -> u64 {
    let mut bases = 0;
    let mut line = 1;
    for &byte in raw {
        match byte {
            b'\n' => line += 1,
            b'\r' => {}
            _ => {
                bases += 1;
                if bases == position {
                    break;
                }
            }
        }
    }
    line
}
