"""Exports PyTorch models to ONNX with reference outputs, for test/models/onnx_torch.test.ts.

Run from the repository root with Debian's python3-torch, python3-torchvision and python3-onnx
(torch 1.13, torchvision 0.14, onnx 1.12; nothing is downloaded, weights are seeded random):

    /usr/bin/python3 scripts/onnx/export_torch.py              # the committed fixtures
    /usr/bin/python3 scripts/onnx/export_torch.py --full DIR   # full-size torchvision models at 224x224 (not committed)

For each model it writes test/fixtures/onnx/<name>.onnx and <name>.json:
    {name, opset, dynamicBatch, inputShape (the file's layout: NCHW / NCL), input (flat, row-major),
     outputShape, output, float32Error, batch3? {inputShape, input, outputShape, output},
     ops (op types in the file), notes}
output is PyTorch's, eval mode, evaluated in float64 from the float32 weights and inputs that the file
holds (the exact answer to compare a float32 importer with); float32Error is how far PyTorch's own
float32 run is from it, relative to max |output| (the script requires < 3e-5, a third of the test's bar).
Weights are seeded random, rescaled layer by layer (LSUV) so that outputs move with the input (checked:
a second input must change the output by > 5% of max |output|; default initialisations at reduced width
give outputs that hardly depend on the input, which a wrong import could match).
Inputs are multiples of 1/64 (exact in float32, short in JSON); outputs are printed to 8 significant
digits (relative error < 1e-7, far below the test's bar of 1e-4 of the largest |output|).
BatchNorm running statistics and affine parameters are randomised (seeded) so that folding them is
checked. Every file passes onnx.checker.check_model (full_check, i.e. with shape inference), and
every model is run twice to check that PyTorch's outputs are deterministic.

See scripts/onnx/README.md for what each fixture exercises.
"""
import argparse, json, os, sys
from collections import Counter

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.resnet import ResNet, BasicBlock
from torchvision.models.squeezenet import SqueezeNet, Fire
from torchvision.models.googlenet import GoogLeNet, Inception, InceptionAux, BasicConv2d
from torchvision.models.mobilenetv3 import MobileNetV3, _mobilenet_v3_conf
from torchvision.ops.misc import Conv2dNormActivation

OUT = 'test/fixtures/onnx'


# ---------------------------------------------------------------- torchvision architectures, reduced

def randomise_norms(model, seed):
    """Seeded random BatchNorm statistics and affine parameters (defaults would make BN an identity)."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=g) * 0.2)
            m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=g) * 0.2)
    return model


def resnet18_small():
    """ResNet-18's architecture (BasicBlock, [2, 2, 2, 2]) at widths 8-16-32-64 instead of 64-128-256-512."""
    m = ResNet(BasicBlock, [2, 2, 2, 2], num_classes=10)
    m.inplanes = 8
    m.conv1 = nn.Conv2d(3, 8, kernel_size=7, stride=2, padding=3, bias=False)
    m.bn1 = nn.BatchNorm2d(8)
    m.layer1 = m._make_layer(BasicBlock, 8, 2)
    m.layer2 = m._make_layer(BasicBlock, 16, 2, stride=2)
    m.layer3 = m._make_layer(BasicBlock, 32, 2, stride=2)
    m.layer4 = m._make_layer(BasicBlock, 64, 2, stride=2)
    m.fc = nn.Linear(64, 10)
    return m


def mobilenet_v2_small():
    """mobilenet_v2(width_mult=0.25); torchvision keeps the last 1x1 conv at 1280 channels for width_mult < 1,
    which would be 80% of the file: it is cut to 320 here (the same Conv2dNormActivation, ReLU6)."""
    m = torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10)
    m.features[-1] = Conv2dNormActivation(80, 320, kernel_size=1, norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU6)
    m.classifier[1] = nn.Linear(320, 10)
    return m


def mobilenet_v3_small_small():
    setting, last_channel = _mobilenet_v3_conf('mobilenet_v3_small', width_mult=0.25)
    m = MobileNetV3(setting, last_channel, num_classes=10)
    nn.init.normal_(m.classifier[3].weight, 0, 0.5)   # torchvision's std 0.01 gives logits ~1e-2: too small a scale for the bar
    return m


