#!/usr/bin/env node
/**
 * The `convkit` command line. Each command lives in src/cli/commands/<name>.ts and is
 * listed in `commands` below.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, UsageError, type Command } from './args.js';
import { VERSION } from '../version.js';
import { verifyCommand } from './commands/verify.js';
import { trainCommand } from './commands/train.js';
import { evaluateCommand } from './commands/evaluate.js';
import { predictCommand } from './commands/predict.js';
import { benchCommand } from './commands/bench.js';
import { summaryCommand } from './commands/summary.js';
import { convertCommand } from './commands/convert.js';
import { styleCommand } from './commands/style.js';

const commands: Record<string, Command> = {
  // commands: one line each, added by the command's author
  verify: verifyCommand,
  train: trainCommand,
  evaluate: evaluateCommand,
  predict: predictCommand,
  bench: benchCommand,
  summary: summaryCommand,
  convert: convertCommand,
  style: styleCommand,
};

function usage(): string {
  const rows = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`);
  return `usage: convkit <command> [options]\n\ncommands:\n${rows.join('\n')}\n\nconvkit <command> --help shows a command's options; convkit --version the version.`;
}

/**
 * Run the CLI with `argv` (without node and the script). Returns the exit status: 0 done,
 * 1 an error with the files or the data (the message names the file and the problem),
 * 2 bad usage (the message names the argument, then the command's help follows).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    // Like git or argparse: no command is a usage error, with the list of commands.
    console.error(usage());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    console.log(VERSION);
    return 0;
  }
  const cmd = Object.prototype.hasOwnProperty.call(commands, name) ? commands[name] : undefined;
  if (!cmd) {
    console.error(`convkit: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    const args = parseArgs(rest, cmd.options);
    if (args.flags.help) {
      console.log(cmd.help);
      return 0;
    }
    return await cmd.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`convkit ${name}: ${e.message}\n\n${cmd.help}`);
      return 2;
    }
    // Anything else is reported as a message, not a stack: the commands' errors name the
    // file and the problem. CONVKIT_DEBUG=1 adds the stack (for bug reports).
    console.error(`convkit ${name}: ${e instanceof Error ? e.message : String(e)}`);
    if (e instanceof Error && typeof process !== 'undefined' && process.env?.CONVKIT_DEBUG) console.error(e.stack);
    return 1;
  }
}

/**
 * Whether this module is the program Node runs (`convkit ...`, `node dist/esm/cli/main.js`),
 * not a module imported by tests: the script path, with npm's bin symlink resolved, is this file.
 */
function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}
if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(`convkit: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
