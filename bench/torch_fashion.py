#!/usr/bin/python3
"""PyTorch beside `convkit train --dataset fashion-mnist`: the same model, recipe and data.

Run with Debian's PyTorch 1.13 (CPU), two threads, on the same machine and in the same session
as convkit's run, so the two images/s figures compare:

    /usr/bin/python3 bench/torch_fashion.py [--epochs 16] [--filters 16,32,64] [--pools 1,1,0]
        [--batch-size 64] [--lr 0.002] [--optimizer adamw] [--weight-decay 0.01] [--label-smoothing 0.1]
        [--tta flip] [--threads 2] [--no-augment] [--crop] [--limit N] [--json]

The model is convkit's smallCnn28 (src/models/zoo/small.ts): blocks of [3x3 'same' convolution
without bias -> batch norm (momentum 0.1, eps 1e-5) -> ReLU -> 2x2 max pool (where --pools says)],
flatten, dense 128 ReLU, dropout 0.3, dense 10; He-normal initialisation of the convolutions and
dense layers, zero biases. The defaults are convkit's recipe for fashion-mnist
(src/cli/training_run.ts DEFAULT_MODELS): filters 16/32/64 with the third block kept at 7x7,
AdamW 0.002 (weight decay 0.01, decoupled), the learning rate decayed per step by a half cosine to
0, cross-entropy with label smoothing 0.1, batch 64, 16 epochs, shuffled each epoch, augmentation a
random horizontal flip (p 0.5; --crop adds a random crop after 2 pixels of zero padding), pixels
value/255; the test images classified with their mirror images, softmax probabilities averaged
(--tta flip; the single-view accuracy is printed too).
Prints a line per epoch (seconds, images/s, running loss and accuracy, test accuracy) and, with
--json, one JSON object on the last line.
"""
import argparse
import gzip
import json
import math
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = '/usr/share/datasets/fashion-mnist'


