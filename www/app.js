import { Predictor, randomPromoters, readSequences, scanMotifs } from './vendor/crmnet/index.js';

const $ = (id) => document.getElementById(id);
const BASES = ['A', 'C', 'G', 'T'];
const COLORS = { A: '#1b9e3e', C: '#1f5fbf', G: '#e08a00', T: '#d1232a' };
// --- the model, off the page's thread: the package's Web Workers, one per core on the CPU
// (a single one when WebGPU is there), so that the page never freezes --------------------
const model = Predictor.load({ workers: navigator.hardwareConcurrency || 1 });

let rows = [];
let sortKey = 'index';
let sortUp = true;

function setStatus(text) {
  $('status').textContent = text;
}

function showErrors(messages) {
  const box = $('errors');
  box.hidden = messages.length === 0;
  box.replaceChildren(...messages.slice(0, 20).map((m) => Object.assign(document.createElement('p'), { textContent: m })));
  if (messages.length > 20) box.append(Object.assign(document.createElement('p'), { textContent: `… and ${messages.length - 20} more` }));
}

function showProgress(done, total) {
  const bar = $('progress');
  bar.hidden = false;
  bar.max = total;
  bar.value = done;
  setStatus(`Predicting… ${done.toLocaleString()} of ${total.toLocaleString()} sequences`);
}

// --- input -------------------------------------------------------------------------------
// `input`: pasted text or a file's bytes, read by the package's readers (the command line's).
async function predict(input, name) {
  let records;
  try {
    records = await readSequences(input, name);
    showErrors([]);
  } catch (error) {
    showErrors([error.message]);
    setStatus('Nothing predicted: a problem in the input.');
    return;
  }
  $('predict').disabled = true;
  const started = performance.now();
  try {
    const predictions = await (await model).predict(records.map((r) => r.sequence), { batchSize: 64, onProgress: showProgress });
    rows = records.map((record, index) => ({ ...record, index: index + 1, prediction: predictions[index] }));
    renderResults();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    setStatus(`Predicted ${rows.length.toLocaleString()} sequences in ${seconds} s.`);
  } catch (error) {
    showErrors([error.message]);
    setStatus('Prediction failed; see the message below.');
  } finally {
    $('predict').disabled = false;
    $('progress').hidden = true;
  }
}

async function readFile(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
  $('sequences').value = gzip || bytes.length > 200_000 ? '' : new TextDecoder().decode(bytes);
  await predict(bytes, file.name);
}

// --- results -----------------------------------------------------------------------------
function renderResults() {
  $('results').hidden = false;
  const sorted = [...rows].sort((a, b) => {
    const order = a[sortKey] < b[sortKey] ? -1 : a[sortKey] > b[sortKey] ? 1 : 0;
    return sortUp ? order : -order;
  });
  const body = $('table').tBodies[0];
  body.replaceChildren(...sorted.map((row) => {
    const tr = document.createElement('tr');
    const view = Object.assign(document.createElement('button'), { type: 'button', textContent: 'View', className: 'view' });
    view.setAttribute('aria-label', `View saliency and mutagenesis of ${row.id}`);
    view.onclick = () => showDetail(row.id, row.sequence);
    const cells = [row.index, row.id, row.prediction.toFixed(3)].map((value) => Object.assign(document.createElement('td'), { textContent: value }));
    cells[2].dataset.value = String(row.prediction);
    cells[2].className = 'number';
    const sequence = Object.assign(document.createElement('td'), { className: 'sequence' });
    sequence.append(view, ' ', Object.assign(document.createElement('code'), { textContent: row.sequence }));
    tr.append(...cells, sequence);
    return tr;
  }));
  for (const button of document.querySelectorAll('th button')) {
    const active = button.dataset.sort === sortKey;
    button.parentElement.setAttribute('aria-sort', active ? (sortUp ? 'ascending' : 'descending') : 'none');
  }
  renderHistogram(rows.map((r) => r.prediction));
  const tsv = ['id\tsequence\tprediction', ...rows.map((r) => `${r.id}\t${r.sequence}\t${r.prediction}`)].join('\n');
  const link = $('download');
  URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([tsv + '\n'], { type: 'text/tab-separated-values' }));
}

