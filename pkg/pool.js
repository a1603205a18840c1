// Models in Web Workers (browsers) or worker threads (Node), one per worker, each on its own
// core: WebAssembly threads would need a cross-origin isolated page and a nightly-built
// standard library, whereas separate workers run anywhere.
import { ALL_POSITIONS, isNode } from './runtime.js';

/** One worker and its pending requests. */
class Remote {
  #worker;
  #pending = new Map();
  #nextId = 0;
  #failure = null;

  /** A worker running worker.js: a Node worker thread or a Web Worker. */
  static async newWorker() {
    if (isNode) {
      const { Worker } = await import('node:worker_threads');
      return new Worker(new URL('./worker.js', import.meta.url));
    }
    // Written out in full so that bundlers (Vite, webpack) find and bundle the worker.
    return new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  }

  constructor(worker) {
    this.#worker = worker;
    const receive = ({ id, result, error, progress }) => {
      const pending = this.#pending.get(id);
      if (!pending) return; // answered after the worker was given up, or the caller aborted
      if (progress) {
        try {
          pending.onProgress?.(...progress);
        } catch (thrown) {
          this.#giveUp(id, thrown); // as on this thread: a callback that throws ends the call
        }
        return;
      }
      this.#pending.delete(id);
      this.#keepAlive();
      if (error === undefined) pending.resolve(result);
      else pending.reject(new Error(error));
    };
    const fail = (reason) => {
      this.#failAll(new Error(`crmnet worker failed: ${reason}`));
      worker.terminate(); // a Web Worker may linger after an error; it gets no more requests
    };
    if (isNode) {
      worker.on('message', receive);
      worker.on('error', (error) => fail(error.message));
      worker.on('exit', (code) => fail(`it exited with code ${code}`));
      worker.unref();
    } else {
      worker.onmessage = ({ data }) => receive(data);
      worker.onerror = (event) => fail(event.message || 'it could not start');
      worker.onmessageerror = () => fail('a message could not be read');
    }
  }

  /** Requests sent and not yet answered. */
  get outstanding() {
    return this.#pending.size;
  }

  /** Why the worker can take no more requests (it failed, exited or was closed), or null. */
  get failure() {
    return this.#failure;
  }

  call(call, ...args) {
    return this.watched(call, args);
  }

  /**
   * `call` with the progress it reports passed to `onProgress`; an aborted `signal` rejects
   * at once, and the worker is told to stop the work.
   */
  watched(call, args, { onProgress, signal } = {}) {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    const answer = new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject, onProgress }));
    this.#worker.postMessage({ id, call, args, watched: onProgress !== undefined || signal !== undefined });
    this.#keepAlive();
    if (!signal) return answer;
    const abort = () => this.#giveUp(id, signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    return answer.finally(() => signal.removeEventListener('abort', abort));
  }

  /** Rejects request `id` with `reason` now and tells the worker to stop it. */
  #giveUp(id, reason) {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    this.#worker.postMessage({ cancel: id });
    this.#keepAlive();
    pending.reject(reason);
  }

  close() {
    this.#failAll(new Error('the predictor was closed'));
    this.#worker.terminate();
  }

  /** A Node process with no request outstanding may exit with its workers still idle. */
  #keepAlive() {
    if (!isNode) return;
    if (this.#pending.size > 0) this.#worker.ref();
    else this.#worker.unref();
  }

  #failAll(error) {
    this.#failure ??= error;
    for (const { reject } of this.#pending.values()) reject(this.#failure);
    this.#pending.clear();
    this.#keepAlive();
  }
}

/** The same calls as a model of this thread, on `workers` models: predictions spread over them. */
/**
 * `[first, end)`: the positions of a sequence of `bases` bases that the model of `card` reads,
 * as the crate places sequences in its input (`card.input`: from the 5' end, to the 3' end, or
 * centred on a position and moved in to fit).
 */
