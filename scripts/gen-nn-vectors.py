"""Reference vectors for convkit's activation, normalisation, loss and box ops, from PyTorch.

Run with Debian's interpreter (PyTorch 1.13 CPU, torchvision 0.14):
    /usr/bin/python3 scripts/gen-nn-vectors.py > test/ops/vectors/nn-torch.json
The output follows /work/shared/VECTORS.md (convkit-vectors/1, float64, NHWC). Gradients are
vector-Jacobian products with the stored cotangents. The test suite reads the JSON; it does
not need PyTorch.
"""
import json

import torch
import torch.nn.functional as F
import torchvision

torch.manual_seed(20240531)
torch.set_default_dtype(torch.float64)


def T(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def away_from_zero(shape, lo=0.05):
    x = torch.randn(shape)
    return torch.where(x.abs() < lo, x.sign() * lo + x, x)


cases = []


def case(name, op, attrs, inputs, fn, grad_inputs=None, labels=None):
    """inputs: dict name -> tensor (float ones get gradients unless excluded); fn(**inputs) -> dict of outputs."""
    grad_inputs = list(inputs.keys()) if grad_inputs is None else grad_inputs
    leaves = {}
    for k, v in inputs.items():
        v = v.clone().detach()
        if k in grad_inputs:
            v.requires_grad_(True)
        leaves[k] = v
    outs = fn(**leaves)
    cot = {k: torch.randn(v.shape) for k, v in outs.items()}
    total = sum((outs[k] * cot[k]).sum() for k in outs)
    grads = torch.autograd.grad(total, [leaves[k] for k in grad_inputs]) if grad_inputs else []
    c = {
        "name": name,
        "op": op,
        "attrs": attrs,
        "inputs": {k: T(v) for k, v in inputs.items()},
        "outputs": {k: T(v) for k, v in outs.items()},
    }
    if grad_inputs:
        c["cotangents"] = {k: T(v) for k, v in cot.items()}
        c["grads"] = {k: T(g) for k, g in zip(grad_inputs, grads)}
    cases.append(c)


# ---------------------------------------------------------------- activations
x = away_from_zero([3, 5]) * 2
case("relu", "relu", {}, {"x": x}, lambda x: {"y": F.relu(x)})
case("sigmoid", "sigmoid", {}, {"x": x * 4}, lambda x: {"y": torch.sigmoid(x)})
case("tanh", "tanh", {}, {"x": x}, lambda x: {"y": torch.tanh(x)})
case("selu", "selu", {}, {"x": x}, lambda x: {"y": F.selu(x)})
case("softplus", "softplus", {}, {"x": x * 10}, lambda x: {"y": F.softplus(x, beta=1, threshold=1000)})
case("leakyRelu alpha 0.1", "leakyRelu", {"alpha": 0.1}, {"x": x}, lambda x: {"y": F.leaky_relu(x, 0.1)})
case("elu alpha 0.7", "elu", {"alpha": 0.7}, {"x": x}, lambda x: {"y": F.elu(x, 0.7)})
xg = torch.cat([x.reshape(-1), torch.tensor([-12.0, -7.5, -3.0, 0.0, 1.0, 6.0])])
case("gelu erf", "gelu", {"approximate": "none"}, {"x": xg}, lambda x: {"y": F.gelu(x)})
case("gelu tanh", "gelu", {"approximate": "tanh"}, {"x": xg}, lambda x: {"y": F.gelu(x, approximate="tanh")})
alpha = torch.rand([5]) * 0.5
case("prelu per channel", "prelu", {}, {"x": x, "alpha": alpha}, lambda x, alpha: {"y": torch.where(x > 0, x, alpha * x)})
x3 = torch.randn([2, 3, 4]) * 3
case("softmax axis 1", "softmax", {"axis": 1}, {"x": x3}, lambda x: {"y": torch.softmax(x, 1)})
case("softmax last axis", "softmax", {"axis": -1}, {"x": x3}, lambda x: {"y": torch.softmax(x, -1)})
case("logSoftmax axis 0", "logSoftmax", {"axis": 0}, {"x": x3}, lambda x: {"y": torch.log_softmax(x, 0)})

# ---------------------------------------------------------------- normalisation
xb = torch.randn([2, 3, 3, 4]) * 2 + 1  # NHWC
g, b = torch.rand([4]) + 0.5, torch.randn([4])
rm, rv = torch.randn([4]), torch.rand([4]) + 0.5


def bn_train(x, gamma, beta):
    y = F.batch_norm(x.permute(0, 3, 1, 2), None, None, gamma, beta, training=True, eps=1e-5)
    return {"y": y.permute(0, 2, 3, 1)}


def bn_eval(x, gamma, beta, mean, variance):
    # F.batch_norm refuses gradients for running statistics: write the inference formula out.
    return {"y": (x - mean) / torch.sqrt(variance + 1e-3) * gamma + beta}


case("batchNorm training NHWC", "batchNorm", {"epsilon": 1e-5, "training": True}, {"x": xb, "gamma": g, "beta": b}, bn_train)
case("batchNorm inference NHWC", "batchNorm", {"epsilon": 1e-3, "training": False},
     {"x": xb, "gamma": g, "beta": b, "mean": rm, "variance": rv}, bn_eval)
x2 = torch.randn([5, 3])
case("batchNorm training [N,C]", "batchNorm", {"epsilon": 1e-5, "training": True}, {"x": x2, "gamma": g[:3], "beta": b[:3]},
     lambda x, gamma, beta: {"y": F.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5)})

