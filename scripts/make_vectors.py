#!/usr/bin/python3
"""Reference test vectors for `convkit verify`, computed by PyTorch (an independent framework).

Run with Debian's PyTorch (python3-torch 1.13, CPU; python3-torchvision for nms/box_iou):

    /usr/bin/python3 scripts/make_vectors.py [OUT.json]      # default test/vectors/torch.json

Writes a "convkit-vectors/1" file (see /work/shared/VECTORS.md, mirrored in the README's
`verify` section): every op of the table, several attribute combinations each, float64.
Inputs are written in convkit's layouts (NHWC activations, HWIO filters); each reference
function receives them in that layout and transposes to PyTorch's NCHW/OIHW inside, so
torch.autograd's gradients come back in convkit's layout directly. Every differentiable
case carries random cotangents and grads = VJP(cotangents). Optimiser trajectories come
from torch.optim itself. NaN and infinities are written as the strings "NaN",
"Infinity", "-Infinity" (strict JSON has no literals for them).

The test suite reads the committed JSON; it never needs PyTorch.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

try:
    import torchvision.ops as tvops
except ImportError:  # nms/iou are then computed by the plain reference below
    tvops = None

torch.manual_seed(20240611)
DT = torch.float64
CASES = []


def num(v):
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if v == int(v) and abs(v) < 2**53:
        return int(v) if v != 0 or math.copysign(1, v) > 0 else 0
    return v


def T(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": [num(v) for v in t.reshape(-1).tolist()]}


def rnd(*shape, lo=-1.0, hi=1.0):
    return torch.rand(*shape, dtype=DT) * (hi - lo) + lo


def away_from_zero(t, gap=0.05):
    """Move values out of (-gap, gap): relu/step/abs kinks make finite answers ambiguous."""
    return torch.where(t.abs() < gap, torch.sign(t + 1e-12) * gap + t, t)


def add(name, op, attrs, inputs, fn, grad_wrt=None, out_names=("y",), tol=None):
    """fn(**inputs) -> tensor or tuple of tensors (in convkit layout).

    grad_wrt: names of inputs to differentiate (None: every floating input);
    [] for no gradient.
    """
    leaves = {}
    if grad_wrt is None:
        grad_wrt = [k for k, v in inputs.items() if v.is_floating_point()]
    for k, v in inputs.items():
        v = v.detach().clone()
        if k in grad_wrt:
            v.requires_grad_(True)
        leaves[k] = v
    outs = fn(**leaves)
    if not isinstance(outs, tuple):
        outs = (outs,)
    case = {"name": name, "op": op, "attrs": attrs,
            "inputs": {k: T(v) for k, v in inputs.items()},
            "outputs": {n: T(o) for n, o in zip(out_names, outs)}}
    if grad_wrt:
        cots = [torch.randn(o.shape, dtype=DT) for o in outs]
        total = sum((o * c).sum() for o, c in zip(outs, cots))
        gs = torch.autograd.grad(total, [leaves[k] for k in grad_wrt], allow_unused=True)
        case["cotangents"] = {n: T(c) for n, c in zip(out_names, cots)}
        case["grads"] = {k: T(g if g is not None else torch.zeros_like(leaves[k])) for k, g in zip(grad_wrt, gs)}
    if tol:
        case["tol"] = tol
    CASES.append(case)


# ------------------------------------------------------------------ layout helpers

def nhwc_to_nchw(x):
    return x.permute(0, x.dim() - 1, *range(1, x.dim() - 1))


def nchw_to_nhwc(x):
    return x.permute(0, *range(2, x.dim()), 1)


def hwio_to_oihw(w):
    # [K..., C/g, F] -> [F, C/g, K...]
    nd = w.dim()
    return w.permute(nd - 1, nd - 2, *range(nd - 2))


def resolve_padding(padding, in_sizes, k_sizes, strides, dilations):
    """VECTORS padding -> [(before, after)] per spatial axis. 'same' is TensorFlow's:
    output ceil(n / s), the odd padding cell at the end."""
    if padding == "valid":
        return [(0, 0)] * len(in_sizes)
    if padding == "same":
        out = []
        for n, k, s, d in zip(in_sizes, k_sizes, strides, dilations):
            eff = d * (k - 1) + 1
            total = max((math.ceil(n / s) - 1) * s + eff - n, 0)
            out.append((total // 2, total - total // 2))
        return out
    return [tuple(p) for p in padding]


def torch_pad_arg(pads):
    """[(b,a) per spatial axis, outermost first] -> F.pad's (last axis first) list."""
    flat = []
    for b, a in reversed(pads):
        flat += [b, a]
    return flat