const svg = (tag, attributes = {}) => {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
};

function renderHistogram(values) {
  const plot = $('histogram');
  const [width, height, bins] = [320, 120, 30];
  const low = Math.min(...values);
  const high = Math.max(...values);
  const span = high - low || 1;
  const counts = new Array(bins).fill(0);
  values.forEach((v) => counts[Math.min(bins - 1, Math.floor(((v - low) / span) * bins))]++);
  const top = Math.max(...counts);
  plot.replaceChildren(
    ...counts.map((count, i) => svg('rect', {
      x: (i * width) / bins + 1, width: width / bins - 2,
      y: height - 18 - (count / top) * (height - 24), height: (count / top) * (height - 24),
      fill: '#4a78b5',
    })),
    Object.assign(svg('text', { x: 0, y: height - 4, class: 'axis' }), { textContent: low.toFixed(2) }),
    Object.assign(svg('text', { x: width, y: height - 4, class: 'axis', 'text-anchor': 'end' }), { textContent: high.toFixed(2) }),
    Object.assign(svg('text', { x: width / 2, y: height - 4, class: 'axis', 'text-anchor': 'middle' }), { textContent: `predicted expression (n = ${values.length})` }),
  );
}

// --- per-sequence view -------------------------------------------------------------------
/**
 * Whether `position` of `sequence` lies in one of the constant flanks of the library the model
 * was made for (`card.input.flanks`; none for other models), where the sequence carries it.
 */
function isFlank(position, sequence, flanks) {
  if (!flanks) return false;
  const [flank5, flank3] = flanks;
  const upper = sequence.toUpperCase();
  return (position < flank5.length && upper.startsWith(flank5))
    || (position >= upper.length - flank3.length && upper.endsWith(flank3));
}

async function showDetail(id, sequence) {
  const detail = $('detail');
  detail.hidden = false;
  $('detail-summary').textContent = `${id}: computing…`;
  $('mutation').textContent = '';
  detail.scrollIntoView({ behavior: 'smooth' });
  try {
    const saliency = await (await model).saliency(sequence);
    $('detail-summary').textContent = `${id}: predicted expression ${saliency.prediction.toFixed(3)} (${sequence.length} nt)`;
    renderLogo($('logo'), sequence, saliency, (await model).info().card.input?.flanks);
    shownSequence = sequence;
    await renderMotifs(sequence);
    const mutagenesis = await (await model).mutagenesis(sequence, { batchSize: 128 });
    renderHeatmap(id, sequence, mutagenesis);
  } catch (error) {
    $('detail-summary').textContent = `${id}: ${error.message}`;
  }
}

function renderLogo(logo, sequence, { scores, length }, flanks) {
  const [cell, half] = [14, 60];
  const values = Array.from({ length }, (_, p) => scores[p * 4 + BASES.indexOf(sequence[p].toUpperCase())] ?? 0);
  const scale = Math.max(...values.map(Math.abs)) || 1;
  logo.setAttribute('viewBox', `0 0 ${length * cell} ${2 * half + 14}`);
  logo.setAttribute('width', length * cell);
  logo.replaceChildren(svg('line', { x1: 0, x2: length * cell, y1: half, y2: half, stroke: '#999' }));
  values.forEach((value, p) => {
    const base = sequence[p].toUpperCase();
    const size = (Math.abs(value) / scale) * half;
    if (size < 0.5) return;
    const letter = svg('text', {
      x: 0, y: 0, 'font-size': 20, 'font-weight': 700, 'text-anchor': 'middle',
      fill: isFlank(p, sequence, flanks) ? '#b5b5b5' : COLORS[base] ?? '#666',
    });
    // Upward letters sit on the axis; downward ones hang from it, drawn upside down.
    letter.setAttribute('transform', value > 0
      ? `translate(${p * cell + cell / 2} ${half}) scale(1 ${size / 15})`
      : `translate(${p * cell + cell / 2} ${half}) scale(1 ${-size / 15})`);
    letter.textContent = base;
    logo.append(letter);
  });
  sequence.slice(0, length).split('').forEach((base, p) => {
    if (p % 10 === 9) logo.append(Object.assign(svg('text', { x: p * cell + cell / 2, y: 2 * half + 12, 'font-size': 9, 'text-anchor': 'middle', class: 'axis' }), { textContent: p + 1 }));
  });
}

