// One model in a Web Worker or a Node worker thread, answering a WorkerPool (pool.js): each
// request `{ id, call, args }` gets `{ id, result }` or `{ id, error }`.
import { ThisThread, isNode, loadModel } from './runtime.js';

let runner;

const calls = {
  async load(bytes, backend) {
    runner = new ThisThread(await loadModel(bytes, backend));
    return runner.info();
  },
  predict: (batch, firstIndex) => runner.predict(batch, firstIndex),
  saliency: (sequence) => runner.saliency(sequence),
  mutagenesis: (sequence, batchSize) => runner.mutagenesis(sequence, batchSize),
};

async function answer(port, { id, call, args }) {
  try {
    const result = await calls[call](...args);
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
