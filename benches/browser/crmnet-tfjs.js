// CRMnet written in TensorFlow.js ops from the spec, with the weights of a
// `crmnet export --format safetensors` file: the same network as benches/keras/crmnet_keras.py,
// channels-last as TensorFlow lays it out. `tf` is the global of tfjs-core's browser bundle.
/* global tf */

const LEAKY_SLOPE = 0.1;
const BATCH_NORM_EPSILON = 1e-3; // Keras' default, as in the published model
const ALPHABET = 'ACGT'; // channels 0-3; everything else (IUPAC codes, padding) is N, channel 4

/** The tensors of a safetensors file (float16 or float32) as float32 arrays, and its metadata. */
export function readSafetensors(buffer) {
  const view = new DataView(buffer);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, headerLength)));
  const start = 8 + headerLength;
  const tensors = new Map();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [begin, end] = entry.data_offsets;
    const bytes = buffer.slice(start + begin, start + end);
    const values = entry.dtype === 'F32' ? new Float32Array(bytes)
      : entry.dtype === 'F16' ? Float32Array.from(new Uint16Array(bytes), halfToFloat)
      : null;
    if (values === null) throw new Error(`${name}: unsupported dtype ${entry.dtype}`);
    tensors.set(name, { shape: entry.shape, values });
  }
  return { tensors, metadata: header.__metadata__ ?? {} };
}

