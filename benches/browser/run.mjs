// crmnet's wasm package against TensorFlow.js running the same network and weights, in one
// headless Chromium on this machine: `bash benches/browser/run.sh` (builds what is missing).
// Each runtime gets a fresh page; all are checked against crmnet's CPU predictions, then
// timed (median of repeated calls). With --isolated the page is cross-origin isolated
// (COOP/COEP), which lets TensorFlow.js's wasm backend use threads.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launchChromium } from '../../pkg/testing/serve.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const isolated = process.argv.includes('--isolated');
const data = process.env.CRMNET_DATA ?? join(root, '..', 'shared', 'data');
const sequences = readFileSync(join(data, 'test_native_complex.tsv'), 'utf8')
  .trim().split('\n').slice(1, 257).map((line) => line.split('\t')[0]);
const minSeconds = Number(process.env.CRMNET_BENCH_SECONDS ?? 3);
// SwiftShader runs WebGPU on the CPU: small batches there.
const runtimes = [
  { runtime: 'crmnet-cpu', batch: 64, compare: 64 },
  { runtime: 'crmnet-cpu-workers', batch: 256, compare: 64 },
  { runtime: 'tfjs-wasm', batch: 64, compare: 64 },
  { runtime: 'crmnet-webgpu', batch: 8, compare: 8 },
  { runtime: 'tfjs-webgpu', batch: 8, compare: 8 },
];

const headers = isolated
  ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }
  : {};
const server = await serve(root, { headers });
const browser = await launchChromium({ webgpu: true });
const results = [];
try {
  for (const options of runtimes) {
    const page = await browser.newPage();
    page.setDefaultTimeout(600_000);
    await page.goto(`${server.url}benches/browser/index.html`);
    await page.waitForFunction(() => window.benchmarkReady);
    try {
      results.push(await page.evaluate((args) => window.runBenchmark(args), {
        ...options, sequences, minSeconds, weightsUrl: '/target/bench/crmnet-web.safetensors',
      }));
    } catch (error) {
      results.push({ runtime: options.runtime, error: error.message.split('\n')[0] });
    }
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
}

const reference = results.find((r) => r.runtime === 'crmnet-cpu')?.predictions;
let disagree = false;
console.log(`Chromium ${browser.version()}, cross-origin isolated: ${isolated}`);
for (const r of results) {
  if (r.error) {
    console.log(`${r.runtime.padEnd(18)} unavailable: ${r.error}`);
    continue;
  }
  const difference = Math.max(...r.predictions.map((p, i) => Math.abs(p - reference[i])));
  disagree ||= !(difference <= 1e-3);
  console.log(`${r.runtime.padEnd(18)} ${r.backend.padEnd(26)} first prediction ${(r.firstPredictionMs / 1000).toFixed(2)} s, `
    + `${r.sequencesPerSecond.toFixed(1)} seq/s, max |diff| vs crmnet-cpu ${difference.toExponential(1)}`);
}
const rate = (name) => results.find((r) => r.runtime === name)?.sequencesPerSecond;
for (const [ours, theirs] of [['crmnet-cpu', 'tfjs-wasm'], ['crmnet-cpu-workers', 'tfjs-wasm'], ['crmnet-webgpu', 'tfjs-webgpu']]) {
  if (rate(ours) && rate(theirs)) console.log(`${ours} / ${theirs}: ${(rate(ours) / rate(theirs)).toFixed(2)}x`);
}
process.exitCode = disagree ? 1 : 0;
