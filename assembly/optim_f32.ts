// Fused optimiser updates (float32, SIMD), the contracts of src/kernels/optim.ts
// (PyTorch 1.13's single-tensor update rules). Every input is read once and every
// output written once, to fresh buffers (inputs are never written). Scalars derived
// from the step count (bias corrections, decayed learning rates) come from the host.
// The tail of each loop runs the same vector code on a partially filled vector.

import { ld, st, spl } from './vec_f32';

/**
 * SGD. d = g + wd*p; with momentum: buf' = first ? d : momentum*buf + (1-dampening)*d,
 * d = nesterov ? d + momentum*buf' : buf'; p' = p - lr*d. Without momentum buf and
 * bufOut are unused.
 */
export function sgd_f32(
  p: usize, g: usize, buf: usize, pOut: usize, bufOut: usize, n: i32,
  lr: f32, momentum: f32, dampening: f32, wd: f32, nesterov: i32, first: i32,
): void {
  const vlr = spl(lr), vm = spl(momentum), vd = spl(1 - dampening), vwd = spl(wd);
  for (let i = 0; i < n; i += 4) {
    const r = n - i;
    const pv = ld(p, i, r);
    let d = f32x4.add(ld(g, i, r), f32x4.mul(vwd, pv));
    if (momentum != 0) {
      const b = first ? d : f32x4.add(f32x4.mul(vm, ld(buf, i, r)), f32x4.mul(vd, d));
      st(bufOut, i, r, b);
      d = nesterov ? f32x4.add(d, f32x4.mul(vm, b)) : b;
    }
    st(pOut, i, r, f32x4.sub(pv, f32x4.mul(vlr, d)));
  }
}

/**
 * Adam / AdamW. decoupled: p *= 1 - lr*wd, else g += wd*p. m' = b1 m + (1-b1) g,
 * v' = b2 v + (1-b2) g^2, s = amsgrad ? (vmax' = max(vmax, v')) : v',
 * p' = p - stepSize * m' / (sqrt(s)/bc2sqrt + eps), stepSize = lr/(1 - b1^step),
 * bc2sqrt = sqrt(1 - b2^step).
 */
export function adam_f32(
  p: usize, g: usize, m: usize, v: usize, vmax: usize,
  pOut: usize, mOut: usize, vOut: usize, vmaxOut: usize, n: i32,
  lr: f32, beta1: f32, beta2: f32, eps: f32, wd: f32, decoupled: i32, amsgrad: i32,
  stepSize: f32, bc2sqrt: f32,
): void {
  const vb1 = spl(beta1), vb1c = spl(1 - beta1), vb2 = spl(beta2), vb2c = spl(1 - beta2);
  const veps = spl(eps), vwd = spl(wd), vdecay = spl(1 - lr * wd), vstep = spl(stepSize), vbc2 = spl(bc2sqrt);
  for (let i = 0; i < n; i += 4) {
    const r = n - i;
    let pv = ld(p, i, r);
    let gv = ld(g, i, r);
    if (decoupled) pv = f32x4.mul(pv, vdecay);
    else gv = f32x4.add(gv, f32x4.mul(vwd, pv));
    const mv = f32x4.add(f32x4.mul(vb1, ld(m, i, r)), f32x4.mul(vb1c, gv));
    const vv = f32x4.add(f32x4.mul(vb2, ld(v, i, r)), f32x4.mul(vb2c, f32x4.mul(gv, gv)));
    st(mOut, i, r, mv);
    st(vOut, i, r, vv);
    let s = vv;
    if (amsgrad) {
      s = f32x4.max(ld(vmax, i, r), vv);
      st(vmaxOut, i, r, s);
    }
    const den = f32x4.add(f32x4.div(f32x4.sqrt(s), vbc2), veps);
    st(pOut, i, r, f32x4.sub(pv, f32x4.mul(vstep, f32x4.div(mv, den))));
  }
}

/**
 * RMSprop. g += wd*p; sq' = a sq + (1-a) g^2; centered: gavg' = a gavg + (1-a) g,
 * avg = sqrt(sq' - gavg'^2) else sqrt(sq'); avg += eps; momentum > 0:
 * buf' = momentum*buf + g/avg, p' = p - lr*buf'; else p' = p - lr*g/avg.
 */
