// The package under bad input and failure, in Node: seeded random inputs through every call
// (fast-check, bounded; CRMNET_FUZZ_RUNS raises the runs), workers that die, and many calls at
// once. Property: every call settles, a rejection is an Error that says what and where, and
// the predictor keeps giving the native CLI's answers afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';

import { Predictor, readSequences } from '../index.js';
import { WorkerPool } from '../pool.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = process.env.CRMNET_DATA ?? join(root, '..', 'shared', 'data');
const nativeTest = join(dataDir, 'test_native_complex.tsv');
const cli = join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'release', 'crmnet');
const sequences = readFileSync(nativeTest, 'utf8').trim().split('\n').slice(1).map((line) => line.split('\t')[0]);
const expected = execFileSync(cli, ['predict', '--input', nativeTest], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] })
  .trim().split('\n').slice(1).map((line) => Number(line.split('\t')[2]));
const runs = (ci) => Number(process.env.CRMNET_FUZZ_RUNS ?? ci);
const settings = (ci) => ({ seed: 20261201, numRuns: runs(ci) });

const predictor = await Predictor.load({ backend: 'cpu' });

/** Still the native CLI's predictions on a few real sequences. */
async function stillRight(model, what) {
  const some = await model.predict(sequences.slice(0, 8));
  some.forEach((value, i) => assert.ok(Math.abs(value - expected[i]) < 1e-4, `${what}: row ${i + 1}: ${value} vs ${expected[i]}`));
}

/** What the package accepts: A C G T and the IUPAC codes in either case, around which white
 * space is trimmed (Rust's `str::trim`: Unicode White_Space, which unlike JavaScript's `trim`
 * leaves U+FEFF). */
const iupac = /^[ACGTNRYSWKMBDHV]+$/i;
const rustTrim = (s) => s.replace(/^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g, '');

/** A sequence of the alphabet, or one with other characters in it. */
const anySequence = fc.oneof(
  fc.stringMatching(/^[ACGTNacgtn]{1,300}$/),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: fc.constantFrom('A', 'C', 'G', 'T', '\0', '\r', '\n', ' ', '>', '\u00e9', '\ud83e\uddec'), maxLength: 200 }),
);

test('random sequences through predict, saliency and mutagenesis: an answer or a located rejection', async () => {
  let rejected = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(anySequence, { minLength: 1, maxLength: 6 }), async (batch) => {
      const valid = (s) => iupac.test(rustTrim(s));
      const firstBad = batch.findIndex((s) => !valid(s));
      try {
        const predictions = await predictor.predict(batch, { batchSize: 4 });
        assert.equal(firstBad, -1, `accepted ${JSON.stringify(batch[firstBad])}`);
        assert.equal(predictions.length, batch.length);
        assert.ok(predictions.every(Number.isFinite));
      } catch (error) {
        rejected++;
        assert.ok(error instanceof Error, String(error));
        assert.notEqual(firstBad, -1, `rejected a valid batch: ${error.message}`);
        assert.match(error.message, new RegExp(`^sequence ${firstBad + 1}: (empty sequence|invalid character .* at position \\d+)`));
      }
      const one = batch[0].slice(0, 120);
      for (const call of [() => predictor.saliency(one), () => predictor.mutagenesis(one, { batchSize: 200 })]) {
        try {
          const result = await call();
          assert.ok(valid(one), `accepted ${JSON.stringify(one)}`);
          assert.equal(result.length, Math.min(rustTrim(one).length, 110));
        } catch (error) {
          assert.ok(error instanceof Error && !valid(one), `${JSON.stringify(one)}: ${error}`);
          assert.match(error.message, /empty sequence|invalid character .* at position \d+/);
        }
      }
    }),
    settings(150),
  );
  console.log(JSON.stringify({ fuzz: 'sequences', runs: runs(150), rejected }));
  await stillRight(predictor, 'after random sequences');
});