xl = torch.randn([2, 3, 3, 7]) * 2


def lrn(x):
    y = F.local_response_norm(x.permute(0, 3, 1, 2), size=5, alpha=1e-2, beta=0.75, k=2.0)
    return {"y": y.permute(0, 2, 3, 1)}


case("lrn size 5", "lrn", {"size": 5, "alpha": 1e-2, "beta": 0.75, "k": 2}, {"x": xl}, lrn)


def lrn4(x):
    y = F.local_response_norm(x.permute(0, 3, 1, 2), size=4, alpha=0.5, beta=0.6, k=1.0)
    return {"y": y.permute(0, 2, 3, 1)}


case("lrn even size 4", "lrn", {"size": 4, "alpha": 0.5, "beta": 0.6, "k": 1}, {"x": xl}, lrn4)

xn = torch.randn([3, 2, 5]) * 3 + 2
gl, bl = torch.rand([5]) + 0.5, torch.randn([5])
case("layerNorm last axis", "layerNorm", {"epsilon": 1e-5, "axes": [-1]}, {"x": xn, "gamma": gl, "beta": bl},
     lambda x, gamma, beta: {"y": F.layer_norm(x, [5], gamma, beta, eps=1e-5)})
gl2, bl2 = torch.rand([2, 5]) + 0.5, torch.randn([2, 5])
case("layerNorm last two axes", "layerNorm", {"epsilon": 1e-5, "axes": [1, 2]}, {"x": xn, "gamma": gl2, "beta": bl2},
     lambda x, gamma, beta: {"y": F.layer_norm(x, [2, 5], gamma, beta, eps=1e-5)})

# ---------------------------------------------------------------- losses
y, t = torch.randn([4, 3]), torch.randn([4, 3])
for red in ["mean", "sum"]:
    case(f"meanSquaredError {red}", "meanSquaredError", {"reduction": red}, {"y": y, "target": t},
         lambda y, target, red=red: {"loss": F.mse_loss(y, target, reduction=red)})
p = torch.rand([4, 3]) * 0.98 + 0.01
tb = (torch.rand([4, 3]) > 0.5).double()
tsoft = torch.rand([4, 3])
case("binaryCrossEntropy hard targets", "binaryCrossEntropy", {"reduction": "mean"}, {"p": p, "target": tb},
     lambda p, target: {"loss": F.binary_cross_entropy(p, target)}, grad_inputs=["p"])
case("binaryCrossEntropy soft targets sum", "binaryCrossEntropy", {"reduction": "sum"}, {"p": p, "target": tsoft},
     lambda p, target: {"loss": F.binary_cross_entropy(p, target, reduction="sum")}, grad_inputs=["p", "target"])
z = torch.randn([4, 3]) * 5
z[0, 0], z[1, 1] = 60.0, -60.0
case("binaryCrossEntropyWithLogits", "binaryCrossEntropyWithLogits", {"reduction": "mean"}, {"logits": z, "target": tsoft},
     lambda logits, target: {"loss": F.binary_cross_entropy_with_logits(logits, target)})
logits = torch.randn([5, 4]) * 3
lab = torch.tensor([0, 3, 1, 1, 2])
case("softmaxCrossEntropy sparse", "softmaxCrossEntropy", {"reduction": "mean"}, {"logits": logits, "labels": lab.double()},
     lambda logits, labels: {"loss": F.cross_entropy(logits, labels.long())}, grad_inputs=["logits"])
probs = torch.softmax(torch.randn([5, 4]), 1)
case("softmaxCrossEntropy probabilities sum", "softmaxCrossEntropy", {"reduction": "sum"}, {"logits": logits, "labels": probs},
     lambda logits, labels: {"loss": F.cross_entropy(logits, labels, reduction="sum")})
a, pp, n = torch.randn([4, 3]), torch.randn([4, 3]), torch.randn([4, 3])


