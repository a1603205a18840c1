// The model runs here, off the page's thread, so that the page never freezes.
import { Predictor } from './vendor/crmnet/index.js';

let predictor;

async function handle({ type, sequences, sequence }) {
  switch (type) {
    case 'load':
      predictor = await Predictor.load();
      return predictor.info();
    case 'predict':
      return predictor.predict(sequences, {
        batchSize: 64,
        onProgress: (done, total) => postMessage({ progress: { done, total } }),
      });
    case 'saliency':
      return predictor.saliency(sequence);
    case 'mutagenesis':
      return predictor.mutagenesis(sequence, { batchSize: 110 });
    default:
      throw new Error(`unknown request ${type}`);
  }
}

onmessage = async ({ data }) => {
  try {
    postMessage({ id: data.id, result: await handle(data) });
  } catch (thrown) {
    postMessage({ id: data.id, error: thrown instanceof Error ? thrown.message : String(thrown) });
  }
};
