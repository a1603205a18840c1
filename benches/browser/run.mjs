// crmnet's wasm package against TensorFlow.js running the same network and weights, in one
// headless Chromium on this machine: `bash benches/browser/run.sh` (builds what is missing).
// Each runtime gets its own page, loaded one after the other (time to first prediction) and
// checked against crmnet's CPU predictions. Then each comparison runs CRMNET_BENCH_PAIRS (8)
// pairs of turns, crmnet first in every other pair, a turn being the median seconds a call
// over at least CRMNET_BENCH_SECONDS (2) of calls: this machine's speed drifts over minutes,
// and both turns of a pair see nearly the same machine. Last, as many pairs of fresh pages
// time the first prediction of crmnet's CPU path and TensorFlow.js's wasm backend, each pair
// in turn first. With --isolated the page is
// cross-origin isolated (COOP/COEP), which lets TensorFlow.js's wasm backend use threads.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launchChromium } from '../../pkg/testing/serve.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const isolated = process.argv.includes('--isolated');
const data = process.env.CRMNET_DATA ?? join(root, '..', 'shared', 'data');
const sequences = readFileSync(join(data, 'test_native_complex.tsv'), 'utf8')
  .trim().split('\n').slice(1, 257).map((line) => line.split('\t')[0]);
const turnSeconds = Number(process.env.CRMNET_BENCH_SECONDS ?? 2);
const pairs = Math.max(1, Number(process.env.CRMNET_BENCH_PAIRS ?? 8));
// SwiftShader runs WebGPU on the CPU: small batches there.
const runtimes = [
  { runtime: 'crmnet-cpu', batch: 64, compare: 64 },
  { runtime: 'crmnet-cpu-workers', batch: 256, compare: 64 },
  { runtime: 'tfjs-wasm', batch: 64, compare: 64 },
  { runtime: 'crmnet-webgpu', batch: 8, compare: 8 },
  { runtime: 'tfjs-webgpu', batch: 8, compare: 8 },
];
const comparisons = [
  ['crmnet-cpu', 'tfjs-wasm'], ['crmnet-cpu-workers', 'tfjs-wasm'], ['crmnet-webgpu', 'tfjs-webgpu'],
];