def conv_ref(x, w, b, strides, padding, dilations, groups):
    nd = x.dim() - 2
    xs = nhwc_to_nchw(x)
    pads = resolve_padding(padding, list(xs.shape[2:]), list(w.shape[:nd]), strides, dilations)
    xs = F.pad(xs, torch_pad_arg(pads))
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nd]
    y = conv(xs, hwio_to_oihw(w), b, stride=strides, dilation=dilations, groups=groups)
    return nchw_to_nhwc(y)


# ------------------------------------------------------------------ convolutions

def conv_case(name, op, x_shape, w_shape, strides, padding, dilations, groups=1, bias=True):
    nd = len(strides)
    inputs = {"x": rnd(*x_shape), "w": rnd(*w_shape)}
    if bias:
        inputs["b"] = rnd(w_shape[-1])
    attrs = {"strides": strides, "padding": padding, "dilations": dilations, "groups": groups}
    add(name, op, attrs, inputs,
        lambda x, w, b=None: conv_ref(x, w, b, strides, padding, dilations, groups))


conv_case("conv2d 3x3 stride 1 valid, bias", "conv2d", [2, 5, 5, 3], [3, 3, 3, 4], [1, 1], "valid", [1, 1])
conv_case("conv2d 3x3 stride 2 pad 1", "conv2d", [1, 6, 7, 2], [3, 3, 2, 3], [2, 2], [[1, 1], [1, 1]], [1, 1])
conv_case("conv2d asymmetric padding [[0,2],[1,0]] stride [1,2]", "conv2d", [2, 5, 6, 2], [2, 3, 2, 3], [1, 2], [[0, 2], [1, 0]], [1, 1])
conv_case("conv2d dilation 2, pad 2", "conv2d", [1, 7, 7, 2], [3, 3, 2, 2], [1, 1], [[2, 2], [2, 2]], [2, 2], bias=False)
conv_case("conv2d same padding stride 1, 4x4 kernel (odd cell at the end)", "conv2d", [1, 5, 6, 2], [4, 4, 2, 3], [1, 1], "same", [1, 1])
conv_case("conv2d same padding stride 2", "conv2d", [2, 7, 6, 3], [3, 3, 3, 2], [2, 2], "same", [1, 1])
conv_case("conv2d groups 2", "conv2d", [2, 5, 5, 4], [3, 3, 2, 6], [1, 1], [[1, 1], [1, 1]], [1, 1], groups=2)
conv_case("conv2d depthwise (groups = C = 3, multiplier 2)", "conv2d", [1, 6, 6, 3], [3, 3, 1, 6], [2, 1], [[1, 0], [1, 1]], [1, 1], groups=3)
conv_case("conv2d 1x1 (network in network)", "conv2d", [2, 4, 4, 5], [1, 1, 5, 3], [1, 1], "valid", [1, 1])
conv_case("conv2d non-square kernel 1x5 stride [2,1] dilation [1,2]", "conv2d", [1, 6, 11, 2], [1, 5, 2, 2], [2, 1], [[0, 0], [2, 2]], [1, 2])
conv_case("conv1d k3 stride 1 valid", "conv1d", [2, 9, 3], [3, 3, 4], [1], "valid", [1])
conv_case("conv1d k5 stride 2 pad [2,1] dilation 2", "conv1d", [2, 16, 2], [5, 2, 3], [2], [[2, 1]], [2], bias=False)
conv_case("conv1d same, groups 2", "conv1d", [1, 10, 4], [4, 2, 4], [1], "same", [1], groups=2)
conv_case("conv3d 2x2x2 valid", "conv3d", [1, 4, 4, 4, 2], [2, 2, 2, 2, 3], [1, 1, 1], "valid", [1, 1, 1])
conv_case("conv3d 3x3x3 stride 2 pad 1", "conv3d", [2, 5, 5, 4, 1], [3, 3, 3, 1, 2], [2, 2, 2], [[1, 1], [1, 1], [1, 1]], [1, 1, 1])
conv_case("conv3d asymmetric pad, stride [1,2,1]", "conv3d", [1, 3, 5, 4, 2], [2, 3, 2, 2, 2], [1, 2, 1], [[1, 0], [0, 1], [1, 1]], [1, 1, 1], bias=False)


