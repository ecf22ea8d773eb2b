"""For the Python sides of Bench.ps1: MNIST's four IDX files (raw or .gz) as numpy arrays, and the arguments they share."""
import argparse
import gzip
import os
import struct
import sys

import numpy as np


def read_idx(path):
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack('>' + 'I' * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(folder, stem):
    for name in (stem, stem + '.gz'):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    sys.exit(f'{stem} not found in {folder}')


def read_mnist(folder):
    """((train images, train labels), (test images, test labels)), images as uint8 [n, 28, 28], labels as int64."""
    return tuple((read_idx(find(folder, f'{stem}-images-idx3-ubyte')), read_idx(find(folder, f'{stem}-labels-idx1-ubyte')).astype(np.int64))
                 for stem in ('train', 't10k'))


def recipe_arguments():
    """The arguments every side takes: the data folder, epochs, hidden width and depth."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--data', required=True)
    parser.add_argument('--epochs', type=int, default=10)
    parser.add_argument('--hidden', type=int, default=256)
    parser.add_argument('--depth', type=int, default=1)
    return parser
