/**
 * `convkit convert IN OUT [--format onnx|convkit|tfjs-layers] [--input-layout NHWC|NCHW] [--opset N]`
 *
 * Converts a model between convkit's format (a folder with model.json + weights.bin), ONNX
 * and TF.js Layers (a folder with a Keras-style model.json + weight shards, what
 * tensorflowjs_converter makes of a Keras model). IN's format is read from its content (an
 * ONNX file is recognised by its bytes, a model.json by its "format"), not its extension;
 * OUT's from --format, else `onnx` when OUT ends in .onnx, else convkit's folder format. An ONNX model comes in with convkit's layouts (channels-last
 * inputs and outputs, HWIO filters); --input-layout chooses the layout the written ONNX
 * file's input takes (NHWC, the default, or NCHW for PyTorch-style consumers).
 */
import { existsSync } from 'node:fs';
import '../../backends/ts/index.js';
import { loadModel } from '../../models/io.js';
import { flagInt, flagString, UsageError, type Command, type ParsedArgs } from '../args.js';

const HELP = `usage: convkit convert IN OUT [--format onnx|convkit|tfjs-layers] [--input-layout NHWC|NCHW] [--opset N]

Converts a model between convkit's format, ONNX and TF.js Layers (Keras via tensorflowjs).
IN   a convkit or TF.js Layers model (a folder with model.json, or the model.json path) or
     an ONNX file (recognised by its content)
OUT  a .onnx file, or a folder for convkit's or TF.js Layers' format

  --format F         onnx, convkit or tfjs-layers (default: onnx when OUT ends in .onnx,
                     else convkit)
  --quantize Q       tfjs-layers only: store the weights as uint8, uint16 or float16 (lossy,
                     as tensorflowjs_converter's --quantize_*)
  --input-layout L   layout of the ONNX file's input: NHWC (default) or NCHW (PyTorch-style)
  --opset N          ONNX opset to write, 13 to 17 (default 13)

An imported ONNX model takes and returns convkit's layouts: channels-last inputs and outputs
(NCHW -> NHWC), HWIO filters.`;

async function run(args: ParsedArgs): Promise<number> {
  const [src, dst, ...extra] = args.positional;
  if (!src || !dst) throw new UsageError('convert needs IN and OUT: convkit convert model.onnx out-folder');
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const format = flagString(args, 'format') ?? (dst.toLowerCase().endsWith('.onnx') ? 'onnx' : 'convkit');
  if (format !== 'onnx' && format !== 'convkit' && format !== 'tfjs-layers') throw new UsageError(`--format must be onnx, convkit or tfjs-layers, received '${format}'`);
  const layout = (flagString(args, 'input-layout') ?? 'NHWC').toUpperCase();
  if (layout !== 'NHWC' && layout !== 'NCHW') throw new UsageError(`--input-layout must be NHWC or NCHW, received '${flagString(args, 'input-layout')}'`);
  const opset = flagInt(args, 'opset');
  const quantize = flagString(args, 'quantize');
  if (quantize !== undefined && format !== 'tfjs-layers') throw new UsageError('--quantize applies to --format tfjs-layers only');
  if (quantize !== undefined && quantize !== 'uint8' && quantize !== 'uint16' && quantize !== 'float16') throw new UsageError(`--quantize must be uint8, uint16 or float16, received '${quantize}'`);
  if (format !== 'onnx' && (flagString(args, 'input-layout') !== undefined || opset !== undefined)) {
    throw new UsageError('--input-layout and --opset apply to ONNX output only');
  }
  if (!existsSync(src)) throw new UsageError(`no model at '${src}'`);
  const m = await loadModel(src);
  try {
    if (format === 'onnx') {
      await m.save(dst, { format: 'onnx', inputLayout: layout, ...(opset !== undefined ? { opset } : {}) });
    } else if (format === 'tfjs-layers') {
      await m.save(dst, { format: 'tfjs-layers', ...(quantize ? { quantize } : {}) });
    } else {
      await m.save(dst);
    }
  } finally {
    m.dispose();
  }
  console.log(`wrote ${dst} (${format}${format === 'onnx' ? `, input ${layout}` : ''}${quantize ? `, ${quantize} weights` : ''})`);
  return 0;
}

export const convertCommand: Command = {
  summary: 'convert a model between convkit format, ONNX and TF.js Layers',
  help: HELP,
  options: { format: 'string', 'input-layout': 'string', opset: 'string', quantize: 'string' },
  run,
};