def conv_transpose_ref(x, w, b, strides, padding, out_pad, dilations, groups):
    # Full transposed convolution, then extend by outputPadding at the end and crop `padding`.
    xs = nhwc_to_nchw(x)
    wt = w.permute(3, 2, 0, 1)  # [KH,KW,F/g,C] -> [C, F/g, KH, KW] (PyTorch's transposed layout)
    full = F.conv_transpose2d(xs, wt, None, stride=strides, dilation=dilations, groups=groups)
    full = F.pad(full, [0, out_pad[1], 0, out_pad[0]])
    (t, bt), (l, r) = padding
    H, W = full.shape[2], full.shape[3]
    y = full[:, :, t:H - bt, l:W - r]
    if b is not None:
        y = y + b.view(1, -1, 1, 1)
    return nchw_to_nhwc(y)


def conv_t_case(name, x_shape, w_shape, strides, padding, out_pad, dilations, groups=1, bias=True):
    inputs = {"x": rnd(*x_shape), "w": rnd(*w_shape)}
    if bias:
        inputs["b"] = rnd(w_shape[2] * groups)
    attrs = {"strides": strides, "padding": padding, "outputPadding": out_pad, "dilations": dilations, "groups": groups}
    add(name, "conv2dTranspose", attrs, inputs,
        lambda x, w, b=None: conv_transpose_ref(x, w, b, strides, padding, out_pad, dilations, groups))


conv_t_case("conv2dTranspose stride 2 valid", [1, 3, 3, 2], [3, 3, 3, 2], [2, 2], [[0, 0], [0, 0]], [0, 0], [1, 1])
conv_t_case("conv2dTranspose stride 2 pad 1 outputPadding 1", [2, 3, 4, 2], [3, 3, 2, 2], [2, 2], [[1, 1], [1, 1]], [1, 1], [1, 1])
conv_t_case("conv2dTranspose asymmetric pad, stride [3,2], outputPadding [2,0]", [1, 3, 3, 3], [4, 3, 2, 3], [3, 2], [[1, 2], [0, 1]], [2, 0], [1, 1], bias=False)
conv_t_case("conv2dTranspose dilation 2", [1, 4, 3, 2], [3, 2, 3, 2], [1, 1], [[1, 1], [0, 0]], [0, 0], [2, 2])
conv_t_case("conv2dTranspose groups 2", [1, 3, 3, 4], [2, 2, 3, 4], [2, 2], [[0, 0], [0, 0]], [1, 1], [1, 1], groups=2)


# ------------------------------------------------------------------ pooling

def pool_window_ref(x, size, strides, padding, reducer, pad_value):
    xs = nhwc_to_nchw(x)
    pads = resolve_padding(padding, list(xs.shape[2:]), size, strides, [1, 1])
    xs = F.pad(xs, torch_pad_arg(pads), value=pad_value)
    return reducer(xs)


def max_pool_ref(x, size, strides, padding):
    y = pool_window_ref(x, size, strides, padding, lambda z: F.max_pool2d(z, size, strides), -math.inf)
    return nchw_to_nhwc(y)


def avg_pool_ref(x, size, strides, padding, count_include_pad):
    s = pool_window_ref(x, size, strides, padding, lambda z: F.avg_pool2d(z, size, strides), 0.0)
    if count_include_pad:
        return nchw_to_nhwc(s)
    ones = torch.ones_like(x)
    cnt = pool_window_ref(ones, size, strides, padding, lambda z: F.avg_pool2d(z, size, strides), 0.0)
    return nchw_to_nhwc(s / cnt)


def pool_case(name, op, x_shape, size, strides, padding, cip=None):
    x = rnd(*x_shape)  # continuous random values: no ties inside a window
    attrs = {"size": size, "strides": strides, "padding": padding}
    if op == "avgPool2d":
        attrs["countIncludePad"] = cip
        fn = lambda x: avg_pool_ref(x, size, strides, padding, cip)
    elif op == "maxPool2d":
        fn = lambda x: max_pool_ref(x, size, strides, padding)
    else:
        fn = lambda x: -max_pool_ref(-x, size, strides, padding)
    add(name, op, attrs, {"x": x}, fn)


