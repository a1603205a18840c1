// One model in a Web Worker or a Node worker thread, answering a WorkerPool (pool.js): each
// request `{ id, call, args }` gets `{ id, result }` or `{ id, error }`, a watched one
// `{ id, progress }` messages before that.
import { ThisThread, isNode, loadModel, prepare } from './runtime.js';

let runner;
/** The abort controllers of the watched requests in progress, by request id. */
const controllers = new Map();

async function load(bytes, backend) {
  runner = new ThisThread(await loadModel(bytes, backend));
  return runner.info();
}

/**
 * A watched request (design) reports its progress as `{ id, progress }` and stops when a
 * `{ cancel: id }` arrives.
 */
async function run(port, id, call, args) {
  const controller = new AbortController();
  controllers.set(id, controller);
  try {
    const onProgress = (...progress) => port.postMessage({ id, progress });
    return await runner[call](...args, { onProgress, signal: controller.signal });
  } finally {
    controllers.delete(id);
  }
}

async function answer(port, { id, call, args, watched, cancel }) {
  if (cancel !== undefined) {
    controllers.get(cancel)?.abort();
    return;
  }
  try {
    // `call` is 'prepare' (the module only), 'load' or a method of ThisThread: predict,
    // saliency, mutagenesis, design, attribution.
    let result;
    if (call === 'prepare') await prepare(...args); // answered with nothing: it only loads
    else if (call === 'load') result = await load(...args);
    else if (watched) result = await run(port, id, call, args);
    else result = await runner[call](...args);
    // Predictions move to the caller rather than being copied.
    port.postMessage({ id, result }, result instanceof Float32Array ? [result.buffer] : []);
  } catch (thrown) {
    port.postMessage({ id, error: thrown instanceof Error ? thrown.message : String(thrown) });
  }
}

if (isNode) {
  import('node:worker_threads').then(({ parentPort }) => parentPort.on('message', (data) => answer(parentPort, data)));
} else {
  globalThis.onmessage = ({ data }) => answer(globalThis, data);
}
