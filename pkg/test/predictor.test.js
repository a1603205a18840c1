// The npm package against the native CLI on the same weights and real sequences, in Node
// (CPU backend). Run after `cargo build --release` and `bash pkg/build.sh`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Predictor, randomPromoters, scanMotifs } from '../index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = process.env.CRMNET_DATA ?? join(root, '..', 'shared', 'data');
const nativeTest = join(dataDir, 'test_native_complex.tsv');
const cli = join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'release', 'crmnet');

function native(args) {
  return execFileSync(cli, args, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
}

/** Rows of a TSV as objects keyed by its header. */
function tsv(text) {
  const [header, ...lines] = text.trim().split('\n').map((line) => line.split('\t'));
  return lines.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i]])));
}

const sequences = tsv(readFileSync(nativeTest, 'utf8')).map((row) => row.seq);
const predictor = await Predictor.load({ backend: 'cpu' });

test('info names the CPU backend and the embedded model card', () => {
  const info = predictor.info();
  assert.equal(info.backend, 'cpu');
  const shipped = JSON.parse(native(['info', '--default-model']).split('model card: ')[1]);
  assert.deepEqual(info.card, shipped);
  assert.equal(info.card.trained, true);
});

test('a Keras .h5 file loads as weights: DeepAtt reproduces its published predictions', async () => {
  const teachers = process.env.CRMNET_TEACHERS ?? join(dataDir, '..', 'teachers');
  const deepatt = await Predictor.load({
    weights: readFileSync(join(teachers, 'deepatt', 'DeepAtt_model.h5')),
    backend: 'cpu',
  });
  assert.equal(deepatt.info().card.architecture.kind, 'deepatt');
  for (const name of ['test_native_complex.tsv', 'test_random_complex.tsv']) {
    const rows = tsv(readFileSync(join(dataDir, name), 'utf8'));
    const predicted = await deepatt.predict(rows.map((row) => row.seq), { batchSize: 512 });
    let worst = 0;
    predicted.forEach((value, i) => (worst = Math.max(worst, Math.abs(value - Number(rows[i].pred_deepatt)))));
    assert.ok(worst < 1e-4, `${name}: largest difference ${worst} from pred_deepatt`);
  }
});

test('imported Xpresso (10.5 kb, half-life features) predicts what the native CLI predicts', async () => {
  // The native import is checked against Keras within 1e-4 (tests/keras.rs); here the package
  // equals it on simulated genes, with per-sequence features and without (all 0).
  const teachers = process.env.CRMNET_TEACHERS ?? join(dataDir, '..', 'teachers');
  const h5 = join(teachers, 'xpresso', 'human_trainepoch.11-0.426.h5');
  const xpresso = await Predictor.load({ weights: readFileSync(h5), backend: 'cpu' });
  const names = xpresso.info().card.input.features;
  assert.deepEqual(names, ['halflife_1', 'halflife_2', 'halflife_3', 'halflife_4', 'halflife_5', 'halflife_6']);
  const dir = mkdtempSync(join(tmpdir(), 'crmnet-'));
  const genes = join(dir, 'genes.tsv');
  native(['simulate', '--kind', 'gene', '--n', '6', '--seed', '5', '-o', genes]);
  const rows = tsv(readFileSync(genes, 'utf8'));
  // Shorter promoters too, centred on the TSS.
  const promoters = rows.map((row, i) => (i % 2 ? row.sequence.slice(6000, 8000) : row.sequence));
  const features = promoters.map((_, i) => names.map((_, j) => Math.sin(i * 7 + j) * 1.5));
  const table = join(dir, 'with-features.tsv');
  writeFileSync(
    table,
    [['id', 'sequence', ...names].join('\t'), ...promoters.map((p, i) => [`g${i}`, p, ...features[i]].join('\t'))].join('\n'),
  );
  const expect = (args) => tsv(native(['predict', '--weights', h5, ...args])).map((row) => Number(row.prediction));
  const withFeatures = expect(['--input', table]);
  const bare = join(dir, 'bare.fa');
  writeFileSync(bare, promoters.map((p, i) => `>g${i}\n${p}`).join('\n'));
  const alone = expect(['--input', bare]);
  const worst = (a, b) => a.reduce((m, value, i) => Math.max(m, Math.abs(value - b[i])), 0);
  const ours = await xpresso.predict(promoters, { features, batchSize: 4 });
  assert.ok(worst(ours, withFeatures) < 1e-5, `with features: ${worst(ours, withFeatures)}`);
  const flat = await xpresso.predict(promoters, { features: features.flat() });
  assert.deepEqual(flat, ours);
  const ownAlone = await xpresso.predict(promoters);
  assert.ok(worst(ownAlone, alone) < 1e-5, `without: ${worst(ownAlone, alone)}`);
  assert.ok(worst(ownAlone, ours) > 1e-3, 'the features change the predictions');
  await assert.rejects(xpresso.predict(promoters, { features: [[1, 2]] }), /features/);
  await assert.rejects(predictor.predict(['ACGT'], { features: [[1]] }), /reads no features/);
  xpresso.close();
});

