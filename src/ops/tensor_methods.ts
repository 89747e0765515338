/**
 * Method-call sugar: `x.add(y).relu().sum()`. Each method forwards to the op of the
 * same name; the op's file is where its maths and gradient live.
 */
import { Tensor } from '../tensor/tensor.js';
import type { DType } from '../tensor/dtype.js';
import * as ew from './elementwise.js';
import * as red from './reduce.js';
import * as sh from './shape.js';
import { matmul, type MatMulOpts } from './matmul.js';
import * as act from './activation.js';

type TL = ew.TensorLike;

declare module '../tensor/tensor.js' {
  interface Tensor {
    add(b: TL): Tensor;
    sub(b: TL): Tensor;
    mul(b: TL): Tensor;
    div(b: TL): Tensor;
    pow(b: TL): Tensor;
    neg(): Tensor;
    abs(): Tensor;
    exp(): Tensor;
    expm1(): Tensor;
    log(): Tensor;
    log1p(): Tensor;
    sqrt(): Tensor;
    square(): Tensor;
    cast(dtype: DType): Tensor;
    matmul(b: Tensor, opts?: MatMulOpts): Tensor;
    sum(opts?: red.ReduceOpts): Tensor;
    mean(opts?: red.ReduceOpts): Tensor;
    max(opts?: red.ReduceOpts): Tensor;
    min(opts?: red.ReduceOpts): Tensor;
    argMax(axis?: number): Tensor;
    reshape(shape: readonly number[]): Tensor;
    flatten(startAxis?: number): Tensor;
    transpose(perm?: readonly number[]): Tensor;
    slice(begin: readonly number[], size?: readonly number[]): Tensor;
    relu(): Tensor;
    sigmoid(): Tensor;
    tanh(): Tensor;
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
  }
}

const P = Tensor.prototype;
P.add = function (b) { return ew.add(this, b); };
P.sub = function (b) { return ew.sub(this, b); };
P.mul = function (b) { return ew.mul(this, b); };
P.div = function (b) { return ew.div(this, b); };
P.pow = function (b) { return ew.pow(this, b); };
P.neg = function () { return ew.neg(this); };
P.abs = function () { return ew.abs(this); };
P.exp = function () { return ew.exp(this); };
P.expm1 = function () { return ew.expm1(this); };
P.log = function () { return ew.log(this); };
P.log1p = function () { return ew.log1p(this); };
P.sqrt = function () { return ew.sqrt(this); };
P.square = function () { return ew.square(this); };
P.cast = function (d) { return ew.cast(this, d); };
P.matmul = function (b, o) { return matmul(this, b, o); };
P.sum = function (o) { return red.sum(this, o); };
P.mean = function (o) { return red.mean(this, o); };
P.max = function (o) { return red.max(this, o); };
P.min = function (o) { return red.min(this, o); };
P.argMax = function (a) { return red.argMax(this, a); };
P.reshape = function (s) { return sh.reshape(this, s); };
P.flatten = function (a) { return sh.flatten(this, a); };
P.transpose = function (p) { return sh.transpose(this, p); };
P.slice = function (b, s) { return sh.slice(this, b, s); };
P.relu = function () { return act.relu(this); };
P.sigmoid = function () { return act.sigmoid(this); };
P.tanh = function () { return act.tanh(this); };
P.softmax = function (a) { return act.softmax(this, a); };
P.logSoftmax = function (a) { return act.logSoftmax(this, a); };
