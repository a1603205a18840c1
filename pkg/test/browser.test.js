// The package in headless Chromium: the CPU backend and WebGPU (SwiftShader's software adapter,
// which Debian's Chromium offers with --enable-unsafe-webgpu), against the native CLI on the
// same weights. Prints timings for the README. A browser without an adapter fails the WebGPU
// tests; CRMNET_WEBGPU=optional turns that into a skip, for machines known to lack one.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { serve, launchChromium } from '../testing/serve.js';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const root = join(pkgDir, '..');
const dataDir = process.env.CRMNET_DATA ?? join(root, '..', 'shared', 'data');
const nativeTest = join(dataDir, 'test_native_complex.tsv');
const rows = 64;
const sequences = readFileSync(nativeTest, 'utf8').trim().split('\n').slice(1, rows + 1).map((l) => l.split('\t')[0]);
const expected = execFileSync(join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'release', 'crmnet'), ['predict', '--input', nativeTest], {
  encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'ignore'],
}).trim().split('\n').slice(1, rows + 1).map((l) => Number(l.split('\t')[2]));

const webgpuOptional = process.env.CRMNET_WEBGPU === 'optional';
const server = await serve(pkgDir);
const browser = await launchChromium();
after(async () => {
  await browser.close();
  await server.close();
});

/** Loads the package in a fresh page and runs predict, saliency and mutagenesis on `backend`. */
async function runInPage(backend, count, withMutagenesis) {
  const page = await browser.newPage();
  await page.goto(server.url);
  return page.evaluate(
    async ({ backend, sequences, withMutagenesis }) => {
      const adapter = await navigator.gpu?.requestAdapter();
      if (backend === 'webgpu' && !adapter) return { noAdapter: true };
      const { Predictor } = await import('/index.js');
      let start = performance.now();
      const predictor = await Predictor.load({ backend });
      await predictor.predict(sequences.slice(0, 1));
      const first = performance.now() - start;
      start = performance.now();
      const predictions = await predictor.predict(sequences, { batchSize: 32 });
      const perSecond = sequences.length / ((performance.now() - start) / 1000);
      start = performance.now();
      const saliency = await predictor.saliency(sequences[0]);
      const saliencyMs = performance.now() - start;
      start = performance.now();
      const mutagenesis = withMutagenesis ? await predictor.mutagenesis(sequences[0], { batchSize: 440 }) : null;
      const mutagenesisMs = performance.now() - start;
      let error = null;
      try {
        await predictor.predict(['ACGT', 'ACZGT']);
      } catch (thrown) {
        error = `${thrown.constructor.name}: ${thrown.message}`;
      }
      const [again] = await predictor.predict(sequences.slice(0, 1));
      return {
        backend: predictor.info().backend,
        adapter: adapter ? (adapter.info?.description || adapter.info?.vendor || 'yes') : null,
        predictions: Array.from(predictions),
        again,
        saliencyLength: saliency.length,
        saliencyPrediction: saliency.prediction,
        mutagenesisReference: mutagenesis?.reference,
        error,
        timings: {
          first_prediction_ms: Math.round(first),
          sequences_per_s: Number(perSecond.toFixed(1)),
          saliency_ms: Math.round(saliencyMs),
          mutagenesis_ms: mutagenesis ? Math.round(mutagenesisMs) : undefined,
        },
      };
    },
    { backend, sequences: sequences.slice(0, count), withMutagenesis },
  );
}

// SwiftShader runs WebGPU on the CPU, far slower than the CPU backend (see README): the WebGPU
// run is kept small, and mutagenesis (the same batched predictions) is checked on the CPU.
for (const [backend, tolerance, count, withMutagenesis] of [['cpu', 1e-4, rows, true], ['webgpu', 1e-3, 8, false]]) {
  test(`headless Chromium, ${backend}: predictions equal the native CLI within ${tolerance}`, { timeout: 400_000 }, async (t) => {
    const result = await runInPage(backend, count, withMutagenesis);
    if (result.noAdapter) {
      if (webgpuOptional) return t.skip('no WebGPU adapter in this browser (CRMNET_WEBGPU=optional)');
      assert.fail('no WebGPU adapter in headless Chromium: SwiftShader is expected (set CRMNET_WEBGPU=optional to skip)');
    }
    console.log(JSON.stringify({ runtime: 'headless chromium', backend: result.backend, adapter: result.adapter, rows: count, ...result.timings }));
    assert.equal(result.backend, backend);
    const worst = Math.max(...result.predictions.map((p, i) => Math.abs(p - expected[i])));
    assert.ok(worst < tolerance, `largest difference ${worst}`);
    assert.equal(result.saliencyLength, 110);
    assert.ok(Math.abs(result.saliencyPrediction - expected[0]) < tolerance);
    if (withMutagenesis) assert.ok(Math.abs(result.mutagenesisReference - expected[0]) < tolerance);
    assert.match(result.error, /^Error: sequence 2: invalid character 'Z' at position 3/);
    assert.ok(Math.abs(result.again - expected[0]) < tolerance, 'works after an error');
  });
}