pool_case("maxPool2d 2x2 stride 2", "maxPool2d", [2, 4, 6, 3], [2, 2], [2, 2], "valid")
pool_case("maxPool2d 3x3 stride 2 pad 1 (overlapping, AlexNet-style)", "maxPool2d", [1, 7, 7, 2], [3, 3], [2, 2], [[1, 1], [1, 1]])
pool_case("maxPool2d 2x3 stride [1,2] asymmetric pad", "maxPool2d", [1, 5, 6, 2], [2, 3], [1, 2], [[0, 1], [1, 0]])
pool_case("maxPool2d same padding", "maxPool2d", [1, 5, 5, 2], [2, 2], [2, 2], "same")
pool_case("minPool2d 2x2 stride 2", "minPool2d", [2, 4, 4, 2], [2, 2], [2, 2], "valid")
pool_case("minPool2d 3x3 stride 1 pad 1", "minPool2d", [1, 5, 4, 2], [3, 3], [1, 1], [[1, 1], [1, 1]])
pool_case("avgPool2d 2x2 stride 2", "avgPool2d", [2, 4, 4, 3], [2, 2], [2, 2], "valid", False)
pool_case("avgPool2d 3x3 stride 2 pad 1 countIncludePad", "avgPool2d", [1, 7, 6, 2], [3, 3], [2, 2], [[1, 1], [1, 1]], True)
pool_case("avgPool2d 3x3 stride 2 pad 1 excluding pad", "avgPool2d", [1, 7, 6, 2], [3, 3], [2, 2], [[1, 1], [1, 1]], False)
pool_case("avgPool2d 2x3 asymmetric pad excluding pad", "avgPool2d", [1, 5, 5, 1], [2, 3], [1, 2], [[1, 0], [0, 2]], False)
pool_case("avgPool2d 2x3 asymmetric pad countIncludePad", "avgPool2d", [1, 5, 5, 1], [2, 3], [1, 2], [[1, 0], [0, 2]], True)
add("globalAvgPool2d", "globalAvgPool2d", {}, {"x": rnd(2, 3, 4, 5)}, lambda x: x.mean(dim=(1, 2)))
add("globalMaxPool2d", "globalMaxPool2d", {}, {"x": rnd(2, 3, 4, 5)}, lambda x: x.amax(dim=(1, 2)))

# ------------------------------------------------------------------ matmul

for ta, tb in [(False, False), (True, False), (False, True), (True, True)]:
    M, K, N = 3, 5, 4
    a = rnd(K, M) if ta else rnd(M, K)
    b = rnd(N, K) if tb else rnd(K, N)
    add(f"matmul transposeA={ta} transposeB={tb}", "matmul", {"transposeA": ta, "transposeB": tb}, {"a": a, "b": b},
        lambda a, b, ta=ta, tb=tb: (a.t() if ta else a) @ (b.t() if tb else b))

# ------------------------------------------------------------------ activations

