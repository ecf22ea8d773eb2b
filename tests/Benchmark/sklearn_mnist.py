"""scikit-learn's MLPClassifier on MNIST with the notebook's recipe, for Bench.ps1: 784-(hidden x depth)-10 ReLU,
Adam 1e-3, batch 256, a fresh shuffle every epoch, no L2 term (alpha 0), float32 data, no early stopping and no
per-epoch evaluation (MLPClassifier has none); at the end the test accuracy. Threads come from the environment
(OPENBLAS_NUM_THREADS, OMP_NUM_THREADS), which Bench.ps1 sets. Prints key=value lines.
"""
import resource
import sys
import time
import warnings

started = time.time()
import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

import_seconds = time.time() - started
sys.path.insert(0, __file__.rsplit('/', 1)[0])
from notebook_data import read_mnist, recipe_arguments  # noqa: E402


def main():
    parser = recipe_arguments()
    args = parser.parse_args()
    (train_images, train_labels), (test_images, test_labels) = read_mnist(args.data)
    train = train_images.reshape(len(train_labels), -1).astype(np.float32) / np.float32(255)
    test = test_images.reshape(len(test_labels), -1).astype(np.float32) / np.float32(255)
    model = MLPClassifier(hidden_layer_sizes=(args.hidden,) * args.depth, activation='relu', solver='adam', alpha=0.0,
                          batch_size=256, learning_rate_init=1e-3, max_iter=args.epochs, shuffle=True, random_state=1,
                          tol=0.0, n_iter_no_change=args.epochs + 1)
    clock = time.time()
    with warnings.catch_warnings():
        # max_iter is the number of epochs here, not a safety net: reaching it is the point.
        warnings.simplefilter('ignore', ConvergenceWarning)
        model.fit(train, train_labels)
    print(f'train_seconds={time.time() - clock:.3f}')
    print(f'import_seconds={import_seconds:.3f}')
    print(f'loss={model.loss_:.4f}')
    print(f'test_accuracy={(model.predict(test) == test_labels).mean():.4f}')
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f'cpu_seconds={usage.ru_utime + usage.ru_stime:.3f}')
    print(f'peak_memory_bytes={usage.ru_maxrss * 1024}')


main()