def triplet(anchor, positive, negative):
    d = ((anchor - positive) ** 2).sum(1) - ((anchor - negative) ** 2).sum(1) + 0.5
    return {"loss": torch.clamp(d, min=0).mean()}


case("tripletLoss margin 0.5 (squared distances)", "tripletLoss", {"margin": 0.5, "reduction": "mean"},
     {"anchor": a, "positive": pp, "negative": n}, triplet)
xgm = torch.randn([2, 3, 2, 4])
case("gram", "gram", {"normalize": False}, {"x": xgm},
     lambda x: {"y": torch.einsum("nijk,nijl->nkl", x, x)})
case("gram normalized", "gram", {"normalize": True}, {"x": xgm},
     lambda x: {"y": torch.einsum("nijk,nijl->nkl", x, x) / 6})

# ---------------------------------------------------------------- boxes (no gradients)
ba = torch.tensor([[0, 0, 2, 2], [1, 1, 3, 3], [0, 0, 1, 1], [5, 5, 6, 7], [2, 2, 2, 2]], dtype=torch.float64)
bb = torch.tensor([[0, 0, 2, 2], [1, 0, 3, 2], [10, 10, 11, 11], [0.5, 0.5, 1.5, 2.5]], dtype=torch.float64)
case("iou", "iou", {}, {"a": ba[:4], "b": bb}, lambda a, b: {"y": torchvision.ops.box_iou(a, b)}, grad_inputs=[])
bx = torch.rand([16, 2]) * 6
wh = torch.rand([16, 2]) * 4 + 1
boxes = torch.cat([bx, bx + wh], 1)
scores = torch.rand([16])
keep = torchvision.ops.nms(boxes, scores, 0.3)
cases.append({
    "name": "nms 16 random boxes, iouThreshold 0.3 (torchvision)",
    "op": "nms",
    "attrs": {"iouThreshold": 0.3},
    "inputs": {"boxes": T(boxes), "scores": T(scores)},
    "outputs": {"keep": {"shape": [len(keep)], "data": [float(v) for v in keep.tolist()]}},
})

# ---------------------------------------------------------------- large logits (issue 13)
# Log-softmax must be (x - max) - log(sum exp(x - max)): x - (max + log(sum)) rounds log(sum)
# to the ulp of max, which loses digits at 1e4 in float32 (ONNX's test_logsoftmax_large_number:
# -1.4404297 for -1.4401897) and all of log(sum) at 1e7 or 3e38 in float32 and 1e17 in float64.
# Appended last so that the random draws of the cases above stay as they were.
x_onnx = torch.tensor([[0.0, 1.0, 2.0, 3.0], [10000.0, 10001.0, 10002.0, 10003.0]])
case("logSoftmax large numbers (ONNX test_logsoftmax_large_number)", "logSoftmax", {"axis": -1}, {"x": x_onnx},
     lambda x: {"y": torch.log_softmax(x, -1)})
case("logSoftmax large numbers along axis 0", "logSoftmax", {"axis": 0}, {"x": x_onnx.t().contiguous()},
     lambda x: {"y": torch.log_softmax(x, 0)})
x_big = torch.tensor([[1e7, 1e7, 1e7 - 1], [3e38, 3e38, 3e38], [1e17, 1e17, 1e17]])
case("logSoftmax logits 1e7, 3e38, 1e17", "logSoftmax", {"axis": -1}, {"x": x_big}, lambda x: {"y": torch.log_softmax(x, -1)})
case("softmax logits 1e7, 3e38, 1e17", "softmax", {"axis": -1}, {"x": x_big}, lambda x: {"y": torch.softmax(x, -1)})
z_big = torch.tensor([[1e7, 1e7, 1e7 - 1, 1e7 - 2], [10000.0, 10001.0, 10002.0, 10003.0], [3e38, 3e38, 3e38, 3e38],
                      [1e17, 1e17, 1e17, 1e17]])
case("softmaxCrossEntropy sparse, large logits", "softmaxCrossEntropy", {"reduction": "sum"},
     {"logits": z_big, "labels": torch.tensor([0.0, 2.0, 1.0, 3.0])},
     lambda logits, labels: {"loss": F.cross_entropy(logits, labels.long(), reduction="sum")}, grad_inputs=["logits"])
p_big = torch.softmax(torch.randn([4, 4]), 1)
case("softmaxCrossEntropy probabilities, large logits", "softmaxCrossEntropy", {"reduction": "sum"},
     {"logits": z_big, "labels": p_big},
     lambda logits, labels: {"loss": F.cross_entropy(logits, labels, reduction="sum")})

print(json.dumps({
    "format": "convkit-vectors/1",
    "generator": f"scripts/gen-nn-vectors.py, PyTorch {torch.__version__}, torchvision {torchvision.__version__}, float64",
    "cases": cases,
}, indent=1))
