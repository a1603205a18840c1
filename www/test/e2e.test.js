// The static site end to end in headless Chromium: paste real sequences, compare with the
// native CLI, open the saliency view, mutate a base from the keyboard, feed a bad sequence,
// check that nothing left the origin, and save screenshots (www/test/screenshots/).
// Needs `cargo build --release`, `bash pkg/build.sh`, `bash www/build.sh`, `npm ci --prefix pkg`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { serve, launchChromium } from '../../pkg/testing/serve.js';

const www = fileURLToPath(new URL('..', import.meta.url));
const root = join(www, '..');
const shots = join(www, 'test', 'screenshots');
mkdirSync(shots, { recursive: true });
const dataDir = process.env.CRMNET_DATA ?? join(root, '..', 'shared', 'data');
const nativeTest = join(dataDir, 'test_native_complex.tsv');
const cli = join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'release', 'crmnet');
const count = 20;
const sequences = readFileSync(nativeTest, 'utf8').trim().split('\n').slice(1, count + 1).map((l) => l.split('\t')[0]);

function nativePredictions(list) {
  const fasta = list.map((s, i) => `>s${i}\n${s}\n`).join('');
  const out = execFileSync(cli, ['predict', '--input', '-'], { input: fasta, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] });
  return out.trim().split('\n').slice(1).map((line) => Number(line.split('\t')[2]));
}

/** The command line's motif hits (`crmnet motifs`) in `sequence` at `minScore`. */
function nativeMotifs(sequence, minScore) {
  const out = execFileSync(cli, ['motifs', '--input', '-', '--min-score', minScore], { input: `>s\n${sequence}\n`, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] });
  return out.trim().split('\n').slice(1).map((line) => {
    const [, motif, tf, start, end, strand] = line.split('\t');
    return { motif, tf, start, end, strand };
  });
}

/** The command line's design trajectory (`crmnet design`) from `sequence` with `flags`. */
function nativeDesign(sequence, flags) {
  const out = execFileSync(cli, ['design', '--input', '-', ...flags], { input: `>s\n${sequence}\n`, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] });
  const [header, ...lines] = out.trim().split('\n').map((line) => line.split('\t'));
  return lines.map((cells) => {
    const row = Object.fromEntries(header.map((name, i) => [name, cells[i]]));
    return { ...row, prediction: Number(row.prediction) };
  });
}

let server;
let browser;
before(async () => {
  server = await serve(www, { index: 'index.html' });
});
after(async () => {
  await browser?.close();
  await server.close();
});

/** A page on the site; every request to another origin (but `reachable`, the only ones let
 * through) is recorded and refused, and every Content-Security-Policy violation is recorded in
 * the page (`window.cspViolations`). */
async function open(viewport, { webgpu = false, reachable = [] } = {}) {
  browser ??= await launchChromium({ webgpu });
  const context = await browser.newContext({ viewport });
  const outside = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    const allowed = [server.url, ...reachable, 'blob:', 'data:'];
    if (allowed.some((start) => url.startsWith(start))) return route.continue();
    outside.push(url);
    return route.abort();
  });
  await context.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(server.url);
  await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Model ready'), null, { timeout: 120_000 });
  return { page, outside, problems };
}

