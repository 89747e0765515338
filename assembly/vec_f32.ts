// Small vector helpers shared by kernel files: loads and stores of the first r lanes
// (r >= 4 means a whole vector), so a loop's tail runs the same lane arithmetic as its body.

// @ts-ignore: decorator
@inline export function ld(p: usize, i: i32, r: i32): v128 {
  const a = p + (<usize>i << 2);
  if (r >= 4) return v128.load(a);
  let v = f32x4.splat(0.0);
  v = f32x4.replace_lane(v, 0, load<f32>(a));
  if (r > 1) v = f32x4.replace_lane(v, 1, load<f32>(a, 4));
  if (r > 2) v = f32x4.replace_lane(v, 2, load<f32>(a, 8));
  return v;
}

// @ts-ignore: decorator
@inline export function st(p: usize, i: i32, r: i32, v: v128): void {
  const a = p + (<usize>i << 2);
  if (r >= 4) {
    v128.store(a, v);
    return;
  }
  store<f32>(a, f32x4.extract_lane(v, 0));
  if (r > 1) store<f32>(a, f32x4.extract_lane(v, 1), 4);
  if (r > 2) store<f32>(a, f32x4.extract_lane(v, 2), 8);
}

/**
 * A group of channels at p: a whole vector when `full` (a constant at each call site, so
 * each caller's loop is compiled without the branch), else the first r lanes.
 */
// @ts-ignore: decorator
@inline export function ldg(p: usize, r: i32, full: bool): v128 {
  return full ? v128.load(p) : ld(p, 0, r);
}
// @ts-ignore: decorator
@inline export function stg(p: usize, r: i32, full: bool, v: v128): void {
  if (full) v128.store(p, v);
  else st(p, 0, r, v);
}

// @ts-ignore: decorator
@inline export function spl(x: f32): v128 {
  return f32x4.splat(x);
}

