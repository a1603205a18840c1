// Reading what a biologist pastes or drops: FASTA, one sequence per line, or a TSV/CSV with a
// `seq`/`sequence` column. Every problem names the record, the line and the position.

const ALLOWED = /^[ACGTNRYSWKMBDHV]$/i;

/** First invalid character of a sequence as { position (1-based), found }, or null. */
export function firstInvalid(sequence) {
  for (let i = 0; i < sequence.length; i++) {
    if (!ALLOWED.test(sequence[i])) return { position: i + 1, found: sequence[i] };
  }
  return null;
}

/**
 * Parses `text` into `{ records: [{ id, sequence, line }], errors: [string] }`.
 * `name` names the source in messages ("pasted text" or a file name).
 */
export function parseSequences(text, name = 'pasted text') {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const firstContent = lines.findIndex((line) => line.trim() !== '');
  if (firstContent < 0) return { records: [], errors: [`${name}: no sequences`] };
  const first = lines[firstContent].trim();
  let records;
  if (first.startsWith('>')) records = fasta(lines);
  else if (/[\t,]/.test(first) && /(^|[\t,])(seq|sequence)([\t,]|$)/i.test(first)) records = table(lines, firstContent);
  else records = plain(lines);
  const errors = [];
  records.forEach((record, index) => {
    const where = `${name}, record ${index + 1} (${record.id}, line ${record.line})`;
    if (record.sequence === '') errors.push(`${where}: empty sequence`);
    const bad = firstInvalid(record.sequence);
    if (bad) errors.push(`${where}: invalid character '${bad.found}' at position ${bad.position} (allowed: A C G T and IUPAC codes)`);
  });
  return { records, errors };
}

function fasta(lines) {
  const records = [];
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line.startsWith('>')) {
      records.push({ id: line.slice(1).trim() || `record ${records.length + 1}`, sequence: '', line: index + 1 });
    } else if (line !== '' && records.length > 0) {
      records[records.length - 1].sequence += line.replace(/\s+/g, '');
    }
  });
  return records;
}

function table(lines, headerIndex) {
  const separator = lines[headerIndex].includes('\t') ? '\t' : ',';
  const header = lines[headerIndex].split(separator).map((cell) => cell.trim().toLowerCase());
  const column = header.findIndex((cell) => cell === 'seq' || cell === 'sequence');
  const idColumn = header.findIndex((cell) => cell === 'id' || cell === 'name');
  const records = [];
  for (let index = headerIndex + 1; index < lines.length; index++) {
    if (lines[index].trim() === '') continue;
    const cells = lines[index].split(separator);
    const id = idColumn >= 0 && cells[idColumn] ? cells[idColumn].trim() : `row ${records.length + 1}`;
    records.push({ id, sequence: (cells[column] ?? '').trim(), line: index + 1 });
  }
  return records;
}

function plain(lines) {
  const records = [];
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line !== '') records.push({ id: `seq ${records.length + 1}`, sequence: line, line: index + 1 });
  });
  return records;
}
