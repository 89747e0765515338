#!/usr/bin/python3
"""
Write test/fixtures/onnx/conformance/cases.{json,bin}: ONNX's own node test cases (model.onnx +
test_data_set_0) for the operators the graph interpreter implements, which
test/models/onnx_conformance.test.ts runs through loadOnnx on every backend.

Run with Debian's python3-onnx (1.12):   /usr/bin/python3 scripts/make-onnx-conformance.py [DIR]
DIR holds the generated cases (DIR/node/<case>/...); when it has none they are generated
there first with onnx's own generator (`backend-test-tools generate-data`). onnx 1.12's
generator uses numpy aliases (np.float, np.int, np.bool, np.object) that newer numpy removed:
scripts/onnx/case_store.py puts them back, imported before onnx.

Format: cases.json lists the cases (name, opset, ops, inputs, outputs: name, ONNX
element type, shape, and where the values are in cases.bin: byte offset, count and
storage 'f32' | 'f64' | 'i32'); the model bytes are in the .bin too. float, float16 and
bfloat16 values are stored as float32 (exact), double as float64, integers and bool as
int32 (or float64 where an int64 value does not fit). A case whose test data cannot be
stored (strings, sequences, optionals) keeps its model and readable inputs, with
"outputs": null; the test expects convkit to refuse it.

Two cases are regenerated smaller with onnx's own reference function (same node, same
reference, input 1x3x8x8x8 instead of 1x3x32x32x32), so that the fixture stays small:
test_averagepool_3d_default and test_maxpool_3d_default.

ONNX's test cases are Apache-2.0 (https://github.com/onnx/onnx); see test/fixtures/onnx/conformance/README.md.
"""
import glob, os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'scripts', 'onnx'))
from case_store import Store, elem_of, read_pb  # noqa: E402  (first: it puts back numpy's aliases onnx 1.12 needs)
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnx.numpy_helper as nh
from onnx import helper, TensorProto

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'onnx', 'conformance')
DATA = sys.argv[1] if len(sys.argv) > 1 else '/tmp/onnxdata'

# The operators of issue 15 (the graph interpreter implements at least these).
OPS = set('''Conv ConvTranspose Gemm MatMul Add Sub Mul Div Pow Sqrt Neg Abs Relu LeakyRelu PRelu Elu Selu
Sigmoid HardSigmoid HardSwish Tanh Softplus Clip Erf Softmax LogSoftmax MaxPool AveragePool GlobalAveragePool
GlobalMaxPool BatchNormalization InstanceNormalization LayerNormalization LRN Dropout Flatten Reshape Transpose
Concat Split Slice Pad Resize Upsample Squeeze Unsqueeze Identity Constant ReduceMean ReduceSum ReduceMax Shape
Gather Cast ConstantOfShape Expand Equal Where Range'''.split())
# Further operators the interpreter implements, tested the same way (counted apart in the docs).
EXTRA_OPS = set('''If Exp Log Reciprocal CastLike Greater Less GreaterOrEqual LessOrEqual Not And Or Xor IsNaN IsInf Max Min
Sum Mean Mod Floor Ceil Sign Sin Cos Tan Softsign ThresholdedRelu Celu Shrink ArgMax ArgMin Size Tile DepthToSpace
SpaceToDepth GatherElements Trilu CumSum ReduceMin ReduceL1 ReduceL2 ReduceSumSquare ReduceLogSum ReduceLogSumExp
Round Asin Acos Atan Sinh Cosh Asinh Acosh Atanh Hardmax OneHot EyeLike NonZero TopK GatherND ScatterElements Scatter
ScatterND Compress NegativeLogLikelihoodLoss SoftmaxCrossEntropyLoss'''.split())

if not glob.glob(os.path.join(DATA, 'node', '*')):
    from onnx.backend.test import cmd_tools
    sys.argv = ['backend-test-tools', 'generate-data', '-o', DATA]
    cmd_tools.main()

store = Store()
blob = store.blob
tensor_entry = store.tensor_entry


