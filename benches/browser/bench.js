// In the page: loads one runtime, predicts, and times it. run.mjs drives it.
/* global tf */
import { Predictor } from '../../pkg/index.js';
import { TfjsCrmnet, oneHot } from './crmnet-tfjs.js';

// crmnet runs the same network and weights as TensorFlow.js (`crmnet-web`), fetched like its.
const crmnetWeights = '/models/crmnet-web.bpk';

async function loadRuntime(runtime, weightsUrl) {
  if (runtime === 'crmnet-cpu-workers') {
    // One worker per core, each predicting 64-sequence batches.
    const predictor = await Predictor.load({ weights: crmnetWeights, backend: 'cpu', workers: navigator.hardwareConcurrency });
    return {
      backend: `${predictor.info().backend} (${predictor.info().workers} workers)`,
      predict: (sequences) => predictor.predict(sequences, { batchSize: 64 }),
    };
  }
  if (runtime.startsWith('crmnet-')) {
    const predictor = await Predictor.load({ weights: crmnetWeights, backend: runtime.slice('crmnet-'.length) });
    return {
      backend: predictor.info().backend,
      predict: (sequences) => predictor.predict(sequences, { batchSize: sequences.length }),
    };
  }
  const backend = runtime.slice('tfjs-'.length);
  if (backend === 'wasm') tf.wasm.setWasmPaths('node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js: no ${backend} backend`);
  await tf.ready();
  const model = new TfjsCrmnet(await (await fetch(weightsUrl)).arrayBuffer());
  const length = model.config.sequence_length;
  return {
    backend: `${tf.getBackend()}${backend === 'wasm' ? ` (${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'threads' : '1 thread'}, ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD'})` : ''}`,
    predict: async (sequences) => {
      const input = oneHot(sequences, length);
      const output = model.forward(input);
      input.dispose();
      const values = await output.data();
      output.dispose();
      return values;
    },
  };
}

let loaded = null;

/**
 * Loads `runtime` into this page: time to its first prediction, and its predictions of the
 * first `compare` sequences in batches of `batch`; later turns time `batch`-sequence calls.
 */
window.loadRuntime = async ({ runtime, weightsUrl, sequences, compare, batch }) => {
  const start = performance.now();
  const { backend, predict } = await loadRuntime(runtime, weightsUrl);
  await predict(sequences.slice(0, 1));
  const firstPredictionMs = performance.now() - start;
  const predictions = [];
  for (let i = 0; i < compare; i += batch) {
    predictions.push(...(await predict(sequences.slice(i, Math.min(i + batch, compare)))));
  }
  const input = sequences.slice(0, batch);
  await predict(input);
  loaded = { predict, input };
  return {
    runtime, backend, firstPredictionMs, predictions, crossOriginIsolated: self.crossOriginIsolated,
  };
};

/** One turn: the seconds of each call over at least `seconds` of calls, at least one call. */
window.turn = async (seconds) => {
  const times = [];
  const start = performance.now();
  while (times.length === 0 || performance.now() - start < seconds * 1000) {
    const begin = performance.now();
    await loaded.predict(loaded.input);
    times.push((performance.now() - begin) / 1000);
  }
  return times;
};
window.benchmarkReady = true;