/** The sequence in the sequence view, for redrawing its motif track. */
let shownSequence = null;

/**
 * The motif track under the logo: JASPAR 2024 CORE fungi hits scoring at least the chosen
 * share, one bar each (forward strand dark, reverse light), stacked where they overlap.
 */
async function renderMotifs(sequence) {
  const cell = 14;
  const row = 16;
  const minScore = Number($('motif-min-score').value);
  const [hits] = await scanMotifs([sequence], { minScore });
  const laneEnds = [];
  const placed = hits
    .sort((a, b) => a.start - b.start || b.relativeScore - a.relativeScore)
    .map((hit) => {
      let lane = laneEnds.findIndex((end) => end <= hit.start);
      if (lane < 0) lane = laneEnds.push(0) - 1;
      laneEnds[lane] = hit.end;
      return { hit, lane };
    });
  const track = $('motifs');
  const width = sequence.length * cell;
  track.setAttribute('viewBox', `0 0 ${width} ${Math.max(1, laneEnds.length) * row + 2}`);
  track.setAttribute('width', width);
  track.replaceChildren(...placed.map(({ hit, lane }) => {
    const group = svg('g', { class: `motif strand-${hit.strand === '+' ? 'forward' : 'reverse'}` });
    const title = svg('title');
    title.textContent = `${hit.tf} (${hit.motif}) ${hit.start + 1}-${hit.end} ${hit.strand}, score ${hit.score.toFixed(2)} bits, ${(100 * hit.relativeScore).toFixed(0)}% of its range`;
    group.append(
      title,
      svg('rect', { x: hit.start * cell + 1, y: lane * row + 1, width: (hit.end - hit.start) * cell - 2, height: row - 2, rx: 3 }),
      Object.assign(svg('text', { x: hit.start * cell + 4, y: lane * row + 12, 'font-size': 10 }), { textContent: hit.tf }),
    );
    return group;
  }));
  $('motifs-summary').textContent = hits.length === 0
    ? `No JASPAR fungi motif scores ${Math.round(100 * minScore)}% or more here.`
    : `${hits.length} hits of ${new Set(hits.map((h) => h.motif)).size} JASPAR fungi motifs scoring ${Math.round(100 * minScore)}% or more.`;
}

$('motif-min-score').addEventListener('change', () => {
  if (shownSequence) renderMotifs(shownSequence).catch((error) => ($('motifs-summary').textContent = error.message));
});

// --- design ---------------------------------------------------------------------------------
// A design runs on a model in a worker of its own, so that the table's predictions never queue
// behind it; Stop aborts it, and the steps found so far stay on the page.
let designer = null;
let designing = null;

$('design-this').addEventListener('click', () => {
  $('design-start').value = shownSequence ?? '';
  $('design').scrollIntoView({ behavior: 'smooth' });
  $('design-start').focus();
});
// A random promoter of the library, as `crmnet random --seed S` writes it (within the G+C
// range when one is set); each click draws the next seed.
let randomSeed = 0;
$('design-random').addEventListener('click', async () => {
  try {
    [$('design-start').value] = await randomPromoters(1, { seed: randomSeed++, gcRange: gcRangeInput() });
  } catch (error) {
    $('design-status').textContent = error.message;
  }
});
$('design-goal').addEventListener('change', () => {
  $('design-value').disabled = $('design-goal').value !== 'value';
});
$('design-strategy').addEventListener('change', () => {
  const greedy = $('design-strategy').value !== 'genetic';
  $('design-population').disabled = greedy;
  $('design-generations').disabled = greedy;
});

