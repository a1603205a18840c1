// The package reads input with the crate's own readers: what `crmnet predict` reads from a file,
// `readSequences` reads from a string or bytes, with the same records and the same messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { libraryConstruct, readSequences } from '../index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'release', 'crmnet');
const fasta = '>first sample\nACGTN\nacgt\n>second\nTTTT\n';

test('FASTA, tables and gzip read as the CLI reads them', async () => {
  const expected = [
    { id: 'first', sequence: 'ACGTNacgt', line: 1 },
    { id: 'second', sequence: 'TTTT', line: 4 },
  ];
  assert.deepEqual(await readSequences(fasta, 'pasted'), expected);
  assert.deepEqual(await readSequences(gzipSync(fasta), 'dropped.fa.gz'), expected);
  const table = await readSequences('name,seq,value\na,ACGT,1\nb,GGCC,2\n', 'table.csv');
  assert.deepEqual(table.map((r) => [r.id, r.sequence]), [['a', 'ACGT'], ['b', 'GGCC']]);
  // The same ids and sequences as the native reader gives for the same file.
  const dir = mkdtempSync(join(tmpdir(), 'crmnet-readers-'));
  writeFileSync(join(dir, 'in.fa'), fasta);
  const native = execFileSync(cli, ['predict', '-i', join(dir, 'in.fa'), '--random-init', '--arch', 'crmnet-tiny'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const rows = native.trim().split('\n').slice(1).map((line) => line.split('\t').slice(0, 2));
  assert.deepEqual(rows, expected.map((r) => [r.id, r.sequence]));
});

test('a bad record rejects with the message the CLI gives', async () => {
  const bad = '>ok\nACGT\n>bad\nACGXT\n';
  await assert.rejects(readSequences(bad, 'pasted text'), {
    message: /^pasted text:\d+: record 'bad': invalid character 'X' at position 4/,
  });
  const dir = mkdtempSync(join(tmpdir(), 'crmnet-readers-'));
  writeFileSync(join(dir, 'bad.fa'), bad);
  let stderr = '';
  try {
    execFileSync(cli, ['predict', '-i', join(dir, 'bad.fa'), '--random-init', '--arch', 'crmnet-tiny'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    stderr = error.stderr;
  }
  const reason = stderr.slice(stderr.indexOf('record'));
  const thrown = await readSequences(bad, 'x').catch((error) => error.message);
  assert.equal(thrown.slice(thrown.indexOf('record')), reason.trim());
  await assert.rejects(readSequences('\n\n', 'empty'), { message: /^empty:1: no sequences found$/ });
});

test('the library construct is the flanks every measured sequence carries', async () => {
  assert.deepEqual(await libraryConstruct(), {
    flank5: 'TGCATTTTTTTCACATC',
    flank3: 'GGTTACGGCTGTT',
    variableLength: 80,
  });
});