def idx(path):
    with gzip.open(path, 'rb') as f:
        raw = f.read()
    magic, = struct.unpack('>I', raw[:4])
    dims = magic & 0xFF
    shape = struct.unpack('>' + 'I' * dims, raw[4:4 + 4 * dims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


class SmallCnn28(nn.Module):
    def __init__(self, filters, pools, dense=128, classes=10):
        super().__init__()
        self.convs = nn.ModuleList()
        self.bns = nn.ModuleList()
        self.pools = pools
        c, side = 1, 28
        for f, p in zip(filters, pools):
            self.convs.append(nn.Conv2d(c, f, 3, padding=1, bias=False))
            self.bns.append(nn.BatchNorm2d(f, momentum=0.1, eps=1e-5))
            c, side = f, side // 2 if p else side
        self.dense1 = nn.Linear(c * side * side, dense)
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(dense, classes)
        for m in (*self.convs, self.dense1):
            nn.init.kaiming_normal_(m.weight, nonlinearity='relu')
        nn.init.zeros_(self.dense1.bias)
        nn.init.xavier_uniform_(self.out.weight)  # convkit's dense default (glorotUniform)
        nn.init.zeros_(self.out.bias)

    def forward(self, x):
        for conv, bn, p in zip(self.convs, self.bns, self.pools):
            x = F.relu(bn(conv(x)))
            if p:
                x = F.max_pool2d(x, 2)
        x = self.drop(F.relu(self.dense1(torch.flatten(x, 1))))
        return self.out(x)


def augment(x, gen, crop):
    """Random horizontal flip (p 0.5) and, with crop, a random crop after 2 px zero padding, per image."""
    n = x.shape[0]
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    if not crop:
        return x
    padded = F.pad(x, (2, 2, 2, 2))
    dy = torch.randint(0, 5, (n,), generator=gen)
    dx = torch.randint(0, 5, (n,), generator=gen)
    rows = (dy[:, None] + torch.arange(28)[None, :])  # [n, 28]
    cols = (dx[:, None] + torch.arange(28)[None, :])
    b = torch.arange(n)[:, None, None]
    return padded[:, 0][b, rows[:, :, None], cols[:, None, :]].unsqueeze(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--epochs', type=int, default=16)
    ap.add_argument('--filters', default='16,32,64')
    ap.add_argument('--pools', default='1,1,0')
    ap.add_argument('--batch-size', type=int, default=64)
    ap.add_argument('--lr', type=float, default=0.002)
    ap.add_argument('--optimizer', choices=['adam', 'adamw'], default='adamw')
    ap.add_argument('--weight-decay', type=float, default=0.01)
    ap.add_argument('--label-smoothing', type=float, default=0.1)
    ap.add_argument('--tta', choices=['flip', 'none'], default='flip')
    ap.add_argument('--crop', action='store_true')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--no-augment', action='store_true')
    ap.add_argument('--limit', type=int, default=0)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--json', action='store_true')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)

    t_load = time.time()
    xtr = torch.from_numpy(idx(f'{DATA}/train-images-idx3-ubyte.gz').astype(np.float32) / 255).unsqueeze(1)
    ytr = torch.from_numpy(idx(f'{DATA}/train-labels-idx1-ubyte.gz').astype(np.int64))
    xte = torch.from_numpy(idx(f'{DATA}/t10k-images-idx3-ubyte.gz').astype(np.float32) / 255).unsqueeze(1)
    yte = torch.from_numpy(idx(f'{DATA}/t10k-labels-idx1-ubyte.gz').astype(np.int64))
    if a.limit:
        xtr, ytr = xtr[:a.limit], ytr[:a.limit]
    load_s = time.time() - t_load

    filters = [int(v) for v in a.filters.split(',')]
    pools = [v.strip() not in ('0', 'false') for v in a.pools.split(',')]
    if len(pools) != len(filters):
        ap.error(f'--pools needs one flag per block ({len(filters)}), received {a.pools}')
    model = SmallCnn28(filters, pools)
    # convkit's adam adds weight decay to the gradient (L2) as torch.optim.Adam does; adamw decouples it
    opt = (torch.optim.AdamW if a.optimizer == 'adamw' else torch.optim.Adam)(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    n = xtr.shape[0]
    steps_per_epoch = math.ceil(n / a.batch_size)
    total = steps_per_epoch * a.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))

    def test_accuracy(tta):
        model.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, xte.shape[0], 500):
                xb = xte[i:i + 500]
                p = F.softmax(model(xb), 1)
                if tta == 'flip':
                    p = (p + F.softmax(model(xb.flip(3)), 1)) / 2
                correct += (p.argmax(1) == yte[i:i + 500]).sum().item()
        model.train()
        return correct / xte.shape[0]

    rows = []
    train_s = 0.0
    t_all = time.time()
    for epoch in range(a.epochs):
        t0 = time.time()
        perm = torch.randperm(n, generator=gen)
        loss_sum = correct = 0.0
        for i in range(0, n, a.batch_size):
            idx_b = perm[i:i + a.batch_size]
            xb, yb = xtr[idx_b], ytr[idx_b]
            if not a.no_augment:
                xb = augment(xb, gen, a.crop)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb, label_smoothing=a.label_smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * xb.shape[0]
            correct += (logits.argmax(1) == yb).sum().item()
        dt = time.time() - t0
        train_s += dt
        acc = test_accuracy('none')
        rows.append({'epoch': epoch + 1, 'seconds': dt, 'imagesPerSec': n / dt, 'loss': loss_sum / n, 'accuracy': correct / n, 'testAccuracy': acc})
        print(f"epoch {epoch + 1}/{a.epochs}: {dt:.1f} s, {n / dt:.0f} images/s, loss {loss_sum / n:.4f}, accuracy {correct / n:.4f}, test {acc:.4f}", flush=True)
    tta_acc = test_accuracy(a.tta)
    print(f"test accuracy {tta_acc:.4f} (tta {a.tta}; single views {rows[-1]['testAccuracy']:.4f})", flush=True)
    result = {
        'framework': f'pytorch {torch.__version__}', 'threads': a.threads, 'epochs': a.epochs, 'batchSize': a.batch_size,
        'lr': a.lr, 'optimizer': a.optimizer, 'weightDecay': a.weight_decay, 'labelSmoothing': a.label_smoothing, 'tta': a.tta, 'filters': filters, 'pools': pools, 'augment': not a.no_augment, 'crop': a.crop, 'loadSeconds': load_s, 'trainSeconds': train_s,
        'wallSeconds': time.time() - t_all + load_s, 'imagesPerSec': n * a.epochs / train_s, 'testAccuracy': tta_acc, 'singleViewAccuracy': rows[-1]['testAccuracy'], 'perEpoch': rows,
    }
    if a.json:
        print(json.dumps(result))


if __name__ == '__main__':
    main()
