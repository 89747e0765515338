/**
 * Autograd behaviour a PyTorch user relies on: accumulation over several backward calls,
 * a clear error (never a silent zero) for a second backward through a released graph,
 * retainGraph, detach, nested noGrad/enableGrad, valueAndGrad with several arguments and
 * no side effects on other tensors' .grad, and no memory kept across training steps.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';

const t64 = (v: number[]) => ck.tensor(v, [v.length], 'float64');

describe('backward and the released graph', () => {
  it('a second backward through a released graph throws, naming the op, and changes no gradient', () => {
    const w = t64([1, 2]).requireGrad();
    const loss = ck.sum(ck.mul(w, w));
    loss.backward();
    expect(w.grad!.toArray()).toEqual([2, 4]);
    expect(() => loss.backward()).toThrow(/backward: the graph behind \[\] float64 \(made by 'sum'\) was already released by an earlier backward\(\).*retainGraph/);
    expect(w.grad!.toArray()).toEqual([2, 4]);
    expect(loss.grad).toBeNull(); // the old graph's output never poses as a leaf
  });

  it('a new computation reusing a released intermediate throws instead of treating it as a leaf', () => {
    const w = t64([1, 2]).requireGrad();
    const y = ck.mul(w, w);
    ck.sum(y).backward();
    const z = ck.sum(ck.mul(y, 3));
    expect(() => z.backward()).toThrow(/made by 'mul'\) was already released/);
    expect(y.grad).toBeNull();
    expect(w.grad!.toArray()).toEqual([2, 4]);
  });

  it('retainGraph keeps the graph for another pass; the gradients then add up', () => {
    const w = t64([1, 2]).requireGrad();
    const loss = ck.sum(ck.mul(w, w));
    loss.backward({ retainGraph: true });
    expect(loss.node).not.toBeNull();
    loss.backward(null, { retainGraph: false });
    expect(w.grad!.toArray()).toEqual([4, 8]);
    expect(loss.node).toBeNull();
    expect(() => loss.backward()).toThrow(/already released/);
  });

  it('accumulates over two backward calls of two fresh graphs, and zeroGrad resets', () => {
    const w = t64([3]).requireGrad();
    ck.sum(ck.mul(w, w)).backward(); // 2w = 6
    ck.sum(ck.mul(w, 5)).backward(); // 5
    expect(w.grad!.toArray()).toEqual([11]);
    w.zeroGrad();
    ck.sum(ck.mul(w, 5)).backward();
    expect(w.grad!.toArray()).toEqual([5]);
  });

  it('a seed gradient must match the output in shape and dtype', () => {
    const w = t64([1, 2]).requireGrad();
    expect(() => ck.mul(w, 2).backward()).toThrow(/a gradient seed is needed for a non-scalar output of shape \[2\]/);
    expect(() => ck.mul(w, 2).backward(t64([1, 2, 3]))).toThrow(/grad has shape \[3\], expected the output's shape \[2\]/);
    expect(() => ck.mul(w, 2).backward(ck.tensor([1, 1]))).toThrow(/grad is float32, expected the output's dtype float64/);
    ck.mul(w, 2).backward(t64([1, 10]));
    expect(w.grad!.toArray()).toEqual([2, 20]);
  });

  it('an explicitly re-marked tensor is a leaf again', () => {
    const a = t64([2]).requireGrad();
    const img = ck.mul(a, 3);
    ck.sum(img).backward();
    img.requireGrad(); // e.g. optimise an op's output directly (style transfer)
    ck.sum(ck.mul(img, img)).backward();
    expect(img.grad!.toArray()).toEqual([12]);
  });

  it('only float tensors can require gradients', () => {
    expect(() => ck.tensor([1, 2], [2], 'int32').requireGrad()).toThrow(/requireGrad: only float32 and float64 tensors can require gradients, received \[2\] int32/);
    expect(ck.tensor([1], [1], 'int32').requireGrad(false).requiresGrad).toBe(false);
  });
});

describe('detach and grad modes', () => {
  it('detach stops gradients but shares the values', () => {
    const w = t64([1, 2]).requireGrad();
    const d = w.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.toArray()).toEqual([1, 2]);
    // Only the non-detached path contributes: d/dw (w * detach(w)) = detach(w).
    ck.sum(ck.mul(w, d)).backward();
    expect(w.grad!.toArray()).toEqual([1, 2]);
  });

  it('noGrad nests, enableGrad re-enables inside it, and both restore the mode after an exception', () => {
    const w = t64([1]).requireGrad();
    const seen: boolean[] = [];
    ck.noGrad(() => {
      seen.push(ck.mul(w, 2).requiresGrad);
      ck.noGrad(() => seen.push(ck.mul(w, 2).requiresGrad));
      seen.push(ck.enableGrad(() => ck.mul(w, 2).requiresGrad));
      seen.push(ck.isGradEnabled());
    });
    expect(seen).toEqual([false, false, true, false]);
    expect(ck.isGradEnabled()).toBe(true);
    expect(() => ck.noGrad(() => { throw new Error('boom'); })).toThrow('boom');
    expect(ck.isGradEnabled()).toBe(true);
    expect(() => ck.noGrad(() => ck.enableGrad(() => { throw new Error('inner'); }))).toThrow('inner');
    expect(ck.isGradEnabled()).toBe(true);
  });
});

describe('valueAndGrad', () => {
  it('several arguments: value and one gradient per argument, in order', () => {
    const f = (a: Tensor, b: Tensor, c: Tensor) => ck.sum(ck.add(ck.mul(a, b), ck.square(c)));
    const { value, grads } = ck.valueAndGrad(f)(t64([1, 2]), t64([3, 4]), t64([5]));
    expect(value.item()).toBe(1 * 3 + 2 * 4 + 2 * 25); // c [1] broadcasts over the 2 elements
    expect(grads.map((g) => g.toArray())).toEqual([[3, 4], [1, 2], [20]]);
  });

  it('an unused argument gets zeros of its shape', () => {
    const { grads } = ck.valueAndGrad((a: Tensor, _b: Tensor) => ck.sum(a))(t64([1, 2]), ck.tensor([[1, 2, 3]]));
    expect(grads[1].shape).toEqual([1, 3]);
    expect(grads[1].dtype).toBe('float32');
    expect(grads[1].toArray()).toEqual([0, 0, 0]);
  });

  it('touches no .grad: neither the arguments nor parameters the function closes over', () => {
    const param = t64([2, 3]).requireGrad();
    const x = t64([5, 7]);
    const { grads } = ck.valueAndGrad((t: Tensor) => ck.sum(ck.mul(t, param)))(x);
    expect(grads[0].toArray()).toEqual([2, 3]);
    expect(param.grad).toBeNull();
    expect(x.grad).toBeNull();
  });

  it('rejects a non-scalar result and a result that does not depend on the arguments', () => {
    expect(() => ck.valueAndGrad((a: Tensor) => ck.mul(a, 2))(t64([1, 2]))).toThrow(/valueAndGrad: f must return a single value, returned shape \[2\]/);
    expect(() => ck.valueAndGrad(() => ck.scalar(1, 'float64'))(t64([1]))).toThrow(/f does not depend on its arguments/);
  });

  it('grad() gives the gradients alone; nested valueAndGrad calls are independent', () => {
    const [g] = ck.grad((a: Tensor) => ck.sum(ck.mul(ck.mul(a, a), a)))(t64([2]));
    expect(g.toArray()).toEqual([12]);
    const outer = ck.valueAndGrad((a: Tensor) => {
      const inner = ck.grad((b: Tensor) => ck.sum(ck.square(b)))(a.detach())[0];
      return ck.sum(ck.mul(a, inner));
    });
    expect(outer(t64([3])).grads[0].toArray()).toEqual([6]);
  });
});

describe('memory across training steps', () => {
  it('100 SGD steps on ts inside tidy keep the live storage count flat', () => {
    const prev = ck.getBackend();
    ck.setBackendSync('ts');
    try {
      const live = () => ck.memory().ts.storages;
      const w1 = ck.keep(ck.randomNormal([6, 8], { seed: 1, dtype: 'float64' })).requireGrad();
      const w2 = ck.keep(ck.randomNormal([8, 3], { seed: 2, dtype: 'float64' })).requireGrad();
      const x = ck.keep(ck.randomNormal([5, 6], { seed: 3, dtype: 'float64' }));
      const labels = ck.keep(ck.tensor([0, 1, 2, 1, 0], [5], 'int32'));
      const opt = new ck.SGD({ lr: 0.05, momentum: 0.9 });
      const counts: number[] = [];
      const losses: number[] = [];
      for (let step = 0; step < 100; step++) {
        ck.tidy(() => {
          opt.zeroGrad([w1, w2]);
          const loss = ck.softmaxCrossEntropy(ck.matmul(ck.relu(ck.matmul(x, w1)), w2), labels);
          loss.backward();
          opt.step([w1, w2]);
          losses.push(loss.item());
        });
        counts.push(live());
      }
      // After the first step (which creates the momentum buffers and grads) nothing grows.
      expect(new Set(counts.slice(1)).size, `storages per step: ${counts.join(',')}`).toBe(1);
      expect(losses[99]).toBeLessThan(losses[0]);
      opt.dispose();
      for (const t of [w1, w2, x, labels]) { t.zeroGrad(); t.dispose(); }
    } finally {
      ck.setBackendSync(prev);
    }
  });
});

describe('grad and valueAndGrad inside tidy', () => {
  it('free their gradients with the tidy (no storage outlives it), on ts and wasm, and return ordinary tensors', async () => {
    for (const backend of ['ts', 'wasm']) {
      await ck.setBackend(backend);
      const live = () => ck.memory()[backend]?.storages ?? 0;
      const x = ck.keep(ck.randomNormal([4, 5], { seed: 1 }));
      const w = ck.keep(ck.randomNormal([5], { seed: 2 }));
      const before = live();
      for (let i = 0; i < 5; i++) {
        ck.tidy(() => {
          const [gx, gw] = ck.grad((a: ck.Tensor, b: ck.Tensor) => ck.sum(ck.mul(ck.leakyRelu(a, 0.1), b)))(x, w);
          expect(gx.shape).toEqual([4, 5]);
          expect(gw.shape).toEqual([5]);
          const { value, grads } = ck.valueAndGrad((a: ck.Tensor) => ck.sum(ck.square(a)))(x);
          expect(value.item()).toBeGreaterThan(0);
          // d sum(x^2) / dx = 2x
          const g = grads[0].dataSync(), xv = x.dataSync();
          g.forEach((v, k) => expect(v).toBeCloseTo(2 * xv[k], 5));
        });
        expect(live(), `${backend}: storages after call ${i + 1}`).toBe(before);
      }
      // a gradient returned from the tidy survives it, and is the caller's to dispose
      const kept = ck.tidy(() => ck.grad((a: ck.Tensor) => ck.sum(a))(x)[0]);
      expect(Array.from(kept.dataSync())).toEqual(new Array(20).fill(1));
      kept.dispose();
      expect(live()).toBe(before);
      x.dispose();
      w.dispose();
    }
    await ck.setBackend('ts');
  });
});

describe('disposed tensors on the path of backward (issue 13, part 6)', () => {
  const keepAlive = /keep it alive \(do not dispose it, nor let a tidy\(\) that ends between the forward pass and backward\(\) dispose it\) until backward\(\) has run/;

  it("disposing an op's output before backward throws, naming the op, and leaves .grad untouched", () => {
    const w = ck.randomNormal([3], { seed: 1 }).requireGrad();
    const y = ck.mul(w, w);
    const l = ck.sum(y);
    y.dispose();
    expect(() => l.backward()).toThrow(/backward through mul: its output \[3\] float32 was disposed before backward\(\)/);
    expect(() => l.backward()).toThrow(keepAlive);
    expect(w.grad).toBeNull();
  });

  it('a forward pass tidied on its own (intermediates disposed) is an error, not a silent null gradient', () => {
    const w = t64([1, 2]).requireGrad();
    const l = ck.tidy(() => ck.sum(ck.mul(ck.exp(w), 2)));
    expect(() => l.backward()).toThrow(/backward through (exp|mul): its output \[2\] float64 was disposed/);
    expect(w.grad).toBeNull();
  });

  it('a disposed saved input (a constant the gradient needs) names the op and the input; no .grad changes', () => {
    const w = t64([1, 2, 3]).requireGrad();
    const v = t64([4]).requireGrad();
    const c = t64([2, 3, 4]);
    const l = ck.add(ck.sum(ck.mul(v, 5)), ck.sum(ck.mul(w, c)));
    c.dispose();
    expect(() => l.backward()).toThrow(/backward through mul: its saved input 1 \(\[3\] float64\) was disposed before backward\(\); keep it alive/);
    // Nothing was committed: v's gradient (computable on its own) is not half-written.
    expect(v.grad).toBeNull();
    expect(w.grad).toBeNull();
    // The failed pass kept the graph: the same error again, not "already released".
    expect(() => l.backward()).toThrow(/its saved input 1/);
  });

  it('a tensor an op saved for its gradient (not one of its inputs) names the op', () => {
    const w = t64([1, 2, 3]).requireGrad();
    const cond = t64([1, 0, 1]); // where() keeps the condition for its gradient
    const l = ck.sum(ck.where(cond, w, 0));
    cond.dispose();
    expect(() => l.backward()).toThrow(/backward through where: a tensor it saved for the gradient \(\[3\] float64\) was disposed before backward\(\)/);
  });

  it('a disposed leaf that would receive a gradient throws; one left out by `inputs` is skipped when not needed', () => {
    const w = t64([1, 2]).requireGrad();
    const l = ck.sum(ck.mul(w, 3));
    w.dispose();
    expect(() => l.backward()).toThrow(/backward: the leaf \[2\] float64 \(it requires a gradient\) was disposed before backward\(\), so its gradient has nowhere to go/);

    const a = t64([1, 2]).requireGrad();
    const b = t64([5, 6]).requireGrad();
    const m = ck.sum(ck.add(a, b)); // add's gradient needs neither value
    a.dispose();
    m.backward({ inputs: [b] });
    expect(b.grad!.toArray()).toEqual([1, 1]);
  });

  it('a disposed loss, or seed, is named', () => {
    const w = t64([1]).requireGrad();
    const l = ck.sum(ck.mul(w, w));
    l.dispose();
    expect(() => l.backward()).toThrow(/backward: the tensor \[\] float64 was disposed; call backward\(\) before disposing it/);
    const y = ck.mul(w, 2);
    const seed = t64([1]);
    seed.dispose();
    expect(() => y.backward(seed)).toThrow(/backward: the seed grad \[1\] float64 was disposed/);
  });

  it('a .grad the caller disposed counts as cleared', () => {
    const w = t64([1, 2]).requireGrad();
    ck.sum(ck.mul(w, w)).backward();
    w.grad!.dispose();
    ck.sum(ck.mul(w, 3)).backward();
    expect(w.grad!.toArray()).toEqual([3, 3]);
  });

  it('tidy around forward and backward together (the fit step), valueAndGrad and grad still work', () => {
    const w = t64([1, 2]).requireGrad();
    ck.tidy(() => {
      const loss = ck.sum(ck.mul(ck.exp(w), w));
      loss.backward();
    });
    expect(w.grad!.toArray().map((g, i) => g - Math.exp(i + 1) * (i + 2))).toEqual([0, 0]);
    const { value, grads } = ck.tidy(() => ck.valueAndGrad((a: Tensor) => ck.sum(ck.square(ck.mul(a, 2))))(t64([1, 3])));
    expect(value.item()).toBe(40);
    expect(grads[0].toArray()).toEqual([8, 24]);
    expect(ck.grad((a: Tensor) => ck.sum(ck.mul(a, a)))(t64([2]))[0].toArray()).toEqual([4]);
    // A function that tidies its own forward pass away before grad() differentiates it is
    // the case this guards: an error, where it used to be a gradient of zero.
    expect(() => ck.grad((a: Tensor) => ck.tidy(() => ck.sum(ck.mul(a, a))))(t64([2]))).toThrow(/backward through mul: its output \[1\] float64 was disposed/);
  });

  it('valueAndGrad names a disposed, non-tensor or int32 argument', () => {
    const vg = ck.valueAndGrad((a: Tensor) => ck.sum(a));
    const d = t64([1]);
    d.dispose();
    expect(() => vg(d)).toThrow(/valueAndGrad: argument 0 \(\[1\] float64\) was disposed and cannot be used/);
    expect(() => vg(null as unknown as Tensor)).toThrow(/valueAndGrad: argument 0 must be a Tensor, received null/);
    expect(() => vg(ck.tensor([1], [1], 'int32'))).toThrow(/valueAndGrad: argument 0 must be float32 or float64 to have a gradient, received \[1\] int32/);
  });
});
