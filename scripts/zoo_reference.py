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

Writes test/fixtures/zoo_reference.json (run from the repository root):

  /usr/bin/python3 scripts/zoo_reference.py
"""
import json
import os
import sys

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
    path = os.path.join('test', 'fixtures', 'zoo_reference.json')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(f'wrote {path}', file=sys.stderr)


if __name__ == '__main__':
    main()