X = away_from_zero(rnd(2, 3, 4, lo=-3, hi=3))
add("relu", "relu", {}, {"x": X}, lambda x: F.relu(x))
add("sigmoid", "sigmoid", {}, {"x": X}, lambda x: torch.sigmoid(x))
add("tanh", "tanh", {}, {"x": X}, lambda x: torch.tanh(x))
add("selu", "selu", {}, {"x": X}, lambda x: F.selu(x))
add("softplus", "softplus", {}, {"x": X}, lambda x: F.softplus(x))
add("step (Heaviside, gradient 0)", "step", {}, {"x": X}, lambda x: (x > 0).to(DT) + 0 * x)
add("leakyRelu alpha 0.2", "leakyRelu", {"alpha": 0.2}, {"x": X}, lambda x: F.leaky_relu(x, 0.2))
add("leakyRelu alpha 0.01", "leakyRelu", {"alpha": 0.01}, {"x": X}, lambda x: F.leaky_relu(x, 0.01))
add("elu alpha 1", "elu", {"alpha": 1.0}, {"x": X}, lambda x: F.elu(x, 1.0))
add("elu alpha 0.5", "elu", {"alpha": 0.5}, {"x": X}, lambda x: F.elu(x, 0.5))
add("gelu erf", "gelu", {"approximate": "none"}, {"x": X}, lambda x: F.gelu(x))
add("gelu tanh", "gelu", {"approximate": "tanh"}, {"x": X}, lambda x: F.gelu(x, approximate="tanh"))
XP = away_from_zero(rnd(2, 3, 3, 4, lo=-2, hi=2))
add("prelu per-channel alpha", "prelu", {}, {"x": XP, "alpha": rnd(4, lo=0.05, hi=0.5)}, lambda x, alpha: torch.where(x > 0, x, alpha * x))
add("prelu scalar alpha", "prelu", {}, {"x": XP[0], "alpha": torch.tensor([0.25], dtype=DT)}, lambda x, alpha: torch.where(x > 0, x, alpha * x))
XS = rnd(3, 5, lo=-4, hi=4)
add("softmax axis -1", "softmax", {"axis": -1}, {"x": XS}, lambda x: F.softmax(x, -1))
add("softmax axis 0", "softmax", {"axis": 0}, {"x": XS}, lambda x: F.softmax(x, 0))
add("softmax large logits (stability)", "softmax", {"axis": -1}, {"x": XS * 100 + 500}, lambda x: F.softmax(x, -1))
add("logSoftmax axis -1", "logSoftmax", {"axis": -1}, {"x": XS}, lambda x: F.log_softmax(x, -1))
add("logSoftmax axis 1 of rank 3", "logSoftmax", {"axis": 1}, {"x": rnd(2, 4, 3, lo=-3, hi=3)}, lambda x: F.log_softmax(x, 1))
# Non-finite inputs propagate by class (no gradients).
inf = math.inf
nf = torch.tensor([[math.nan, inf, -inf, 0.5]], dtype=DT)
add("relu with NaN and infinities", "relu", {}, {"x": nf}, lambda x: F.relu(x), grad_wrt=[])
add("sigmoid with NaN and infinities", "sigmoid", {}, {"x": nf}, lambda x: torch.sigmoid(x), grad_wrt=[])
add("tanh with NaN and infinities", "tanh", {}, {"x": nf}, lambda x: torch.tanh(x), grad_wrt=[])

# ------------------------------------------------------------------ normalisation

def bn_train_ref(x, gamma, beta, eps):
    c = x.shape[-1]
    xs = x.reshape(-1, c)
    return F.batch_norm(xs, None, None, gamma, beta, training=True, eps=eps).reshape(x.shape)


def bn_infer_ref(x, gamma, beta, mean, variance, eps):
    return (x - mean) / torch.sqrt(variance + eps) * gamma + beta


for shape, eps in [([4, 3, 3, 2], 1e-5), ([6, 5], 1e-3)]:
    C = shape[-1]
    x = rnd(*shape, lo=-2, hi=2)
    g, b = rnd(C, lo=0.5, hi=1.5), rnd(C)
    add(f"batchNorm training {shape} eps {eps}", "batchNorm", {"epsilon": eps, "training": True},
        {"x": x, "gamma": g, "beta": b}, lambda x, gamma, beta: bn_train_ref(x, gamma, beta, eps))
    m, v = rnd(C, lo=-0.5, hi=0.5), rnd(C, lo=0.5, hi=2)
    add(f"batchNorm inference {shape} eps {eps}", "batchNorm", {"epsilon": eps, "training": False},
        {"x": x, "gamma": g, "beta": b, "mean": m, "variance": v},
        lambda x, gamma, beta, mean, variance: bn_infer_ref(x, gamma, beta, mean, variance, eps))


def lrn_ref(x, size, alpha, beta, k):
    return nchw_to_nhwc(F.local_response_norm(nhwc_to_nchw(x), size, alpha, beta, k))


for size, alpha, beta, k in [(5, 1e-4, 0.75, 2.0), (3, 0.5, 0.6, 1.0)]:
    x = rnd(2, 3, 3, 7, lo=-3, hi=3)
    add(f"lrn size {size} alpha {alpha} beta {beta} k {k}", "lrn", {"size": size, "alpha": alpha, "beta": beta, "k": k},
        {"x": x}, lambda x, size=size, alpha=alpha, beta=beta, k=k: lrn_ref(x, size, alpha, beta, k))

x = rnd(3, 6, lo=-2, hi=2)
add("layerNorm last axis", "layerNorm", {"epsilon": 1e-5, "axes": [-1]},
    {"x": x, "gamma": rnd(6, lo=0.5, hi=1.5), "beta": rnd(6)}, lambda x, gamma, beta: F.layer_norm(x, [6], gamma, beta, 1e-5))
x = rnd(2, 3, 3, 4, lo=-2, hi=2)
add("layerNorm over H,W,C (axes [1,2,3]) eps 1e-3", "layerNorm", {"epsilon": 1e-3, "axes": [1, 2, 3]},
    {"x": x, "gamma": rnd(3, 3, 4, lo=0.5, hi=1.5), "beta": rnd(3, 3, 4)},
    lambda x, gamma, beta: F.layer_norm(x, [3, 3, 4], gamma, beta, 1e-3))

