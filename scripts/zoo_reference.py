#!/usr/bin/python3
"""Independent reference numbers for convkit's model zoo, from PyTorch.

Each model is built in PyTorch (torchvision's own definitions where they exist: VGG,
GoogLeNet, ResNet; hand-written nn.Sequential for the others, following the papers'
layer tables) and measured by PyTorch itself:

  trainableParams  sum(p.numel() for p in model.parameters())
  bnRunningStats   batch norm running_mean + running_var elements (convkit counts these
                   as non-trainable parameters, like Keras; PyTorch keeps them as buffers)
  output           output shape of one example after a forward pass at the standard size
  macs             multiply-accumulates per example, counted by forward hooks:
                   Conv2d out_h*out_w*out_c*(in_c/groups)*kh*kw, Linear in*out per row,
                   everything else 0 (bias not counted)
  blocks           parameters of named sub-modules (residual blocks, inception modules)

It also runs torchvision's MobileNetV2, MobileNetV3-Small and SqueezeNet 1.1 (section
`forward`) on small inputs with weights that both sides compute from a formula (below), so the
fixture holds only the logits and the list of state_dict tensors (no weights):

  value k of tensor NAME = u(fnv1a32(NAME) + (k + 1) * 0x6D2B79F5), u = mulberry32's output
  mix mapped to [-1, 1); conv/linear weights * sqrt(6 / fan_in), biases * 0.1, BN weight
  1 + 0.25 u, running_mean 0.1 u, running_var 1 + 0.5 u; the input is tensor 'input' (NCHW
  order, values u). test/models/zoo_torchvision.test.ts builds the same tensors in TypeScript,
  copies them into the zoo model (OIHW -> HWIO) and compares the logits.

Writes test/fixtures/zoo_reference.json (run from the repository root):

  /usr/bin/python3 scripts/zoo_reference.py
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision
from torchvision import models as tvm


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(),
        nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))


def alexnet(groups=1):
    lrn = lambda: nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=groups), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1, groups=groups), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1, groups=groups), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Linear(9216, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 1000))


def zfnet():
    lrn = lambda: nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)
    return nn.Sequential(
        nn.Conv2d(3, 96, 7, stride=2, padding=1), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2, padding=1),
        nn.Conv2d(96, 256, 5, stride=2), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2, padding=1),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Linear(9216, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 1000))


class PaperInception(nn.Module):
    """Inception module of the paper: convolutions with bias + ReLU, a true 5x5 branch."""

    def __init__(self, cin, f1, r3, f3, r5, f5, pp):
        super().__init__()
        cr = lambda i, o, k: nn.Sequential(nn.Conv2d(i, o, k, padding=k // 2), nn.ReLU())
        self.b1 = cr(cin, f1, 1)
        self.b2 = nn.Sequential(cr(cin, r3, 1), cr(r3, f3, 3))
        self.b3 = nn.Sequential(cr(cin, r5, 1), cr(r5, f5, 5))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, padding=1, ceil_mode=True), cr(cin, pp, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


def googlenet_paper():
    table = [(192, 64, 96, 128, 16, 32, 32), (256, 128, 128, 192, 32, 96, 64), 'M',
             (480, 192, 96, 208, 16, 48, 64), (512, 160, 112, 224, 24, 64, 64), (512, 128, 128, 256, 24, 64, 64),
             (512, 112, 144, 288, 32, 64, 64), (528, 256, 160, 320, 32, 128, 128), 'M2',
             (832, 256, 160, 320, 32, 128, 128), (832, 384, 192, 384, 48, 128, 128)]
    lrn = lambda: nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)
    layers = [nn.Conv2d(3, 64, 7, stride=2, padding=3), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True), lrn(),
              nn.Conv2d(64, 64, 1), nn.ReLU(), nn.Conv2d(64, 192, 3, padding=1), nn.ReLU(), lrn(),
              nn.MaxPool2d(3, 2, ceil_mode=True)]
    for t in table:
        if t == 'M':
            layers.append(nn.MaxPool2d(3, 2, ceil_mode=True))
        elif t == 'M2':
            layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
        else:
            layers.append(PaperInception(*t))
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.4), nn.Linear(1024, 1000)]
    return nn.Sequential(*layers)


def small_cnn28():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(7 * 7 * 64, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))


def small_cnn8():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * 2 * 32, 10))


# name -> (builder, input [H, W, C], {block name in convkit: module path in torch})
def resnet_blocks(cfg):
    return {f'layer{s + 1}.{b}': f'layer{s + 1}.{b}' for s, n in enumerate(cfg) for b in range(n)}


INCEPTIONS = ['inception3a', 'inception3b', 'inception4a', 'inception4b', 'inception4c',
              'inception4d', 'inception4e', 'inception5a', 'inception5b']

MODELS = {
    'lenet5': (lenet5, [32, 32, 1], {}),
    'alexnet': (lambda: alexnet(1), [227, 227, 3], {}),
    'alexnet_groups2': (lambda: alexnet(2), [227, 227, 3], {}),
    'zfnet': (zfnet, [224, 224, 3], {}),
    'vgg11': (lambda: tvm.vgg11(), [224, 224, 3], {}),
    'vgg13': (lambda: tvm.vgg13(), [224, 224, 3], {}),
    'vgg16': (lambda: tvm.vgg16(), [224, 224, 3], {}),
    'vgg19': (lambda: tvm.vgg19(), [224, 224, 3], {}),
    'vgg16_bn': (lambda: tvm.vgg16_bn(), [224, 224, 3], {}),
    'googlenet': (lambda: tvm.googlenet(aux_logits=False, init_weights=False), [224, 224, 3], {n: n for n in INCEPTIONS}),
    'googlenet_paper': (googlenet_paper, [224, 224, 3], {}),
    'resnet18': (lambda: tvm.resnet18(), [224, 224, 3], resnet_blocks([2, 2, 2, 2])),
    'resnet34': (lambda: tvm.resnet34(), [224, 224, 3], resnet_blocks([3, 4, 6, 3])),
    'resnet50': (lambda: tvm.resnet50(), [224, 224, 3], resnet_blocks([3, 4, 6, 3])),
    'resnet101': (lambda: tvm.resnet101(), [224, 224, 3], resnet_blocks([3, 4, 23, 3])),
    'resnet152': (lambda: tvm.resnet152(), [224, 224, 3], resnet_blocks([3, 8, 36, 3])),
    'mobilenetV2': (lambda: tvm.mobilenet_v2(), [224, 224, 3], {}),
    'mobilenetV2_w050': (lambda: tvm.mobilenet_v2(width_mult=0.5), [224, 224, 3], {}),
    'mobilenetV3Small': (lambda: tvm.mobilenet_v3_small(), [224, 224, 3], {}),
    'mobilenetV3Small_w075': (lambda: tvm.mobilenet_v3_small(width_mult=0.75), [224, 224, 3], {}),
    'squeezenet1_1': (lambda: tvm.squeezenet1_1(), [224, 224, 3], {}),
    'smallCnn28': (small_cnn28, [28, 28, 1], {}),
    'smallCnn8': (small_cnn8, [8, 8, 1], {}),
}


M32 = 0xFFFFFFFF


def fnv1a32(name):
    h = 0x811C9DC5
    for ch in name.encode('utf-8'):
        h = ((h ^ ch) * 16777619) & M32
    return h


def det_uniform(name, n):
    """n values in [-1, 1): mulberry32's mix of fnv1a32(name) + (k + 1) * 0x6D2B79F5, k = 0..n-1."""
    k = np.arange(1, n + 1, dtype=np.uint64)
    a = (np.uint64(fnv1a32(name)) + k * np.uint64(0x6D2B79F5)) & np.uint64(M32)
    t = ((a ^ (a >> np.uint64(15))) * (a | np.uint64(1))) & np.uint64(M32)
    t = (((t + (((t ^ (t >> np.uint64(7))) * (t | np.uint64(61))) & np.uint64(M32))) & np.uint64(M32)) ^ t)
    u = (t ^ (t >> np.uint64(14))) & np.uint64(M32)
    return u.astype(np.float64) / 4294967296.0 * 2.0 - 1.0


