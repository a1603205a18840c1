"""CRMnet in TensorFlow/Keras, the framework of the original paper, built from the spec with the
weights that `crmnet export --format safetensors` wrote: checks that its predictions equal
crmnet's and prints the result as one JSON line; with `--serve`, then times inference and
training steps on request, turn by turn with `benches/side_by_side.rs`'s timing of crmnet.

Layers are named after the burn module paths so that each tensor's place is its name; burn's
layouts are converted to Keras' (convolutions [out, in, k] -> [k, in, out], transposed
convolutions [in, out, k] -> [k, out, in], attention projections split per head).
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402
from safetensors import safe_open  # noqa: E402

ALPHABET = "ACGTN"  # crmnet's channel order; IUPAC codes and padding are N
LEAKY_SLOPE = 0.1


def one_hot(sequences, length):
    codes = np.full((len(sequences), length), 4, dtype=np.int64)
    for row, sequence in enumerate(sequences):
        for position, letter in enumerate(sequence[:length].upper()):
            codes[row, position] = ALPHABET.find(letter) if letter in "ACGT" else 4
    return np.eye(5, dtype=np.float32)[codes]  # [batch, length, channels]: Keras is channels-last


class Model:
    def __init__(self, path):
        with safe_open(path, framework="np") as file:
            card = json.loads(file.metadata()["crmnet.model_card"])
            self.tensors = {key: file.get_tensor(key).astype(np.float32) for key in file.keys()}
        self.config = card["architecture"]
        self.copies = []  # (layer, [weights]) set once the model is built
        self.keras = self.build()
        for layer, weights in self.copies:
            layer.set_weights(weights)

    def take(self, name):
        return self.tensors.pop(name)

    def conv(self, x, prefix, filters, strides=1, activation="relu"):
        layer = layers.Conv1D(filters, self.config["kernel_size"], strides=strides,
                              padding="same", activation=activation, name=prefix)
        self.copies.append((layer, [self.take(prefix + ".weight").transpose(2, 1, 0),
                                    self.take(prefix + ".bias")]))
        return layer(x)

    def dense(self, x, prefix, units, activation=None):
        layer = layers.Dense(units, activation=activation, name=prefix)
        self.copies.append((layer, [self.take(prefix + ".weight"), self.take(prefix + ".bias")]))
        return layer(x)

    def norm(self, x, prefix, layer, statistics_too):
        names = ["gamma", "beta"] + (["running_mean", "running_var"] if statistics_too else [])
        self.copies.append((layer, [self.take(f"{prefix}.{name}") for name in names]))
        return layer(x)

    def conv_se(self, x, prefix, filters, normalised):
        x = self.conv(x, prefix + ".conv", filters)
        gate = layers.GlobalAveragePooling1D()(x)
        hidden = max(filters // self.config["se_ratio"], 1)
        gate = self.dense(gate, prefix + ".se.squeeze", hidden, "relu")
        gate = self.dense(gate, prefix + ".se.excite", filters, "sigmoid")
        x = layers.Multiply()([x, layers.Reshape((1, filters))(gate)])
        if normalised:
            # Keras' defaults, which the published weights were trained with.
            bn = layers.BatchNormalization(epsilon=1e-3, momentum=0.99, name=prefix + ".norm")
            x = self.norm(x, prefix + ".norm", bn, True)
        return x

    def attention(self, x, prefix):
        heads, key_dim = self.config["heads"], self.config["key_dim"]
        layer = layers.MultiHeadAttention(heads, key_dim, name=prefix)
        weights = []
        for part in ["query", "key", "value"]:
            kernel = self.take(f"{prefix}.{part}.weight")
            weights += [kernel.reshape(kernel.shape[0], heads, key_dim),
                        self.take(f"{prefix}.{part}.bias").reshape(heads, key_dim)]
        kernel = self.take(prefix + ".output.weight")
        weights += [kernel.reshape(heads, key_dim, kernel.shape[1]), self.take(prefix + ".output.bias")]
        self.copies.append((layer, weights))
        return layer(x, x)

    def block(self, x, prefix):
        config = self.config
        epsilon = config["layer_norm_epsilon"]
        attended = layers.Dropout(config["dropout"])(self.attention(x, prefix + ".attention"))
        ln = layers.LayerNormalization(epsilon=epsilon, name=prefix + ".attention_norm")
        x = self.norm(layers.Add()([x, attended]), prefix + ".attention_norm", ln, False)
        fed = self.dense(x, prefix + ".expand", config["ffn_dim"], "relu")
        fed = layers.Dropout(config["dropout"])(self.dense(fed, prefix + ".contract", x.shape[-1]))
        ln = layers.LayerNormalization(epsilon=epsilon, name=prefix + ".ffn_norm")
        return self.norm(layers.Add()([x, fed]), prefix + ".ffn_norm", ln, False)

    def transformer(self, x):
        config = self.config
        tokens = x.shape[1]
        if config["position"] == "Multiplicative":
            step = (config["sequence_length"] - 1) / tokens
            scale = np.sin(np.arange(tokens) * step).astype(np.float32).reshape(1, tokens, 1)
        else:
            raise SystemExit("only the published multiplicative position mode is built here")
        x = layers.Rescaling(scale)(x)
        count = config["transformer_blocks"]
        block = lambda x, index: self.block(x, f"transformer.blocks.{index}")  # noqa: E731
        if config["wiring"] == "Paired":
            x = block(x, 0)
            for index in range(1, count - 1, 2):
                side = block(x, index)
                x = layers.Add()([block(x, index + 1), side])
            return block(x, count - 1)
        for index in range(count):
            x = block(x, index)
        return x

    def build(self):
        config = self.config
        inputs = keras.Input((config["sequence_length"], 5))
        x, skips = inputs, []
        last = len(config["encoder_filters"]) - 1
        for index, filters in enumerate(config["encoder_filters"]):
            prefix = f"encoder.levels.{index}"
            x = self.conv_se(x, prefix + ".first", filters, True)
            x = self.conv_se(x, prefix + ".second", filters, True)
            x = layers.Dropout(config["dropout"])(x)
            if index < last:
                skips.append(x)
                x = self.conv(x, prefix + ".downsample", filters, strides=2)
        x = self.transformer(x)
        for index, (filters, skip) in enumerate(zip(config["decoder_filters"], reversed(skips))):
            prefix = f"decoder.levels.{index}"
            name = prefix + ".upsample"
            up = layers.Conv1DTranspose(filters, config["kernel_size"], strides=2, padding="same",
                                        name=name)
            self.copies.append((up, [self.take(name + ".weight").transpose(2, 1, 0),
                                     self.take(name + ".bias")]))
            x = layers.Concatenate()([up(x), skip])
            x = self.conv_se(x, prefix + ".first", filters, True)
            x = self.conv_se(x, prefix + ".second", filters, True)
        for index, filters in enumerate(config["head_filters"]):
            x = self.conv_se(x, f"head.units.{index}", filters, False)
        x = layers.Flatten()(x)
        for index, (units, rate) in enumerate(zip(config["mlp_units"], config["mlp_dropout"])):
            x = self.dense(x, f"mlp.hidden.{index}.linear", units)
            x = layers.Dropout(rate)(layers.LeakyReLU(LEAKY_SLOPE)(x))
        x = self.dense(x, "mlp.output", 1)
        if self.tensors:
            raise SystemExit(f"tensors with no Keras layer: {sorted(self.tensors)}")
        return keras.Model(inputs, layers.Reshape(())(x))


def turn(call, min_seconds):
    """Median seconds per call over at least `min_seconds`, at least one call."""
    times, started = [], time.perf_counter()
    while not times or time.perf_counter() - started < min_seconds:
        begin = time.perf_counter()
        call()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def serve(model, inputs, targets):
    """Answers timing requests from stdin, one a line, each with one line on stdout: `predict
    BATCH SECONDS` or `train BATCH SECONDS` (`model.keras.predict_on_batch` /
    `train_on_batch` on the first BATCH rows) -> the median seconds per call of a turn of at
    least SECONDS. A case's first request makes one untimed call first (graph tracing,
    allocation). Staying up between requests lets the caller alternate turns with its own
    call by call, so that the machine's drift over minutes hits both sides alike."""
    if targets is not None:
        model.keras.compile(optimizer=keras.optimizers.Adam(1e-4), loss=keras.losses.Huber(1.0))
    warm = set()
    for line in sys.stdin:
        case, batch, seconds = line.split()
        batch, seconds = int(batch), float(seconds)
        if case == "predict":
            x = inputs[:batch]
            call = lambda: model.keras.predict_on_batch(x)  # noqa: E731
        elif case == "train":
            if targets is None:
                sys.exit("train requests need --targets")
            x, y = inputs[:batch], targets[:batch]
            call = lambda: model.keras.train_on_batch(x, y)  # noqa: E731
        else:
            sys.exit(f"unknown request {line.strip()!r}")
        if (case, batch) not in warm:
            call()
            warm.add((case, batch))
        print(turn(call, seconds), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", required=True)
    parser.add_argument("--sequences", required=True, help="one sequence per line")
    parser.add_argument("--targets", help="one measured value per line (for training steps)")
    parser.add_argument("--reference", required=True, help="crmnet's predictions, one per line")
    parser.add_argument("--serve", action="store_true",
                        help="after the agreement line, answer timing requests (see serve)")
    args = parser.parse_args()

    model = Model(args.weights)
    length = model.config["sequence_length"]
    sequences = open(args.sequences).read().split()
    targets = np.loadtxt(args.targets, dtype=np.float32) if args.targets else None
    reference = np.loadtxt(args.reference, dtype=np.float32)
    inputs = one_hot(sequences, length)

    keras_predictions = np.concatenate(
        [model.keras.predict_on_batch(inputs[i:i + 256]) for i in range(0, len(inputs), 256)])
    difference = np.abs(keras_predictions - reference)

    print(json.dumps({
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "rows_compared": len(reference),
        "max_abs_difference": float(difference.max()),
        # Untrained full-size networks predict values near 0 that differ little between
        # sequences: agreement is judged against this spread, not against the values' size.
        "reference_spread": float(reference.max() - reference.min()),
    }), flush=True)
    if args.serve:
        serve(model, inputs, targets)


if __name__ == "__main__":
    main()