test('design: the same seed gives the native command line\'s trajectory, within its constraints', async () => {
  const start = sequences[0];
  const file = join(mkdtempSync(join(tmpdir(), 'crmnet-')), 'start.fa');
  writeFileSync(file, `>s\n${start}\n`);
  const flags = ['--max-changes', '4', '--forbid', 'TTTTTTTT', '--gc-min', '0.3', '--gc-max', '0.5'];
  for (const [strategy, extra, options] of [
    ['greedy', [], {}],
    ['genetic', ['--goal', '10', '--population', '24', '--generations', '6', '--seed', '7'], { goal: 10, population: 24, generations: 6, seed: 7 }],
  ]) {
    const expected = tsv(native(['design', '--input', file, '--strategy', strategy, ...flags, ...extra]));
    const steps = await predictor.design(start, {
      strategy, maxChanges: 4, forbid: ['TTTTTTTT'], gcRange: [0.3, 0.5], ...options,
    });
    assert.deepEqual(steps.map((s) => s.sequence), expected.map((row) => row.sequence), strategy);
    steps.forEach((step, i) => {
      assert.ok(Math.abs(step.prediction - Number(expected[i].prediction)) < 1e-4);
      const written = step.changes.map((c) => `${c.from}${c.position + 1}${c.to}`).join(',');
      assert.equal(written, expected[i].changes);
      assert.ok(step.changes.every((c) => c.position >= 17 && c.position < 97), 'the flanks are kept');
    });
  }
  await assert.rejects(predictor.design(start, { goal: 'most' }), /expected max, min or a number/);
  await assert.rejects(predictor.design(start, { gcRange: [0.6, 0.2] }), /a range within 0-1/);
  await assert.rejects(predictor.design(start, { sneaky: 1 }), /unknown field/);
});

test('randomPromoters: the same promoters as crmnet random, and bad requests are refused', async () => {
  const fasta = native(['random', '--n', '5', '--seed', '11', '--gc-min', '0.3', '--gc-max', '0.45']);
  const expected = fasta.trim().split('\n').filter((line) => !line.startsWith('>'));
  assert.deepEqual(await randomPromoters(5, { seed: 11, gcRange: [0.3, 0.45] }), expected);
  const uniform = native(['random', '--n', '2']).trim().split('\n').filter((line) => !line.startsWith('>'));
  assert.deepEqual(await randomPromoters(2), uniform);
  await assert.rejects(randomPromoters(1, { gcRange: [0.9, 0.2] }), /a range within 0-1/);
  await assert.rejects(randomPromoters(1, { seed: -1 }), /seed -1: a whole number/);
  await assert.rejects(randomPromoters(1.5), /count: expected a whole number/);
});