# ------------------------------------------------------------------ losses

for red in ["mean", "sum"]:
    y, t = rnd(4, 3), rnd(4, 3)
    add(f"meanSquaredError {red}", "meanSquaredError", {"reduction": red}, {"y": y, "target": t},
        lambda y, target: F.mse_loss(y, target, reduction=red), grad_wrt=["y"], out_names=("loss",))
    p, t = rnd(5, 2, lo=0.05, hi=0.95), torch.randint(0, 2, (5, 2)).to(DT)
    add(f"binaryCrossEntropy {red}", "binaryCrossEntropy", {"reduction": red}, {"p": p, "target": t},
        lambda p, target: F.binary_cross_entropy(p, target, reduction=red), grad_wrt=["p"], out_names=("loss",))
    t_soft = rnd(5, 2, lo=0, hi=1)
    add(f"binaryCrossEntropy soft targets {red}", "binaryCrossEntropy", {"reduction": red}, {"p": p, "target": t_soft},
        lambda p, target: F.binary_cross_entropy(p, target, reduction=red), grad_wrt=["p"], out_names=("loss",))
    lg = rnd(6, lo=-30, hi=30)  # large logits: the stable form matters
    add(f"binaryCrossEntropyWithLogits {red}", "binaryCrossEntropyWithLogits", {"reduction": red},
        {"logits": lg, "target": rnd(6, lo=0, hi=1)},
        lambda logits, target: F.binary_cross_entropy_with_logits(logits, target, reduction=red), grad_wrt=["logits"], out_names=("loss",))
    logits = rnd(4, 5, lo=-3, hi=3)
    labels = torch.tensor([1, 0, 4, 2])
    add(f"softmaxCrossEntropy sparse labels {red}", "softmaxCrossEntropy", {"reduction": red},
        {"logits": logits, "labels": labels.to(DT)},
        lambda logits, labels: F.cross_entropy(logits, labels.long(), reduction=red), grad_wrt=["logits"], out_names=("loss",))
    probs = F.softmax(rnd(4, 5, lo=-2, hi=2), -1)
    add(f"softmaxCrossEntropy probability labels {red}", "softmaxCrossEntropy", {"reduction": red},
        {"logits": logits, "labels": probs},
        lambda logits, labels: F.cross_entropy(logits, labels, reduction=red), grad_wrt=["logits"], out_names=("loss",))
    onehot = F.one_hot(labels, 5).to(DT)
    add(f"softmaxCrossEntropy one-hot labels, large logits {red}", "softmaxCrossEntropy", {"reduction": red},
        {"logits": logits * 50, "labels": onehot},
        lambda logits, labels: F.cross_entropy(logits, labels, reduction=red), grad_wrt=["logits"], out_names=("loss",))

    def triplet_ref(anchor, positive, negative, margin=0.2):
        dp = ((anchor - positive) ** 2).sum(-1)
        dn = ((anchor - negative) ** 2).sum(-1)
        l = F.relu(dp - dn + margin)
        return l.mean() if red == "mean" else l.sum()
    # Draw until no triplet sits on the hinge (|dp - dn + margin| > 0.05).
    while True:
        a, pp, n = rnd(5, 3), rnd(5, 3), rnd(5, 3)
        z = ((a - pp) ** 2).sum(-1) - ((a - n) ** 2).sum(-1) + 0.2
        if (z.abs() > 0.05).all() and (z > 0).any() and (z < 0).any():
            break
    add(f"tripletLoss margin 0.2 {red}", "tripletLoss", {"margin": 0.2, "reduction": red},
        {"anchor": a, "positive": pp, "negative": n}, triplet_ref, out_names=("loss",))

# ------------------------------------------------------------------ style: Gram matrices

for normalize in [False, True]:
    x = rnd(2, 3, 4, 3)
    def gram_ref(x, normalize=normalize):
        N, H, W, C = x.shape
        f = x.reshape(N, H * W, C)
        g = f.transpose(1, 2) @ f
        return g / (H * W) if normalize else g
    add(f"gram normalize={normalize}", "gram", {"normalize": normalize}, {"x": x}, gram_ref)

# ------------------------------------------------------------------ boxes