function designOptions() {
  const goalKind = $('design-goal').value;
  const options = {
    goal: goalKind === 'value' ? Number($('design-value').value) : goalKind,
    maxChanges: Number($('design-changes').value),
    strategy: $('design-strategy').value,
    seed: Number($('design-seed').value),
    forbid: $('design-forbid').value.split(/[\s,;]+/).filter(Boolean),
  };
  // Left empty, the package's defaults.
  for (const name of ['population', 'generations']) {
    const input = $(`design-${name}`);
    if (!input.disabled && input.value !== '') options[name] = Number(input.value);
  }
  const gcRange = gcRangeInput();
  if (gcRange) options.gcRange = gcRange;
  return options;
}

/** The G+C range the inputs give (an empty end is 0 or 1), or undefined when both are empty. */
function gcRangeInput() {
  const [low, high] = [$('design-gc-min').value, $('design-gc-max').value];
  return low !== '' || high !== '' ? [Number(low || 0), Number(high || 1)] : undefined;
}

$('design-stop').addEventListener('click', () => designing?.abort());

function designFinished() {
  designing = null;
  $('design-run').disabled = false;
  $('design-stop').hidden = true;
  $('design-progress').hidden = true;
}

$('design-run').addEventListener('click', async () => {
  const start = $('design-start').value.replace(/\s+/g, '');
  if (!start) {
    $('design-status').textContent = 'Enter a start sequence, or use "Design from this sequence" in the sequence view.';
    return;
  }
  $('design-run').disabled = true;
  $('design-stop').hidden = false;
  const progress = Object.assign($('design-progress'), { hidden: false, value: 0 });
  progress.removeAttribute('value'); // indeterminate while the model loads
  const began = performance.now();
  $('design-status').textContent = 'Designing…';
  $('design-table').tBodies[0].replaceChildren();
  $('design-logo-heading').hidden = true;
  $('design-logo-wrap').hidden = true;
  designing = new AbortController();
  const { signal } = designing;
  // Every best step as it is found: the trajectory so far.
  const found = [];
  const round = { done: 0, rounds: 0 };
  try {
    // The design's own worker, loaded like the page's model (CPU module where there is no GPU).
    designer ??= Predictor.load({ workers: 1 }).catch((error) => {
      designer = null; // the next Design tries again
      throw error;
    });
    const model = await designer;
    signal.throwIfAborted();
    const steps = await model.design(start, {
      ...designOptions(),
      signal,
      onProgress: (done, rounds, best) => {
        Object.assign(round, { done, rounds });
        Object.assign(progress, { max: rounds, value: done });
        if (found.at(-1)?.sequence !== best.sequence) {
          found.push(best);
          renderDesign(start, found);
        }
        $('design-status').textContent = `Round ${done} of ${rounds}: ${found[0].prediction.toFixed(3)} → ${best.prediction.toFixed(3)} with ${best.changes.length} changes…`;
      },
    });
    renderDesign(start, steps);
    const last = steps[steps.length - 1];
    $('design-status').textContent = `${steps.length - 1} steps in ${((performance.now() - began) / 1000).toFixed(1)} s: `
      + `${steps[0].prediction.toFixed(3)} → ${last.prediction.toFixed(3)} with ${last.changes.length} changes.`;
    const saliency = await model.saliency(last.sequence);
    $('design-logo-heading').hidden = false;
    $('design-logo-wrap').hidden = false;
    renderLogo($('design-logo'), last.sequence, saliency, model.info().card.input?.flanks);
  } catch (error) {
    if (!signal.aborted) $('design-status').textContent = error.message;
    else if (found.length === 0) $('design-status').textContent = 'Stopped.';
    else $('design-status').textContent = `Stopped after round ${round.done} of ${round.rounds}; the table shows the best sequences found.`;
  } finally {
    designFinished();
  }
});

