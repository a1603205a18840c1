// One model in a Web Worker or a Node worker thread, answering a WorkerPool (pool.js): each
// request `{ id, call, args }` gets `{ id, result }` or `{ id, error }`.
import { ThisThread, isNode, loadModel } from './runtime.js';

let runner;

async function load(bytes, backend) {
  runner = new ThisThread(await loadModel(bytes, backend));
  return runner.info();
}

async function answer(port, { id, call, args }) {
  try {
    // `call` is 'load' or a method of ThisThread: predict, saliency, mutagenesis, design,
    // attribution.
    const result = await (call === 'load' ? load(...args) : runner[call](...args));
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
