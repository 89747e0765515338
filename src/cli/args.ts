/** A small argument parser for the CLI: `--name value`, `--flag`, `--name=value`, positionals. */
export interface ParsedArgs {
  positional: string[];
  flags: Record<string, string | true>;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq !== -1) flags[a.slice(2, eq)] = a.slice(eq + 1);
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) flags[a.slice(2)] = argv[++i];
      else flags[a.slice(2)] = true;
    } else if (a === '-h') flags.help = true;
    else positional.push(a);
  }
  return { positional, flags };
}

/** Error for bad command-line use: printed without a stack trace, exit status 2. */
export class UsageError extends Error {}

export function flagString(args: ParsedArgs, name: string, dflt?: string): string | undefined {
  const v = args.flags[name];
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v ?? dflt;
}

export function flagNumber(args: ParsedArgs, name: string, dflt?: number): number | undefined {
  const v = flagString(args, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, received '${v}'`);
  return n;
}

export function flagBool(args: ParsedArgs, name: string): boolean {
  return args.flags[name] === true || args.flags[name] === 'true';
}

/** A CLI command: its one-line summary, its --help text, and what it does (returns the exit status). */
export interface Command {
  summary: string;
  help: string;
  run(args: ParsedArgs): Promise<number>;
}
