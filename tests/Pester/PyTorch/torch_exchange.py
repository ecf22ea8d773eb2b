"""The PyTorch side of MlpTools' exchange tests (tests/Pester/PyTorch.Tests.ps1), run with Debian's python3-torch.

    predict STATE FORMAT IMAGES OUT      load STATE (pytorch|safetensors) into the notebook's class with strict=True,
                                         classify the IDX images and write {"predicted": [...], "confidence": [...]}
    perturb STATE FORMAT OUT SEED        load STATE, add seeded noise to every weight, save it to OUT in FORMAT
    unsafe OUT MARKER                    torch.save a state_dict whose pickle calls os.system (creating MARKER if run)
    unusual STATE SHARED TRANSPOSED      load STATE (pytorch) and torch.save it twice, valid but unusual: every tensor a
                                         view of one storage (after vector_to_parameters), and each weight a transposed
                                         view (.t() of its transpose: strides [1, rows])

Several commands can be given at once, separated by '+'.

Nothing here imports torchvision or safetensors (neither is in every Debian): IDX and SafeTensors are read and
written directly, both being simple, documented layouts.
"""
import gzip
import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class MultiLayerPerceptronClass(nn.Module):
    """The lecture notebook's class, generalised from one hidden layer (lin_1, lin_2) to any number (lin_3, ...)."""

    def __init__(self, name='mlp', xdim=784, hdims=(256,), ydim=10):
        super(MultiLayerPerceptronClass, self).__init__()
        self.name = name
        dims = [xdim, *hdims, ydim]
        self.layer_count = len(dims) - 1
        for i in range(self.layer_count):
            setattr(self, f'lin_{i + 1}', nn.Linear(dims[i], dims[i + 1]))

    def forward(self, x):
        net = x
        for i in range(1, self.layer_count + 1):
            net = getattr(self, f'lin_{i}')(net)
            if i < self.layer_count:
                net = F.relu(net)
        return net


SAFETENSORS_DTYPES = {'F32': torch.float32, 'F64': torch.float64}


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (length,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    tensors = {}
    for key, entry in header.items():
        if key == '__metadata__':
            continue
        begin, end = entry['data_offsets']
        flat = torch.frombuffer(bytearray(body[begin:end]), dtype=SAFETENSORS_DTYPES[entry['dtype']])
        tensors[key] = flat.reshape(entry['shape']).clone()
    return tensors


def write_safetensors(tensors, path):
    header, chunks, offset = {}, [], 0
    for key, tensor in tensors.items():
        raw = tensor.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[key] = {'dtype': 'F32', 'shape': list(tensor.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    encoded = json.dumps(header, separators=(',', ':')).encode('utf-8')
    encoded += b' ' * (-len(encoded) % 8)  # the spec pads the header to a multiple of 8 bytes
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(encoded)) + encoded + b''.join(chunks))


def load_state(path, fmt):
    # weights_only=True: PyTorch's own safe loader accepts only tensors and containers, as MlpTools' files must be.
    return torch.load(path, weights_only=True) if fmt == 'pytorch' else read_safetensors(path)


def model_for(state):
    count = len(state) // 2
    dims = [state['lin_1.weight'].shape[1]] + [state[f'lin_{i}.weight'].shape[0] for i in range(1, count + 1)]
    model = MultiLayerPerceptronClass(xdim=dims[0], hdims=tuple(dims[1:-1]), ydim=dims[-1])
    model.load_state_dict(state, strict=True)
    return model.eval()


def read_idx_images(path):
    if os.path.isdir(path):  # a data folder: MNIST's test images, raw or gzipped
        raw = os.path.join(path, 't10k-images-idx3-ubyte')
        path = raw if os.path.exists(raw) else raw + '.gz'
    with (gzip.open if path.endswith('.gz') else open)(path, 'rb') as f:
        data = f.read()
    magic, count, rows, cols = struct.unpack('>IIII', data[:16])
    assert magic == 0x00000803, hex(magic)
    pixels = torch.frombuffer(bytearray(data[16:16 + count * rows * cols]), dtype=torch.uint8)
    return pixels.reshape(count, rows * cols).to(torch.float32) / 255.0


def main(argv):
    # Several commands in one run, separated by '+': importing torch takes seconds, so the tests start Python once.
    if '+' in argv:
        at = argv.index('+')
        main(argv[:at])
        main(argv[at + 1:])
        return
    command = argv[0]
    if command == 'predict':
        state_path, fmt, images_path, out_path = argv[1:5]
        model = model_for(load_state(state_path, fmt))
        with torch.no_grad():
            confidence, predicted = F.softmax(model(read_idx_images(images_path)), dim=1).max(dim=1)
        with open(out_path, 'w') as f:
            json.dump({'torch': torch.__version__, 'predicted': predicted.tolist(), 'confidence': confidence.tolist()}, f)
    elif command == 'perturb':
        state_path, fmt, out_path, seed = argv[1], argv[2], argv[3], int(argv[4])
        state = load_state(state_path, 'pytorch' if state_path.endswith('.pt') else 'safetensors')
        generator = torch.Generator().manual_seed(seed)
        state = {k: v + 0.01 * torch.randn(v.shape, generator=generator) for k, v in state.items()}
        if fmt == 'pytorch':
            model = model_for(state)
            torch.save(model.state_dict(), out_path)
        else:
            write_safetensors(state, out_path)
    elif command == 'unsafe':
        out_path, marker = argv[1], argv[2]

        class RunsCode:
            def __reduce__(self):
                return (os.system, (f'touch {marker}',))

        torch.save({'lin_1.weight': torch.zeros(2, 2), 'lin_1.bias': RunsCode()}, out_path)
    elif command == 'unusual':
        state_path, shared_path, transposed_path = argv[1:4]
        model = model_for(load_state(state_path, 'pytorch'))
        vector = torch.nn.utils.parameters_to_vector(model.parameters()).detach().clone()
        torch.nn.utils.vector_to_parameters(vector, model.parameters())
        shared = model.state_dict()
        assert len({t.untyped_storage().data_ptr() if hasattr(t, 'untyped_storage') else t.storage().data_ptr() for t in shared.values()}) == 1
        torch.save(shared, shared_path)
        transposed = {k: (v.t().contiguous().t() if v.dim() == 2 else v.clone()) for k, v in shared.items()}
        assert not transposed['lin_1.weight'].is_contiguous()
        torch.save(transposed, transposed_path)
    else:
        raise SystemExit(f'unknown command {command}')


if __name__ == '__main__':
    main(sys.argv[1:])
