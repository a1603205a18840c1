"""Xpresso's published Keras model predicting as its authors ran it (`Fig5_S5/predict_seqs.py`
in vagarwal87/Xpresso, written again here): one-hot A, C, G, T in either case, anything else all
zeros; a sequence shorter than the 10,500-nt input centred on position 7,000 (its first base at
7,000 - length // 2) in zeros; the half-life features given, or zeros.

Usage: python xpresso_keras.py --model M.h5 --sequences S.txt [--features F.tsv] --predictions P.txt
(one sequence a line; one tab-separated feature row a line, as many rows as sequences).
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

INPUT_LENGTH = 10_500
TSS_POSITION = 7_000
CODES = {"A": 0, "C": 1, "G": 2, "T": 3}


def one_hot(sequences):
    encoded = np.zeros((len(sequences), INPUT_LENGTH, 4), dtype="float32")
    for row, sequence in enumerate(sequences):
        if len(sequence) > INPUT_LENGTH:
            raise SystemExit(f"sequence {row + 1} is longer than {INPUT_LENGTH} nt")
        start = 0 if len(sequence) == INPUT_LENGTH else TSS_POSITION - len(sequence) // 2
        if start + len(sequence) > INPUT_LENGTH:
            raise SystemExit(f"sequence {row + 1}: the authors centre only sequences up to 7,000 nt")
        for offset, letter in enumerate(sequence.upper()):
            if letter in CODES:
                encoded[row, start + offset, CODES[letter]] = 1.0
    return encoded


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--sequences", required=True)
    parser.add_argument("--features")
    parser.add_argument("--predictions", required=True)
    args = parser.parse_args()
    model = tf.keras.models.load_model(args.model, compile=False)
    with open(args.sequences) as lines:
        sequences = [line.strip() for line in lines if line.strip()]
    width = model.inputs[1].shape[-1]
    if args.features:
        features = np.loadtxt(args.features, dtype="float32", delimiter="\t", ndmin=2)
    else:
        features = np.zeros((len(sequences), width), dtype="float32")
    predictions = model.predict([one_hot(sequences), features], batch_size=20, verbose=0)
    with open(args.predictions, "w") as out:
        out.write("\n".join(f"{value:.9g}" for value in predictions.flatten()) + "\n")


if __name__ == "__main__":
    main()
