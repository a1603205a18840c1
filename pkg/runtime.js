// The WebAssembly module on the thread that imports this file (the page, a worker, Node's
// main thread or a worker thread), loaded once per build, models made from it. There are two
// builds: `dist/cpu/`, the CPU backend only (small: a page that predicts on the CPU starts
// fast), and `dist/gpu/`, WebGPU and the CPU. A thread loads the GPU build only for a model on
// WebGPU (asked for, or `auto` where the browser offers a GPU adapter).

export const isNode = typeof process !== 'undefined' && Boolean(process.versions?.node);

// Each build's bindings and module, written out in full so that bundlers find both.
const builds = {
  cpu: {
    bindings: () => import('./dist/cpu/crmnet.js'),
    wasm: () => new URL('./dist/cpu/crmnet_bg.wasm', import.meta.url),
  },
  gpu: {
    bindings: () => import('./dist/gpu/crmnet.js'),
    wasm: () => new URL('./dist/gpu/crmnet_bg.wasm', import.meta.url),
  },
};
const started = new Map();

/** The bindings of `build` ('cpu' or 'gpu'), its module loaded and instantiated once per thread. */
function start(build = 'cpu') {
  if (!started.has(build)) {
    started.set(build, (async () => {
      const bindings = await builds[build].bindings();
      const url = builds[build].wasm();
      // Node's fetch cannot read file: URLs; browsers and bundlers fetch the asset themselves.
      await bindings.default({ module_or_path: isNode ? await readLocal(url) : url });
      return bindings;
    })());
  }
  return started.get(build);
}

/** The build a model on `backend` needs: the GPU one for WebGPU, asked for or found by `auto`. */
async function buildFor(backend) {
  if (backend === 'webgpu') return 'gpu';
  if (backend !== 'auto' || !globalThis.navigator?.gpu) return 'cpu';
  try {
    return (await navigator.gpu.requestAdapter()) ? 'gpu' : 'cpu';
  } catch {
    return 'cpu';
  }
}

export async function readLocal(url) {
  const { readFile } = await import('node:fs/promises');
  return readFile(url);
}

/** Errors from the module arrive as Error objects already; anything else is wrapped. */
export function asError(thrown) {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}

/** Loads the build a model on `backend` needs into this thread, once: its bindings. */
export async function prepare(backend) {
  return start(await buildFor(backend));
}

/**
 * The model of burnpack `bytes` (or a promise of them: they are fetched while the module
 * loads; the embedded default when undefined) on `backend`, on this thread.
 */
export async function loadModel(bytes, backend) {
  const [{ Model }, weights] = await Promise.all([prepare(backend), bytes]);
  try {
    return await Model.load(weights, backend);
  } catch (thrown) {
    throw asError(thrown);
  }
}

/**
 * The records of a FASTA, released-format or TSV/CSV text, or of a file's bytes (gzip too),
 * read by the crate's own readers: `[{ id, sequence, line }]`. Rejects with an Error naming
 * `name`, the line, the record and the reason of the first bad record.
 */
export async function readSequences(input, name = 'input') {
  const { readSequences: read } = await start();
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : new Uint8Array(input);
  try {
    return read(bytes, name);
  } catch (thrown) {
    throw asError(thrown);
  }
}

/** The measured libraries' promoter construct: `{ flank5, flank3, variableLength }`. */
export async function libraryConstruct() {
  const { libraryConstruct: construct } = await start();
  return construct();
}

/**
 * `count` random promoters of the library (random variable regions in the constant flanks), the
 * same as `crmnet random` writes for the same `seed` and `gcRange` (`[low, high]`, each whole
 * promoter's G+C share; uniform bases when absent).
 */
export async function randomPromoters(count, { seed = 0, gcRange } = {}) {
  const { randomPromoters: draw } = await start();
  if (!(Number.isInteger(count) && count >= 0)) throw new TypeError(`count: expected a whole number, got ${count}`);
  if (gcRange !== undefined && !(Array.isArray(gcRange) && gcRange.length === 2)) {
    throw new TypeError('gcRange: expected [low, high]');
  }
  try {
    return draw(count, seed, gcRange?.[0], gcRange?.[1]);
  } catch (thrown) {
    throw asError(thrown);
  }
}

/**
 * The motif hits of every sequence: per sequence `[{ motif, tf, start, end, strand, score,
 * relativeScore }]` (`start` 0-based, `end` exclusive), with `motifs` (JASPAR-format text; the
 * embedded JASPAR 2024 CORE fungi collection when absent) and `minScore` (0-1, 0.85 when
 * absent).
 */
export async function scanMotifs(sequences, { motifs, minScore } = {}) {
  const { scanMotifs: scan } = await start();
  try {
    return scan(sequences, motifs, minScore);
  } catch (thrown) {
    throw asError(thrown);
  }
}

/** Each motif's attribution over `sequences` (attributions flat, one sequence after another). */
export async function motifAttribution(sequences, attributions, { motifs, minScore } = {}) {
  const { motifAttribution: attributionByMotif } = await start();
  try {
    return attributionByMotif(sequences, attributions, motifs, minScore);
  } catch (thrown) {
    throw asError(thrown);
  }
}

/** Lets the event loop run (rendering, input, messages) before the next piece of work. */
export const breathe = () => new Promise((resolve) => setTimeout(resolve, 0));

/** `work`, or the reason of `signal` as soon as it aborts. */
export function abortable(work, signal) {
  if (!signal) return work;
  return new Promise((resolve, reject) => {
    const abort = () => reject(signal.reason);
    if (signal.aborted) abort();
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/** The largest position the module takes (a 32-bit index): "to the end of the sequence". */
export const ALL_POSITIONS = 0xffffffff;

/** The calls a predictor makes, on a model of this thread; each rejects with an Error. */
export class ThisThread {
  #model;

  constructor(model) {
    this.#model = model;
  }

  /** Workers the model runs in: none, it is on this thread. */
  get workers() {
    return 0;
  }

  info() {
    return this.#model.info();
  }

  /** `features`: the batch's feature rows, flat (a Float32Array), or undefined. */
  predict(batch, firstIndex, features) {
    return this.#call(() => this.#model.predict(batch, firstIndex, features));
  }

  saliency(sequence) {
    return this.#call(() => this.#model.saliency(sequence));
  }

  /**
   * `onProgress(done, rounds, best)` after every round; an aborted `signal` rejects with its
   * reason at once, and the design stops at the end of the round.
   */
  design(sequence, options, { onProgress, signal } = {}) {
    return this.#call(() => abortable(this.#model.design(sequence, options, async (done, rounds, best) => {
      onProgress?.(done, rounds, best);
      // A turn of the event loop, where an abort (a click, a message to a worker) can land.
      await breathe();
      return !signal?.aborted;
    }), signal));
  }

  /** Per-position attribution of `sequence` by `method` ('mutagenesis' or 'saliency'). */
  attribution(sequence, method) {
    return this.#call(() => this.#model.attribution(sequence, method));
  }

  /** The substitutions at positions `first` to `end` (clamped to the sequence and the model's input). */
  mutagenesis(sequence, batchSize, first = 0, end = ALL_POSITIONS) {
    return this.#call(() => this.#model.mutagenesis(sequence, batchSize, first, end));
  }

  close() {
    this.#model.free();
  }

  async #call(work) {
    try {
      return await work();
    } catch (thrown) {
      throw asError(thrown);
    }
  }
}
