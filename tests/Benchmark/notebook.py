"""The lecture notebook's recipe on PyTorch, for Bench.ps1: 784-(hidden x depth)-10 ReLU, Adam 1e-3, batch 256,
cross-entropy, a fresh shuffle every epoch; after each epoch the accuracy on the whole training set (as the notebook
prints it), at the end the test accuracy. Prints key=value lines.

--loader dataloader is the notebook as written: a Dataset that turns one image at a time into a float tensor (what
torchvision's MNIST with ToTensor does) behind a DataLoader. --loader preloaded holds every image as one float32
tensor and indexes batches out of it, as MlpTools and the plain TorchSharp program do.
"""
import resource
import sys
import time

started = time.time()
import torch  # noqa: E402
from torch import nn  # noqa: E402

import_seconds = time.time() - started
sys.path.insert(0, __file__.rsplit('/', 1)[0])
from notebook_data import read_mnist, recipe_arguments  # noqa: E402


class PerImage(torch.utils.data.Dataset):
    """One image at a time, converted as torchvision's ToTensor does (uint8 to float / 255)."""

    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.images[i].to(torch.float32).div(255).reshape(1, 28, 28), int(self.labels[i])


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
    parser.add_argument('--loader', choices=['dataloader', 'preloaded'], default='preloaded')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    (train_images, train_labels), (test_images, test_labels) = (
        (torch.from_numpy(images.copy()), torch.from_numpy(labels.copy())) for images, labels in read_mnist(args.data))
    train_float = train_images.reshape(len(train_labels), -1).float().div_(255)
    test_float = test_images.reshape(len(test_labels), -1).float().div_(255)
    model = Mlp(args.hidden, args.depth)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_function = nn.CrossEntropyLoss()
    loader = torch.utils.data.DataLoader(PerImage(train_images, train_labels), batch_size=256, shuffle=True)
    clock = time.time()
    epoch_seconds = []
    for epoch in range(1, args.epochs + 1):
        epoch_clock = time.time()
        if args.loader == 'dataloader':
            batches = loader
        else:
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


main()