test('design: progress after every round, and an abort that rejects at once and leaves the model usable', async () => {
  const start = sequences[1];
  const options = { maxChanges: 4, strategy: 'genetic', population: 16, generations: 5, seed: 3 };
  const pooled = await Predictor.load({ backend: 'cpu', workers: 1 });
  for (const [where, model] of [['this thread', predictor], ['a worker', pooled]]) {
    const heard = [];
    const steps = await model.design(start, { ...options, onProgress: (...round) => heard.push(round) });
    assert.deepEqual(heard.map(([done, rounds]) => [done, rounds]), [0, 1, 2, 3, 4, 5].map((done) => [done, 5]), where);
    assert.deepEqual(heard.at(-1)[2], steps.at(-1), where);
    heard.forEach(([, , best]) => assert.ok(steps.some((step) => step.sequence === best.sequence), where));

    const controller = new AbortController();
    const rounds = [];
    const aborted = model.design(start, {
      ...options,
      signal: controller.signal,
      onProgress: (done) => {
        rounds.push(done);
        if (done === 1) controller.abort();
      },
    });
    await assert.rejects(aborted, { name: 'AbortError' }, where);
    assert.deepEqual(rounds, [0, 1], `${where}: no round after the abort was reported`);
    await assert.rejects(model.design(start, { signal: AbortSignal.abort() }), { name: 'AbortError' }, where);
    await assert.rejects(
      model.design(start, { ...options, onProgress: () => { throw new Error('enough'); } }),
      /enough/,
      where,
    );
    // The model designs the same again after all that.
    assert.deepEqual(await model.design(start, options), steps, where);
  }
  pooled.close();
});

test('motifs: the same hits and motif attribution as the native command line', async () => {
  const few = sequences.slice(0, 16);
  const dir = mkdtempSync(join(tmpdir(), 'crmnet-'));
  const file = join(dir, 'few.fa');
  writeFileSync(file, few.map((s, i) => `>${i}\n${s}\n`).join(''));
  const summaryFile = join(dir, 'summary.tsv');
  const expectedHits = tsv(native(['motifs', '--input', file, '--attribution', '--summary', summaryFile]));
  const expectedSummary = tsv(readFileSync(summaryFile, 'utf8'));
  const scanned = await scanMotifs(few);
  const result = await predictor.motifs(few);
  assert.match(result.collection, /JASPAR 2024 CORE fungi/);
  const rows = result.hits.flatMap((hits, i) => hits.map((hit) => ({ id: String(i), ...hit })));
  assert.equal(rows.length, expectedHits.length);
  assert.deepEqual(scanned.flat().map((h) => `${h.motif}${h.start}${h.strand}`), rows.map((h) => `${h.motif}${h.start}${h.strand}`));
  rows.forEach((hit, i) => {
    const row = expectedHits[i];
    assert.deepEqual([hit.id, hit.motif, hit.tf, hit.start + 1, hit.end, hit.strand],
      [row.id, row.motif, row.tf, Number(row.start), Number(row.end), row.strand]);
    assert.ok(Math.abs(hit.attribution - Number(row.attribution)) < 1e-4, `hit ${i}`);
  });
  assert.deepEqual(result.summary.map((m) => m.motif), expectedSummary.map((row) => row.motif));
  result.summary.forEach((m, i) => {
    assert.equal(m.hits, Number(expectedSummary[i].hits));
    assert.ok(Math.abs(m.auroc - Number(expectedSummary[i].auroc)) < 1e-3, m.motif);
  });
  const planted = '>P site\nA [ 9 0 ]\nC [ 0 9 ]\nG [ 0 0 ]\nT [ 0 0 ]\n';
  assert.deepEqual((await scanMotifs(['GACAC'], { motifs: planted, minScore: 0.99 }))[0].map((h) => [h.start, h.strand]), [[1, '+'], [3, '+']]);
  await assert.rejects(scanMotifs(['ACGT'], { motifs: '>M\nA [ 1 x ]\n' }), /the given motifs, line 2: "x" is not a count/);
  await assert.rejects(scanMotifs(['ACGT'], { minScore: 2 }), /minScore 2/);
  await assert.rejects(predictor.motifs(['ACGT', 'AXGT']), /sequence 2/);
  await assert.rejects(predictor.motifs(few, { attribution: 'guess' }), /unknown attribution/);
});