def squeezenet1_1_small():
    """SqueezeNet 1.1's layer sequence with every Fire module at a quarter of its channels."""
    m = SqueezeNet('1_1', num_classes=10)
    m.features = nn.Sequential(
        nn.Conv2d(3, 16, kernel_size=3, stride=2), nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        Fire(16, 4, 16, 16), Fire(32, 4, 16, 16),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        Fire(32, 8, 32, 32), Fire(64, 8, 32, 32),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        Fire(64, 12, 48, 48), Fire(96, 12, 48, 48), Fire(96, 16, 64, 64), Fire(128, 16, 64, 64),
    )
    final = nn.Conv2d(128, 10, kernel_size=1)
    nn.init.normal_(final.weight, mean=0.0, std=0.01 * 8)
    nn.init.zeros_(final.bias)
    m.classifier[1] = final
    return m


def googlenet_small():
    """GoogLeNet (aux_logits off, transform_input off) with every channel count divided by 8."""
    sc = lambda c: c if c == 3 else c // 8
    conv = lambda cin, cout, **kw: BasicConv2d(sc(cin), sc(cout), **kw)
    incep = lambda cin, *chs, conv_block=None: Inception(sc(cin), *[sc(c) for c in chs], conv_block=BasicConv2d)
    m = GoogLeNet(num_classes=10, aux_logits=False, transform_input=False, init_weights=True,
                  blocks=[conv, incep, InceptionAux])
    m.fc = nn.Linear(128, 10)
    return m


# ---------------------------------------------------------------- small networks for the rest of the op list

class UNetSmall(nn.Module):
    """Conv, ConvTranspose (stride 2; and padding 1 + output_padding 1), Upsample nearest and bilinear
    (align_corners False and True; by scale and by size), Concat, Relu."""
    def __init__(self):
        super().__init__()
        self.e1 = nn.Conv2d(3, 8, 3, padding=1)
        self.e2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.e3 = nn.Conv2d(16, 16, 3, stride=2, padding=1)
        self.up1 = nn.ConvTranspose2d(16, 16, 2, stride=2)
        self.up1b = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)
        self.d1 = nn.Conv2d(16 + 16 + 8, 16, 3, padding=1)
        self.nearest = nn.Upsample(scale_factor=2, mode='nearest')
        self.bilinear = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False)
        self.bilinear_ac = nn.Upsample(size=(16, 16), mode='bilinear', align_corners=True)
        self.d2 = nn.Conv2d(16 + 8 + 16 + 16, 8, 3, padding=1)
        self.head = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        e1 = F.relu(self.e1(x))                       # 16x16
        e2 = F.relu(self.e2(e1))                      # 8x8
        e3 = F.relu(self.e3(e2))                      # 4x4
        u = torch.cat([self.up1(e3), e2, self.up1b(e3)], 1)   # 8x8
        u = F.relu(self.d1(u))
        u = torch.cat([self.nearest(u), e1, self.bilinear(e2), self.bilinear_ac(e3)], 1)  # 16x16
        return self.head(F.relu(self.d2(u)))


class Signal1d(nn.Module):
    """BatchNorm1d on the input (a BatchNormalization node: PyTorch folds BN into a preceding conv),
    Conv1d (padding, stride, dilation) + BatchNorm1d (folded), MaxPool1d, AdaptiveAvgPool1d(1), Flatten, Linear."""
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm1d(2), nn.Conv1d(2, 8, 5, padding=2), nn.BatchNorm1d(8), nn.ReLU(),
            nn.MaxPool1d(2),
            nn.Conv1d(8, 16, 3, stride=2, padding=1), nn.BatchNorm1d(16), nn.ReLU(),
            nn.Conv1d(16, 16, 3, padding=2, dilation=2), nn.BatchNorm1d(16), nn.ReLU(),
            nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(16, 5))

    def forward(self, x):
        return self.body(x)


