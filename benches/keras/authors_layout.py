"""CRMnet with the layer sequence and names of the authors' Keras code (Ding et al. 2023,
github.com/jiayuwen/CRMnet, model.py), written here from the spec: the file that the published
weights load into. Builds it with seeded, non-trivial weights (batch-norm statistics and
layer-norm gains included), saves it to HDF5 and writes its predictions for the given
sequences, one per line, for `crmnet import` to be checked against (tests/keras.rs).

What the import depends on, as the authors' code makes it:
- Keras' default names in creation order (`conv1d`, `conv1d_1`, ..., `batch_normalization_13`,
  `conv1d_transpose_2`, `transformer_block_7`, `dense_4`), and the squeeze-excitation blocks'
  own names (`ecb_1__0` ... `ecb_4__1`, `dcb_1__0` ... `dcb_3__1`, `se_0` ... `se_2`);
- input channels N, A, C, G, T (a StringLookup over A, C, G, T with its out-of-vocabulary
  slot first), sequences padded with N at the 3' end to 112;
- position information multiplied in (token i scaled by sin(i * 111 / 14)), transformer blocks
  summed in pairs, LeakyReLU(0.1) in the MLP.

--full writes Keras' full-model file (`model.save("x.h5")`); --weights-only the layout that
tf.keras 2's `save_weights("x.h5")` writes, which is what the authors' published SavedModel
converts to.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402
from keras.src.legacy.saving import legacy_h5_format  # noqa: E402

VOCABULARY = "NACGT"  # the authors' one-hot order: out-of-vocabulary (N) first
LENGTH = 112
KERNEL = 11


class SqueezeExcitation(keras.Model):
    """Average over length, Dense(c/2, ReLU), Dense(c, sigmoid), rescale the channels."""

    def __init__(self, channels, name):
        super().__init__(name=name)
        self.channels = channels
        self.pool = layers.GlobalAveragePooling1D()
        self.squeeze = layers.Dense(channels // 2, activation="relu")
        self.excite = layers.Dense(channels, activation="sigmoid")

    def call(self, x):
        gate = self.excite(self.squeeze(self.pool(x)))
        return x * keras.ops.reshape(gate, (-1, 1, self.channels))

    def get_config(self):
        return {"channels": self.channels, "name": self.name}


class TransformerBlock(layers.Layer):
    """Post-norm block: attention (key_dim = model width), Add+LN, FFN, Add+LN."""

    def __init__(self, width, heads, ffn, **kwargs):
        super().__init__(**kwargs)
        self.width, self.heads, self.ffn_units = width, heads, ffn
        self.att = layers.MultiHeadAttention(num_heads=heads, key_dim=width)
        self.ffn = keras.Sequential([layers.Dense(ffn, activation="relu"), layers.Dense(width)])
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(0.1)
        self.dropout2 = layers.Dropout(0.1)

    def call(self, x, training=False):
        x = self.layernorm1(x + self.dropout1(self.att(x, x), training=training))
        return self.layernorm2(x + self.dropout2(self.ffn(x), training=training))

    def get_config(self):
        return {**super().get_config(), "width": self.width, "heads": self.heads,
                "ffn": self.ffn_units}


class PositionScale(layers.Layer):
    """Token i multiplied by sin(i * 111 / tokens)."""

    def __init__(self, tokens, **kwargs):
        super().__init__(**kwargs)
        self.tokens = tokens

    def call(self, x):
        scale = np.sin(np.arange(self.tokens) * (111 / self.tokens)).astype(np.float32)
        return x * scale.reshape(1, self.tokens, 1)

    def get_config(self):
        return {**super().get_config(), "tokens": self.tokens}


def conv(x, filters, strides=1):
    return layers.Conv1D(filters, KERNEL, strides=strides, padding="same",
                         activation="relu")(x)


def conv_se_bn_twice(x, filters, se_prefix):
    for index in range(2):
        x = SqueezeExcitation(filters, f"{se_prefix}_{index}")(conv(x, filters))
        x = layers.BatchNormalization()(x)
    return x


def build():
    inputs = keras.Input((LENGTH, len(VOCABULARY)))
    x, skips = inputs, []
    for level, filters in enumerate([128, 128, 256, 256], start=1):
        x = layers.Dropout(0.1)(conv_se_bn_twice(x, filters, f"ecb_{level}_"))
        if level < 4:
            skips.append(x)
            x = conv(x, filters, strides=2)
    tokens = x.shape[1]
    position = PositionScale(tokens)
    blocks = [TransformerBlock(256, 12, 128) for _ in range(8)]
    x = blocks[0](position(x))
    for first in (1, 3, 5):
        side = blocks[first](x)
        x = blocks[first + 1](x) + side
    x = blocks[7](x)
    for level, skip in enumerate(reversed(skips), start=1):
        up = layers.Conv1DTranspose(128, KERNEL, strides=2, padding="same")(x)
        x = conv_se_bn_twice(layers.concatenate([up, skip]), 128, f"dcb_{level}_")
    for index, filters in enumerate([128, 64, 32]):
        x = SqueezeExcitation(filters, f"se_{index}")(conv(x, filters))
    x = layers.Flatten()(x)
    for units, rate in [(256, 0.2), (128, 0.2), (64, 0.1), (32, 0.1)]:
        x = layers.Dropout(rate)(layers.LeakyReLU(0.1)(layers.Dense(units)(x)))
    return keras.Model(inputs, layers.Dense(1)(x))


def perturb(model, seed):
    """Weights away from their initial values, so that every tensor's place matters: biases,
    norm gains and shifts random rather than 0/1, new kernel draws at their initial scale, and
    batch-norm statistics near those of the layer's input on random promoters (each scaled a
    little at random), so that the signal that differs between sequences is not lost in depth;
    the output on a trained model's scale."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        name, shape = variable.path, tuple(variable.shape)
        if name.endswith("gamma"):
            value = rng.uniform(0.5, 1.5, shape)
        elif name.endswith(("beta", "bias")):
            value = rng.normal(0.0, 0.1, shape)
        elif name.endswith(("moving_mean", "moving_variance")):
            continue
        else:
            value = rng.normal(0.0, float(np.std(variable.numpy())) or 0.05, shape)
        variable.assign(value.astype(np.float32))
    letters = rng.integers(1, len(VOCABULARY), (64, LENGTH))
    letters[:, 110:] = 0
    promoters = np.eye(len(VOCABULARY), dtype=np.float32)[letters]
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            seen = keras.Model(model.input, layer.input).predict(promoters, verbose=0)
            mean, variance = seen.mean(axis=(0, 1)), seen.var(axis=(0, 1))
            layer.moving_mean.assign(mean.astype(np.float32))
            jitter = rng.uniform(0.8, 1.25, variance.shape)
            layer.moving_variance.assign((variance * jitter).astype(np.float32))
    # The output on a trained model's scale (expression bins 0-17): spread about 2.
    output = model.layers[-1]
    spread = float(np.std(model.predict(promoters, verbose=0)))
    output.kernel.assign(output.kernel.numpy() * (2.0 / spread))
    output.bias.assign(np.full(output.bias.shape, 8.0, dtype=np.float32))


def one_hot(sequences):
    codes = np.zeros((len(sequences), LENGTH), dtype=np.int64)  # N (padding included)
    for row, sequence in enumerate(sequences):
        for position, letter in enumerate(sequence[:LENGTH].upper()):
            codes[row, position] = max(VOCABULARY.find(letter), 0)
    return np.eye(len(VOCABULARY), dtype=np.float32)[codes]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", help="the full-model .h5 file to write")
    parser.add_argument("--weights-only", help="the weights-only .h5 file to write")
    parser.add_argument("--sequences", required=True, help="one sequence per line")
    parser.add_argument("--predictions", required=True, help="Keras' predictions, one a line")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    model = build()
    perturb(model, args.seed)
    if args.full:
        model.save(args.full)
    if args.weights_only:
        with h5py.File(args.weights_only, "w") as file:
            legacy_h5_format.save_weights_to_hdf5_group(file, model)
    sequences = open(args.sequences).read().split()
    predictions = model.predict(one_hot(sequences), batch_size=128, verbose=0).reshape(-1)
    np.savetxt(args.predictions, predictions, fmt="%.9g")


if __name__ == "__main__":
    main()
