/**
 * `convkit style CONTENT STYLE --out OUT.png`: neural style transfer (vision's
 * `styleTransfer`) with the built-in random-filter extractor, progress on stderr.
 */
import { flagBool, flagInt, flagNumber, flagPositive, flagString, UsageError, type Command, type OptionSpec, type ParsedArgs } from '../args.js';
import { chooseBackend } from '../backend_choice.js';
import { imageToInput, readImage } from '../../data/image.js';
import { tensor } from '../../ops/creation.js';
import { styleTransfer } from '../../vision/style.js';
import { encodePNG } from '../../vision/visualize.js';

const HELP = `usage: convkit style CONTENT STYLE --out OUT.png [options]

Paints CONTENT (PNG, PGM or PPM) in the style of STYLE by gradient descent on the pixels:
J = alpha J_content (layer conv2) + beta J_style (Gram matrices of conv1..conv3) of a built-in
network of fixed random filters (Ustyuzhaninov et al. 2016). STYLE is resized to CONTENT's size.

  --out FILE        the generated image, PNG (required)
  --steps N         Adam steps on the pixels (default 200)
  --size N          resize CONTENT to N pixels on its longer side first (default: as it is, at most 256)
  --alpha A         content weight (default 10)
  --beta B          style weight (default 1000)
  --noise F         fraction of noise blended into the starting image (default 0.3)
  --lr R            learning rate (default 0.02)
  --seed S          seed of the random filters and the starting noise (default 0)
  --backend NAME    wasm (default), ts or webgpu
  --json            print { out, steps, seconds, cost: [first, last] } as JSON at the end

Exit status: 0 done, 1 a missing or damaged file, 2 bad usage.`;

const OPTIONS: OptionSpec = { out: 'string', steps: 'string', size: 'string', alpha: 'string', beta: 'string', noise: 'string', lr: 'string', seed: 'string', backend: 'string', json: 'boolean' };

async function run(args: ParsedArgs): Promise<number> {
  if (args.positional.length !== 2) throw new UsageError(`give two images, CONTENT and STYLE, received ${args.positional.length}`);
  const out = flagString(args, 'out');
  if (!out) throw new UsageError('--out FILE.png is required');
  const steps = flagInt(args, 'steps', 1, 200)!;
  const json = flagBool(args, 'json');
  const { note } = await chooseBackend(flagString(args, 'backend', 'wasm')!);
  if (note) console.error(`note: ${note}`);
  const [cPath, sPath] = args.positional;
  const c = await readImage(cPath), s = await readImage(sPath);
  const longest = flagInt(args, 'size', 8, Math.min(256, Math.max(c.width, c.height)))!;
  const k = longest / Math.max(c.width, c.height);
  const H = Math.max(8, Math.round(c.height * k)), W = Math.max(8, Math.round(c.width * k));
  const content = tensor(imageToInput(c, [H, W, 3]), [1, H, W, 3]);
  const style = tensor(imageToInput(s, [H, W, 3]), [1, H, W, 3]);
  const t0 = performance.now();
  const { image, history } = styleTransfer(content, style, {
    steps, alpha: flagNumber(args, 'alpha', 10), beta: flagNumber(args, 'beta', 1000), noise: flagNumber(args, 'noise', 0.3), learningRate: flagPositive(args, 'lr', 0.02), seed: flagInt(args, 'seed', 0, 0),
    onStep: (i, cost) => {
      if (i % 10 === 0 || i === steps - 1) process.stderr.write(`step ${i + 1}/${steps}  J ${cost.total.toExponential(3)}  content ${cost.content.toExponential(3)}  style ${cost.style.toExponential(3)}\n`);
    },
  });
  const v = image.dataSync();
  const pixels = Uint8Array.from(v, (x) => Math.round(255 * Math.min(1, Math.max(0, x))));
  const fs = await import('node:fs');
  fs.writeFileSync(out, encodePNG({ width: W, height: H, channels: 3, pixels }));
  const seconds = (performance.now() - t0) / 1000;
  if (json) console.log(JSON.stringify({ out, steps, seconds, cost: [history[0], history[history.length - 1]] }));
  else console.log(`wrote ${out} (${W}x${H}, ${steps} steps, ${seconds.toFixed(1)} s, J ${history[0].toExponential(3)} -> ${history[history.length - 1].toExponential(3)})`);
  return 0;
}

export const styleCommand: Command = { summary: 'neural style transfer of one image onto another (PNG out)', help: HELP, options: OPTIONS, run };
