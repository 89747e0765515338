/**
 * Bad input gets a clear error from every op family (convolution, pooling, matmul,
 * normalisation, losses): wrong rank, channel mismatch, zero / negative / non-integer
 * strides and sizes, non-integer shapes, a kernel larger than the padded input, and a
 * dtype mismatch. Each message names the op, the argument, what was received and what
 * was expected. One table, so a family that forgets a check shows up as a missing row.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

const z = (shape: number[], dtype: ck.DType = 'float32') => ck.zeros(shape, dtype);
const x4 = z([1, 5, 5, 3]);

type Row = [string, () => unknown, RegExp];

const rank: Row[] = [
  ['conv1d x', () => ck.conv1d(z([5, 3]), z([3, 3, 2])), /conv1d: x must have rank 3 \(N,L,C\), received shape \[5, 3\]/],
  ['conv2d x', () => ck.conv2d(z([5, 5, 3]), z([3, 3, 3, 2])), /conv2d: x must have rank 4 \(N,H,W,C\), received shape \[5, 5, 3\]/],
  ['conv3d w', () => ck.conv3d(z([1, 3, 3, 3, 2]), z([1, 1, 2, 2])), /conv3d: w must have rank 5 \(KD,KH,KW,C\/groups,F\), received shape \[1, 1, 2, 2\]/],
  ['conv2dTranspose x', () => ck.conv2dTranspose(z([5, 5, 3]), z([3, 3, 4, 3])), /conv2dTranspose: x must have rank 4 \(N,H,W,C\), received shape \[5, 5, 3\]/],
  ['depthwiseConv2d w', () => ck.depthwiseConv2d(x4, z([3, 3, 3])), /depthwiseConv2d: w must have rank 4 \(KH,KW,C,M\), received shape \[3, 3, 3\]/],
  ['convolve2d k', () => ck.convolve2d(x4, z([3, 3])), /convolve2d: k must have rank 4 \(KH,KW,C\/groups,F\), received shape \[3, 3\]/],
  ['maxPool2d', () => ck.maxPool2d(z([5, 5, 3]), 2), /maxPool2d: x must have rank 4 \(N,H,W,C\), received shape \[5, 5, 3\]/],
  ['avgPool2d', () => ck.avgPool2d(z([5, 5]), 2), /avgPool2d: x must have rank 4 \(N,H,W,C\), received shape \[5, 5\]/],
  ['minPool2d', () => ck.minPool2d(z([1, 5, 5, 3, 1]), 2), /minPool2d: x must have rank 4 \(N,H,W,C\), received shape \[1, 5, 5, 3, 1\]/],
  ['globalAvgPool2d', () => ck.globalAvgPool2d(z([5, 3])), /globalAvgPool2d: x must have rank 4 \(N,H,W,C\), received shape \[5, 3\]/],
  ['globalMaxPool2d', () => ck.globalMaxPool2d(z([5, 3])), /globalMaxPool2d: x must have rank 4 \(N,H,W,C\), received shape \[5, 3\]/],
  ['matmul a', () => ck.matmul(z([3]), z([3, 2])), /matmul: a must have rank 2 or 3, received shape \[3\]/],
  ['matmul b', () => ck.matmul(z([2, 3]), z([1, 1, 3, 2])), /matmul: b must have rank 2 or 3, received shape \[1, 1, 3, 2\]/],
  ['batchNorm', () => ck.batchNorm(z([3])), /batchNorm: x must have rank >= 2 with channels last \(\[N,C\] or \[N,H,W,C\]\), received shape \[3\]/],
  ['lrn', () => ck.lrn(ck.scalar(1)), /lrn: x must have a channel axis \(last\), received a scalar/],
  ['softmaxCrossEntropy', () => ck.softmaxCrossEntropy(z([3]), ck.tensor([0], [1], 'int32')), /softmaxCrossEntropy: logits must have rank 2 \[N, K\], received shape \[3\]/],
  ['tripletLoss', () => ck.tripletLoss(z([3]), z([3]), z([3])), /tripletLoss: anchor, positive and negative must have rank 2 \[N, D\], received shape \[3\]/],
  ['gram', () => ck.gram(z([2, 3])), /gram: x must have rank 4 \[N, H, W, C\], received shape \[2, 3\]/],
  ['contentCost', () => ck.contentCost(z([2, 3]), z([2, 3])), /contentCost: aC must have rank 4 \[N, H, W, C\], received shape \[2, 3\]/],
  ['localizationLoss', () => ck.localizationLoss(z([2, 4]), z([2, 4])), /localizationLoss: pred and target must have shape \[N, 5 \+ K\].*received \[2, 4\]/],
];

const channels: Row[] = [
  ['conv1d', () => ck.conv1d(z([1, 5, 3]), z([3, 2, 4])), /conv1d: channel mismatch: w of shape \[3, 2, 4\] \(KL,C\/groups,F\) has 2 input channels per group, expected x's C \/ groups = 3 \/ 1 = 3 \(x shape \[1, 5, 3\]\)/],
  ['conv2d', () => ck.conv2d(x4, z([3, 3, 2, 4])), /conv2d: channel mismatch: w of shape \[3, 3, 2, 4\].*expected x's C \/ groups = 3 \/ 1 = 3 \(x shape \[1, 5, 5, 3\]\)/],
  ['conv3d', () => ck.conv3d(z([1, 3, 3, 3, 2]), z([1, 1, 1, 3, 2])), /conv3d: channel mismatch: w of shape \[1, 1, 1, 3, 2\] \(KD,KH,KW,C\/groups,F\) has 3.*expected x's C \/ groups = 2 \/ 1 = 2/],
  ['conv2d groups', () => ck.conv2d(z([1, 5, 5, 4]), z([3, 3, 1, 2]), { groups: 3 }), /conv2d: groups \(3\) must divide x's channels C = 4 \(x shape \[1, 5, 5, 4\]\)/],
  ['depthwiseConv2d', () => ck.depthwiseConv2d(x4, z([3, 3, 2, 1])), /depthwiseConv2d: channel mismatch: w of shape \[3, 3, 2, 1\] \(KH,KW,C,M\) has C = 2, x of shape \[1, 5, 5, 3\] has C = 3/],
  ['conv2dTranspose', () => ck.conv2dTranspose(x4, z([3, 3, 4, 2])), /conv2dTranspose: channel mismatch: w of shape \[3, 3, 4, 2\] \(KH,KW,F\/groups,C\) expects C = 2 input channels, x of shape \[1, 5, 5, 3\] has 3/],
  ['convolve2d', () => ck.convolve2d(x4, z([3, 3, 2, 1])), /convolve2d: channel mismatch: w of shape \[3, 3, 2, 1\]/],
  ['conv2d bias', () => ck.conv2d(x4, z([3, 3, 3, 4]), { bias: z([3]) }), /conv2d: bias must have shape \[4\] \(one value per filter\), received shape \[3\]/],
  ['batchNorm gamma', () => ck.batchNorm(x4, z([4])), /batchNorm: gamma must have shape \[3\] \(the channels of x \[1, 5, 5, 3\]\), received \[4\]/],
  ['batchNorm mean', () => ck.batchNorm(x4, null, null, { mean: z([4]), variance: z([3]), training: false }), /batchNorm: mean must have shape \[3\].*received \[4\]/],
  ['layerNorm gamma', () => ck.layerNorm(x4, z([4])), /layerNorm: gamma must have shape \[3\] \(the normalised axes of x \[1, 5, 5, 3\]\), received \[4\]/],
  ['prelu alpha', () => ck.prelu(z([2, 3]), z([2])), /prelu: shapes \[2, 3\] and \[2\] cannot be broadcast together/],
  ['matmul inner', () => ck.matmul(z([2, 3]), z([4, 5])), /matmul: inner dimensions differ: a \[2, 3\] has K=3, b \[4, 5\] has K=4/],
  ['matmul batch', () => ck.matmul(z([2, 3, 4]), z([3, 4, 5])), /matmul: batch sizes differ: a \[2, 3, 4\], b \[3, 4, 5\]/],
  ['meanSquaredError', () => ck.meanSquaredError(z([2, 3]), z([3, 2])), /meanSquaredError: y has shape \[2, 3\] but target has shape \[3, 2\]; they must be equal/],
  ['binaryCrossEntropy', () => ck.binaryCrossEntropy(z([2]), z([3])), /binaryCrossEntropy: p has shape \[2\] but target has shape \[3\]/],
  ['softmaxCrossEntropy sparse', () => ck.softmaxCrossEntropy(z([2, 3]), ck.tensor([0], [1], 'int32')), /int32 labels must have shape \[2\] \(one class index per row of logits \[2, 3\]\), received \[1\]/],
  ['softmaxCrossEntropy dense', () => ck.softmaxCrossEntropy(z([2, 3]), z([2, 4])), /float labels must have the logits' shape \[2, 3\].*received \[2, 4\]/],
  ['tripletLoss', () => ck.tripletLoss(z([2, 3]), z([2, 3]), z([2, 4])), /tripletLoss: anchor has shape \[2, 3\] but negative has shape \[2, 4\]/],
  ['styleLayerCost', () => ck.styleLayerCost(z([1, 2, 2, 3]), z([1, 2, 3, 3])), /styleLayerCost: aS has shape \[1, 2, 2, 3\] but aG has shape \[1, 2, 3, 3\]/],
  ['iou', () => ck.iou(z([2, 3]), z([2, 4])), /iou: a must have shape \[N, 4\] \(x1, y1, x2, y2\), received \[2, 3\]/],
  ['nms scores', () => ck.nms(z([2, 4]), z([3])), /nms: scores must have shape \[2\] \(one per box of boxes \[2, 4\]\), received \[3\]/],
];

const strides: Row[] = [
  ['conv1d zero', () => ck.conv1d(z([1, 5, 2]), z([1, 2, 2]), { strides: 0 }), /conv1d: strides must be positive integers, received \[0\]/],
  ['conv2d negative', () => ck.conv2d(x4, z([3, 3, 3, 1]), { strides: [1, -1] }), /conv2d: strides must be positive integers, received \[1,-1\]/],
  ['conv2d fractional', () => ck.conv2d(x4, z([3, 3, 3, 1]), { strides: 1.5 }), /conv2d: strides must be positive integers, received \[1.5,1.5\]/],
  ['conv2d count', () => ck.conv2d(x4, z([3, 3, 3, 1]), { strides: [1, 1, 1] }), /conv2d: strides must have 2 entries, received \[1,1,1\]/],
  ['conv3d zero', () => ck.conv3d(z([1, 3, 3, 3, 1]), z([1, 1, 1, 1, 1]), { strides: [1, 0, 1] }), /conv3d: strides must be positive integers, received \[1,0,1\]/],
  ['conv2dTranspose zero', () => ck.conv2dTranspose(x4, z([3, 3, 4, 3]), { strides: 0 }), /conv2dTranspose: strides must be positive integers, received \[0,0\]/],
  ['depthwiseConv2d zero', () => ck.depthwiseConv2d(x4, z([3, 3, 3, 1]), { strides: 0 }), /depthwiseConv2d: strides must be positive integers, received \[0,0\]/],
  ['convolve2d negative', () => ck.convolve2d(x4, z([3, 3, 3, 1]), { strides: -2 }), /convolve2d: strides must be positive integers, received \[-2,-2\]/],
  ['conv2d dilation zero', () => ck.conv2d(x4, z([3, 3, 3, 1]), { dilations: 0 }), /conv2d: dilations must be positive integers, received \[0,0\]/],
  ['conv2d padding negative', () => ck.conv2d(x4, z([3, 3, 3, 1]), { padding: -1 }), /conv2d: padding must be non-negative integers, received \[-1\]/],
  ['conv2d groups zero', () => ck.conv2d(x4, z([3, 3, 3, 1]), { groups: 0 }), /conv2d: groups must be a positive integer, received 0/],
  ['maxPool2d stride zero', () => ck.maxPool2d(x4, { size: 2, strides: 0 }), /maxPool2d: strides must be positive integers, received \[0,0\]/],
  ['avgPool2d stride negative', () => ck.avgPool2d(x4, { size: 2, strides: -1 }), /avgPool2d: strides must be positive integers, received \[-1,-1\]/],
  ['minPool2d stride zero', () => ck.minPool2d(x4, { size: 2, strides: 0 }), /minPool2d: strides must be positive integers, received \[0,0\]/],
  ['maxPool2d size zero', () => ck.maxPool2d(x4, { size: 0 }), /maxPool2d: size must be positive integers, received \[0,0\]/],
  ['maxPool2d size fractional', () => ck.maxPool2d(x4, { size: 1.5 }), /maxPool2d: size must be positive integers, received \[1.5,1.5\]/],
  ['lrn size', () => ck.lrn(x4, { size: 0 }), /lrn: size must be a positive integer, received 0/],
];

const shapes: Row[] = [
  ['tensor', () => ck.tensor([1, 2, 3], [1.5, 2]), /shape: every dimension must be a non-negative integer, received \[1.5, 2\]/],
  ['zeros', () => ck.zeros([2, -1]), /every dimension must be a non-negative integer, received \[2, -1\]/],
  ['randomNormal', () => ck.randomNormal([2.5]), /every dimension must be a non-negative integer, received \[2.5\]/],
  ['reshape', () => ck.reshape(z([4]), [2.5, 2]), /reshape: shape: every dimension must be a non-negative integer, received \[2.5, 2\]/],
  ['reshape size', () => ck.reshape(z([2, 3]), [4, 2]), /reshape: cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\] \(8 elements\)/],
  ['conv2d empty image', () => ck.conv2d(z([1, 0, 3, 1]), z([1, 1, 1, 1])), /conv2d: x must have positive integer dimensions \(N,H,W,C\), received shape \[1, 0, 3, 1\]/],
  ['stack axis', () => ck.stack([z([2, 3]), z([2, 3])], 3), /stack: axis 3 is out of range for stacking tensors of rank 2 \(valid: -3 to 2\)/],
  ['stack shapes', () => ck.stack([z([2, 3]), z([3, 2])]), /stack: tensor 1 has shape \[3, 2\], expected \[2, 3\]/],
  ['concat shapes', () => ck.concat([z([2, 3]), z([3, 3])], 1), /concat: tensor 1 has shape \[3, 3\], which does not match \[2, 3\] outside axis 1/],
  ['slice bounds', () => ck.slice(z([4, 2]), [3, 0], [2, 2]), /slice: begin \[3, 0\] size \[2, 2\] is out of bounds for shape \[4, 2\] \(axis 0\)/],
  ['transpose perm', () => ck.transpose(z([2, 3]), [0, 0]), /transpose: perm \[0,0\] is not a permutation of the 2 axes of \[2, 3\]/],
  ['maxPool2d empty image', () => ck.maxPool2d(z([1, 4, 0, 1]), 1), /maxPool2d: x must have positive integer dimensions \(N,H,W,C\), received shape \[1, 4, 0, 1\]/],
];

const kernelTooLarge: Row[] = [
  ['conv1d', () => ck.conv1d(z([1, 2, 2]), z([3, 2, 2])), /conv1d: kernel of size \[3\] \(dilated 3 on axis 0\) is larger than the padded input \(2 = 2 \+ 0 \+ 0 on axis 0\) \(x shape \[1, 2, 2\], axes L; w shape \[3, 2, 2\]\)/],
  ['conv2d', () => ck.conv2d(x4, z([7, 7, 3, 1])), /conv2d: kernel of size \[7, 7\].*larger than the padded input \(5 = 5 \+ 0 \+ 0 on axis 0\).*w shape \[7, 7, 3, 1\]/],
  ['conv2d dilated', () => ck.conv2d(x4, z([3, 3, 3, 1]), { dilations: 3 }), /conv2d: kernel of size \[3, 3\] \(dilated 7 on axis 0\) is larger than the padded input/],
  ['conv3d', () => ck.conv3d(z([1, 2, 5, 5, 1]), z([3, 1, 1, 1, 1])), /conv3d: kernel of size \[3, 1, 1\].*axes D,H,W/],
  // The message names the filter as the caller passed it ([KH,KW,C,M]), not the grouped view.
  ['depthwiseConv2d', () => ck.depthwiseConv2d(x4, z([7, 7, 3, 1])), /depthwiseConv2d: kernel of size \[7, 7\].*w shape \[7, 7, 3, 1\] \(KH,KW,C,M\)\)$/],
  ['convolve2d', () => ck.convolve2d(x4, z([6, 1, 3, 1])), /convolve2d: kernel of size \[6, 1\].*larger than the padded input/],
  ['maxPool2d', () => ck.maxPool2d(x4, { size: 6 }), /maxPool2d: kernel of size \[6, 6\].*window size \[6, 6\]/],
  ['avgPool2d', () => ck.avgPool2d(x4, { size: [6, 2] }), /avgPool2d: kernel of size \[6, 2\]/],
  ['minPool2d', () => ck.minPool2d(x4, { size: 6 }), /minPool2d: kernel of size \[6, 6\]/],
];

const dtypes: Row[] = [
  ['conv1d', () => ck.conv1d(z([1, 5, 2]), z([1, 2, 2], 'float64')), /conv1d: dtypes differ \(x is float32, w is float64\); cast one of them first/],
  ['conv2d int', () => ck.conv2d(z([1, 5, 5, 3], 'int32'), z([3, 3, 3, 1], 'int32')), /conv2d: x must be float32 or float64, received int32/],
  ['conv3d', () => ck.conv3d(z([1, 3, 3, 3, 2]), z([1, 1, 1, 2, 2], 'float64')), /conv3d: dtypes differ \(x is float32, w is float64\)/],
  ['conv2dTranspose', () => ck.conv2dTranspose(x4, z([3, 3, 4, 3], 'float64')), /conv2dTranspose: dtypes differ/],
  ['depthwiseConv2d', () => ck.depthwiseConv2d(x4, z([3, 3, 3, 1], 'float64')), /depthwiseConv2d: dtypes differ/],
  ['conv2d bias', () => ck.conv2d(x4, z([3, 3, 3, 4]), { bias: z([4], 'float64') }), /conv2d: bias is float64 but x and w are float32/],
  ['maxPool2d', () => ck.maxPool2d(z([1, 2, 2, 1], 'int32'), 1), /maxPool2d: x must be float32 or float64, received int32/],
  ['avgPool2d', () => ck.avgPool2d(z([1, 2, 2, 1], 'int32'), 1), /avgPool2d: x must be float32 or float64, received int32/],
  ['globalAvgPool2d', () => ck.globalAvgPool2d(z([1, 2, 2, 1], 'int32')), /globalAvgPool2d: x must be float32 or float64, received int32/],
  ['matmul', () => ck.matmul(z([2, 3]), z([3, 2], 'float64')), /matmul: dtypes differ \(a float32, b float64\)/],
  ['matmul non-tensor', () => ck.matmul([1, 2] as unknown as ck.Tensor, z([2, 3])), /matmul: a must be a Tensor, received an array of length 2/],
  ['batchNorm', () => ck.batchNorm(x4, z([3], 'float64')), /batchNorm: gamma is float64 but x is float32/],
  ['layerNorm', () => ck.layerNorm(x4, z([3], 'float64')), /layerNorm: gamma is float64 but x is float32/],
  ['lrn', () => ck.lrn(z([1, 2, 2, 3], 'int32')), /lrn: x must be float32 or float64, received int32 \[1, 2, 2, 3\]/],
  ['dropout', () => ck.dropout(z([2], 'int32'), 0.5), /dropout: x must be float32 or float64, received int32 \[2\]/],
  ['meanSquaredError', () => ck.meanSquaredError(z([2]), z([2], 'float64')), /meanSquaredError: y is float32 but target is float64; cast one of them first/],
  ['binaryCrossEntropyWithLogits', () => ck.binaryCrossEntropyWithLogits(z([2], 'int32'), z([2], 'int32')), /binaryCrossEntropyWithLogits: logits must be float32 or float64, received int32 \[2\]/],
  ['softmaxCrossEntropy', () => ck.softmaxCrossEntropy(z([2, 3]), z([2, 3], 'float64')), /softmaxCrossEntropy: labels are float64 but logits are float32/],
  ['tripletLoss', () => ck.tripletLoss(z([2, 3]), z([2, 3]), z([2, 3], 'float64')), /tripletLoss: anchor is float32 but negative is float64/],
  ['gram', () => ck.gram(z([1, 2, 2, 3], 'int32')), /gram: x must be float32 or float64, received int32/],
  ['iou', () => ck.iou(z([2, 4]), z([2, 4], 'float64')), /iou: a is float32 but b is float64/],
  ['add', () => ck.add(z([2]), z([2], 'float64')), /add: dtypes differ \(a is float32, b is float64\); cast one of them first/],
  ['where cond', () => ck.where(z([4]), z([2, 3]), z([2, 3])), /where: cond: shapes \[4\] and \[2, 3\] cannot be broadcast together/],
];

// Not a tensor where an op wants one: the op and the argument are named, and what came
// instead (issue 13, part 11), never "Cannot read properties of null".
const N = null as unknown as ck.Tensor;
const U = undefined as unknown as ck.Tensor;
const nonTensors: Row[] = [
  ['add null', () => ck.add(N, z([2])), /^add: a must be a Tensor or a number, received null$/],
  ['add b string', () => ck.add(z([2]), 'a' as unknown as ck.Tensor), /^add: b must be a Tensor or a number, received the string "a"$/],
  ['mul undefined', () => ck.mul(z([2]), U), /^mul: b must be a Tensor or a number, received undefined$/],
  ['relu undefined', () => ck.relu(U), /^relu: x must be a Tensor, received undefined$/],
  ['conv2d string', () => ck.conv2d('a' as unknown as ck.Tensor, z([1, 1, 1, 1])), /^conv2d: x must be a Tensor, received the string "a"$/],
  ['conv2d w null', () => ck.conv2d(x4, N), /^conv2d: w must be a Tensor, received null$/],
  ['neg', () => ck.neg(N), /^neg: x must be a Tensor, received null$/],
  ['exp', () => ck.exp({} as ck.Tensor), /^exp: x must be a Tensor, received a plain object$/],
  ['sign', () => ck.sign(U), /^sign: x must be a Tensor, received undefined$/],
  ['isNaN', () => ck.isNaN(N), /^isNaN: x must be a Tensor, received null$/],
  ['cast', () => ck.cast(N, 'int32'), /^cast: x must be a Tensor, received null$/],
  ['clip', () => ck.clip(N, 0, 1), /^clip: x must be a Tensor, received null$/],
  ['where cond', () => ck.where(N, z([2]), z([2])), /^where: cond must be a Tensor, received null$/],
  ['sum', () => ck.sum(N), /^sum: x must be a Tensor, received null$/],
  ['mean', () => ck.mean(U), /^mean: x must be a Tensor, received undefined$/],
  ['max', () => ck.max(N), /^max: x must be a Tensor, received null$/],
  ['argMax', () => ck.argMax(7 as unknown as ck.Tensor), /^argMax: x must be a Tensor, received the number 7$/],
  ['logSumExp', () => ck.logSumExp(N), /^logSumExp: x must be a Tensor, received null$/],
  ['reshape', () => ck.reshape(N, [2]), /^reshape: x must be a Tensor, received null$/],
  ['reshape shape', () => ck.reshape(z([2]), 2 as unknown as number[]), /^reshape: shape must be an array of integers, received the number 2$/],
  ['transpose', () => ck.transpose(N), /^transpose: x must be a Tensor, received null$/],
  ['slice', () => ck.slice(N, [0]), /^slice: x must be a Tensor, received null$/],
  ['concat entry', () => ck.concat([z([2]), N]), /^concat: xs\[1\] must be a Tensor, received null$/],
  ['concat not array', () => ck.concat(z([2]) as unknown as ck.Tensor[]), /^concat: xs must be an array of Tensors, received a Tensor \[2\] float32$/],
  ['stack entry', () => ck.stack([U]), /^stack: xs\[0\] must be a Tensor, received undefined$/],
  ['pad', () => ck.pad(N, [[0, 0]]), /^pad: x must be a Tensor, received null$/],
  ['broadcastTo', () => ck.broadcastTo(N, [2]), /^broadcastTo: x must be a Tensor, received null$/],
  ['gather indices', () => ck.gather(z([2]), N), /^gather: indices must be a Tensor, received null$/],
  ['oneHot', () => ck.oneHot(N, 3), /^oneHot: indices must be a Tensor, received null$/],
  ['zerosLike', () => ck.zerosLike(N), /^zerosLike: t must be a Tensor, received null$/],
  ['matmul b', () => ck.matmul(z([2, 2]), U), /^matmul: b must be a Tensor, received undefined$/],
  ['maxPool2d', () => ck.maxPool2d(N, 2), /^maxPool2d: x must be a Tensor, received null$/],
  ['softmaxCrossEntropy labels', () => ck.softmaxCrossEntropy(z([2, 3]), N), /^softmaxCrossEntropy: labels must be a Tensor, received null$/],
  ['nmsPerClass classes', () => ck.nmsPerClass(z([2, 4]), z([2]), N), /^nmsPerClass: classes must be a Tensor, received null$/],
  ['identity', () => ck.identity(N), /^identity: x must be a Tensor, received null$/],
  ['filter2d', () => ck.filters.filter2d(N, [[1]]), /^filter2d: image must be a Tensor, received null$/],
  ['blend', () => ck.filters.blend(z([2]), U), /^blend: b must be a Tensor, received undefined$/],
  ['l2Penalty', () => ck.l2Penalty(N), /^l2Penalty: expected a Tensor or a non-empty array of Tensors, received null$/],
];

describe('errors name the op, the argument, what was received and what was expected', () => {
  const groups: [string, Row[]][] = [
    ['non-tensor inputs', nonTensors],
    ['wrong rank', rank],
    ['channel and shape mismatch', channels],
    ['zero, negative and non-integer strides, sizes, dilations, paddings, groups', strides],
    ['non-integer and empty shapes', shapes],
    ['kernel larger than the padded input', kernelTooLarge],
    ['dtype mismatch', dtypes],
  ];
  for (const [title, rows] of groups) {
    it(title, () => {
      for (const [name, f, re] of rows) {
        let message = '';
        try {
          f();
        } catch (e) {
          expect(e, name).toBeInstanceOf(Error);
          expect(e instanceof RangeError || e instanceof TypeError, `${name}: a RangeError or TypeError`).toBe(true);
          message = (e as Error).message;
        }
        expect(message, `${name} should throw`).toMatch(re);
      }
    });
  }
});

describe('a disposed tensor handed to an op is named with the op and the argument', () => {
  it.each([
    ['add', (d: ck.Tensor) => ck.add(z([2]), d), /^add: b \(\[2\] float32\) was disposed and cannot be used$/],
    ['relu', (d: ck.Tensor) => ck.relu(d), /^relu: x \(\[2\] float32\) was disposed and cannot be used$/],
    ['sum', (d: ck.Tensor) => ck.sum(d), /^sum: x \(\[2\] float32\) was disposed and cannot be used$/],
    ['reshape', (d: ck.Tensor) => ck.reshape(d, [2, 1]), /^reshape: x \(\[2\] float32\) was disposed/],
    ['matmul', (d: ck.Tensor) => ck.matmul(z([1, 2]), ck.reshape(d, [2, 1])), /^reshape: x \(\[2\] float32\) was disposed/],
  ] as [string, (d: ck.Tensor) => unknown, RegExp][])('%s', (_name, f, re) => {
    const d = z([2]);
    d.dispose();
    expect(() => f(d)).toThrow(re);
  });
});
