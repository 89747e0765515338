#!/usr/bin/python3
"""Check ONNX files written by convkit's exporter with python-onnx (Debian's python3-onnx).

For every .onnx file in the given folders (or the given files): onnx.checker.check_model
with full_check (which also runs strict shape inference), then the header convkit promises:
producer 'convkit', opset 13..17 with IR version 7 (opset 13, 14) or 8 (15+), the layout in
metadata_props 'convkit.inputLayout', a symbolic 'batch' first dimension on every input and
output, and float32 initializers stored as raw_data. Exits 1 if any file fails.

Write the files first, e.g. with the export test:
    CONVKIT_ONNX_EXPORT_DIR=/tmp/convkit-onnx npx vitest run test/models/onnx_export.test.ts
    /usr/bin/python3 scripts/onnx/check_exported.py /tmp/convkit-onnx
The test suite itself never needs Python.
"""
import os
import sys

import onnx
from onnx import checker


def check(path):
    m = onnx.load(path)
    checker.check_model(m, full_check=True)
    problems = []
    if m.producer_name != 'convkit':
        problems.append(f"producer_name {m.producer_name!r}, expected 'convkit'")
    opset = [o.version for o in m.opset_import if o.domain in ('', 'ai.onnx')]
    if len(opset) != 1 or not 13 <= opset[0] <= 17:
        problems.append(f'opset {opset}, expected one of 13..17')
    else:
        want_ir = 7 if opset[0] < 15 else 8
        if m.ir_version != want_ir:
            problems.append(f'ir_version {m.ir_version}, expected {want_ir} for opset {opset[0]}')
    meta = {p.key: p.value for p in m.metadata_props}
    if meta.get('convkit.inputLayout') not in ('NHWC', 'NCHW'):
        problems.append(f"metadata convkit.inputLayout {meta.get('convkit.inputLayout')!r}, expected 'NHWC' or 'NCHW'")
    for v in list(m.graph.input) + list(m.graph.output):
        dims = v.type.tensor_type.shape.dim
        if not dims or dims[0].dim_param != 'batch':
            problems.append(f"{v.name}: first dimension is not the symbolic 'batch'")
    for t in m.graph.initializer:
        if t.data_type == onnx.TensorProto.FLOAT and not t.raw_data and any(t.dims):
            problems.append(f'initializer {t.name}: float32 data not in raw_data')
    if problems:
        raise ValueError('; '.join(problems))
    return opset[0], len(m.graph.node), len(m.graph.initializer)


def main(args):
    if not args:
        print(__doc__)
        return 2
    files = []
    for a in args:
        if os.path.isdir(a):
            files += sorted(os.path.join(a, f) for f in os.listdir(a) if f.endswith('.onnx'))
        else:
            files.append(a)
    if not files:
        print(f'no .onnx files in {args}')
        return 1
    failed = 0
    for f in files:
        try:
            opset, nodes, inits = check(f)
            print(f'ok    {f} (opset {opset}, {nodes} nodes, {inits} initializers)')
        except Exception as e:  # noqa: BLE001 - report every file
            failed += 1
            print(f'FAIL  {f}: {e}')
    print(f'{len(files) - failed} of {len(files)} files pass onnx.checker (onnx {onnx.__version__})')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