test('predictions equal the native CLI on all 3,733 native-complex sequences within 1e-4', async () => {
  const expected = tsv(native(['predict', '--input', nativeTest])).map((row) => Number(row.prediction));
  let progressCalls = 0;
  const predicted = await predictor.predict(sequences, { batchSize: 256, onProgress: () => progressCalls++ });
  assert.equal(predicted.length, 3733);
  assert.equal(progressCalls, Math.ceil(3733 / 256));
  let worst = 0;
  predicted.forEach((value, i) => (worst = Math.max(worst, Math.abs(value - expected[i]))));
  assert.ok(worst < 1e-4, `largest difference ${worst}`);
});

test('saliency equals the native saliency (itself checked against finite differences)', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'crmnet-')), 'two.fa');
  writeFileSync(file, `>a\n${sequences[0]}\n>b\n${sequences[1]}\n`);
  const rows = tsv(native(['saliency', '--input', file]));
  for (const [index, id] of ['a', 'b'].entries()) {
    const result = await predictor.saliency(sequences[index]);
    const mine = rows.filter((row) => row.id === id);
    assert.equal(result.length, mine.length);
    assert.ok(Math.abs(result.prediction - Number(mine[0].prediction)) < 1e-4);
    // One wasm thread sums in another order than native threads; where an activation sits at a
    // LeakyReLU kink that flips a branch of the gradient (measured: 4 of 5 sequences agree to
    // 1e-6, the first to 0.3 % of its largest score), so the bound is 1 % of the largest score.
    const largest = Math.max(...result.scores.map(Math.abs));
    mine.forEach((row, position) => {
      ['A', 'C', 'G', 'T'].forEach((base, b) => {
        const score = result.scores[position * 4 + b];
        assert.ok(Math.abs(score - Number(row[base])) < 1e-2 * largest + 1e-6, `${id} ${position + 1}${base}: ${score} vs ${row[base]}`);
        // input x gradient: the written base carries the gradient, the others nothing.
        const written = row.base === base;
        assert.equal(score, written ? result.gradient[position * 4 + b] : 0);
      });
    });
  }
});

test('mutagenesis equals explicit predictions of every mutated sequence', async () => {
  const sequence = sequences[2];
  const result = await predictor.mutagenesis(sequence, { batchSize: 100 });
  assert.equal(result.length, sequence.length);
  const variants = [];
  for (let position = 0; position < sequence.length; position++) {
    for (const base of 'ACGT') {
      variants.push(sequence.slice(0, position) + base + sequence.slice(position + 1));
    }
  }
  const [reference] = await predictor.predict([sequence]);
  assert.ok(Math.abs(result.reference - reference) < 1e-5);
  const explicit = await predictor.predict(variants, { batchSize: 440 });
  explicit.forEach((prediction, i) => {
    const expected = sequence[Math.floor(i / 4)] === 'ACGT'[i % 4] ? 0 : prediction - reference;
    assert.ok(Math.abs(result.effects[i] - expected) < 1e-4, `variant ${i}: ${result.effects[i]} vs ${expected}`);
  });
});

