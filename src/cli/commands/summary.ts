/**
 * `convkit summary MODEL [--input HxWxC] [--classes N] [--json] [--expand]`
 *
 * Prints a model's layers, output shapes, parameter counts and multiply-accumulates,
 * computed from shapes alone (no weights are created, so even VGG-19 is instant). MODEL is
 * a zoo name (`convkit summary resnet50`) or a saved model (a directory with model.json,
 * or the model.json path). With --json: { model, input, output, layers: [{ name, type,
 * outputShape, params, trainableParams, macs, depth }], totalParams, trainableParams,
 * nonTrainableParams, macs }.
 */
import { existsSync } from 'node:fs';
import '../../backends/ts/index.js';
import { loadModel } from '../../models/io.js';
import type { Model } from '../../models/model.js';
import * as zoo from '../../models/zoo/index.js';
import { flagBool, flagInt, flagString, UsageError, type Command, type ParsedArgs } from '../args.js';

const HELP = `usage: convkit summary MODEL [--input HxWxC] [--classes N] [--json] [--expand]

Layers, output shapes, parameters (trainable and not) and MACs per example of a model.
MODEL is a zoo name (${zoo.names().join(', ')})
or a saved model: a convkit folder (model.json + weights.bin), a TF.js Layers folder or
model.json (Keras via tensorflowjs), or an ONNX file.

  --input HxWxC   input size for a zoo model, e.g. 32x32x3 (default: the model's standard size)
  --classes N     output classes for a zoo model (default: the model's usual number)
  --json          one JSON object instead of the table
  --expand        also list the layers inside blocks (residual, inception, nested models)

MACs: convolution OH*OW*F*KH*KW*C/groups, dense nIn*nOut, everything else 0.`;

/** '224x224x3' or '224,224,3' -> [224, 224, 3]. */
export function parseShape(s: string): number[] {
  const parts = s.split(/[x,X ]+/).filter(Boolean).map(Number);
  if (!parts.length || parts.some((d) => !Number.isInteger(d) || d < 1)) throw new UsageError(`--input must look like 224x224x3, received '${s}'`);
  return parts;
}

async function run(args: ParsedArgs): Promise<number> {
  const [name, ...extra] = args.positional;
  if (!name) throw new UsageError('which model? give a zoo name or a saved model directory');
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const inputFlag = flagString(args, 'input');
  const classes = flagInt(args, 'classes');
  let m: Model;
  if (zoo.names().some((n) => n.toLowerCase() === name.toLowerCase())) {
    m = zoo.get(name, { ...(inputFlag ? { inputShape: parseShape(inputFlag) } : {}), ...(classes !== undefined ? { classes } : {}) });
  } else if (existsSync(name)) {
    if (inputFlag || classes !== undefined) throw new UsageError('--input and --classes apply to zoo models only; a saved model has its own shapes');
    m = await loadModel(name);
  } else {
    throw new UsageError(`'${name}' is neither a zoo model (${zoo.names().join(', ')}) nor a saved model directory`);
  }
  const expand = flagBool(args, 'expand');
  if (flagBool(args, 'json')) console.log(JSON.stringify(m.summaryJSON({ expand }), null, 1));
  else console.log(m.summaryText({ expand }));
  m.dispose();
  return 0;
}

export const summaryCommand: Command = {
  summary: 'layers, output shapes, parameters and MACs of a zoo or saved model',
  help: HELP,
  options: { input: 'string', classes: 'string', json: 'boolean', expand: 'boolean' },
  run,
};
