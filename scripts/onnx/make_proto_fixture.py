"""Writes test/fixtures/onnx/proto_cases.onnx and .json: a small ONNX file that exercises
the wire format (negative int64 attributes, packed and unpacked fields, raw_data and typed
fields, float16 and int64 initializers, symbolic dims, metadata), and what it holds, for
test/models/onnx_proto.test.ts. Run with Debian's python3-onnx: /usr/bin/python3 scripts/onnx/make_proto_fixture.py
"""
import json, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto

w = np.arange(2 * 3 * 3 * 3, dtype=np.float32).reshape(2, 3, 3, 3) / 10 - 2
shape = np.array([-1, 8], dtype=np.int64)
half = np.array([0.5, -2.0, 65504.0, 1e-4], dtype=np.float16)
typed = helper.make_tensor('typed', TensorProto.FLOAT, [3], [1.5, -0.25, 3.0])  # float_data, not raw
ints32 = helper.make_tensor('ints32', TensorProto.INT32, [2], [-7, 9])
nodes = [
    helper.make_node('Conv', ['x', 'w'], ['c'], name='conv0', pads=[1, 1, 1, 1], strides=[1, 1], group=1),
    helper.make_node('Relu', ['c'], ['r'], name='relu0'),
    helper.make_node('Reshape', ['r', 'shape'], ['y'], name='reshape0'),
    helper.make_node('Softmax', ['y'], ['p'], name='softmax0', axis=-1),
    helper.make_node('LeakyRelu', ['p'], ['q'], name='lrelu0', alpha=0.125),
]
graph = helper.make_graph(nodes, 'proto_cases',
    [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['batch', 3, 2, 2])],
    [helper.make_tensor_value_info('q', TensorProto.FLOAT, ['batch', 8])],
    initializer=[numpy_helper.from_array(w, 'w'), numpy_helper.from_array(shape, 'shape'), numpy_helper.from_array(half, 'half'), typed, ints32])
model = helper.make_model(graph, producer_name='convkit-fixture', opset_imports=[helper.make_opsetid('', 13)])
model.ir_version = 7
helper.set_model_props(model, {'author': 'convkit', 'layout': 'NCHW'})
onnx.checker.check_model(model)
onnx.save(model, 'test/fixtures/onnx/proto_cases.onnx')
json.dump({
    'irVersion': 7, 'opset': 13, 'producerName': 'convkit-fixture', 'metadata': {'author': 'convkit', 'layout': 'NCHW'},
    'nodes': [[n.name, n.op_type, list(n.input), list(n.output)] for n in nodes],
    'w': w.ravel().tolist(), 'wDims': list(w.shape), 'shape': shape.tolist(), 'half': half.astype(np.float32).tolist(),
    'typed': [1.5, -0.25, 3.0], 'ints32': [-7, 9],
    'input': ['batch', 3, 2, 2], 'output': ['batch', 8],
}, open('test/fixtures/onnx/proto_cases.json', 'w'))
print('wrote test/fixtures/onnx/proto_cases.onnx')