test('random and damaged weights: a rejection naming the weights, never a broken predictor', async () => {
  const shipped = readFileSync(join(root, 'models', 'default.bpk'));
  const keras = readFileSync(join(process.env.CRMNET_TEACHERS ?? join(dataDir, '..', 'teachers'), 'deepatt', 'DeepAtt_model.h5'));
  const damaged = fc.oneof(
    fc.uint8Array({ maxLength: 4096 }),
    fc.nat(shipped.length - 1).map((end) => shipped.subarray(0, end)),
    fc.nat(keras.length - 1).map((end) => keras.subarray(0, end)),
    fc.uint8Array({ minLength: 1, maxLength: 4096 }).map((tail) => Uint8Array.from([...shipped.subarray(0, 64), ...tail])),
  );
  await fc.assert(
    fc.asyncProperty(damaged, async (bytes) => {
      await assert.rejects(Predictor.load({ weights: bytes, backend: 'cpu' }), (error) => {
        assert.ok(error instanceof Error);
        assert.match(error.message, /^the given weights: /);
        return true;
      });
    }),
    settings(120),
  );
  console.log(JSON.stringify({ fuzz: 'weights', runs: runs(120), rejected: runs(120) }));
  await stillRight(predictor, 'after bad weights');
  // The real files still load after all that.
  await stillRight(await Predictor.load({ weights: shipped, backend: 'cpu' }), 'shipped weights');
});

test('random bytes through readSequences: sequences or a located rejection', async () => {
  let rejected = 0;
  const real = readFileSync(nativeTest).subarray(0, 20_000);
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 4096 }),
    fc.tuple(fc.nat(real.length), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([at, bytes]) => Uint8Array.from([...real.subarray(0, at), ...bytes, ...real.subarray(at)])),
  );
  await fc.assert(
    fc.asyncProperty(input, async (bytes) => {
      try {
        const records = await readSequences(bytes, 'dropped.tsv');
        assert.ok(Array.isArray(records), 'a list of records');
        for (const record of records) assert.match(record.sequence, iupac);
      } catch (error) {
        rejected++;
        assert.ok(error instanceof Error, String(error));
        assert.match(error.message, /^dropped\.tsv:/);
      }
    }),
    settings(300),
  );
  console.log(JSON.stringify({ fuzz: 'readSequences', runs: runs(300), rejected }));
  await stillRight(predictor, 'after random files');
});

test('1,000 predict calls at once all answer, each with its own sequence, on one thread and on workers', async () => {
  const pool = await Predictor.load({ backend: 'cpu', workers: 2 });
  try {
    for (const [name, model] of [['one thread', predictor], ['two workers', pool]]) {
      const answers = await Promise.all(sequences.slice(0, 1000).map((sequence) => model.predict([sequence])));
      answers.forEach(([value], i) => assert.ok(Math.abs(value - expected[i]) < 1e-4, `${name}, call ${i + 1}: ${value} vs ${expected[i]}`));
    }
  } finally {
    pool.close();
  }
});

test('a worker that dies: its calls reject, the pool goes on with the others, and rejects when none is left', async () => {
  const workers = [];
  const newWorker = () => {
    const worker = new Worker(new URL('../worker.js', import.meta.url));
    workers.push(worker);
    return worker;
  };
  const pool = new Predictor(await WorkerPool.load(undefined, 'cpu', 2, newWorker));
  assert.equal(pool.info().workers, 2);
  const running = pool.predict(sequences, { batchSize: 64 });
  await new Promise((resolve) => setTimeout(resolve, 50));
  await workers[0].terminate();
  await assert.rejects(running, { message: /^crmnet worker failed: it exited with code/ });
  assert.equal(pool.info().workers, 1);
  await stillRight(pool, 'one worker left');
  const [again] = await Promise.all([pool.predict(sequences.slice(0, 300), { batchSize: 32 }), pool.saliency(sequences[0])]);
  again.forEach((value, i) => assert.ok(Math.abs(value - expected[i]) < 1e-4));

  await workers[1].terminate();
  const settled = await Promise.race([
    pool.predict(sequences.slice(0, 4)).then(() => 'answered', (error) => error.message),
    new Promise((resolve) => setTimeout(() => resolve('hung'), 10_000)),
  ]);
  assert.match(settled, /^crmnet worker failed: it exited with code/);
  await assert.rejects(pool.mutagenesis(sequences[0]), { message: /^crmnet worker failed/ });
  pool.close();
  await assert.rejects(pool.predict(sequences.slice(0, 1)), { message: /the predictor was closed/ });
});
