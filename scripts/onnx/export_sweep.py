"""Exports more torchvision models (and a YOLOv8n-shaped network) to ONNX with PyTorch's outputs,
for the full-size comparison (scripts/onnx/compare_full.check.ts) beyond the five of `--full`.

    /usr/bin/python3 scripts/onnx/export_sweep.py DIR [name,name,...]

Debian's python3-torch 1.13 and python3-torchvision 0.14, nothing downloaded: seeded random weights,
BatchNorm running statistics randomised (so folding them is exercised), opset 13, dynamic batch.
Writes DIR/<name>.onnx and DIR/<name>.json in the fixture format of export_torch.py (inputShape, input,
outputShape, output in the file's layout, flat); `output` is PyTorch's float32 run (no float64
reference here, so no float32Error). 10-550 MB per model, about 1.6 GB in all: never commit them.
Then:

    CONVKIT_ONNX_FULL_DIR=DIR CONVKIT_ONNX_FULL_MODELS=efficientnet_b0,convnext_tiny,... \
      npx vitest run --config scripts/onnx/vitest.full.config.ts
"""
import json, os, sys
import torch, torch.nn as nn, torchvision

SEG = ('lraspp_mobilenet_v3_large', 'deeplabv3_mobilenet_v3_large')
VIDEO = ('r3d_18', 'r2plus1d_18')
MODELS = ['alexnet', 'vgg11_bn', 'densenet121', 'shufflenet_v2_x1_0', 'mnasnet1_0', 'efficientnet_b0', 'regnet_y_400mf',
          'convnext_tiny', 'inception_v3', 'resnext50_32x4d', 'mobilenet_v3_large', 'swin_t', 'vit_b_16', *SEG, *VIDEO, 'yolo_like']


class Conv(nn.Module):
    """YOLOv8's Conv: conv without bias, BatchNorm, SiLU."""
    def __init__(self, c1, c2, k=1, s=1):
        super().__init__()
        self.conv, self.bn, self.act = nn.Conv2d(c1, c2, k, s, k // 2, bias=False), nn.BatchNorm2d(c2), nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c, shortcut=True):
        super().__init__()
        self.cv1, self.cv2, self.add = Conv(c, c, 3), Conv(c, c, 3), shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    """Split in two halves, a chain of bottlenecks on the second, every piece concatenated."""
    def __init__(self, c1, c2, n=1, shortcut=False):
        super().__init__()
        self.c = c2 // 2
        self.cv1, self.cv2 = Conv(c1, 2 * self.c, 1), Conv((2 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, shortcut) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).split((self.c, self.c), 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, c1, c2, k=5):
        super().__init__()
        c = c1 // 2
        self.cv1, self.cv2, self.m = Conv(c1, c, 1), Conv(c * 4, c2, 1), nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x):
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


class YoloLike(nn.Module):
    """YOLOv8n's backbone, neck (nearest upsampling, concatenations) and a decoupled head, 80 classes."""
    def __init__(self, nc=80):
        super().__init__()
        self.stem = nn.Sequential(Conv(3, 16, 3, 2), Conv(16, 32, 3, 2), C2f(32, 32, 1, True))
        self.p3 = nn.Sequential(Conv(32, 64, 3, 2), C2f(64, 64, 2, True))
        self.p4 = nn.Sequential(Conv(64, 128, 3, 2), C2f(128, 128, 2, True))
        self.p5 = nn.Sequential(Conv(128, 256, 3, 2), C2f(256, 256, 1, True), SPPF(256, 256))
        self.up = nn.Upsample(scale_factor=2, mode='nearest')
        self.n4, self.n3, self.d3, self.m4, self.d4, self.m5 = C2f(384, 128), C2f(192, 64), Conv(64, 64, 3, 2), C2f(192, 128), Conv(128, 128, 3, 2), C2f(384, 256)
        self.box = nn.ModuleList(nn.Sequential(Conv(c, 64, 3), Conv(64, 64, 3), nn.Conv2d(64, 64, 1)) for c in (64, 128, 256))
        self.cls = nn.ModuleList(nn.Sequential(Conv(c, 80, 3), Conv(80, 80, 3), nn.Conv2d(80, nc, 1)) for c in (64, 128, 256))

    def forward(self, x):
        p3 = self.p3(self.stem(x))
        p4 = self.p4(p3)
        p5 = self.p5(p4)
        h = self.n4(torch.cat((self.up(p5), p4), 1))
        o3 = self.n3(torch.cat((self.up(h), p3), 1))
        o4 = self.m4(torch.cat((self.d3(o3), h), 1))
        o5 = self.m5(torch.cat((self.d4(o4), p5), 1))
        return torch.cat([torch.cat((b(o), torch.sigmoid(c(o))), 1).flatten(2) for o, b, c in zip((o3, o4, o5), self.box, self.cls)], 2)


class SegOut(nn.Module):
    """torchvision's segmentation models return a dict: the 'out' map."""
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m(x)['out']


def make(name):
    if name == 'yolo_like':
        return YoloLike(), [1, 3, 320, 320]
    if name in SEG:
        return SegOut(getattr(torchvision.models.segmentation, name)(weights=None, weights_backbone=None, num_classes=5, aux_loss=False)), [1, 3, 160, 160]
    if name in VIDEO:
        return getattr(torchvision.models.video, name)(weights=None), [1, 3, 8, 64, 64]
    kw = {'aux_logits': False, 'init_weights': True} if name == 'inception_v3' else {}
    m = getattr(torchvision.models, name)(weights=None, **kw)
    if name == 'vit_b_16':
        nn.init.normal_(m.heads.head.weight, std=0.02)  # torchvision zeroes the head: outputs would not depend on the input
    return m, [1, 3, 299, 299] if name == 'inception_v3' else [1, 3, 224, 224]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    names = sys.argv[2].split(',') if len(sys.argv) > 2 else MODELS
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(2)
    for name in names:
        torch.manual_seed(0)
        m, shape = make(name)
        m = m.eval()
        g = torch.Generator().manual_seed(1)
        for mod in m.modules():
            if isinstance(mod, (nn.BatchNorm2d, nn.BatchNorm3d)):
                mod.running_mean.data = torch.randn(mod.running_mean.shape, generator=g) * 0.1
                mod.running_var.data = torch.rand(mod.running_var.shape, generator=g) + 0.5
        x = torch.rand(*shape, generator=g)
        with torch.no_grad():
            y = m(x)
        path = os.path.join(out, f'{name}.onnx')
        torch.onnx.export(m, x, path, opset_version=13, input_names=['x'], output_names=['y'], dynamic_axes={'x': {0: 'n'}, 'y': {0: 'n'}})
        import onnx
        ops = sorted({n.op_type for n in onnx.load(path).graph.node})
        json.dump({'name': name, 'opset': 13, 'dynamicBatch': True, 'inputShape': list(x.shape), 'input': x.flatten().tolist(),
                   'outputShape': list(y.shape), 'output': y.flatten().tolist(), 'ops': ops,
                   'notes': 'scripts/onnx/export_sweep.py: seeded random weights; output is PyTorch float32'}, open(os.path.join(out, f'{name}.json'), 'w'))
        print(f'{name}: {list(y.shape)}, max |y| {float(y.abs().max()):.4g}, {len(ops)} op types', flush=True)


if __name__ == '__main__':
    main()