test('headless Chromium, two Web Workers on the CPU: predictions equal the native CLI within 1e-4', { timeout: 300_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(server.url);
  const result = await page.evaluate(async (sequences) => {
    const { Predictor } = await import('/index.js');
    const pool = await Predictor.load({ backend: 'cpu', workers: 2 });
    const predictions = Array.from(await pool.predict(sequences, { batchSize: 16 }));
    let error = null;
    try {
      await pool.predict([...sequences.slice(0, 40), 'ACZGT'], { batchSize: 16 });
    } catch (thrown) {
      error = `${thrown.constructor.name}: ${thrown.message}`;
    }
    const mutagenesis = await pool.mutagenesis(sequences[0], { batchSize: 110 });
    const { workers, backend } = pool.info();
    pool.close();
    return { predictions, error, workers, backend, mutagenesis: [mutagenesis.reference, mutagenesis.length, mutagenesis.effects.length] };
  }, sequences);
  const [reference, length, effects] = result.mutagenesis;
  assert.ok(Math.abs(reference - expected[0]) < 1e-4);
  assert.deepEqual([length, effects], [110, 440]);
  assert.deepEqual([result.workers, result.backend], [2, 'cpu']);
  const worst = Math.max(...result.predictions.map((p, i) => Math.abs(p - expected[i])));
  assert.ok(worst < 1e-4, `largest difference ${worst}`);
  assert.match(result.error, /^Error: sequence 41: invalid character 'Z' at position 3/);
});

test('auto chooses WebGPU where the page has an adapter, else the CPU; in workers too (one on WebGPU)', { timeout: 300_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(server.url);
  const { chosen, pooled, adapter } = await page.evaluate(async (sequence) => {
    const adapter = Boolean(await navigator.gpu?.requestAdapter());
    const { Predictor } = await import('/index.js');
    const pool = await Predictor.load({ workers: 2 });
    const [value] = await pool.predict([sequence]);
    const { backend, workers } = pool.info();
    pool.close();
    return { chosen: (await Predictor.load()).info().backend, pooled: { backend, workers, value }, adapter };
  }, sequences[0]);
  assert.ok(adapter || webgpuOptional, 'no WebGPU adapter in headless Chromium: SwiftShader is expected');
  assert.equal(chosen, adapter ? 'webgpu' : 'cpu');
  assert.deepEqual([pooled.backend, pooled.workers], adapter ? ['webgpu', 1] : ['cpu', 2]);
  assert.ok(Math.abs(pooled.value - expected[0]) < 1e-3, `${pooled.value} vs ${expected[0]}`);
});

test('a Vite build of a page importing the package runs in Chromium', { timeout: 300_000 }, async () => {
  const { build } = await import('vite');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const project = mkdtempSync(join(tmpdir(), 'crmnet-vite-'));
  writeFileSync(join(project, 'index.html'), '<!doctype html><title>vite</title><p id="out"></p><script type="module" src="./main.js"></script>');
  writeFileSync(
    join(project, 'main.js'),
    `import { Predictor } from 'crmnet';
     const predictor = await Predictor.load({ backend: 'cpu' });
     const [value] = await predictor.predict([${JSON.stringify(sequences[0])}]);
     const pool = await Predictor.load({ backend: 'cpu', workers: 2 });
     const [spread] = await pool.predict([${JSON.stringify(sequences[0])}]);
     document.getElementById('out').textContent = value + ' ' + spread;`,
  );
  await build({ root: project, logLevel: 'silent', resolve: { alias: { crmnet: join(pkgDir, 'index.js') } } });
  const bundle = await serve(join(project, 'dist'), { index: 'index.html' });
  try {
    const page = await browser.newPage();
    await page.goto(bundle.url);
    await page.waitForFunction(() => document.getElementById('out').textContent !== '', null, { timeout: 120_000 });
    for (const value of (await page.textContent('#out')).split(' ').map(Number)) {
      assert.ok(Math.abs(value - expected[0]) < 1e-4, `${value} vs ${expected[0]}`);
    }
    assert.ok(bundle.requests.some((url) => url.endsWith('.wasm')), 'the bundled wasm asset was fetched');
  } finally {
    await bundle.close();
  }
});
