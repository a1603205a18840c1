// The crmnet package: a thin, typed layer over the WebAssembly module (dist/, built by
// build.sh) that loads it in browsers, bundlers and Node alike and splits long inputs into
// batches so that the page stays responsive.
import initialise, { Model } from './dist/crmnet.js';

const wasmUrl = new URL('./dist/crmnet_bg.wasm', import.meta.url);
const isNode = typeof process !== 'undefined' && Boolean(process.versions?.node);
let started;

/** Loads and instantiates the WebAssembly module once per page or process. */
function start() {
  started ??= (async () => {
    // Node's fetch cannot read file: URLs; browsers and bundlers fetch the asset themselves.
    const source = isNode ? await readLocal(wasmUrl) : wasmUrl;
    await initialise({ module_or_path: source });
  })();
  return started;
}

async function readLocal(url) {
  const { readFile } = await import('node:fs/promises');
  return readFile(url);
}

async function weightBytes(weights) {
  if (weights === undefined || weights === null) return undefined;
  if (weights instanceof Uint8Array) return weights;
  if (weights instanceof ArrayBuffer) return new Uint8Array(weights);
  if (weights instanceof URL || typeof weights === 'string') {
    const url = new URL(weights, isNode ? `file://${process.cwd()}/` : globalThis.location?.href);
    if (url.protocol === 'file:') return new Uint8Array(await readLocal(url));
    const response = await fetch(url);
    if (!response.ok) throw new Error(`weights: ${url}: HTTP ${response.status} ${response.statusText}`);
    return new Uint8Array(await response.arrayBuffer());
  }
  throw new TypeError('weights: expected a Uint8Array, an ArrayBuffer or a URL');
}

function checkSequences(sequences) {
  if (!Array.isArray(sequences)) throw new TypeError('sequences: expected an array of strings');
  sequences.forEach((sequence, index) => {
    if (typeof sequence !== 'string') {
      throw new TypeError(`sequence ${index + 1}: expected a string, got ${typeof sequence}`);
    }
  });
}

function checkSequence(sequence) {
  if (typeof sequence !== 'string') throw new TypeError(`sequence: expected a string, got ${typeof sequence}`);
}

/** Lets the event loop run (rendering, input) between batches. */
const breathe = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Errors from the module arrive as Error objects already; anything else is wrapped. */
function asError(thrown) {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}

export class Predictor {
  #model;

  constructor(model) {
    if (!(model instanceof Model)) throw new TypeError('use Predictor.load() to create a Predictor');
    this.#model = model;
  }

  /**
   * @param {{ weights?: Uint8Array | ArrayBuffer | URL | string, backend?: 'auto' | 'webgpu' | 'cpu' }} [options]
   */
  static async load({ weights, backend = 'auto' } = {}) {
    await start();
    const bytes = await weightBytes(weights);
    try {
      return new Predictor(await Model.load(bytes, backend));
    } catch (thrown) {
      throw asError(thrown);
    }
  }

  /**
   * Predicted expression for each sequence, in order.
   * @param {string[]} sequences
   * @param {{ batchSize?: number, onProgress?: (done: number, total: number) => void }} [options]
   */
  async predict(sequences, { batchSize = 128, onProgress } = {}) {
    checkSequences(sequences);
    const size = Math.max(1, Math.floor(batchSize));
    const predictions = new Float32Array(sequences.length);
    for (let start = 0; start < sequences.length; start += size) {
      const batch = sequences.slice(start, start + size);
      try {
        predictions.set(await this.#model.predict(batch, start), start);
      } catch (thrown) {
        throw asError(thrown);
      }
      onProgress?.(start + batch.length, sequences.length);
      await breathe();
    }
    return predictions;
  }

  /** Input x gradient saliency: `{ prediction, length, scores, gradient }`, `length x 4` (A C G T). */
  async saliency(sequence) {
    checkSequence(sequence);
    try {
      return await this.#model.saliency(sequence);
    } catch (thrown) {
      throw asError(thrown);
    }
  }

  /** Every single-base substitution: `{ reference, length, effects }`, `length x 4` (A C G T). */
  async mutagenesis(sequence, { batchSize = 128 } = {}) {
    checkSequence(sequence);
    try {
      return await this.#model.mutagenesis(sequence, Math.max(1, Math.floor(batchSize)));
    } catch (thrown) {
      throw asError(thrown);
    }
  }

  /** `{ backend: 'webgpu' | 'cpu', card }`: where the model runs and its model card. */
  info() {
    return this.#model.info();
  }
}