test('a biologist predicts, inspects and mutates promoters; nothing leaves the browser', { timeout: 600_000 }, async () => {
  const { page, outside, problems } = await open({ width: 1280, height: 900 });
  assert.match(await page.textContent('#backend'), /^CPU \(WebAssembly, [1-9]\d* workers?\)$/);
  assert.match(await page.textContent('#privacy'), /never leave this browser/);
  const shipped = JSON.parse(execFileSync(cli, ['info', '--default-model'], { encoding: 'utf8' }).split('model card: ')[1]);
  assert.ok((await page.textContent('#card')).includes(`${shipped.name},`), 'the card names the embedded model');

  const fasta = sequences.map((s, i) => `>native_${i + 1}\n${s}`).join('\n');
  await page.fill('#sequences', fasta);
  await page.click('#predict');
  await page.waitForFunction((n) => document.querySelector('#status').textContent.startsWith(`Predicted ${n} sequences`), count, { timeout: 300_000 });
  const shown = await page.$$eval('#table tbody td[data-value]', (cells) => cells.map((c) => Number(c.dataset.value)));
  const expected = nativePredictions(sequences);
  assert.equal(shown.length, count);
  shown.forEach((value, i) => assert.ok(Math.abs(value - expected[i]) < 1e-4, `row ${i + 1}: ${value} vs ${expected[i]}`));
  assert.equal(await page.$$eval('#histogram rect', (r) => r.length), 30);
  assert.match(await page.getAttribute('#download', 'href'), /^blob:/);
  // Sorting by prediction puts the highest first on the second click.
  await page.click('th button[data-sort="prediction"]');
  await page.click('th button[data-sort="prediction"]');
  const top = Number(await page.getAttribute('#table tbody tr:first-child td[data-value]', 'data-value'));
  assert.equal(top, Math.max(...shown));
  await page.screenshot({ path: join(shots, 'results.png'), fullPage: true });

  // The per-sequence view: saliency logo and mutagenesis heatmap of the top row.
  await page.click('#table tbody tr:first-child .view');
  await page.waitForSelector('#heatmap rect[role=button]', { timeout: 300_000 });
  assert.ok((await page.$$eval('#logo text', (t) => t.length)) > 50, 'logo letters');
  assert.equal(await page.$$eval('#heatmap rect', (r) => r.length), 4 * 110);
  // The motif track: the command line's hits at the page's threshold, one bar each.
  const topSequence = sequences[shown.indexOf(top)];
  const motifHits = nativeMotifs(topSequence, '0.9');
  assert.ok(motifHits.length > 0);
  assert.equal(await page.$$eval('#motifs .motif', (g) => g.length), motifHits.length);
  const titles = await page.$$eval('#motifs .motif title', (t) => t.map((e) => e.textContent));
  motifHits.forEach(({ tf, motif, start, end, strand }) =>
    assert.ok(titles.some((t) => t.startsWith(`${tf} (${motif}) ${start}-${end} ${strand},`)), `${motif} at ${start}`));
  await page.fill('#motif-min-score', '0.97');
  await page.dispatchEvent('#motif-min-score', 'change');
  await page.waitForFunction((n) => document.querySelectorAll('#motifs .motif').length === n, nativeMotifs(topSequence, '0.97').length);
  await page.locator('#detail').screenshot({ path: join(shots, 'sequence-view.png') });

  // Mutate position 50 from the keyboard: focus its cell, press Enter.
  const written = topSequence[49];
  const base = written === 'A' ? 'C' : 'A';
  await page.focus(`#heatmap rect[data-position="50"][data-base="${base}"]`);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#mutation').textContent.startsWith('Mutated'), null, { timeout: 300_000 });
  const mutant = topSequence.slice(0, 49) + base + topSequence.slice(50);
  const [mutantExpected] = nativePredictions([mutant]);
  const reported = Number(await page.getAttribute('#mutation', 'data-prediction'));
  const change = Number(await page.getAttribute('#mutation', 'data-change'));
  assert.ok(Math.abs(reported - mutantExpected) < 1e-4, `mutant ${reported} vs ${mutantExpected}`);
  assert.ok(Math.abs(change - (mutantExpected - top)) < 1e-4);
  assert.match(await page.textContent('#mutation'), new RegExp(`Mutated ${written}50${base}`));
  await page.waitForSelector('#heatmap rect[role=button]', { timeout: 300_000 });
  await page.locator('#detail').screenshot({ path: join(shots, 'mutated.png') });

  // Design from the viewed sequence (the mutant now): the same trajectory as `crmnet design`
  // with the same options, changed bases marked, and the result's logo.
  await page.click('#design-this');
  assert.equal(await page.inputValue('#design-start'), mutant);
  await page.fill('#design-changes', '3');
  await page.fill('#design-forbid', 'GAATTC');
  await page.click('#design-run');
  await page.waitForSelector('#design-logo text', { timeout: 300_000 });
  const designed = await page.$$eval('#design-table tbody tr', (trs) => trs.map((tr) => ({
    prediction: Number(tr.dataset.prediction),
    sequence: tr.querySelector('code').textContent,
    marked: tr.querySelectorAll('mark').length,
  })));
  const expectedSteps = nativeDesign(mutant, ['--max-changes', '3', '--forbid', 'GAATTC']);
  assert.deepEqual(designed.map((step) => step.sequence), expectedSteps.map((step) => step.sequence));
  designed.forEach((step, i) => {
    assert.ok(Math.abs(step.prediction - expectedSteps[i].prediction) < 1e-4, `step ${i}`);
    assert.equal(step.marked, i === 0 ? 0 : expectedSteps[i].changes.split(',').length);
  });
  assert.ok(designed.length > 1 && designed.at(-1).prediction > designed[0].prediction);
  await page.locator('#design').screenshot({ path: join(shots, 'design.png') });
  // Random start: `crmnet random --seed 0`'s promoter, then seed 1's.
  for (const seed of ['0', '1']) {
    await page.click('#design-random');
    const [, drawn] = execFileSync(cli, ['random', '--n', '1', '--seed', seed], { encoding: 'utf8' }).trim().split('\n');
    await page.waitForFunction((want) => document.querySelector('#design-start').value === want, drawn);
  }

  // A long genetic design shows each round's best as it goes, stops at once keeping them, and
  // the next design runs on the same model.
  await page.selectOption('#design-strategy', 'genetic');
  await page.fill('#design-changes', '20');
  await page.fill('#design-generations', '100000');
  await page.fill('#design-seed', '5');
  await page.click('#design-run');
  await page.waitForFunction(() => /^Round [1-9]/.test(document.querySelector('#design-status').textContent));
  await page.click('#design-stop');
  assert.match(await page.textContent('#design-status'), /^Stopped after round \d+ of 100000; the table shows the best sequences found\.$/);
  assert.equal(await page.isEnabled('#design-run'), true);
  const kept = await page.$$eval('#design-table tbody tr', (trs) => trs.map((tr) => Number(tr.dataset.prediction)));
  assert.ok(kept.length >= 1 && kept.every((p, i) => i === 0 || p > kept[i - 1]), `${kept}`);
  await page.selectOption('#design-strategy', 'greedy');
  await page.fill('#design-changes', '3');
  await page.fill('#design-start', mutant);
  await page.click('#design-run');
  await page.waitForFunction(() => / steps in /.test(document.querySelector('#design-status').textContent), null, { timeout: 300_000 });
  const again = await page.$$eval('#design-table tbody tr', (trs) => trs.map((tr) => tr.querySelector('code').textContent));
  assert.deepEqual(again, expectedSteps.map((step) => step.sequence));

  // A bad sequence: the message names the source, the line, the record and the position.
  await page.fill('#sequences', '>ok\nACGTACGT\n>bad\nACGXT\n');
  await page.click('#predict');
  await page.waitForSelector('#errors:not([hidden])');
  assert.match(await page.textContent('#errors'), /pasted text:\d+: record 'bad': invalid character 'X' at position 4/);
  await page.screenshot({ path: join(shots, 'bad-input.png') });

  assert.deepEqual(outside, [], 'requests left the origin');
  assert.deepEqual(problems, []);
  assert.deepEqual(await page.evaluate(() => window.cspViolations), [], 'the site itself breaks its policy');
});