class OpsShape(nn.Module):
    """Pad (constant, reflect, replicate), Slice (negative ends, steps), Split (torch.split, torch.chunk),
    Transpose (permute / transpose and back), channel-last broadcasting, Expand (expand_as), Flatten + Linear and
    x.reshape(x.size(0), -1) + Linear after a conv (the row permutation case), Add/Sub/Mul."""
    def __init__(self):
        super().__init__()
        self.ca = nn.Conv2d(4, 8, 3)
        self.cb = nn.Conv2d(4, 8, 3)
        self.cc = nn.Conv2d(4, 8, 3)
        self.scale = nn.Parameter(torch.randn(8))
        self.shift = nn.Parameter(torch.randn(8) * 0.1)
        self.c1 = nn.Conv2d(8, 6, 1)
        self.fc1 = nn.Linear(6 * 5 * 10, 10)
        self.fc2 = nn.Linear(6 * 5 * 10, 10)
        self.flat = nn.Flatten()

    def forward(self, x):                                               # [N, 4, 12, 12]
        a = self.ca(F.pad(x, (1, 1, 1, 1), mode='constant', value=0.5))  # 12x12
        b = self.cb(F.pad(x, (2, 0, 1, 1), mode='reflect'))
        c = self.cc(F.pad(x, (0, 2, 2, 0), mode='replicate'))
        s = a + b - c                                                  # [N, 8, 12, 12]
        s1, s2 = torch.split(s, [3, 5], dim=1)
        p, q = torch.chunk(s2, 2, dim=1)                               # 3 and 2 channels
        t = torch.cat([s1 * 2, q, p], dim=1)
        u = t[:, :, 1:-1, 1:-1]                                        # 10x10
        v = u[:, :, ::2, :]                                            # 5x10
        w = (v.permute(0, 2, 3, 1) * self.scale).permute(0, 3, 1, 2)
        w = w + self.shift.view(1, 8, 1, 1).expand_as(w)                # Expand to a shape read from the input
        z = self.c1(F.relu(w))                                         # [N, 6, 5, 10]
        y1 = self.fc1(self.flat(z))
        y2 = self.fc2(z.transpose(2, 3).reshape(z.size(0), -1))
        return y1 + y2


class OpsAct(nn.Module):
    """Activations: LeakyRelu, PRelu, Elu, Selu, HardSigmoid, HardSwish, GELU (Erf), Sigmoid, Tanh,
    ReLU6 and clamp (Clip), Softplus; Softmax over the channels of a 4-D tensor; mean over (2, 3); AdaptiveMaxPool2d(1) (a MaxPool with the whole map as kernel) + squeeze (Squeeze);
    LogSoftmax of the logits."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(6, 8, 3, padding=1)
        self.prelu = nn.PReLU(8)
        with torch.no_grad():
            self.prelu.weight.copy_(torch.rand(8) * 0.5)
        self.mix = nn.Conv2d(8 * 12, 8, 1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):                                              # [N, 6, 8, 8]
        h = self.conv(x)
        branches = [
            F.leaky_relu(h, 0.1), self.prelu(h), F.elu(h), F.selu(h), F.hardsigmoid(h), F.hardswish(h),
            F.gelu(h), torch.sigmoid(h), torch.tanh(h), F.relu6(h * 3), torch.clamp(h, -0.5, 0.7), F.softplus(h),
        ]
        m = self.mix(torch.cat(branches, 1))
        m = torch.softmax(m, dim=1)
        g = F.adaptive_max_pool2d(m, 1).squeeze(-1).squeeze(-1)      # MaxPool over the whole map, Squeeze
        return F.log_softmax(self.fc(m.mean((2, 3)) + g), dim=1)


class CrnnSmall(nn.Module):
    """A CRNN text-recogniser shape: Conv2d + ReLU + MaxPool2d((2, 1)), the columns as a sequence
    (permute + flatten), a bidirectional LSTM, a GRU and a Linear per step: ONNX LSTM and GRU nodes
    (with biases, both directions), run by the graph interpreter."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d((2, 1)))
        self.lstm = nn.LSTM(8 * 4, 16, bidirectional=True)
        self.gru = nn.GRU(32, 12)
        self.fc = nn.Linear(12, 5)

    def forward(self, x):
        y = self.conv(x).permute(3, 0, 1, 2).flatten(2)  # [W, N, C * H]
        y, _ = self.lstm(y)
        y, _ = self.gru(y)
        return self.fc(y)