function visible(bases, card) {
  const { length, anchor, centre } = card.input ?? { length: card.sequence_length, anchor: "5'" };
  let start = 0;
  if (anchor === "3'") start = length - bases;
  if (anchor === 'centre') {
    start = centre - Math.floor(bases / 2);
    if (bases <= length) start = Math.min(Math.max(start, 0), length - bases);
  }
  const first = Math.min(Math.max(-start, 0), bases);
  return [first, Math.min(Math.max(length - start, first), bases)];
}

export class WorkerPool {
  #remotes;
  #info;

  /**
   * `count` workers on the CPU; with `backend` 'auto' or 'webgpu' the first loads alone, and
   * only if it ends up on the CPU do the others follow (one GPU is used from one worker: more
   * would only queue on it). `newWorker` makes each worker (tests pass one that keeps them, to
   * terminate one from outside). `bytes`: the weights, a promise of them, or undefined.
   */
  static async load(bytes, backend, count, newWorker = Remote.newWorker) {
    const remotes = [];
    const spawn = async (workers, on) => {
      const more = await Promise.all(Array.from({ length: workers }, async () => new Remote(await newWorker())));
      remotes.push(...more);
      // Each worker loads its module while the weights are still being fetched.
      const [weights] = await Promise.all([bytes, ...more.map((remote) => remote.call('prepare', on))]);
      const [info] = await Promise.all(more.map((remote) => remote.call('load', weights, on)));
      return info;
    };
    try {
      const info = await spawn(backend === 'cpu' ? count : 1, backend);
      if (info.backend === 'cpu' && remotes.length < count) await spawn(count - remotes.length, 'cpu');
      return new WorkerPool(remotes, info);
    } catch (error) {
      remotes.forEach((remote) => remote.close());
      throw error;
    }
  }

  constructor(remotes, info) {
    this.#remotes = remotes;
    this.#info = info;
  }

  /** Workers still answering: one that failed or exited leaves the rotation. */
  get workers() {
    return this.#live().length;
  }

  info() {
    return this.#info;
  }

  /**
   * Each call goes to the least busy worker: a caller keeping one batch in flight per worker
   * keeps all busy.
   */
  predict(batch, firstIndex, features) {
    return this.#take().call('predict', batch, firstIndex, features);
  }

  saliency(sequence) {
    return this.#take().call('saliency', sequence);
  }

  design(sequence, options, watch) {
    return this.#take().watched('design', [sequence, options], watch);
  }

  attribution(sequence, method) {
    return this.#take().call('attribution', sequence, method);
  }

  /**
   * The positions the model reads split among the workers, each predicting the variants of its
   * part.
   */
  async mutagenesis(sequence, batchSize) {
    const [start, end] = visible(sequence.length, this.#info.card);
    const scored = end - start;
    const parts = Math.max(1, Math.min(this.#remotes.length, scored));
    const firsts = Array.from({ length: parts }, (_, part) => start + Math.round((part * scored) / parts));
    const results = await Promise.all(firsts.map((first, part) => {
      const last = part + 1 < parts ? firsts[part + 1] : ALL_POSITIONS;
      return this.#take().call('mutagenesis', sequence, batchSize, first, last);
    }));
    const effects = new Float32Array(results.reduce((total, result) => total + result.effects.length, 0));
    let offset = 0;
    for (const result of results) {
      effects.set(result.effects, offset);
      offset += result.effects.length;
    }
    return { reference: results[0].reference, first: results[0].first, length: effects.length / 4, effects };
  }

  close() {
    this.#remotes.forEach((remote) => remote.close());
  }

  #live() {
    return this.#remotes.filter((remote) => remote.failure === null);
  }

  /** The least busy worker still answering; when none is left, the first failure says why. */
  #take() {
    const live = this.#live();
    if (live.length === 0) {
      return { call: () => Promise.reject(this.#remotes[0].failure) };
    }
    return live.reduce((least, remote) => (remote.outstanding < least.outstanding ? remote : least));
  }
}
