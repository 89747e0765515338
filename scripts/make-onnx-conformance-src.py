#!/usr/bin/python3
"""
Write test/fixtures/onnx/conformance/cases_src.{json,bin}: ONNX's node test cases as a newer ONNX
defines them (opsets 18 to 28 included), generated from the case scripts of an ONNX source checkout
(onnx/backend/test/case/node/*.py, Apache-2.0) with Debian's python3-onnx 1.12, which cannot
generate them itself. Each script's `expect(node, inputs, outputs, name, ...)` is replaced by one
that records the case; the model gets the opset the script names, or else the newest version of its
operator (read from the checkout's docs/Operators.md), as ONNX's own generator does. Shims stand in
for what 1.12 lacks: onnx.reference's op_resize and op_pool_common helpers (loaded from the
checkout), helper.tensor_dtype_to_np_dtype / np_dtype_to_tensor_dtype, and ml_dtypes (cases that
need its types fail and are skipped, as are cases with sequences, optionals or maps).

Kept: the cases whose operators are all in OPS (what convkit's graph interpreter implements; a case
convkit refuses is listed in test/models/onnx_conformance.test.ts), each with at most 100 kB of data.

Run:  /usr/bin/python3 scripts/make-onnx-conformance-src.py ONNX_SRC
(ONNX_SRC: the root of a checkout of https://github.com/onnx/onnx; the committed cases are from its
main branch at 1.23.0 development, December 2026.) Format: scripts/onnx/case_store.py.
"""
import glob, importlib.util, os, re, sys, types
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'scripts', 'onnx'))
from case_store import Store  # noqa: E402  (first: it puts back numpy's aliases onnx 1.12 needs)
import json  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnx.mapping
import onnx.numpy_helper as nh
from onnx import TensorProto, helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SRC = sys.argv[1] if len(sys.argv) > 1 else sys.exit('usage: make-onnx-conformance-src.py ONNX_SRC')
NODE_DIR = os.path.join(SRC, 'onnx', 'backend', 'test', 'case', 'node')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'onnx', 'conformance')
LIMIT = 100 * 1024
OPS = set(json.load(open(os.path.join(ROOT, 'scripts', 'onnx', 'graph_ops.json'))))

# Newest version of each operator (docs/Operators.md's table: name, then its versions).
VERSIONS = {}
for line in open(os.path.join(SRC, 'docs', 'Operators.md'), encoding='utf8'):
    m = re.match(r'\|<a href="#(\w+)">\w+</a>\|(.*?)\|', line)
    if m:
        VERSIONS[m.group(1)] = max(int(v) for v in re.findall(r'>(\d+)<', m.group(2)))

# ---- shims for what onnx 1.12 lacks
REF = os.path.join(SRC, 'onnx', 'reference')
ref = types.ModuleType('onnx.reference'); ref.__path__ = [REF]; sys.modules['onnx.reference'] = ref
refops = types.ModuleType('onnx.reference.ops'); refops.__path__ = [os.path.join(REF, 'ops')]; sys.modules['onnx.reference.ops'] = refops
oprun = types.ModuleType('onnx.reference.op_run')
oprun.OpRun = type('OpRun', (), {})
oprun.RuntimeTypeError = type('RuntimeTypeError', (Exception,), {})
sys.modules['onnx.reference.op_run'] = oprun
mld = types.ModuleType('ml_dtypes')
for n in ['bfloat16', 'float8_e4m3fn', 'float8_e4m3fnuz', 'float8_e5m2', 'float8_e5m2fnuz', 'int4', 'uint4', 'float4_e2m1fn', 'float8_e8m0fnu', 'int2', 'uint2']:
    setattr(mld, n, type('Unsupported_' + n, (), {}))
sys.modules['ml_dtypes'] = mld
if not hasattr(helper, 'tensor_dtype_to_np_dtype'):
    helper.tensor_dtype_to_np_dtype = lambda t: onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[t]
if not hasattr(helper, 'np_dtype_to_tensor_dtype'):
    helper.np_dtype_to_tensor_dtype = lambda d: onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[np.dtype(d)]
if not hasattr(nh, 'create_random_int'):
    def create_random_int(input_shape, dtype, seed=1):
        # As newer onnx's: seeded uniform integers over the type's range clipped to int32's.
        np.random.seed(seed)
        info, i32 = np.iinfo(dtype), np.iinfo(np.int32)
        return np.random.randint(max(info.min, i32.min), min(info.max, i32.max), size=input_shape).astype(dtype)
    nh.create_random_int = create_random_int
for n in ['to_float8e8m0']:
    if not hasattr(nh, n):
        def missing(*a, _n=n, **k):
            raise NotImplementedError(_n)
        setattr(nh, n, missing)


class Base:
    pass


