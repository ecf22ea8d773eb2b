"""The lecture notebook's recipe on PyTorch, for Bench.ps1: 784-(hidden x depth)-10 ReLU, Adam 1e-3, batch 256,
cross-entropy, a fresh shuffle every epoch; after each epoch the accuracy on the whole training set (as the notebook
prints it), at the end the test accuracy. Prints key=value lines.

--loader preloaded (the default) holds every image as one float32 tensor and indexes batches out of it, as MlpTools
and the plain TorchSharp program do. --loader notebook is the lecture's notebook as written, cell for cell:
torchvision's MNIST with transforms.ToTensor() (one PIL image at a time) behind DataLoaders with num_workers=1, and
after every epoch func_eval over the training and the test loaders; it needs torchvision (Debian's
python3-torchvision), which reads the IDX files from a folder of links it is given.
"""
import gzip
import os
import resource
import shutil
import sys
import tempfile
import time

started = time.time()
import torch  # noqa: E402
from torch import nn  # noqa: E402

import_seconds = time.time() - started
sys.path.insert(0, __file__.rsplit('/', 1)[0])
from notebook_data import find, read_mnist, recipe_arguments  # noqa: E402


class Mlp(nn.Module):
    def __init__(self, hidden, depth):
        super().__init__()
        sizes = [784] + [hidden] * depth
        layers = []
        for a, b in zip(sizes, sizes[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        layers.append(nn.Linear(sizes[-1], 10))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x.reshape(x.shape[0], -1))


def accuracy(model, images, labels):
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(labels), 1000):
            correct += (model(images[start:start + 1000]).argmax(1) == labels[start:start + 1000]).sum().item()
    model.train()
    return correct / len(labels)


def main():
    parser = recipe_arguments()
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--loader', choices=['notebook', 'preloaded'], default='preloaded')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    if args.loader == 'notebook':
        as_written(args)
        return
    (train_images, train_labels), (test_images, test_labels) = (
        (torch.from_numpy(images.copy()), torch.from_numpy(labels.copy())) for images, labels in read_mnist(args.data))
    train_float = train_images.reshape(len(train_labels), -1).float().div_(255)
    test_float = test_images.reshape(len(test_labels), -1).float().div_(255)
    model = Mlp(args.hidden, args.depth)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_function = nn.CrossEntropyLoss()
    clock = time.time()
    epoch_seconds = []
    for epoch in range(1, args.epochs + 1):
        epoch_clock = time.time()
        order = torch.randperm(len(train_labels))
        batches = ((train_float[rows], train_labels[rows]) for rows in order.split(256))
        loss_sum, count = 0.0, 0
        for inputs, labels in batches:
            loss = loss_function(model(inputs), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item()
            count += 1
        train_accuracy = accuracy(model, train_float, train_labels)
        epoch_seconds.append(time.time() - epoch_clock)
        print(f'epoch={epoch} loss={loss_sum / count:.4f} train_accuracy={train_accuracy:.4f}', flush=True)
    print(f'train_seconds={time.time() - clock:.3f}')
    print(f'first_epoch_seconds={epoch_seconds[0]:.3f}')
    print(f'import_seconds={import_seconds:.3f}')
    print(f'test_accuracy={accuracy(model, test_float, test_labels):.4f}')
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f'cpu_seconds={usage.ru_utime + usage.ru_stime:.3f}')
    print(f'peak_memory_bytes={usage.ru_maxrss * 1024}')
    print(f'threads={torch.get_num_threads()}')