def det_value(key, shape, bn):
    n = int(np.prod(shape)) if len(shape) else 1
    u = det_uniform(key, n)
    suffix = key.rsplit('.', 1)[1]
    if suffix == 'weight' and key in bn:
        v = 1.0 + 0.25 * u
    elif suffix == 'weight':
        v = u * np.sqrt(6.0 / (n // shape[0]))
    elif suffix == 'bias':
        v = 0.1 * u
    elif suffix == 'running_mean':
        v = 0.1 * u
    elif suffix == 'running_var':
        v = 1.0 + 0.5 * u
    else:
        raise ValueError(key)
    return torch.tensor(v.astype(np.float32).reshape(shape))


# name -> (builder, input [H, W, C], batch); small inputs, 10 classes
FORWARD = {
    'mobilenetV2': (lambda: tvm.mobilenet_v2(num_classes=10), [64, 64, 3], 2),
    'mobilenetV2_w050': (lambda: tvm.mobilenet_v2(num_classes=10, width_mult=0.5), [40, 48, 3], 1),
    'mobilenetV3Small': (lambda: tvm.mobilenet_v3_small(num_classes=10), [64, 64, 3], 2),
    'mobilenetV3Small_w075': (lambda: tvm.mobilenet_v3_small(num_classes=10, width_mult=0.75), [48, 40, 3], 1),
    'squeezenet1_1': (lambda: tvm.squeezenet1_1(num_classes=10), [66, 66, 3], 2),
}


def forward(builder, hwc, batch):
    m = builder().eval()
    bn = {f'{n}.weight' for n, mod in m.named_modules() if isinstance(mod, nn.BatchNorm2d)}
    sd = {k: v for k, v in m.state_dict().items() if not k.endswith('num_batches_tracked')}
    m.load_state_dict({k: det_value(k, list(v.shape), bn) for k, v in sd.items()}, strict=False)
    h, w, c = hwc
    x = torch.tensor(det_uniform('input', batch * c * h * w).astype(np.float32).reshape(batch, c, h, w))
    with torch.no_grad():
        y = m(x)
    return {
        'input': hwc,
        'batch': batch,
        'tensors': [[k, list(v.shape)] for k, v in sd.items()],
        'logits': [[float(f'{v:.7g}') for v in row] for row in y.tolist()],
    }


def measure(builder, hwc, blocks):
    torch.manual_seed(0)
    m = builder().eval()
    macs = [0]

    def conv_hook(mod, inp, out):
        kh, kw = mod.kernel_size
        macs[0] += out[0].numel() * (mod.in_channels // mod.groups) * kh * kw

    def linear_hook(mod, inp, out):
        macs[0] += out[0].numel() * mod.in_features

    for mod in m.modules():
        if isinstance(mod, nn.Conv2d):
            mod.register_forward_hook(conv_hook)
        elif isinstance(mod, nn.Linear):
            mod.register_forward_hook(linear_hook)
    h, w, c = hwc
    with torch.no_grad():
        y = m(torch.zeros(1, c, h, w))
    named = dict(m.named_modules())
    out_shape = list(y.shape[1:])
    if len(out_shape) == 3:  # NCHW -> HWC
        out_shape = [out_shape[1], out_shape[2], out_shape[0]]
    return {
        'input': hwc,
        'output': out_shape,
        'trainableParams': sum(p.numel() for p in m.parameters()),
        'bnRunningStats': sum(b.numel() for n, b in m.named_buffers() if n.endswith('running_mean') or n.endswith('running_var')),
        'macs': macs[0],
        'blocks': {ours: sum(p.numel() for p in named[theirs].parameters()) for ours, theirs in blocks.items()},
    }


def main():
    out = {
        'generator': f'scripts/zoo_reference.py with torch {torch.__version__}, torchvision {torchvision.__version__}',
        'macs_convention': 'per example; Conv2d out_h*out_w*out_c*(in_c/groups)*kh*kw, Linear in*out, others 0',
        'models': {},
    }
    for name, (builder, hwc, blocks) in MODELS.items():
        out['models'][name] = measure(builder, hwc, blocks)
        r = out['models'][name]
        print(f"{name:16s} params {r['trainableParams']:>12,d}  bn stats {r['bnRunningStats']:>8,d}  MACs {r['macs']:>15,d}  out {r['output']}", file=sys.stderr)
    out['forward'] = {}
    for name, (builder, hwc, batch) in FORWARD.items():
        out['forward'][name] = r = forward(builder, hwc, batch)
        print(f"{name:16s} forward at {hwc} x{batch}: {len(r['tensors'])} tensors, max |logit| {max(abs(v) for row in r['logits'] for v in row):.4g}", file=sys.stderr)
    path = os.path.join('test', 'fixtures', 'zoo_reference.json')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(f'wrote {path}', file=sys.stderr)


if __name__ == '__main__':
    main()