test('the Content-Security-Policy of the page refuses connections to other origins', { timeout: 300_000 }, async () => {
  // Another origin that answers and counts what reaches it: only the policy can stop a request.
  const other = await serve(www, { index: 'index.html' });
  try {
    const { page, outside } = await open({ width: 1280, height: 900 }, { reachable: [other.url] });
    const policy = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
    assert.match(policy, /default-src 'none'/);
    assert.match(policy, /connect-src 'self';/);
    const attempts = await page.evaluate(async (target) => {
      const outcomes = [];
      try {
        await fetch(`${target}example.fa`);
        outcomes.push('fetch went through');
      } catch {
        outcomes.push('fetch refused');
      }
      const image = new Image();
      const loaded = new Promise((resolve) => {
        image.onload = () => resolve('image loaded');
        image.onerror = () => resolve('image refused');
      });
      image.src = `${target}missing.png`;
      outcomes.push(await loaded);
      try {
        await import(`${target}app.js`);
        outcomes.push('script imported');
      } catch {
        outcomes.push('script refused');
      }
      navigator.sendBeacon(`${target}beacon`, 'sequences');
      await new Promise((resolve) => setTimeout(resolve, 500));
      return { outcomes, violations: window.cspViolations };
    }, other.url);
    assert.deepEqual(attempts.outcomes, ['fetch refused', 'image refused', 'script refused']);
    for (const directive of ['connect-src', 'img-src', 'script-src']) {
      assert.ok(attempts.violations.some((v) => v.startsWith(directive)), `${directive}: ${attempts.violations}`);
    }
    assert.deepEqual(other.requests, [], 'requests reached the other origin');
    assert.deepEqual(outside, [], 'requests left the origin');
  } finally {
    await other.close();
  }
});

test('usable on a phone-size viewport', { timeout: 300_000 }, async () => {
  const { page, outside } = await open({ width: 390, height: 844 });
  await page.click('#example');
  await page.waitForFunction(() => document.querySelector('#sequences').value.includes('>native_1'));
  await page.click('#predict');
  await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Predicted 10 sequences'), null, { timeout: 300_000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `page wider than the phone by ${overflow}px`);
  await page.screenshot({ path: join(shots, 'phone.png'), fullPage: true });
  assert.deepEqual(outside, []);
});

test('a chosen TSV file of 3,733 sequences is predicted in batches like the native CLI', { timeout: 600_000 }, async () => {
  const { page, outside } = await open({ width: 1280, height: 900 });
  await page.setInputFiles('#file', nativeTest);
  await page.waitForSelector('#progress:not([hidden])', { timeout: 60_000 });
  await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Predicted 3,733 sequences'), null, { timeout: 600_000 });
  const shown = await page.$$eval('#table tbody td[data-value]', (cells) => cells.map((c) => Number(c.dataset.value)));
  const expected = execFileSync(cli, ['predict', '--input', nativeTest], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'ignore'] })
    .trim().split('\n').slice(1).map((line) => Number(line.split('\t')[2]));
  assert.equal(shown.length, 3733);
  const worst = Math.max(...shown.map((value, i) => Math.abs(value - expected[i])));
  assert.ok(worst < 1e-4, `largest difference ${worst}`);
  assert.deepEqual(outside, []);
});