/** The trajectory: one row a step, its changed bases marked, each with a copy button. */
function renderDesign(start, steps) {
  $('design-results').hidden = false;
  $('design-table').tBodies[0].replaceChildren(...steps.map((step, index) => {
    const tr = document.createElement('tr');
    const changed = new Set(step.changes.map((change) => change.position));
    const code = document.createElement('code');
    code.append(...step.sequence.split('').map((base, position) => (changed.has(position)
      ? Object.assign(document.createElement('mark'), { textContent: base, title: `${start[position]}${position + 1}${base}` })
      : base)));
    const copy = Object.assign(document.createElement('button'), { type: 'button', className: 'copy', textContent: 'Copy' });
    copy.setAttribute('aria-label', `Copy the sequence of step ${index}`);
    copy.onclick = async () => {
      await navigator.clipboard.writeText(step.sequence);
      copy.textContent = 'Copied';
    };
    const sequence = document.createElement('td');
    sequence.append(copy, code);
    const changes = step.changes.map((c) => `${c.from}${c.position + 1}${c.to}`).join(', ') || 'start';
    tr.append(
      Object.assign(document.createElement('td'), { textContent: index, className: 'number' }),
      Object.assign(document.createElement('td'), { textContent: step.prediction.toFixed(3), className: 'number' }),
      Object.assign(document.createElement('td'), { textContent: changes }),
      sequence,
    );
    tr.dataset.prediction = String(step.prediction);
    return tr;
  }));
}

function color(effect, scale) {
  const t = Math.min(1, Math.abs(effect) / scale);
  const [r, g, b] = effect >= 0 ? [214, 39, 40] : [31, 95, 191];
  const mix = (c) => Math.round(255 + (c - 255) * t);
  return `rgb(${mix(r)},${mix(g)},${mix(b)})`;
}

function renderHeatmap(id, sequence, { effects, length, reference, first = 0 }) {
  const cell = 14;
  const scale = Math.max(...Array.from(effects, Math.abs)) || 1;
  const map = $('heatmap');
  map.setAttribute('viewBox', `0 0 ${length * cell + 16} ${4 * cell + 4}`);
  map.setAttribute('width', length * cell + 16);
  map.replaceChildren(...BASES.map((base, b) => Object.assign(svg('text', { x: 2, y: b * cell + 11, 'font-size': 11, fill: COLORS[base] }), { textContent: base })));
  // Row `row` of the effects is position `first + row` of the sequence: positions outside the
  // model's input (a sequence longer than it) have no row.
  for (let row = 0; row < length; row++) {
    const p = first + row;
    const written = sequence[p].toUpperCase();
    BASES.forEach((base, b) => {
      const effect = effects[row * 4 + b];
      const rect = svg('rect', {
        x: 16 + row * cell, y: b * cell, width: cell - 1, height: cell - 1,
        fill: base === written ? '#fff' : color(effect, scale),
        stroke: base === written ? '#333' : 'none', class: 'cell',
        'data-position': p + 1, 'data-base': base,
      });
      const label = `position ${p + 1} ${written}→${base}: ${effect >= 0 ? '+' : ''}${effect.toFixed(3)}`;
      rect.append(Object.assign(svg('title'), { textContent: label }));
      if (base !== written) {
        rect.setAttribute('tabindex', '0');
        rect.setAttribute('role', 'button');
        rect.setAttribute('aria-label', `Mutate ${label}`);
        const mutate = () => applyMutation(id, sequence, p, base, reference);
        rect.addEventListener('click', mutate);
        rect.addEventListener('keydown', (event) => (event.key === 'Enter' || event.key === ' ') && (event.preventDefault(), mutate()));
      }
      map.append(rect);
    });
  }
}

async function applyMutation(id, sequence, position, base, reference) {
  const mutant = sequence.slice(0, position) + base + sequence.slice(position + 1);
  const [prediction] = await (await model).predict([mutant]);
  const change = prediction - reference;
  const name = `${id} ${sequence[position].toUpperCase()}${position + 1}${base}`;
  await showDetail(name, mutant);
  $('mutation').textContent = `Mutated ${sequence[position].toUpperCase()}${position + 1}${base}: prediction ${prediction.toFixed(3)} (was ${reference.toFixed(3)}, change ${change >= 0 ? '+' : ''}${change.toFixed(3)})`;
  $('mutation').dataset.prediction = String(prediction);
  $('mutation').dataset.change = String(change);
}