def box_iou_ref(a, b):
    if tvops is not None:
        return tvops.box_iou(a, b)
    area = lambda z: (z[:, 2] - z[:, 0]) * (z[:, 3] - z[:, 1])
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def random_boxes(n, scale=10.0):
    xy = rnd(n, 2, lo=0, hi=scale)
    wh = rnd(n, 2, lo=0.5, hi=scale / 2)
    return torch.cat([xy, xy + wh], dim=1)


a = random_boxes(4)
b = torch.cat([random_boxes(2), a[:1], torch.tensor([[20.0, 20.0, 21.0, 22.0]], dtype=DT)])  # identical and disjoint boxes
add("iou 4x4 (one identical pair, one disjoint box)", "iou", {}, {"a": a, "b": b}, box_iou_ref, grad_wrt=[])


def nms_ref(boxes, scores, iou_threshold, score_threshold=None, max_output=None):
    """Greedy NMS: keep the best box, drop the rest overlapping it with IoU > threshold."""
    idx = torch.arange(len(scores))
    if score_threshold is not None:
        m = scores >= score_threshold
        boxes, scores, idx = boxes[m], scores[m], idx[m]
    if tvops is not None:
        keep = tvops.nms(boxes, scores, iou_threshold)
    else:
        order = torch.argsort(scores, descending=True)
        keep, iou = [], box_iou_ref(boxes, boxes)
        while len(order):
            i = order[0]
            keep.append(int(i))
            order = order[1:][iou[i, order[1:]] <= iou_threshold]
        keep = torch.tensor(keep, dtype=torch.long)
    keep = idx[keep]
    if max_output is not None:
        keep = keep[:max_output]
    return keep.to(DT)


def nms_boxes(n):
    # Clustered boxes so suppression happens; no IoU lands within 0.02 of a threshold.
    while True:
        centres = rnd(3, 2, lo=0, hi=20)
        c = centres[torch.randint(0, 3, (n,))] + rnd(n, 2, lo=-1.5, hi=1.5)
        wh = rnd(n, 2, lo=2, hi=5)
        boxes = torch.cat([c - wh / 2, c + wh / 2], dim=1)
        scores = torch.rand(n, dtype=DT)
        iou = box_iou_ref(boxes, boxes)
        if all((iou - t).abs().min() > 0.02 for t in (0.3, 0.5, 0.7)) and (scores - 0.6).abs().min() > 0.01:
            return boxes, scores


boxes, scores = nms_boxes(12)
for attrs in [{"iouThreshold": 0.5}, {"iouThreshold": 0.3}, {"iouThreshold": 0.5, "scoreThreshold": 0.6},
              {"iouThreshold": 0.7, "maxOutput": 3}]:
    desc = ", ".join(f"{k} {v}" for k, v in attrs.items())
    add(f"nms {desc}", "nms", attrs, {"boxes": boxes, "scores": scores},
        lambda boxes, scores, attrs=attrs: nms_ref(boxes, scores, attrs["iouThreshold"], attrs.get("scoreThreshold"), attrs.get("maxOutput")),
        grad_wrt=[], out_names=("keep",))

# ------------------------------------------------------------------ optimisers


def optimize_case(name, optimizer, opts, torch_ctor, steps=5, P=4):
    w0, c = rnd(P, lo=-2, hi=2), rnd(P, lo=-1, hi=1)
    w = w0.clone().requires_grad_(True)
    opt = torch_ctor([w])
    outs = []
    for _ in range(steps):
        opt.zero_grad()
        f = (c * w).sum() + 0.5 * (w * w).sum()
        f.backward()
        opt.step()
        outs.append(w.detach().clone())
    case = {"name": name, "op": "optimize", "attrs": {"optimizer": optimizer, "steps": steps, **opts},
            "inputs": {"w0": T(w0), "c": T(c)},
            "outputs": {f"w{i + 1}": T(o) for i, o in enumerate(outs)}}
    CASES.append(case)


O = torch.optim
optimize_case("sgd lr 0.1", "sgd", {"lr": 0.1}, lambda p: O.SGD(p, lr=0.1))
optimize_case("sgd momentum 0.9", "sgd", {"lr": 0.1, "momentum": 0.9}, lambda p: O.SGD(p, lr=0.1, momentum=0.9))
optimize_case("sgd momentum 0.9 weightDecay 0.1", "sgd", {"lr": 0.05, "momentum": 0.9, "weightDecay": 0.1},
              lambda p: O.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.1))
