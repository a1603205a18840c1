// The crmnet package: a thin, typed layer over the WebAssembly module (dist/, built by
// build.sh) that loads it in browsers, bundlers and Node alike, splits long inputs into
// batches so that the page stays responsive, and can spread them over workers (pool.js).
import { ThisThread, breathe, isNode, loadModel, motifAttribution, readLocal } from './runtime.js';

export { libraryConstruct, randomPromoters, readSequences, scanMotifs } from './runtime.js';
import { WorkerPool } from './pool.js';

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

function checkWorkers(workers) {
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) {
    throw new TypeError(`workers: expected a whole number of at least 1, got ${workers}`);
  }
}

function checkSequences(sequences) {
  if (!Array.isArray(sequences)) throw new TypeError('sequences: expected an array of strings');
  sequences.forEach((sequence, index) => {
    if (typeof sequence !== 'string') {
      throw new TypeError(`sequence ${index + 1}: expected a string, got ${typeof sequence}`);
    }
  });
}

/**
 * `features` as one flat Float32Array of `count` rows of `width` (an array of rows or a flat
 * array or typed array of numbers), or undefined when not given.
 */
function featureRows(features, count, width) {
  if (features === undefined) return undefined;
  if (width === 0) throw new TypeError('features: this model reads no features');
  const rows = Array.isArray(features) && Array.isArray(features[0]) ? features : null;
  if (rows) {
    rows.forEach((row, index) => {
      if (!Array.isArray(row) || row.length !== width) {
        throw new TypeError(`features of sequence ${index + 1}: expected ${width} numbers`);
      }
    });
  }
  const flat = Float32Array.from(rows ? rows.flat() : features);
  if (flat.length !== count * width) {
    throw new TypeError(`features: ${flat.length} values for ${count} sequences of ${width} features`);
  }
  return flat;
}

function checkSequence(sequence) {
  if (typeof sequence !== 'string') throw new TypeError(`sequence: expected a string, got ${typeof sequence}`);
}

/**
 * `work(start, end)` on every part of `0..count` of `size` items, in one loop per worker of
 * `runner` (one on this thread), each taking the next part when its last is done, until all
 * are done or one fails; `onProgress(done, count)` after each. Parts start in order, so the
 * failure rethrown is the earliest part's: the first bad item.
 */
async function inLanes(runner, count, size, onProgress, work) {
  let next = 0;
  let done = 0;
  const failures = [];
  const lane = async () => {
    while (next < count && failures.length === 0) {
      const start = next;
      const end = Math.min(start + size, count);
      next = end;
      try {
        await work(start, end);
      } catch (error) {
        failures.push({ start, error });
        return;
      }
      done += end - start;
      onProgress?.(done, count);
      await breathe();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, runner.workers) }, lane));
  if (failures.length > 0) throw failures.reduce((a, b) => (b.start < a.start ? b : a)).error;
}

export class Predictor {
  /** A model on this thread ({@link ThisThread}) or models in workers ({@link WorkerPool}). */
  #runner;
  #closed = false;

  constructor(runner) {
    if (!(runner instanceof ThisThread || runner instanceof WorkerPool)) {
      throw new TypeError('use Predictor.load() to create a Predictor');
    }
    this.#runner = runner;
  }

  /**
   * @param {{ weights?: Uint8Array | ArrayBuffer | URL | string, backend?: 'auto' | 'webgpu' | 'cpu', workers?: number }} [options]
   */
  static async load({ weights, backend = 'auto', workers } = {}) {
    checkWorkers(workers);
    // Fetched while the module loads, not before.
    const bytes = weightBytes(weights);
    if (workers === undefined) return new Predictor(new ThisThread(await loadModel(bytes, backend)));
    return new Predictor(await WorkerPool.load(bytes, backend, workers));
  }

