/**
 * The CLI's argument parser: `--name value`, `--name=value`, `--flag`, `-h`, positionals,
 * and `--` (everything after it is positional).
 *
 * A command declares its options (name -> 'string' | 'boolean'), and the parser holds it
 * to them: an unknown option is a usage error naming it and listing the known ones, a
 * boolean option never swallows the next argument (`--json file.json` keeps the file),
 * and a string option always needs a value. Only a command without a declaration (bench,
 * which passes everything through) gets the old guessing parse.
 */
export interface ParsedArgs {
  positional: string[];
  flags: Record<string, string | true>;
}

export type OptionKind = 'string' | 'boolean';
export type OptionSpec = Readonly<Record<string, OptionKind>>;

/** Error for bad command-line use: printed without a stack trace, exit status 2. */
export class UsageError extends Error {}

const isOptionLike = (a: string) => a.startsWith('--') && a.length > 2;

export function parseArgs(argv: readonly string[], spec?: OptionSpec): ParsedArgs {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  const known: Record<string, OptionKind> | undefined = spec ? { help: 'boolean', ...spec } : undefined;
  const unknown = (shown: string): never => {
    const names = Object.keys(known!).sort().map((n) => `--${n}`);
    throw new UsageError(`unknown option ${shown} (known options: ${names.join(', ')})`);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-h') {
      flags.help = true;
      continue;
    }
    if (isOptionLike(a)) {
      const eq = a.indexOf('=');
      const name = eq === -1 ? a.slice(2) : a.slice(2, eq);
      const inline = eq === -1 ? undefined : a.slice(eq + 1);
      if (!known) {
        if (inline !== undefined) flags[name] = inline;
        else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) flags[name] = argv[++i];
        else flags[name] = true;
        continue;
      }
      const kind = Object.prototype.hasOwnProperty.call(known, name) ? known[name] : unknown(`--${name}`);
      if (kind === 'boolean') {
        if (inline === undefined || inline === 'true') flags[name] = true;
        else if (inline === 'false') delete flags[name];
        else throw new UsageError(`--${name} takes no value (or =true, =false), received '${inline}'`);
      } else if (inline !== undefined) {
        flags[name] = inline;
      } else if (i + 1 < argv.length && !isOptionLike(argv[i + 1])) {
        flags[name] = argv[++i];
      } else {
        throw new UsageError(`--${name} needs a value`);
      }
      continue;
    }
    // '-x' short options are not supported (only -h); a negative number is a positional.
    if (known && /^-[A-Za-z]/.test(a)) unknown(a);
    positional.push(a);
  }
  return { positional, flags };
}

export function flagString(args: ParsedArgs, name: string, dflt?: string): string | undefined {
  const v = args.flags[name];
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v ?? dflt;
}

/** A finite number (an empty value is not 0). */
export function flagNumber(args: ParsedArgs, name: string, dflt?: number): number | undefined {
  const v = flagString(args, name);
  if (v === undefined) return dflt;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a finite number, received '${v}'`);
  return n;
}

/** A finite number > 0 (rates, fractions of something positive). */
export function flagPositive(args: ParsedArgs, name: string, dflt?: number): number | undefined {
  const v = flagString(args, name);
  if (v === undefined) return dflt;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a finite number > 0, received '${v}'`);
  return n;
}

/** An integer >= min. */
export function flagInt(args: ParsedArgs, name: string, min = 1, dflt?: number): number | undefined {
  const v = flagString(args, name);
  if (v === undefined) return dflt;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, received '${v}'`);
  return n;
}

export function flagBool(args: ParsedArgs, name: string): boolean {
  return args.flags[name] === true || args.flags[name] === 'true';
}

/** A CLI command: its one-line summary, its --help text, its options, and what it does (returns the exit status). */
export interface Command {
  summary: string;
  help: string;
  /**
   * Every option the command takes ('help' is implied). Unknown options are usage
   * errors; leave it out only for a command that passes its options on (bench).
   */
  options?: OptionSpec;
  run(args: ParsedArgs): Promise<number>;
}