store = Store()
cases, skipped, seen = [], {}, set()


def value_info(arr, name, type_proto):
    if type_proto is not None:
        return helper.make_value_info(name, type_proto)
    if isinstance(arr, TensorProto):
        return helper.make_tensor_value_info(name, arr.data_type, list(arr.dims))
    if not isinstance(arr, np.ndarray) or arr.dtype.kind in 'OUSV':
        return None
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(arr.dtype), arr.shape)


def expect(node, inputs, outputs, name, **kw):
    if name in seen:
        return
    seen.add(name)
    if node.op_type not in OPS or node.domain not in ('', 'ai.onnx'):
        return
    present_in = [x for x in node.input if x != '']
    present_out = [x for x in node.output if x != '']
    itp = kw.pop('input_type_protos', [None] * len(inputs))
    otp = kw.pop('output_type_protos', [None] * len(outputs))
    inputs = [np.asarray(a) if isinstance(a, np.generic) else a for a in inputs]
    outputs = [np.asarray(a) if isinstance(a, np.generic) else a for a in outputs]
    ivi = [value_info(a, n, t) for a, n, t in zip(inputs, present_in, itp)]
    ovi = [value_info(a, n, t) for a, n, t in zip(outputs, present_out, otp)]
    if any(v is None for v in ivi + ovi):
        skipped[name] = 'a value that is not a tensor'
        return
    arrays = [nh.to_array(a) if isinstance(a, TensorProto) else a for a in list(inputs) + list(outputs)]
    if sum(a.nbytes for a in arrays) > LIMIT:
        skipped[name] = 'over 100 kB of data'
        return
    opsets = kw.get('opset_imports') or [helper.make_operatorsetid('', VERSIONS[node.op_type])]
    model = helper.make_model(helper.make_graph([node], name, ivi, ovi), producer_name='backend-test', opset_imports=opsets)
    entries = [store.tensor_entry(vi.name, vi.type.tensor_type.elem_type, a) for vi, a in zip(ivi + ovi, arrays)]
    ni = len(ivi)
    opset = max((o.version for o in model.opset_import if o.domain in ('', 'ai.onnx')), default=0)
    cases.append({'name': name, 'opset': opset, 'ops': [node.op_type], 'model': store.put_bytes(model.SerializeToString()),
                  'inputs': entries[:ni] if all(e is not None for e in entries[:ni]) else None,
                  'outputs': entries[ni:] if all(e is not None for e in entries[ni:]) else None})


def load_helper(modname):
    spec = importlib.util.spec_from_file_location('case_helper_' + modname, os.path.join(NODE_DIR, modname + '.py'))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def helper_import(m):
    names = [n.strip() for n in m.group(2).strip('()').split(',') if n.strip()]
    return f'_h = _load_helper({m.group(1)!r}); ' + '; '.join(f"{n.split(' as ')[-1]} = _h.{n.split(' as ')[0]}" for n in names)


for f in sorted(glob.glob(os.path.join(NODE_DIR, '*.py'))):
    base = os.path.basename(f)[:-3]
    if base.startswith('_') or base == 'pool_op_common':
        continue
    src = open(f, encoding='utf8').read()
    src = re.sub(r'^from onnx\.backend\.test\.case\.base import Base\s*$', '', src, flags=re.M)
    src = re.sub(r'^from onnx\.backend\.test\.case\.node import expect.*$', '', src, flags=re.M)
    src = re.sub(r'^from onnx\.backend\.test\.case\.node\.(\w+) import (.*)$', helper_import, src, flags=re.M)
    ns = {'Base': Base, 'expect': expect, '_load_helper': load_helper, '__name__': 'case_' + base}
    try:
        exec(compile(src, f, 'exec'), ns)
    except Exception as e:
        skipped[base] = 'the script does not load with onnx 1.12: ' + repr(e)[:120]
        continue
    for cls in [v for v in ns.values() if isinstance(v, type) and issubclass(v, Base) and v is not Base]:
        for k in sorted(dir(cls)):
            if k.startswith('export'):
                try:
                    getattr(cls, k)()
                except Exception as e:
                    skipped[f'{base}.{cls.__name__}.{k}'] = repr(e)[:120]

meta = {
    'source': 'ONNX node test cases generated from the case scripts of an ONNX checkout (onnx/backend/test/case/node), https://github.com/onnx/onnx',
    'licence': 'Apache-2.0 (ONNX, https://github.com/onnx/onnx); see test/fixtures/onnx/conformance/README.md',
    'script': 'scripts/make-onnx-conformance-src.py',
    'skipped': skipped,
    'cases': cases,
}
store.write(OUT, 'cases_src', meta)
print('%d cases, %d skipped, %d bytes' % (len(cases), len(skipped), len(store.blob)))
