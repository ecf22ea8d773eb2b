"""The scikit-learn side of Compare-Sklearn.ps1.

Writes each dataset that scikit-learn ships (no download) as train.csv and test.csv with a header row, split once
(20 % test, seed 1, stratified by class for classification), so that MlpTools reads exactly the same rows; then trains
MLPClassifier / MLPRegressor on those files with the recipe given on the command line, once per seed, and writes
its test figures and fit times to sklearn.json in the output folder.

Both sides learn standardised features (StandardScaler fitted on the training rows, inside a Pipeline) and, for
regression, standardised targets (TransformedTargetRegressor with a StandardScaler on y), which is what MlpTools does
by itself; metrics are in the targets' own units on both sides.
"""
import argparse
import csv
import json
import os
import sys
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# name: (loader, task, label column, epochs). Class labels are written as the dataset's class names (iris: setosa, ...),
# so MlpTools reads them as a user's CSV would have them. Epochs: 200 for the small sets; fewer for the larger ones,
# where scikit-learn's per-batch cost would otherwise take most of the benchmark's few minutes (both sides get the same).
DATASETS = {
    'iris': (datasets.load_iris, 'classification', 'species', 200),
    'wine': (datasets.load_wine, 'classification', 'cultivar', 200),
    'breast_cancer': (datasets.load_breast_cancer, 'classification', 'diagnosis', 100),
    'digits': (datasets.load_digits, 'classification', 'digit', 50),
    'diabetes': (datasets.load_diabetes, 'regression', None, 100),
    'linnerud': (datasets.load_linnerud, 'regression', None, 200),
}
SPLIT_SEED = 1
TEST_FRACTION = 0.2


def write_csv(path, header, features, answers):
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for x, y in zip(features, answers):
            # repr keeps every digit, so both sides read the same numbers.
            writer.writerow([repr(float(v)) for v in x] + (list(y) if isinstance(y, (list, tuple)) else [y]))


def prepare(name, folder, batch_size):
    """The dataset's train and test parts as arrays, also written as CSV files; returns its description."""
    loader, task, label_column, epochs = DATASETS[name]
    data = loader()
    x = np.asarray(data.data, dtype=np.float64)
    feature_names = [str(n) for n in data.feature_names]
    if task == 'classification':
        y = np.asarray(data.target)
        class_names = [str(n) for n in data.target_names]
        answers = [class_names[i] for i in y]
        answer_columns = [label_column]
        stratify = y
    else:
        y = np.asarray(data.target, dtype=np.float64).reshape(len(x), -1)
        # load_diabetes names no target; load_linnerud names its three.
        target_names = getattr(data, 'target_names', None)
        answer_columns = [str(n) for n in target_names] if target_names is not None else ['progression']
        answers = [tuple(repr(float(v)) for v in row) for row in y]
        stratify = None
    rows = np.arange(len(x))
    train_rows, test_rows = train_test_split(rows, test_size=TEST_FRACTION, random_state=SPLIT_SEED, stratify=stratify)
    train_rows.sort()
    test_rows.sort()
    os.makedirs(folder, exist_ok=True)
    header = feature_names + answer_columns
    for part, part_rows in (('train', train_rows), ('test', test_rows)):
        write_csv(os.path.join(folder, part + '.csv'), header, x[part_rows], [answers[i] for i in part_rows])
    return {
        'name': name,
        'task': task,
        'rows': int(len(x)),
        'train_rows': int(len(train_rows)),
        'test_rows': int(len(test_rows)),
        'features': int(x.shape[1]),
        'epochs': epochs,
        # No larger than the training part (linnerud has 16 rows), so both sides take whole-set batches there.
        'batch_size': min(batch_size, int(len(train_rows))),
        'label_column': label_column,
        'target_columns': answer_columns if task == 'regression' else None,
        'classes': len(class_names) if task == 'classification' else None,
        'train_csv': os.path.abspath(os.path.join(folder, 'train.csv')),
        'test_csv': os.path.abspath(os.path.join(folder, 'test.csv')),
    }, x[train_rows], x[test_rows], y[train_rows], y[test_rows]


def model_for(info, args, seed):
    # The same recipe as MlpTools': Adam with its default betas and epsilon, no L2 (alpha=0 as -WeightDecay 0), every
    # epoch run (no early stopping, no tolerance-based stop), a fresh shuffle each epoch.
    recipe = dict(hidden_layer_sizes=tuple(args.hidden), activation='relu', solver='adam', alpha=0.0,
                  batch_size=info['batch_size'], learning_rate_init=args.learning_rate, max_iter=info['epochs'],
                  shuffle=True, random_state=seed, early_stopping=False, tol=0.0, n_iter_no_change=info['epochs'] + 1)
    if info['task'] == 'classification':
        return make_pipeline(StandardScaler(), MLPClassifier(**recipe))
    return TransformedTargetRegressor(regressor=make_pipeline(StandardScaler(), MLPRegressor(**recipe)),
                                      transformer=StandardScaler())


def regression_metrics(y_true, y_pred):
    """Per target, then averaged over targets (as MlpTools' RegressionResult and sklearn's 'uniform_average')."""
    y_pred = y_pred.reshape(y_true.shape)
    error = y_pred - y_true
    rmse = np.sqrt((error ** 2).mean(axis=0))
    mae = np.abs(error).mean(axis=0)
    r2 = 1 - (error ** 2).sum(axis=0) / ((y_true - y_true.mean(axis=0)) ** 2).sum(axis=0)
    return {'rmse': float(rmse.mean()), 'mae': float(mae.mean()), 'r2': float(r2.mean())}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--output', required=True, help='folder for the CSV files and sklearn.json')
    parser.add_argument('--datasets', nargs='+', default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument('--seeds', nargs='+', type=int, default=[1, 2, 3])
    parser.add_argument('--hidden', nargs='+', type=int, default=[100])
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--learning-rate', type=float, default=1e-3)
    args = parser.parse_args()

    # tol=0 and a patience longer than the run make every run end at max_iter, which sklearn reports as not converged.
    warnings.filterwarnings('ignore', category=ConvergenceWarning)
    results = []
    for name in args.datasets:
        info, x_train, x_test, y_train, y_test = prepare(name, os.path.join(args.output, name), args.batch_size)
        runs = []
        for seed in args.seeds:
            model = model_for(info, args, seed)
            fit_y = y_train if info['task'] == 'classification' or y_train.shape[1] > 1 else y_train.ravel()
            clock = time.perf_counter()
            model.fit(x_train, fit_y)
            seconds = time.perf_counter() - clock
            predicted = model.predict(x_test)
            run = {'seed': seed, 'fit_seconds': seconds}
            if info['task'] == 'classification':
                run['accuracy'] = float(accuracy_score(y_test, predicted))
            else:
                run.update(regression_metrics(y_test, np.asarray(predicted)))
            runs.append(run)
            print(f"sklearn {name} seed {seed}: " + ', '.join(f"{k} {v:.4f}" for k, v in run.items() if k != 'seed'), file=sys.stderr)
        info['sklearn'] = runs
        results.append(info)
    import sklearn
    summary = {
        'sklearn_version': sklearn.__version__,
        'numpy_version': np.__version__,
        'recipe': {'hidden': args.hidden, 'batch_size': args.batch_size,
                   'learning_rate': args.learning_rate, 'seeds': args.seeds, 'split_seed': SPLIT_SEED,
                   'test_fraction': TEST_FRACTION},
        'datasets': results,
    }
    with open(os.path.join(args.output, 'sklearn.json'), 'w', encoding='utf-8') as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary))


if __name__ == '__main__':
    main()