const headers = isolated
  ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }
  : {};
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const server = await serve(root, { headers });
const browser = await launchChromium({ webgpu: true });
const loaded = new Map(); // runtime -> { page, result, batch }
const lines = [];
let disagree = false;
try {
  for (const options of runtimes) {
    const page = await browser.newPage();
    page.setDefaultTimeout(600_000);
    await page.goto(`${server.url}benches/browser/index.html`);
    await page.waitForFunction(() => window.benchmarkReady);
    try {
      const result = await page.evaluate((args) => window.loadRuntime(args), {
        ...options, sequences, weightsUrl: '/target/bench/crmnet-web.safetensors',
      });
      loaded.set(options.runtime, { page, result, batch: options.batch });
    } catch (error) {
      lines.push(`${options.runtime.padEnd(18)} unavailable: ${error.message.split('\n')[0]}`);
      await page.close();
    }
  }
  const reference = loaded.get('crmnet-cpu')?.result.predictions;
  for (const [runtime, { result }] of loaded) {
    const difference = Math.max(...result.predictions.map((p, i) => Math.abs(p - reference[i])));
    disagree ||= !(difference <= 1e-3);
    lines.push(`${runtime.padEnd(18)} ${result.backend.padEnd(26)} first prediction `
      + `${(result.firstPredictionMs / 1000).toFixed(2)} s, max |diff| vs crmnet-cpu ${difference.toExponential(1)}`);
  }
  const turn = async (runtime) => {
    const { page, batch } = loaded.get(runtime);
    return batch / median(await page.evaluate((seconds) => window.turn(seconds), turnSeconds));
  };
  for (const [ours, theirs] of comparisons) {
    if (!loaded.has(ours) || !loaded.has(theirs)) continue;
    const rates = { [ours]: [], [theirs]: [] };
    for (let pair = 0; pair < pairs; pair += 1) {
      const order = pair % 2 === 0 ? [ours, theirs] : [theirs, ours];
      for (const runtime of order) rates[runtime].push(await turn(runtime));
    }
    const ratios = rates[ours].map((rate, i) => rate / rates[theirs][i]);
    const won = ratios.filter((ratio) => ratio > 1).length;
    lines.push(`${ours} / ${theirs}: ${median(rates[ours]).toFixed(1)} / ${median(rates[theirs]).toFixed(1)} seq/s, `
      + `ratio ${median(ratios).toFixed(2)}x (pairs ${Math.min(...ratios).toFixed(2)}x-${Math.max(...ratios).toFixed(2)}x), `
      + `crmnet won ${won} of ${pairs} pairs`);
  }
  // Time to the first prediction, the page-opening target, in pairs of fresh pages (each its
  // own browser context, so nothing is cached), the two in turn first.
  const first = { 'crmnet-cpu': [], 'tfjs-wasm': [] };
  const firstPrediction = async (runtime) => {
    const page = await browser.newPage();
    await page.goto(`${server.url}benches/browser/index.html`);
    await page.waitForFunction(() => window.benchmarkReady);
    const result = await page.evaluate((args) => window.loadRuntime(args), {
      runtime, batch: 1, compare: 1, sequences: sequences.slice(0, 1), weightsUrl: '/target/bench/crmnet-web.safetensors',
    });
    await page.close();
    return result.firstPredictionMs / 1000;
  };
  for (let pair = 0; pair < pairs; pair += 1) {
    const order = pair % 2 === 0 ? ['crmnet-cpu', 'tfjs-wasm'] : ['tfjs-wasm', 'crmnet-cpu'];
    for (const runtime of order) first[runtime].push(await firstPrediction(runtime));
  }
  const faster = first['crmnet-cpu'].filter((seconds, i) => seconds < first['tfjs-wasm'][i]).length;
  lines.push(`first prediction on fresh pages, crmnet-cpu / tfjs-wasm: median ${median(first['crmnet-cpu']).toFixed(2)} / `
    + `${median(first['tfjs-wasm']).toFixed(2)} s (crmnet ${first['crmnet-cpu'].map((s) => s.toFixed(2)).join(' ')}; `
    + `TF.js ${first['tfjs-wasm'].map((s) => s.toFixed(2)).join(' ')}), crmnet faster in ${faster} of ${pairs} pairs`);
} finally {
  await browser.close();
  await server.close();
}

// What a page downloads for each runtime's code (weights aside: the same file size for both),
// as stored and gzipped (level 6, a static server's usual setting).
const sizes = {
  'crmnet CPU module (pkg/dist/cpu/crmnet_bg.wasm)': ['pkg/dist/cpu/crmnet_bg.wasm', 'pkg/dist/cpu/crmnet.js'],
  'crmnet WebGPU module (pkg/dist/gpu/crmnet_bg.wasm)': ['pkg/dist/gpu/crmnet_bg.wasm', 'pkg/dist/gpu/crmnet.js'],
  'TensorFlow.js core + wasm backend (SIMD)': [
    'benches/browser/node_modules/@tensorflow/tfjs-core/dist/tf-core.min.js',
    'benches/browser/node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js',
    'benches/browser/node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
  ],
};
const megabytes = (bytes) => `${(bytes / 1e6).toFixed(2)} MB`;
for (const [what, files] of Object.entries(sizes)) {
  const contents = files.map((file) => readFileSync(join(root, file)));
  const raw = contents.reduce((total, bytes) => total + bytes.length, 0);
  const gzipped = contents.reduce((total, bytes) => total + gzipSync(bytes).length, 0);
  lines.unshift(`size: ${what}: ${megabytes(raw)}, gzip ${megabytes(gzipped)}`);
}

console.log(`Chromium ${browser.version()}, cross-origin isolated: ${isolated}`);
for (const line of lines) console.log(line);
process.exitCode = disagree ? 1 : 0;