class OpsNorm(nn.Module):
    """InstanceNorm2d (affine), BatchNorm2d after a ReLU (a BatchNormalization node), LayerNorm over the channels of a [N, L, C] tensor (flatten(2) + transpose,
    and a dynamic-batch reshape back), Dropout (eval), AvgPool2d (ceil_mode, count_include_pad False),
    MaxPool2d (dilation 2), Linear on a 3-D tensor (MatMul + Add), ReduceMean / ReduceSum / ReduceMax, Sub/Div/Pow/Sqrt/Abs/Neg, Where."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3, padding=1)
        self.inorm = nn.InstanceNorm2d(8, affine=True)
        self.lnorm = nn.LayerNorm(8)
        self.tok = nn.Linear(8, 8)
        self.drop = nn.Dropout(0.3)
        self.bn = nn.BatchNorm2d(8)
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        self.maxd = nn.MaxPool2d(3, stride=2, padding=1, dilation=2)
        self.fc = nn.Linear(8, 6)
        with torch.no_grad():
            self.inorm.weight.copy_(torch.rand(8) + 0.5)
            self.inorm.bias.copy_(torch.randn(8) * 0.2)
            self.lnorm.weight.copy_(torch.rand(8) + 0.5)
            self.lnorm.bias.copy_(torch.randn(8) * 0.2)

    def forward(self, x):                                              # [N, 4, 10, 10]
        h = self.inorm(self.conv(x))
        n, c, hh, ww = h.shape
        t = self.tok(self.lnorm(h.flatten(2).transpose(1, 2)))         # [N, 100, 8]; Linear on 3-D: MatMul + Add
        t = self.drop(t.transpose(1, 2).reshape(n, c, hh, ww))
        t = self.bn(F.relu(t))
        ra = self.avg(t).mean((2, 3))                                  # 6x6 -> [N, 8]
        rb = self.maxd(t).sum(dim=(2, 3))                              # 4x4 -> [N, 8]
        rc = t.amax(dim=3).amax(dim=2)                                 # [N, 8]
        e = (ra - rb / 10) / (rc.abs() + 1)
        e = e.pow(2) + torch.sqrt(rc.abs() + 0.5) - torch.neg(e)
        e = torch.where(e > 0.5, e, 0.2 * e)
        return self.fc(e)


class Opset9(nn.Module):
    """Opset 9 forms: Upsample (nearest; PyTorch's bilinear does not match ONNX 9's Upsample and
    is not exported here), Pad with pads as an attribute (reflect), Conv, Relu, Flatten, Gemm."""
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 6, 3)
        self.up = nn.Upsample(scale_factor=2, mode='nearest')
        self.c2 = nn.Conv2d(6, 4, 3, stride=2)
        self.fc = nn.Linear(4 * 4 * 4, 5)

    def forward(self, x):                                              # [N, 3, 6, 6]
        h = F.relu(self.c1(F.pad(x, (1, 1, 1, 1), mode='reflect')))    # 6x6
        h = F.relu(self.c2(self.up(h)))                                # 12x12 -> 5x5
        return self.fc(torch.flatten(h[:, :, :4, :4], 1))


class LrnTorch(nn.Module):
    """nn.LocalResponseNorm as PyTorch traces it (no LRN node: Mul, Unsqueeze, Pad, a 3-D AveragePool over
    a 5-D view, Squeeze, Pow, Div ...), between two convs."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.lrn = nn.LocalResponseNorm(5, alpha=0.05, beta=0.75, k=1.0)
        self.out = nn.Conv2d(6, 4, 1)

    def forward(self, x):
        return self.out(self.lrn(self.conv(x)))


# ---------------------------------------------------------------- signal-preserving weights