export function rmsprop_f32(
  p: usize, g: usize, sq: usize, gavg: usize, buf: usize,
  pOut: usize, sqOut: usize, gavgOut: usize, bufOut: usize, n: i32,
  lr: f32, alpha: f32, eps: f32, wd: f32, momentum: f32, centered: i32,
): void {
  const va = spl(alpha), vac = spl(1 - alpha), veps = spl(eps), vwd = spl(wd), vlr = spl(lr), vm = spl(momentum);
  for (let i = 0; i < n; i += 4) {
    const r = n - i;
    const pv = ld(p, i, r);
    const gv = f32x4.add(ld(g, i, r), f32x4.mul(vwd, pv));
    const s = f32x4.add(f32x4.mul(va, ld(sq, i, r)), f32x4.mul(vac, f32x4.mul(gv, gv)));
    st(sqOut, i, r, s);
    let avg: v128;
    if (centered) {
      const ga = f32x4.add(f32x4.mul(va, ld(gavg, i, r)), f32x4.mul(vac, gv));
      st(gavgOut, i, r, ga);
      avg = f32x4.sqrt(f32x4.sub(s, f32x4.mul(ga, ga)));
    } else {
      avg = f32x4.sqrt(s);
    }
    avg = f32x4.add(avg, veps);
    if (momentum > 0) {
      const b = f32x4.add(f32x4.mul(vm, ld(buf, i, r)), f32x4.div(gv, avg));
      st(bufOut, i, r, b);
      st(pOut, i, r, f32x4.sub(pv, f32x4.mul(vlr, b)));
    } else {
      st(pOut, i, r, f32x4.sub(pv, f32x4.mul(vlr, f32x4.div(gv, avg))));
    }
  }
}

/** AdaGrad. g += wd*p; sum' = sum + g^2; p' = p - clr * g / (sqrt(sum') + eps). */
export function adagrad_f32(
  p: usize, g: usize, sum: usize, pOut: usize, sumOut: usize, n: i32,
  clr: f32, eps: f32, wd: f32,
): void {
  const vclr = spl(clr), veps = spl(eps), vwd = spl(wd);
  for (let i = 0; i < n; i += 4) {
    const r = n - i;
    const pv = ld(p, i, r);
    const gv = f32x4.add(ld(g, i, r), f32x4.mul(vwd, pv));
    const a = f32x4.add(ld(sum, i, r), f32x4.mul(gv, gv));
    st(sumOut, i, r, a);
    st(pOut, i, r, f32x4.sub(pv, f32x4.mul(vclr, f32x4.div(gv, f32x4.add(f32x4.sqrt(a), veps)))));
  }
}

/**
 * AdaDelta. g += wd*p; sq' = rho sq + (1-rho) g^2; delta = sqrt(acc + eps)/sqrt(sq' + eps) * g;
 * acc' = rho acc + (1-rho) delta^2; p' = p - lr*delta.
 */
export function adadelta_f32(
  p: usize, g: usize, sq: usize, acc: usize, pOut: usize, sqOut: usize, accOut: usize, n: i32,
  lr: f32, rho: f32, eps: f32, wd: f32,
): void {
  const vr = spl(rho), vrc = spl(1 - rho), veps = spl(eps), vwd = spl(wd), vlr = spl(lr);
  for (let i = 0; i < n; i += 4) {
    const r = n - i;
    const pv = ld(p, i, r);
    const gv = f32x4.add(ld(g, i, r), f32x4.mul(vwd, pv));
    const s = f32x4.add(f32x4.mul(vr, ld(sq, i, r)), f32x4.mul(vrc, f32x4.mul(gv, gv)));
    st(sqOut, i, r, s);
    const av = ld(acc, i, r);
    const delta = f32x4.mul(f32x4.div(f32x4.sqrt(f32x4.add(av, veps)), f32x4.sqrt(f32x4.add(s, veps))), gv);
    st(accOut, i, r, f32x4.add(f32x4.mul(vr, av), f32x4.mul(vrc, f32x4.mul(delta, delta))));
    st(pOut, i, r, f32x4.sub(pv, f32x4.mul(vlr, delta)));
  }
}