test('bad input rejects with an Error saying what and where, and the predictor keeps working', async () => {
  const [before] = await predictor.predict([sequences[0]]);
  await assert.rejects(predictor.predict(['ACGT', 'ACGXT']), {
    name: 'Error',
    message: /sequence 2: invalid character 'X' at position 4/,
  });
  await assert.rejects(predictor.predict([...Array(300).fill('ACGT'), 'AC-GT'], { batchSize: 128 }), {
    message: /sequence 301: invalid character '-' at position 3/,
  });
  await assert.rejects(predictor.predict(['ACGT', '']), { message: /sequence 2: empty sequence/ });
  await assert.rejects(predictor.predict('ACGT'), { name: 'TypeError', message: /array of strings/ });
  await assert.rejects(predictor.predict(['ACGT', 7]), { name: 'TypeError', message: /sequence 2: expected a string/ });
  await assert.rejects(predictor.saliency('ACGU'), { message: /invalid character 'U' at position 4/ });
  await assert.rejects(predictor.mutagenesis(''), { message: /empty sequence/ });
  await assert.rejects(Predictor.load({ weights: new Uint8Array([1, 2, 3, 4]), backend: 'cpu' }), {
    name: 'Error',
    message: /the given weights: not a readable burnpack weights file/,
  });
  const truncated = readFileSync(join(root, 'models', 'crmnet-web.bpk')).subarray(0, 100_000);
  await assert.rejects(Predictor.load({ weights: truncated, backend: 'cpu' }), { message: /the given weights/ });
  await assert.rejects(Predictor.load({ backend: 'webgpu' }), { message: /WebGPU is not available/ });
  await assert.rejects(Predictor.load({ backend: 'tpu' }), { message: /unknown backend 'tpu'/ });
  // Still usable: the answer given before the errors, which is the native CLI's.
  const [again] = await predictor.predict([sequences[0]]);
  assert.equal(again, before);
  const expected = Number(tsv(native(['predict', '--input', nativeTest]))[0].prediction);
  assert.ok(Math.abs(again - expected) < 1e-4, `${again} vs ${expected}`);
  assert.deepEqual(await predictor.predict([]), new Float32Array(0));
});

test('weights load from bytes and from a file URL, and auto picks the CPU in Node', async () => {
  const url = new URL('../../models/default.bpk', import.meta.url);
  const fromUrl = await Predictor.load({ weights: url });
  assert.equal(fromUrl.info().backend, 'cpu');
  const fromBytes = await Predictor.load({ weights: readFileSync(url), backend: 'cpu' });
  const sample = sequences.slice(0, 16);
  assert.deepEqual(await fromUrl.predict(sample), await predictor.predict(sample));
  assert.deepEqual(await fromBytes.predict(sample), await predictor.predict(sample));
  // In workers, the weights read while the workers load their module.
  const pooled = await Predictor.load({ weights: url, backend: 'cpu', workers: 2 });
  assert.deepEqual(await pooled.predict(sample), await predictor.predict(sample));
  pooled.close();
  const missing = new URL('../../models/no-such.bpk', import.meta.url);
  for (const workers of [undefined, 2]) {
    await assert.rejects(Predictor.load({ weights: missing, workers }), /ENOENT.*no-such\.bpk/);
  }
});