WEIGHTED = (nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


def calibrate_norms(model, x):
    """BatchNorm running statistics := the statistics of the calibration batch (Dropout stays off)."""
    for m in model.modules():
        if isinstance(m, NORMS):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
    with torch.no_grad():
        model(x)
    model.eval()
    for m in model.modules():
        if isinstance(m, NORMS):
            m.momentum = 0.1


def lsuv(model, x, g):
    """Rescale each conv / linear layer, in order, so that each of its output channels has unit variance
    and a small random mean over the calibration batch (LSUV-style). Default initialisations of deep
    networks at reduced width give outputs that hardly depend on the input (a wrong import would then
    pass); after this every fixture's output moves with its input (the script checks it)."""
    model.train()   # BatchNorm normalises with the batch's statistics while the layers before it change
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
    for m in [m for m in model.modules() if isinstance(m, WEIGHTED)]:
        seen = {}
        h = m.register_forward_hook(lambda mod, i, o: seen.__setitem__('o', o))
        with torch.no_grad():
            model(x)
        h.remove()
        o = seen['o']
        if isinstance(m, nn.Linear):   # features last, also on [N, L, C]
            c = o.shape[-1]
            flat_o = o.reshape(-1, c).t()
        else:
            c = o.shape[1]
            flat_o = o.transpose(0, 1).reshape(c, -1)
        std, mean = flat_o.std(1), flat_o.mean(1)
        std = std.clamp_min(max(1e-3, 0.1 * std.median().item()))
        with torch.no_grad():
            if isinstance(m, nn.ConvTranspose2d):
                m.weight.div_(std.view(1, c, *([1] * (m.weight.dim() - 2))))
            else:
                m.weight.div_(std.view(c, *([1] * (m.weight.dim() - 1))))
            if m.bias is not None:
                m.bias.copy_((m.bias - mean) / std + torch.randn(c, generator=g) * 0.2)
    model.eval()


def init_weights(model, shape, seed, use_lsuv=True):
    """Seeded random BatchNorm affine parameters, LSUV-scaled convs and linears (unless use_lsuv is off:
    the initialisation the model was built with), and BatchNorm running statistics measured on a
    calibration batch of 8 (then perturbed so that they are not exact)."""
    g = torch.Generator().manual_seed(seed)
    randomise_norms(model, seed)
    x = seeded_input((8,) + tuple(shape[1:]), seed + 50)
    if use_lsuv:
        lsuv(model, x, g)
    calibrate_norms(model, x)
    for m in model.modules():
        if isinstance(m, NORMS):
            m.running_mean.add_(torch.randn(m.num_features, generator=g) * 0.05)
            m.running_var.mul_(torch.rand(m.num_features, generator=g) * 0.2 + 0.9)
    return model


# ---------------------------------------------------------------- export and check

def seeded_input(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.round(torch.randn(*shape, generator=g) * 64) / 64   # multiples of 1/64: exact in float32


def flat(t):
    return [float('%.8g' % v) for v in t.detach().numpy().astype(np.float64).ravel()]


def op_types(model):
    ops = Counter(n.op_type for n in model.graph.node)
    return dict(sorted(ops.items()))


def run_twice(model, x):
    with torch.no_grad():
        a = model(x)
        b = model(x)
    if not torch.equal(a, b):
        raise SystemExit(f'PyTorch outputs are not deterministic: max diff {(a - b).abs().max().item()}')
    if not torch.isfinite(a).all():
        raise SystemExit('PyTorch output has non-finite values')
    return a


def export(name, model, shape, opset, notes, out_dir=OUT, dynamic=True, batch3=False, seed=0, write_json=True, strict=True):
    model.eval()
    x = seeded_input(shape, seed + 1)
    y = run_twice(model, x)
    y_other = run_twice(model, seeded_input(shape, seed + 7))
    moved = (y - y_other).abs().max().item() / y.abs().max().item()
    if not moved > 0.05:
        msg = (f'{name}: the output hardly depends on the input (max |y(x) - y(x\')| = {moved:.3g} of max |y|): '
               'a wrong import could match it')
        if strict:
            raise SystemExit(msg)
        print('warning:', msg)
    with torch.no_grad():
        y64 = model.double()(x.double())
    model.float()
    cond = (y.double() - y64).abs().max().item() / y.abs().max().item()
    if not cond < 3e-5:
        msg = f'{name}: float32 and float64 PyTorch differ by {cond:.3g} of max |y|: too ill-conditioned for a 1e-4 bar'
        if strict:
            raise SystemExit(msg)
        print('warning:', msg)
    path = os.path.join(out_dir, name + '.onnx')
    kw = dict(input_names=['input'], output_names=['output'], opset_version=opset)
    if dynamic:
        kw['dynamic_axes'] = {'input': {0: 'batch'}, 'output': {0: 'batch'}}
    torch.onnx.export(model, x, path, **kw)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    ops = op_types(m)
    rec = {
        'name': name, 'opset': opset, 'dynamicBatch': dynamic,
        'inputShape': list(x.shape), 'input': flat(x),
        'outputShape': list(y.shape), 'output': flat(y64),
        'float32Error': float('%.3g' % cond),
        'ops': sorted(ops), 'notes': notes,
    }
    if batch3:
        x3 = torch.cat([x, seeded_input(shape, seed + 2), seeded_input(shape, seed + 3)], 0)
        run_twice(model, x3)
        with torch.no_grad():
            y3 = model.double()(x3.double())
        model.float()
        rec['batch3'] = {'inputShape': list(x3.shape), 'input': flat(x3), 'outputShape': list(y3.shape), 'output': flat(y3)}
    model.float()
    if write_json:
        with open(os.path.join(out_dir, name + '.json'), 'w') as f:
            json.dump(rec, f, separators=(',', ':'))
    size = os.path.getsize(path)
    print(f'{name:24s} opset {opset:2d} {"dynamic" if dynamic else "static "} {size:8d} B  '
          f'params {sum(p.numel() for p in model.parameters()):7d}  max|y| {y.abs().max().item():.4g} moved {moved:.2f} f32-f64 {cond:.1e}  '
          f'ops {" ".join(f"{k}x{v}" for k, v in ops.items())}')
    return ops


def handmade_lrn(out_dir):
    """A hand-built file (PyTorch emits neither LRN nor GlobalMaxPool): LRN -> GlobalMaxPool. Reference:
    torch F.local_response_norm (equal to ONNX LRN for an odd size), then amax over H and W."""
    from onnx import helper, TensorProto
    size, alpha, beta, bias = 5, 0.05, 0.75, 2.0
    nodes = [helper.make_node('LRN', ['input'], ['lrn'], name='lrn0', size=size, alpha=alpha, beta=beta, bias=bias),
             helper.make_node('GlobalMaxPool', ['lrn'], ['output'], name='gmp0')]
    graph = helper.make_graph(nodes, 'handmade_lrn',
        [helper.make_tensor_value_info('input', TensorProto.FLOAT, ['batch', 7, 3, 4])],
        [helper.make_tensor_value_info('output', TensorProto.FLOAT, ['batch', 7, 1, 1])])
    model = helper.make_model(graph, producer_name='convkit-fixture', opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 7
    onnx.checker.check_model(model, full_check=True)
    path = os.path.join(out_dir, 'handmade_lrn.onnx')
    onnx.save(model, path)
    x = seeded_input((1, 7, 3, 4), 40) * 2
    lrn = lambda t: F.local_response_norm(t, size, alpha=alpha, beta=beta, k=bias).amax(dim=(2, 3), keepdim=True)
    run_twice(lrn, x)
    y = lrn(x.double())
    rec = {'name': 'handmade_lrn', 'opset': 13, 'dynamicBatch': True, 'inputShape': list(x.shape), 'input': flat(x),
           'outputShape': list(y.shape), 'output': flat(y), 'ops': ['GlobalMaxPool', 'LRN'],
           'notes': 'hand-built (onnx.helper): LRN (size 5, alpha 0.05, beta 0.75, bias 2) -> GlobalMaxPool; '
                    'reference: torch F.local_response_norm then amax over (2, 3)'}
    with open(os.path.join(out_dir, 'handmade_lrn.json'), 'w') as f:
        json.dump(rec, f, separators=(',', ':'))
    print(f'{"handmade_lrn":24s} opset 13 dynamic {os.path.getsize(path):8d} B  ops GlobalMaxPoolx1 LRNx1')
    return {'LRN': 1, 'GlobalMaxPool': 1}


def fixtures(only=None):
    os.makedirs(OUT, exist_ok=True)
    allops = Counter()

    def ex(name, build, shape, opset=13, seed=0, **kw):
        if only and name not in only:
            return
        torch.manual_seed(seed)
        model = init_weights(build(), shape, seed + 100)
        allops.update(export(name, model, shape, opset, seed=seed, **kw))

    ex('resnet18_small', resnet18_small, (1, 3, 48, 48), seed=1,
       notes='torchvision ResNet(BasicBlock, [2,2,2,2]) at widths 8-16-32-64, 10 classes; 48x48')
    ex('mobilenet_v2_small', mobilenet_v2_small, (1, 3, 32, 32), seed=2,
       notes='torchvision mobilenet_v2(width_mult=0.25, num_classes=10), last conv 320 instead of 1280 channels; 32x32; depthwise conv, Clip (ReLU6)')
    ex('mobilenet_v3_small_small', mobilenet_v3_small_small, (1, 3, 32, 32), seed=3, batch3=True,
       notes='torchvision MobileNetV3 small config at width_mult=0.25, 10 classes; 32x32; HardSwish/HardSigmoid, squeeze-excitation')
    ex('squeezenet1_1_small', squeezenet1_1_small, (1, 3, 48, 48), seed=4,
       notes='torchvision SqueezeNet 1.1 layer sequence, Fire modules at 1/4 channels, 10 classes; 48x48; MaxPool ceil_mode')
    ex('googlenet_small', googlenet_small, (1, 3, 48, 48), seed=5,
       notes='torchvision GoogLeNet(aux_logits=False, transform_input=False, init_weights=True), channels / 8, 10 classes; 48x48')
    ex('unet_small', UNetSmall, (1, 3, 16, 16), seed=6, notes=UNetSmall.__doc__)
    ex('unet_small_op11', UNetSmall, (1, 3, 16, 16), opset=11, seed=6,
       notes='the same model and weights as unet_small at opset 11 (Resize with roi/scales inputs)')
    ex('signal1d', Signal1d, (1, 2, 64), seed=7, dynamic=False, notes=Signal1d.__doc__ + ' Static batch.')
    ex('ops_shape', OpsShape, (1, 4, 12, 12), seed=8, batch3=True, notes=OpsShape.__doc__)
    ex('ops_act', OpsAct, (1, 6, 8, 8), seed=9, notes=OpsAct.__doc__)
    ex('ops_act_op17', OpsAct, (1, 6, 8, 8), opset=17, seed=9,
       notes='the same model and weights as ops_act at opset 17 (HardSwish as one node since opset 14)')
    ex('ops_norm', OpsNorm, (1, 4, 10, 10), seed=10, batch3=True, notes=OpsNorm.__doc__)
    ex('ops_norm_op17', OpsNorm, (1, 4, 10, 10), opset=17, seed=10,
       notes='the same model and weights as ops_norm at opset 17 (LayerNormalization as one node)')
    ex('opset9', Opset9, (1, 3, 6, 6), opset=9, seed=12, dynamic=False, notes=Opset9.__doc__ + ' Static batch.')
    ex('lrn_torch', LrnTorch, (1, 3, 6, 6), seed=11, dynamic=False, notes=LrnTorch.__doc__ + ' Static batch (with a dynamic batch PyTorch emits an If node for the Squeeze).')
    ex('crnn_small', CrnnSmall, (1, 1, 8, 10), opset=17, seed=13, dynamic=False, notes=CrnnSmall.__doc__ + ' Static batch; output [W, N, 5].')
    if not only:
        allops.update(handmade_lrn(OUT))

    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT)
                if f.endswith(('.onnx', '.json')) and not f.startswith('proto_cases'))
    print(f'total size of the torch fixtures (.onnx + .json): {total} B ({total / 1e6:.2f} MB)')
    print('union of op types:', ' '.join(sorted(allops)))
    if total > 3_500_000:
        raise SystemExit('fixtures too large: keep them well under 5 MB')


def full(out_dir):
    """Full-size torchvision models at 224x224 with 1000 classes (seeded random weights), for the
    benchmark and a by-hand comparison; not committed (tens of MB)."""
    os.makedirs(out_dir, exist_ok=True)
    builders = {
        'resnet18': lambda: torchvision.models.resnet18(),
        'mobilenet_v2': lambda: torchvision.models.mobilenet_v2(),
        'mobilenet_v3_small': lambda: torchvision.models.mobilenet_v3_small(),
        'squeezenet1_1': lambda: torchvision.models.squeezenet1_1(),
        'googlenet': lambda: torchvision.models.googlenet(aux_logits=False, init_weights=True, transform_input=False),
    }
    for i, (name, build) in enumerate(builders.items()):
        torch.manual_seed(100 + i)
        # torchvision's own initialisation with calibrated BatchNorm statistics keeps the full-size models
        # input-sensitive and well conditioned (LSUV makes mobilenet_v3_small ill-conditioned at 224: PyTorch's
        # float32 4e-5 of max |logit| from float64); SqueezeNet has no BatchNorm and needs LSUV to move with its input
        model = init_weights(build(), (1, 3, 224, 224), 200 + i, use_lsuv=name == 'squeezenet1_1')
        export(name, model, (1, 3, 224, 224), 13, out_dir=out_dir, seed=100 + i, strict=False,
               notes=f'full-size torchvision {name}, seeded random weights ({"LSUV" if name == "squeezenet1_1" else "torchvision init"}, calibrated BatchNorm), 224x224')


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--full', metavar='DIR', help='export the full-size torchvision models to DIR instead')
    ap.add_argument('--only', metavar='NAME', nargs='+', help='export only these fixtures (the others stay as they are)')
    args = ap.parse_args()
    torch.set_num_threads(1)   # deterministic reductions
    if args.full:
        full(args.full)
    else:
        fixtures(args.only)
