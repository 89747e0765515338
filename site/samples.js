// Sample images for the lab, drawn by this code (no photographs): public domain (CC0).
// Each returns { h, w, grey: Float32Array in 0..1, rgb: Float32Array [h*w*3] }.

function make(n, f) {
  const grey = new Float32Array(n * n), rgb = new Float32Array(n * n * 3);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    const [r, g, b] = f(x, y, n);
    rgb.set([r, g, b], (y * n + x) * 3);
    grey[y * n + x] = 0.299 * r + 0.587 * g + 0.114 * b;
  }
  return { h: n, w: n, grey, rgb };
}
const grey = (v) => [v, v, v];

export const SAMPLES = {
  'test card (square, disc, stripes)': () => make(128, (x, y) => {
    let v = 0.16;
    if (x >= 16 && x < 58 && y >= 16 && y < 58) v = 0.86;                      // light square on dark
    const dx = x - 90, dy = y - 38;
    if (dx * dx + dy * dy < 24 * 24) v = 0.25 + (0.6 * (x - 66)) / 48;           // shaded disc
    if (y >= 80 && y < 116 && x >= 12 && x < 116 && Math.floor(x / 8) % 2 === 0) v = 0.8; // vertical stripes
    return grey(v);
  }),
  'house': () => make(128, (x, y) => {
    let c = y < 90 ? [0.62, 0.8, 0.95] : [0.35, 0.6, 0.3];                       // sky, grass
    if (y >= 56 && y < 100 && x >= 30 && x < 98) c = [0.85, 0.75, 0.55];          // wall
    if (y >= 24 && y < 56 && Math.abs(x - 64) < (y - 24) * 1.2 + 4) c = [0.6, 0.2, 0.15]; // roof
    if (y >= 66 && y < 82 && ((x >= 40 && x < 56) || (x >= 72 && x < 88))) c = [0.2, 0.3, 0.45]; // windows
    if (y >= 76 && y < 100 && x >= 58 && x < 70) c = [0.4, 0.25, 0.12];          // door
    const sx = x - 108, sy = y - 16;
    if (sx * sx + sy * sy < 100) c = [1, 0.85, 0.2];                               // sun
    return c;
  }),
  'rings': () => make(128, (x, y, n) => {
    const r = Math.hypot(x - n / 2, y - n / 2);
    return grey(0.5 + 0.5 * Math.cos((r * r) / 90));
  }),
  'checkerboard and gradient': () => make(128, (x, y) => {
    const check = (Math.floor(x / 16) + Math.floor(y / 16)) % 2;
    return grey(check ? 0.15 + (0.7 * x) / 128 : 0.85 - (0.7 * y) / 128);
  }),
};