test('workers: two worker threads predict what one thread predicts, and fail and close cleanly', async () => {
  const pool = await Predictor.load({ backend: 'cpu', workers: 2 });
  assert.deepEqual(pool.info(), { ...predictor.info(), workers: 2 });
  const some = sequences.slice(0, 1000);
  const progress = [];
  const spread = await pool.predict(some, { batchSize: 128, onProgress: (done) => progress.push(done) });
  assert.deepEqual(spread, await predictor.predict(some, { batchSize: 128 }));
  assert.equal(progress.length, Math.ceil(1000 / 128));
  assert.equal(progress.at(-1), 1000);
  assert.ok(progress.every((done, i) => i === 0 || done > progress[i - 1]), 'progress only grows');

  // Bad sequences in two batches on two workers: the first is named, whichever worker answers first.
  const bad = [...sequences.slice(0, 300)];
  bad[150] = 'ACGTZ';
  bad[20] = 'AC-GT';
  await assert.rejects(pool.predict(bad, { batchSize: 100 }), { name: 'Error', message: /^sequence 21: invalid character '-' at position 3/ });
  await assert.rejects(pool.saliency('ACGU'), { message: /invalid character 'U' at position 4/ });
  const sample = sequences.slice(0, 16);
  assert.deepEqual(await pool.predict(sample), await predictor.predict(sample), 'works after errors');
  assert.deepEqual(await pool.saliency(sequences[3]), await predictor.saliency(sequences[3]));
  // Mutagenesis split between the two workers: the thread's effects, position by position.
  const [parts, whole] = [await pool.mutagenesis(sequences[3]), await predictor.mutagenesis(sequences[3])];
  assert.deepEqual([parts.reference, parts.length, parts.effects.length], [whole.reference, whole.length, whole.effects.length]);
  // Batches split differently round differently: float32's step at the predictions' size.
  const rounding = 1e-6 * Math.max(1, Math.abs(whole.reference));
  parts.effects.forEach((effect, i) => assert.ok(Math.abs(effect - whole.effects[i]) < rounding, `${i}: ${effect} vs ${whole.effects[i]}`));
  const short = await pool.mutagenesis('ACG');
  assert.deepEqual(short, await predictor.mutagenesis('ACG'));
  // Longer than the input: the default model (DeepAtt's placement) reads the last 110 bases, so
  // the workers split those, and the result starts at the first of them.
  const long = 'ACGTA'.repeat(4) + sequences[3];
  const [longParts, longWhole] = [await pool.mutagenesis(long), await predictor.mutagenesis(long)];
  assert.deepEqual([longParts.first, longParts.length], [20, 110]);
  assert.deepEqual([longWhole.first, longWhole.length], [20, 110]);
  longParts.effects.forEach((effect, i) => assert.ok(Math.abs(effect - longWhole.effects[i]) < rounding, `${i}`));

  // Closed while predicting: the call rejects, whatever the workers were doing.
  const running = pool.predict(some, { batchSize: 50 });
  pool.close();
  await assert.rejects(running, { message: /the predictor was closed/ });
  await assert.rejects(pool.predict(sample), { message: /the predictor was closed/ });
  assert.throws(() => pool.info(), { message: /the predictor was closed/ });
  for (const workers of [0, 1.5, '2']) {
    await assert.rejects(Predictor.load({ workers }), { name: 'TypeError', message: /workers: expected a whole number of at least 1/ });
  }
  await assert.rejects(Predictor.load({ workers: 2, weights: new Uint8Array([1, 2, 3]), backend: 'cpu' }), {
    message: /the given weights: not a readable burnpack weights file/,
  });
});

test('a fresh Node project installs the packed package and imports it by name', () => {
  const project = mkdtempSync(join(tmpdir(), 'crmnet-consumer-'));
  const pkgDir = fileURLToPath(new URL('..', import.meta.url));
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', project], { cwd: pkgDir, encoding: 'utf8' }).trim();
  writeFileSync(join(project, 'package.json'), '{ "name": "consumer", "type": "module", "private": true }');
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', join(project, tarball)], { cwd: project, stdio: 'ignore' });
  writeFileSync(
    join(project, 'main.js'),
    `import { Predictor } from 'crmnet';
     const predictor = await Predictor.load();
     const [value] = await predictor.predict([process.argv[2]]);
     const pool = await Predictor.load({ workers: 2 });
     const [spread] = await pool.predict([process.argv[2]]);
     console.log(value, spread);`,
  );
  // The process ends on its own, the pool's idle worker threads notwithstanding.
  const output = execFileSync('node', ['main.js', sequences[0]], { cwd: project, encoding: 'utf8', timeout: 120_000 });
  const expected = Number(tsv(native(['predict', '--input', nativeTest]))[0].prediction);
  for (const value of output.trim().split(' ').map(Number)) {
    assert.ok(Math.abs(value - expected) < 1e-4, `${output} vs ${expected}`);
  }
});