def as_written(args):
    """The lecture's notebook: its cells as they are, with the data from args.data and args.epochs epochs."""
    from torchvision import datasets, transforms
    import torch.nn.functional as F
    from torch import optim

    with tempfile.TemporaryDirectory() as root:
        # torchvision's MNIST reads MNIST/raw/<the four IDX files> under its root (download=True would fetch them):
        # links to raw files, unpacked copies of .gz ones.
        raw = os.path.join(root, 'MNIST', 'raw')
        os.makedirs(raw)
        for stem in ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'):
            source = find(args.data, stem)
            if source.endswith('.gz'):
                with gzip.open(source, 'rb') as packed, open(os.path.join(raw, stem), 'wb') as unpacked:
                    shutil.copyfileobj(packed, unpacked)
            else:
                os.symlink(os.path.abspath(source), os.path.join(raw, stem))
        device = torch.device('cpu')
        mnist_train = datasets.MNIST(root=root, train=True, transform=transforms.ToTensor(), download=False)
        mnist_test = datasets.MNIST(root=root, train=False, transform=transforms.ToTensor(), download=False)
        BATCH_SIZE = 256
        train_iter = torch.utils.data.DataLoader(mnist_train, batch_size=BATCH_SIZE, shuffle=True, num_workers=1)
        test_iter = torch.utils.data.DataLoader(mnist_test, batch_size=BATCH_SIZE, shuffle=True, num_workers=1)

        class MultiLayerPerceptronClass(nn.Module):
            def __init__(self, name='mlp', xdim=784, hdim=256, ydim=10):
                super(MultiLayerPerceptronClass, self).__init__()
                self.name = name
                self.xdim = xdim
                self.hdim = hdim
                self.ydim = ydim
                self.lin_1 = nn.Linear(self.xdim, self.hdim)
                self.lin_2 = nn.Linear(self.hdim, self.ydim)
                self.init_param()

            def init_param(self):
                nn.init.kaiming_normal_(self.lin_1.weight)
                nn.init.zeros_(self.lin_1.bias)
                nn.init.kaiming_normal_(self.lin_2.weight)
                nn.init.zeros_(self.lin_2.bias)

            def forward(self, x):
                net = x
                net = self.lin_1(net)
                net = F.relu(net)
                net = self.lin_2(net)
                return net

        M = MultiLayerPerceptronClass(name='mlp', xdim=784, hdim=args.hidden, ydim=10).to(device)
        loss = nn.CrossEntropyLoss()
        optm = optim.Adam(M.parameters(), lr=1e-3)

        def func_eval(model, data_iter, device):
            with torch.no_grad():
                model.eval()
                n_total, n_correct = 0, 0
                for batch_in, batch_out in data_iter:
                    y_trgt = batch_out.to(device)
                    model_pred = model(batch_in.view(-1, 28 * 28).to(device))
                    _, y_pred = torch.max(model_pred.data, 1)
                    n_correct += (y_pred == y_trgt).sum().item()
                    n_total += batch_in.size(0)
                val_accr = (n_correct / n_total)
                model.train()
            return val_accr

        clock = time.time()
        M.init_param()
        M.train()
        EPOCHS, print_every = args.epochs, 1
        for epoch in range(EPOCHS):
            loss_val_sum = 0
            for batch_in, batch_out in train_iter:
                y_pred = M.forward(batch_in.view(-1, 28 * 28).to(device))
                loss_out = loss(y_pred, batch_out.to(device))
                optm.zero_grad()
                loss_out.backward()
                optm.step()
                loss_val_sum += loss_out
            loss_val_avg = loss_val_sum / len(train_iter)
            if ((epoch % print_every) == 0) or (epoch == (EPOCHS - 1)):
                train_accr = func_eval(M, train_iter, device)
                test_accr = func_eval(M, test_iter, device)
                print("epoch:[%d] loss:[%.3f] train_accr:[%.3f] test_accr:[%.3f]." % (epoch, loss_val_avg, train_accr, test_accr), flush=True)
        print(f'train_seconds={time.time() - clock:.3f}')
        print(f'import_seconds={import_seconds:.3f}')
        print(f'test_accuracy={test_accr:.4f}')
        # The DataLoaders' worker processes included: they do the per-image conversion.
        usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
        print(f'cpu_seconds={sum(u.ru_utime + u.ru_stime for u in usage):.3f}')
        print(f'peak_memory_bytes={usage[0].ru_maxrss * 1024}')
        print(f'threads={torch.get_num_threads()}')


main()