optimize_case("sgd nesterov momentum 0.8", "sgd", {"lr": 0.1, "momentum": 0.8, "nesterov": True},
              lambda p: O.SGD(p, lr=0.1, momentum=0.8, nesterov=True))
optimize_case("sgd nesterov with weightDecay 0.01", "sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weightDecay": 0.01},
              lambda p: O.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01))
optimize_case("sgd momentum 0.5 dampening 0.3", "sgd", {"lr": 0.1, "momentum": 0.5, "dampening": 0.3},
              lambda p: O.SGD(p, lr=0.1, momentum=0.5, dampening=0.3))
optimize_case("adam defaults lr 0.1", "adam", {"lr": 0.1}, lambda p: O.Adam(p, lr=0.1))
optimize_case("adam betas [0.8,0.9] eps 1e-6 weightDecay 0.1 (L2)", "adam", {"lr": 0.05, "betas": [0.8, 0.9], "eps": 1e-6, "weightDecay": 0.1},
              lambda p: O.Adam(p, lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1))
optimize_case("adam amsgrad", "adam", {"lr": 0.1, "amsgrad": True}, lambda p: O.Adam(p, lr=0.1, amsgrad=True))
optimize_case("adamw default weightDecay 0.01", "adamw", {"lr": 0.1}, lambda p: O.AdamW(p, lr=0.1))
optimize_case("adamw weightDecay 0.5 (decoupled)", "adamw", {"lr": 0.05, "betas": [0.85, 0.99], "weightDecay": 0.5},
              lambda p: O.AdamW(p, lr=0.05, betas=(0.85, 0.99), weight_decay=0.5))
optimize_case("rmsprop defaults", "rmsprop", {"lr": 0.01}, lambda p: O.RMSprop(p, lr=0.01))
optimize_case("rmsprop alpha 0.9 momentum 0.5", "rmsprop", {"lr": 0.02, "alpha": 0.9, "momentum": 0.5},
              lambda p: O.RMSprop(p, lr=0.02, alpha=0.9, momentum=0.5))
optimize_case("rmsprop centered eps 1e-4 weightDecay 0.1", "rmsprop", {"lr": 0.01, "eps": 1e-4, "centered": True, "weightDecay": 0.1},
              lambda p: O.RMSprop(p, lr=0.01, eps=1e-4, centered=True, weight_decay=0.1))
optimize_case("adagrad defaults", "adagrad", {"lr": 0.01}, lambda p: O.Adagrad(p, lr=0.01))
optimize_case("adagrad lr 0.5 initialAccumulator 0.1", "adagrad", {"lr": 0.5, "initialAccumulator": 0.1},
              lambda p: O.Adagrad(p, lr=0.5, initial_accumulator_value=0.1))
optimize_case("adagrad lrDecay 0.1 weightDecay 0.05 eps 1e-6", "adagrad", {"lr": 0.3, "lrDecay": 0.1, "weightDecay": 0.05, "eps": 1e-6},
              lambda p: O.Adagrad(p, lr=0.3, lr_decay=0.1, weight_decay=0.05, eps=1e-6))
optimize_case("adadelta defaults", "adadelta", {"lr": 1.0}, lambda p: O.Adadelta(p))
optimize_case("adadelta rho 0.5 eps 1e-3 lr 0.5", "adadelta", {"lr": 0.5, "rho": 0.5, "eps": 1e-3},
              lambda p: O.Adadelta(p, lr=0.5, rho=0.5, eps=1e-3))
optimize_case("adadelta weightDecay 0.1", "adadelta", {"lr": 1.0, "weightDecay": 0.1}, lambda p: O.Adadelta(p, weight_decay=0.1))

# ------------------------------------------------------------------ write

out = sys.argv[1] if len(sys.argv) > 1 else os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "vectors", "torch.json"))
doc = {"format": "convkit-vectors/1",
       "generator": f"scripts/make_vectors.py with PyTorch {torch.__version__} (CPU, float64); NCHW/OIHW transposed to NHWC/HWIO",
       "cases": CASES}
os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
with open(out, "w") as fh:
    json.dump(doc, fh, allow_nan=False, separators=(",", ":"))
    fh.write("\n")
ops = sorted({c["op"] for c in CASES})
print(f"wrote {len(CASES)} cases over {len(ops)} ops to {out} ({os.path.getsize(out) / 1e6:.2f} MB)")