// --- wiring ------------------------------------------------------------------------------
$('predict').onclick = () => predict($('sequences').value, 'pasted text');
$('example').onclick = async () => {
  $('sequences').value = await (await fetch(new URL('./example.fa', import.meta.url))).text();
};
$('file').onchange = (event) => event.target.files[0] && readFile(event.target.files[0]);
const drop = $('drop');
drop.ondragover = (event) => { event.preventDefault(); drop.classList.add('over'); };
drop.ondragleave = () => drop.classList.remove('over');
drop.ondrop = (event) => {
  event.preventDefault();
  drop.classList.remove('over');
  if (event.dataTransfer.files[0]) readFile(event.dataTransfer.files[0]);
};
drop.onkeydown = (event) => (event.key === 'Enter' || event.key === ' ') && $('file').click();
for (const button of document.querySelectorAll('th button')) {
  button.onclick = () => {
    sortUp = sortKey === button.dataset.sort ? !sortUp : true;
    sortKey = button.dataset.sort;
    renderResults();
  };
}

/** How the model reads sequences, from its card. */
function describeInput(card) {
  const input = card.input;
  if (!input) return `${card.sequence_length} nt`;
  const placement = {
    "5'": 'from its 5\' end, shorter ones padded at the 3\' end',
    "3'": 'ending at its 3\' end, shorter ones padded at the 5\' end',
    centre: `centred on position ${input.centre}`,
  }[input.anchor] ?? input.anchor;
  const unknown = {
    'n-channel': 'N as its own channel',
    'all-bases': 'N as all four bases',
    zeros: 'N as no base',
  }[input.unknown_bases] ?? input.unknown_bases;
  return `${input.length.toLocaleString()} nt, each sequence ${placement}; ${unknown}`;
}

model.then((predictor) => {
  const info = predictor.info();
  $('backend').textContent = info.backend === 'webgpu'
    ? 'WebGPU (this computer\'s GPU)'
    : `CPU (WebAssembly, ${info.workers} worker${info.workers === 1 ? '' : 's'})`;
  const card = info.card;
  const valid = card.metrics?.valid;
  const entries = [
    ['Model', `${card.name}, ${card.parameters.total.toLocaleString()} parameters`],
    ['Trained on', card.training_data || 'untrained'],
    ['Validation', valid ? `Pearson r ${valid.pearson.toFixed(3)}, Spearman ρ ${valid.spearman.toFixed(3)} (n = ${valid.n})` : '—'],
    ['Input', describeInput(card)],
  ];
  // Per-sequence features (Xpresso's half-life features) cannot be entered on this page.
  const features = card.input?.features ?? [];
  if (features.length > 0) {
    entries.push(['Features', `${features.join(', ')}: not entered here, so every prediction is from sequence alone (each feature 0, its training mean); the npm package and the command line take them`]);
  }
  // A teacher's or an imported model's origin and licence notice travel with the weights.
  if (card.origin) entries.push(['Origin', card.origin]);
  if (card.license) {
    const [name, , copyright] = card.license.split('\n');
    entries.push(['Licence', [name, copyright].filter(Boolean).join(', ')]);
  }
  $('card').replaceChildren(...entries.flatMap(([term, value]) => [
    Object.assign(document.createElement('dt'), { textContent: term }),
    Object.assign(document.createElement('dd'), { textContent: value }),
  ]));
  $('predict').disabled = false;
  $('design-run').disabled = false;
  setStatus(`Model ready (${info.backend === 'webgpu' ? 'WebGPU' : 'CPU'}).`);
  $('loading').hidden = true;
}, (error) => {
  setStatus(`The model could not load: ${error.message}`);
  $('loading').hidden = true;
});