  /**
   * Predicted expression for each sequence, in order.
   * @param {string[]} sequences
   * @param {{ batchSize?: number, onProgress?: (done: number, total: number) => void,
   *   features?: number[][] | ArrayLike<number> }} [options]
   */
  async predict(sequences, { batchSize = 128, onProgress, features } = {}) {
    checkSequences(sequences);
    const runner = this.#open();
    const width = this.info().card.input?.features?.length ?? 0;
    const rows = featureRows(features, sequences.length, width);
    const predictions = new Float32Array(sequences.length);
    await inLanes(runner, sequences.length, Math.max(1, Math.floor(batchSize)), onProgress, async (start, end) => {
      const batchFeatures = rows?.slice(start * width, end * width);
      predictions.set(await runner.predict(sequences.slice(start, end), start, batchFeatures), start);
    });
    return predictions;
  }

  /** Input x gradient saliency: `{ prediction, length, scores, gradient }`, `length x 4` (A C G T). */
  async saliency(sequence) {
    checkSequence(sequence);
    return this.#open().saliency(sequence);
  }

  /**
   * In-silico evolution toward `goal` ('max', 'min' or a value) under constraints, as
   * `crmnet design`: `[{ sequence, prediction, changes }]`, the start first, each step closer.
   * `onProgress(done, rounds, best)` hears of every round (a greedy step or a generation; 0 is
   * the start) with the best step so far; an aborted `signal` rejects with its reason at once
   * and stops the work at the end of the round.
   * @param {string} sequence
   * @param {{ goal?: 'max' | 'min' | number, maxChanges?: number, forbid?: string[],
   *   gcRange?: [number, number], changeFlanks?: boolean, strategy?: 'greedy' | 'genetic',
   *   population?: number, generations?: number, seed?: number,
   *   onProgress?: (done: number, rounds: number, best: object) => void, signal?: AbortSignal }} [options]
   */
  async design(sequence, { onProgress, signal, ...options } = {}) {
    checkSequence(sequence);
    signal?.throwIfAborted();
    return this.#open().design(sequence, options, { onProgress, signal });
  }

  /**
   * Known motifs and the model's attribution on them, as `crmnet motifs --attribution`: every
   * sequence's hits, each with the mean attribution over it, and each motif's hits against the
   * same windows in sequences without them: `{ collection, hits: [[{ motif, tf, start, end,
   * strand, score, relativeScore, attribution }]], summary: [{ motif, tf, consensus, hits,
   * sequences, onHits, background, auroc, pValue, qValue }] }` (summary by AUROC). Sequences
   * are spread over the workers.
   * @param {string[]} sequences
   * @param {{ attribution?: 'mutagenesis' | 'saliency', motifs?: string, minScore?: number,
   *   onProgress?: (done: number, total: number) => void }} [options]
   */
  async motifs(sequences, { attribution = 'mutagenesis', motifs, minScore, onProgress } = {}) {
    checkSequences(sequences);
    const runner = this.#open();
    const values = new Array(sequences.length);
    await inLanes(runner, sequences.length, 1, onProgress, async (index) => {
      try {
        values[index] = await runner.attribution(sequences[index].trim(), attribution);
      } catch (error) {
        throw new Error(`sequence ${index + 1}: ${error.message}`);
      }
    });
    const trimmed = sequences.map((sequence) => sequence.trim());
    const flat = new Float32Array(values.reduce((total, v) => total + v.length, 0));
    let offset = 0;
    for (const v of values) {
      flat.set(v, offset);
      offset += v.length;
    }
    return motifAttribution(trimmed, flat, { motifs, minScore });
  }

  /** Every single-base substitution: `{ reference, length, effects }`, `length x 4` (A C G T). */
  async mutagenesis(sequence, { batchSize = 128 } = {}) {
    checkSequence(sequence);
    return this.#open().mutagenesis(sequence, Math.max(1, Math.floor(batchSize)));
  }

  /** `{ backend: 'webgpu' | 'cpu', workers, card }`: where the model runs and its model card. */
  info() {
    const runner = this.#open();
    return { ...runner.info(), workers: runner.workers };
  }

  /** Frees the model (and ends its workers); later calls throw. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#runner.close();
  }

  #open() {
    if (this.#closed) throw new Error('the predictor was closed');
    return this.#runner;
  }
}
