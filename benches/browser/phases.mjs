// Where crmnet's time to first prediction goes in headless Chromium, phase by phase, on three
// fresh pages: compiling and instantiating the CPU module, fetching `crmnet-web`'s weights,
// loading them, the first and second predictions, then loading and predicting with the
// embedded default model. Milliseconds. Run after `bash benches/browser/run.sh` (which builds
// the package): `node benches/browser/phases.mjs`.
import { fileURLToPath } from 'node:url';
import { serve, launchChromium } from '../../pkg/testing/serve.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const server = await serve(root, {});
const browser = await launchChromium({ webgpu: false });
for (let run = 0; run < 3; run++) {
const page = await browser.newPage();
await page.goto(`${server.url}benches/browser/index.html`);
await page.waitForFunction(() => window.benchmarkReady);
const r = await page.evaluate(async () => {
  const t0 = performance.now();
  const b = await import('/pkg/dist/cpu/crmnet.js');
  await b.default({ module_or_path: new URL('/pkg/dist/cpu/crmnet_bg.wasm', location.href) });
  const t1 = performance.now();
  const bytes = new Uint8Array(await (await fetch('/models/crmnet-web.bpk')).arrayBuffer());
  const t2 = performance.now();
  const model = await b.Model.load(bytes, 'cpu');
  const t3 = performance.now();
  const seq = 'TGCATTTTTTTCACATCAAAAAAAAAAAGAAAAAGAAAGAAAAAGAGGGAATAACACAGCCGCGGGTAACATGAAGCGGCGCGAGCGATACTTCCGTGGTTACGGCTGTT';
  await model.predict([seq], 0, undefined);
  const t4 = performance.now();
  await model.predict([seq], 0, undefined);
  const t5 = performance.now();
  const d = await b.Model.load(undefined, 'cpu');
  const t6 = performance.now();
  await d.predict([seq], 0, undefined);
  const t7 = performance.now();
  return { module: t1 - t0, fetchWeights: t2 - t1, load: t3 - t2, first: t4 - t3, second: t5 - t4, loadDefault: t6-t5, firstDefault: t7-t6 };
});
console.log(JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round(v)]))));
await page.close();
}
await browser.close(); await server.close();