function halfToFloat(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

export function oneHot(sequences, length) {
  const data = new Float32Array(sequences.length * length * 5);
  sequences.forEach((sequence, row) => {
    for (let position = 0; position < length; position++) {
      const channel = ALPHABET.indexOf((sequence[position] ?? 'N').toUpperCase());
      data[(row * length + position) * 5 + (channel < 0 ? 4 : channel)] = 1;
    }
  });
  return tf.tensor3d(data, [sequences.length, length, 5]);
}

export class TfjsCrmnet {
  /** `buffer`: the safetensors file's bytes. */
  constructor(buffer) {
    const { tensors, metadata } = readSafetensors(buffer);
    this.config = JSON.parse(metadata['crmnet.model_card']).architecture;
    if (this.config.position !== 'Multiplicative' || this.config.wiring !== 'Paired') {
      throw new Error('only the published position mode and transformer wiring are built here');
    }
    const raw = (name) => {
      const entry = tensors.get(name);
      if (!entry) throw new Error(`weights: no tensor ${name}`);
      return tf.tensor(entry.values, entry.shape);
    };
    // Converted once into the layouts tf ops take.
    this.w = new Map();
    const keep = (name, tensor) => this.w.set(name, tf.keep(tensor));
    for (const name of tensors.keys()) {
      const tensor = raw(name);
      if (/(^|\.)(conv|downsample)\.weight$/.test(name)) keep(name, tf.transpose(tensor, [2, 1, 0]));
      else if (name.endsWith('upsample.weight')) {
        keep(name, tf.expandDims(tf.transpose(tensor, [2, 1, 0]), 0)); // [1, k, out, in]
      } else keep(name, tensor);
    }
    for (const name of tensors.keys()) {
      if (!name.endsWith('.running_mean')) continue;
      const prefix = name.slice(0, -'.running_mean'.length);
      const scale = tf.div(this.w.get(`${prefix}.gamma`),
        tf.sqrt(tf.add(this.w.get(`${prefix}.running_var`), BATCH_NORM_EPSILON)));
      keep(`${prefix}.scale`, scale);
      keep(`${prefix}.shift`, tf.sub(this.w.get(`${prefix}.beta`), tf.mul(this.w.get(name), scale)));
    }
    const tokens = this.config.sequence_length / 2 ** (this.config.encoder_filters.length - 1);
    const step = (this.config.sequence_length - 1) / tokens;
    this.position = tf.keep(tf.tensor3d(
      Array.from({ length: tokens }, (_, i) => Math.sin(i * step)), [1, tokens, 1]));
  }

  get(name) { return this.w.get(name); }

  dense(x, prefix) {
    // tf.matMul multiplies matrices only: 3-D inputs go through as rows.
    const shape = x.shape;
    const weight = this.get(`${prefix}.weight`);
    const rows = tf.reshape(x, [-1, shape[shape.length - 1]]);
    const out = tf.add(tf.matMul(rows, weight), this.get(`${prefix}.bias`));
    return tf.reshape(out, [...shape.slice(0, -1), weight.shape[1]]);
  }

  conv(x, prefix, stride = 1) {
    return tf.relu(tf.add(tf.conv1d(x, this.get(`${prefix}.weight`), stride, 'same'),
      this.get(`${prefix}.bias`)));
  }

  convSe(x, prefix, normalised) {
    x = this.conv(x, `${prefix}.conv`);
    const gate = tf.sigmoid(this.dense(tf.relu(this.dense(tf.mean(x, 1), `${prefix}.se.squeeze`)),
      `${prefix}.se.excite`));
    x = tf.mul(x, tf.expandDims(gate, 1));
    return normalised
      ? tf.add(tf.mul(x, this.get(`${prefix}.norm.scale`)), this.get(`${prefix}.norm.shift`))
      : x;
  }

  layerNorm(x, prefix) {
    const { mean, variance } = tf.moments(x, -1, true);
    const normalised = tf.div(tf.sub(x, mean),
      tf.sqrt(tf.add(variance, this.config.layer_norm_epsilon)));
    return tf.add(tf.mul(normalised, this.get(`${prefix}.gamma`)), this.get(`${prefix}.beta`));
  }

  attention(x, prefix) {
    const { heads, key_dim: keyDim } = this.config;
    const [batch, tokens] = x.shape;
    const split = (part) => tf.transpose(
      tf.reshape(this.dense(x, `${prefix}.${part}`), [batch, tokens, heads, keyDim]), [0, 2, 1, 3]);
    const scores = tf.div(tf.matMul(split('query'), split('key'), false, true), Math.sqrt(keyDim));
    const context = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), split('value')),
      [0, 2, 1, 3]), [batch, tokens, heads * keyDim]);
    return this.dense(context, `${prefix}.output`);
  }

  block(x, index) {
    const prefix = `transformer.blocks.${index}`;
    x = this.layerNorm(tf.add(x, this.attention(x, `${prefix}.attention`)), `${prefix}.attention_norm`);
    const fed = this.dense(tf.relu(this.dense(x, `${prefix}.expand`)), `${prefix}.contract`);
    return this.layerNorm(tf.add(x, fed), `${prefix}.ffn_norm`);
  }

  transformer(x) {
    const count = this.config.transformer_blocks;
    x = this.block(tf.mul(x, this.position), 0);
    for (let index = 1; index < count - 1; index += 2) {
      x = tf.add(this.block(x, index + 1), this.block(x, index));
    }
    return this.block(x, count - 1);
  }

  /** `input`: one-hot `[batch, length, 5]`; returns `[batch]`. */
  forward(input) {
    return tf.tidy(() => {
      const { encoder_filters: encoder, decoder_filters: decoder, head_filters: head } = this.config;
      let x = input;
      const skips = [];
      encoder.forEach((_, index) => {
        const prefix = `encoder.levels.${index}`;
        x = this.convSe(this.convSe(x, `${prefix}.first`, true), `${prefix}.second`, true);
        if (index < encoder.length - 1) {
          skips.push(x);
          x = this.conv(x, `${prefix}.downsample`, 2);
        }
      });
      x = this.transformer(x);
      decoder.forEach((filters, index) => {
        const prefix = `decoder.levels.${index}`;
        const skip = skips[skips.length - 1 - index];
        const [batch, length] = x.shape;
        const up = tf.add(tf.squeeze(tf.conv2dTranspose(tf.expandDims(x, 1),
          this.get(`${prefix}.upsample.weight`), [batch, 1, length * 2, filters], [1, 2], 'same'),
        [1]), this.get(`${prefix}.upsample.bias`));
        x = tf.concat([up, skip], -1);
        x = this.convSe(this.convSe(x, `${prefix}.first`, true), `${prefix}.second`, true);
      });
      head.forEach((_, index) => { x = this.convSe(x, `head.units.${index}`, false); });
      x = tf.reshape(x, [x.shape[0], -1]);
      this.config.mlp_units.forEach((_, index) => {
        x = tf.leakyRelu(this.dense(x, `mlp.hidden.${index}.linear`), LEAKY_SLOPE);
      });
      return tf.reshape(this.dense(x, 'mlp.output'), [-1]);
    });
  }
}
