"""
How the ONNX conformance fixtures store tensors and models (used by scripts/make-onnx-conformance.py
and scripts/make-onnx-model-cases.py; format in test/fixtures/onnx/conformance/README.md): one .bin
of little-endian arrays and model bytes, each 8-byte aligned, described by entries of a .json.
"""
import json
import os

import numpy as np
# onnx 1.12 (Debian's python3-onnx) and its case scripts use numpy aliases newer numpy removed:
# put back before onnx is imported (importing this module first does it).
for _n, _v in [('float', float), ('int', int), ('bool', bool), ('object', object), ('complex', complex), ('str', str)]:
    try:
        setattr(np, _n, _v)
    except Exception:
        pass
import onnx  # noqa: E402
import onnx.numpy_helper as nh  # noqa: E402
from onnx import TensorProto  # noqa: E402


class Store:
    def __init__(self):
        self.blob = bytearray()

    def _align(self):
        while len(self.blob) % 8:
            self.blob.append(0)

    def put(self, arr, store):
        off = len(self.blob)
        self.blob.extend(np.ascontiguousarray(arr.ravel(), dtype={'f32': '<f4', 'f64': '<f8', 'i32': '<i4'}[store]).tobytes())
        self._align()
        return off

    def put_bytes(self, b):
        off = len(self.blob)
        self.blob.extend(b)
        self._align()
        return {'offset': off, 'length': len(b)}

    def write(self, out_dir, name, meta):
        """Write <name>.bin (the blob) and <name>.json (meta, compact) into out_dir."""
        with open(os.path.join(out_dir, name + '.bin'), 'wb') as f:
            f.write(bytes(self.blob))
        with open(os.path.join(out_dir, name + '.json'), 'w') as f:
            json.dump(meta, f, indent=None, separators=(',', ':'))
            f.write('\n')

    def tensor_entry(self, name, elem, a):
        """A stored tensor: elem is the ONNX element type the model declares (None: not storable)."""
        if elem == TensorProto.BFLOAT16 and a.dtype == np.uint16:  # the generator stores bfloat16 as its bits
            a = (a.astype(np.uint32) << 16).view(np.float32)
        if a.dtype.kind == 'f':
            store = 'f64' if a.dtype == np.float64 else 'f32'
        elif a.dtype.kind in 'iub':
            v = a.astype(np.int64)
            store = 'i32' if (v.size == 0 or (v.min() >= -2**31 and v.max() < 2**31)) else 'f64'
            a = v
        else:
            return None
        return {'name': name, 'elemType': int(elem), 'shape': [int(d) for d in a.shape], 'store': store, 'offset': self.put(a, store), 'count': int(a.size)}


def elem_of(vi):
    t = vi.type
    return t.tensor_type.elem_type if t.HasField('tensor_type') else 0


def read_pb(path):
    t = onnx.TensorProto()
    with open(path, 'rb') as f:
        t.ParseFromString(f.read())
    try:
        return nh.to_array(t)
    except Exception:
        return None