def regenerated_pool_3d(kind):
    from onnx.backend.test.case.node.pool_op_common import get_output_shape, pool
    rng = np.random.RandomState(0)
    x = rng.randn(1, 3, 8, 8, 8).astype(np.float32)
    out_shape = get_output_shape('VALID', x.shape[2:], [2, 2, 2], [1, 1, 1])
    y = pool(x, x.shape, [2, 2, 2], [1, 1, 1], out_shape, [0, 0, 0], 'MAX' if kind == 'MaxPool' else 'AVG').astype(np.float32)
    node = helper.make_node(kind, ['x'], ['y'], kernel_shape=[2, 2, 2])
    graph = helper.make_graph([node], 'g', [helper.make_tensor_value_info('x', TensorProto.FLOAT, x.shape)],
                              [helper.make_tensor_value_info('y', TensorProto.FLOAT, y.shape)])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 12)])
    return m, [x], [y]


cases = []
omitted = []
for d in sorted(glob.glob(os.path.join(DATA, 'node', '*'))):
    name = os.path.basename(d)
    m = onnx.load(os.path.join(d, 'model.onnx'))
    ops = sorted(set(n.op_type for n in m.graph.node))
    if not ops or not all(o in OPS or o in EXTRA_OPS for o in ops):
        continue
    opset = max((o.version for o in m.opset_import if o.domain in ('', 'ai.onnx')), default=0)
    note = None
    if name in ('test_averagepool_3d_default', 'test_maxpool_3d_default'):
        m, xs, ys = regenerated_pool_3d(ops[0])
        opset = 12
        note = 'regenerated with onnx.backend.test.case.node.pool_op_common.pool on a 1x3x8x8x8 input (the original is 1x3x32x32x32)'
    else:
        ds = os.path.join(d, 'test_data_set_0')
        key = lambda p: int(p.rsplit('_', 1)[1][:-3])
        xs = [read_pb(p) for p in sorted(glob.glob(os.path.join(ds, 'input_*.pb')), key=key)]
        ys = [read_pb(p) for p in sorted(glob.glob(os.path.join(ds, 'output_*.pb')), key=key)]
    issue = all(o in OPS for o in ops)
    if not issue and sum(a.nbytes for a in xs + ys if a is not None) > 65536:
        omitted.append(name)  # a large case of the further operators: left out to keep the fixture small
        continue
    inits = set(t.name for t in m.graph.initializer)
    ins = [vi for vi in m.graph.input if vi.name not in inits]
    inputs = []
    for vi, a in zip(ins, xs):
        declared = [dd.dim_value for dd in vi.type.tensor_type.shape.dim] if vi.type.HasField('tensor_type') else None
        if a is not None and declared and vi.name == 'like' and name.startswith('test_castlike') and list(a.shape) != declared:
            # onnx 1.12 writes CastLike's 'like' input as shape [1] where the model declares
            # another shape; CastLike reads only its element type, so it is stored as declared.
            a = np.broadcast_to(a.ravel()[:1], declared).copy()
            note = "'like' stored with the model's declared shape (the generator wrote shape [1]; CastLike reads only its type)"
        inputs.append(tensor_entry(vi.name, elem_of(vi), a) if a is not None else None)
    outputs = []
    for vi, a in zip(m.graph.output, ys):
        outputs.append(tensor_entry(vi.name, elem_of(vi), a) if a is not None else None)
    model_bytes = m.SerializeToString()
    off = len(blob)
    blob.extend(model_bytes)
    while len(blob) % 8:
        blob.append(0)
    case = {'name': name, 'opset': int(opset), 'ops': ops, 'issueOps': issue, 'model': {'offset': off, 'length': len(model_bytes)},
            'inputs': inputs if all(i is not None for i in inputs) and len(inputs) == len(ins) else None,
            'outputs': outputs if all(o is not None for o in outputs) and len(outputs) == len(m.graph.output) else None}
    if note:
        case['note'] = note
    cases.append(case)

meta = {
    'source': 'ONNX node test cases (onnx/backend/test/data/node), generated by onnx %s backend-test-tools generate-data' % onnx.__version__,
    'onnx': onnx.__version__,
    'licence': 'Apache-2.0 (ONNX, https://github.com/onnx/onnx); see test/fixtures/onnx/conformance/README.md',
    'script': 'scripts/make-onnx-conformance.py',
    'ops': sorted(OPS),
    'extraOps': sorted(EXTRA_OPS),
    'omitted': omitted,
    'cases': cases,
}
store.write(OUT, 'cases', meta)
print('%d cases, %d bytes of models and tensors' % (len(cases), len(blob)))
