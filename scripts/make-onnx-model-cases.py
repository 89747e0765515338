#!/usr/bin/python3
"""
Write test/fixtures/onnx/conformance/models.{json,bin}: ONNX's own model-level test cases, the
ones its backend test runner runs besides the node cases (onnx/backend/test/data in ONNX's
repository, Apache-2.0):
  light/              the classic ImageNet CNNs (AlexNet, DenseNet-121, Inception v1/v2, ResNet-50,
                      ShuffleNet, SqueezeNet, VGG-19, ZFNet-512) with their weights replaced by
                      ConstantOfShape nodes; ONNX's runner feeds arange(n) / n reshaped to the
                      input's shape (the test generates it: `inputs: "arange"`) and compares with
                      the stored output (rtol 1e-3 and atol 1e-7 there);
  pytorch-converted/  PyTorch modules exported at opsets 6 to 12 (Conv1d/2d/3d, pools, PReLU, ...);
  pytorch-operator/   PyTorch operators exported at opsets 6 to 9;
  simple/             small hand-written models (Expand with a shape input, sequences, strings, Gradient).

Run with Debian's python3-onnx:  /usr/bin/python3 scripts/make-onnx-model-cases.py DATA
DATA is onnx/backend/test/data of a checkout of https://github.com/onnx/onnx (the committed cases are
from its main branch at onnx 1.23.0 development, December 2026). Cases over 256 kB of tensors are left out
(listed in `omitted`) to keep the fixture small. Tensors are stored as by make-onnx-conformance.py
(scripts/onnx/case_store.py); a case whose data cannot be stored (strings) keeps its model with
"inputs"/"outputs" null, and the test expects convkit to refuse it.
"""
import glob, os, sys
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'scripts', 'onnx'))
from case_store import Store, elem_of, read_pb  # noqa: E402  (first: it puts back numpy's aliases onnx 1.12 needs)
import onnx  # noqa: E402

OUT = os.path.join(ROOT, 'test', 'fixtures', 'onnx', 'conformance')
DATA = sys.argv[1] if len(sys.argv) > 1 else sys.exit('usage: make-onnx-model-cases.py <onnx>/onnx/backend/test/data')
LIMIT = 256 * 1024

store = Store()
cases, omitted = [], []


def opset_of(m):
    return max((o.version for o in m.opset_import if o.domain in ('', 'ai.onnx')), default=0)


def add(kind, name, m, xs, ys):
    ops = sorted(set(n.op_type for n in m.graph.node))
    inits = set(t.name for t in m.graph.initializer)
    ins = [vi for vi in m.graph.input if vi.name not in inits]
    if xs == 'arange':
        inputs = 'arange'
    else:
        inputs = [store.tensor_entry(vi.name, elem_of(vi), a) if a is not None else None for vi, a in zip(ins, xs)]
        inputs = inputs if all(i is not None for i in inputs) and len(inputs) == len(ins) else None
    outputs = [store.tensor_entry(vi.name, elem_of(vi), a) if a is not None else None for vi, a in zip(m.graph.output, ys)]
    cases.append({'name': name, 'kind': kind, 'opset': opset_of(m), 'domains': sorted(set(o.domain for o in m.opset_import if o.domain not in ('', 'ai.onnx'))),
                  'ops': ops, 'model': store.put_bytes(m.SerializeToString()), 'inputs': inputs,
                  'outputs': outputs if all(o is not None for o in outputs) and len(outputs) == len(m.graph.output) else None})


key = lambda p: int(p.rsplit('_', 1)[1][:-3])
for kind in ('pytorch-converted', 'pytorch-operator', 'simple'):
    for d in sorted(glob.glob(os.path.join(DATA, kind, '*'))):
        name = os.path.basename(d)
        ds = os.path.join(d, 'test_data_set_0')
        xs = [read_pb(p) for p in sorted(glob.glob(os.path.join(ds, 'input_*.pb')), key=key)]
        ys = [read_pb(p) for p in sorted(glob.glob(os.path.join(ds, 'output_*.pb')), key=key)]
        if sum(a.nbytes for a in xs + ys if a is not None) > LIMIT:
            omitted.append(name)
            continue
        add(kind, name, onnx.load(os.path.join(d, 'model.onnx')), xs, ys)
for f in sorted(glob.glob(os.path.join(DATA, 'light', 'light_*.onnx'))):
    base = f[:-5]
    ys = [read_pb(p) for p in sorted(glob.glob(base + '_output_*.pb'), key=key)]
    add('light', 'test_' + os.path.basename(base)[len('light_'):], onnx.load(f), 'arange', ys)

meta = {
    'source': 'ONNX model test cases (onnx/backend/test/data/{light,pytorch-converted,pytorch-operator,simple}) from https://github.com/onnx/onnx',
    'licence': 'Apache-2.0 (ONNX, https://github.com/onnx/onnx); see test/fixtures/onnx/conformance/README.md',
    'script': 'scripts/make-onnx-model-cases.py',
    'omitted': omitted,
    'cases': cases,
}
store.write(OUT, 'models', meta)
print('%d cases (%d omitted: %s), %d bytes of models and tensors' % (len(cases), len(omitted), ', '.join(omitted), len(store.blob)))
