// Throughput of the package in Node: node pkg/bench.mjs [rows, default 512] [backend, default cpu]
// [workers, default none: the model on the main thread]
// Prints time to first prediction (module + embedded model load + one sequence), sequences/s
// for predict at batch 128, ms per saliency and per mutagenesis call (440 variants), and the
// process's resident memory after the predictions (workers included: they are threads).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Predictor } from './index.js';

const rows = Number(process.argv[2] ?? 512);
const backend = process.argv[3] ?? 'cpu';
const workers = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
const root = fileURLToPath(new URL('..', import.meta.url));
const data = process.env.CRMNET_DATA ?? join(root, '..', 'shared', 'data');
const sequences = readFileSync(join(data, 'test_native_complex.tsv'), 'utf8')
  .trim().split('\n').slice(1).map((line) => line.split('\t')[0]);

const ms = (start) => performance.now() - start;
let start = performance.now();
const predictor = await Predictor.load({ backend, workers });
await predictor.predict(sequences.slice(0, 1));
const first = ms(start);

start = performance.now();
await predictor.predict(sequences.slice(0, rows), { batchSize: 128 });
const perSecond = rows / (ms(start) / 1000);
const residentMb = process.memoryUsage().rss / 1e6;

const time = async (call, repeats) => {
  start = performance.now();
  for (let i = 0; i < repeats; i++) await call(sequences[i]);
  return ms(start) / repeats;
};
const saliency = await time((s) => predictor.saliency(s), 10);
const mutagenesis = await time((s) => predictor.mutagenesis(s, { batchSize: 440 }), 3);

console.log(JSON.stringify({
  runtime: `node ${process.version}`, backend: predictor.info().backend, workers: predictor.info().workers, rows,
  first_prediction_ms: Math.round(first), sequences_per_s: Number(perSecond.toFixed(1)),
  saliency_ms: Math.round(saliency), mutagenesis_ms: Math.round(mutagenesis),
  resident_mb: Math.round(residentMb),
}));
predictor.close();
