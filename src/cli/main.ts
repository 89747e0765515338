#!/usr/bin/env node
/**
 * The `convkit` command line. Each command lives in src/cli/commands/<name>.ts and is
 * listed in `commands` below.
 */
import { parseArgs, UsageError, type Command } from './args.js';
import { verifyCommand } from './commands/verify.js';
import { trainCommand } from './commands/train.js';
import { evaluateCommand } from './commands/evaluate.js';
import { predictCommand } from './commands/predict.js';
import { benchCommand } from './commands/bench.js';
import { summaryCommand } from './commands/summary.js';

const commands: Record<string, Command> = {
  // commands: one line each, added by the command's author
  verify: verifyCommand,
  train: trainCommand,
  evaluate: evaluateCommand,
  predict: predictCommand,
  bench: benchCommand,
  summary: summaryCommand,
};

function usage(): string {
  const rows = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`);
  return `usage: convkit <command> [options]\n\ncommands:\n${rows.join('\n')}\n\nconvkit <command> --help shows a command's options.`;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    console.error(`convkit: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const args = parseArgs(rest);
  if (args.flags.help) {
    console.log(cmd.help);
    return 0;
  }
  try {
    return await cmd.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`convkit ${name}: ${e.message}\n\n${cmd.help}`);
      return 2;
    }
    throw e;
  }
}

const invokedDirectly = typeof require !== 'undefined' ? require.main === module : process.argv[1]?.match(/cli[\\/]main\.[cm]?[jt]s$/);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(`convkit: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
