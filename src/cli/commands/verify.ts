/**
 * `convkit verify FILE... [--backend ts|wasm|webgpu] [--dtype float32|float64] [--json]`
 *
 * Checks a backend against reference vectors ("convkit-vectors/1", see VECTORS.md / the
 * README's `verify` section). One line per case and `N passed, N failed`; with --json a
 * single object { backend, dtype, passed, failed, cases: [{ name, op, pass, maxAbsErr,
 * maxRelErr, error? }] }. Exit status 0 all pass, 1 any fails, 2 a file cannot be read or
 * is not this format, or the backend is not available.
 */
import { readFileSync } from 'node:fs';
import '../../backends/ts/index.js';
import { listBackends } from '../../registry/backends.js';
import { VectorFormatError, parseVectors, type VectorFile } from '../../verify/format.js';
import { verifyVectors, type CaseReport, type VerifyReport } from '../../verify/verify.js';
import { flagBool, flagString, UsageError, type Command, type OptionSpec, type ParsedArgs } from '../args.js';
import { loadOptionalBackends } from '../backend_choice.js';

const HELP = `usage: convkit verify FILE... [--backend ts|wasm|webgpu] [--dtype float32|float64] [--json]

Runs every case of each vectors file ("format": "convkit-vectors/1") on the backend and
compares outputs and gradients (vector-Jacobian products with the file's cotangents).

  --backend NAME   ts (default), wasm or webgpu (any registered backend)
  --dtype D        float64 (default) or float32
  --json           print one JSON object instead of one line per case

A value passes when |actual - expected| <= atol + rtol * |expected| (NaN matches only NaN,
an infinity only the same infinity). Defaults: float64 atol 1e-9 rtol 1e-7, float32
atol 1e-5 rtol 1e-4; a case's "tol" overrides them (in float32 never below the defaults);
reductions over more than 1,000 terms scale the default atol by sqrt(terms), noted per line.
A case whose op or one of whose attributes convkit does not know fails as "unsupported".
Exit status: 0 all pass, 1 any case fails, 2 unreadable file, wrong format, a file without
cases, an unknown option, or a backend that is not registered or does not start.`;

const OPTIONS: OptionSpec = { backend: 'string', dtype: 'string', json: 'boolean' };

function fmt(v: number | null): string {
  return v === null ? 'inf' : v === 0 ? '0' : v.toExponential(2);
}

function caseLine(r: CaseReport): string {
  const scaled = r.atolScaled ? ` (atol x sqrt(${r.atolScaled.terms}) = ${r.atolScaled.atol.toExponential(2)})` : '';
  const head = `${r.pass ? 'PASS' : 'FAIL'}  ${r.name}  [${r.op}]  maxAbsErr ${fmt(r.maxAbsErr)}  maxRelErr ${fmt(r.maxRelErr)}${scaled}`;
  return r.error ? `${head}  -- ${r.error}` : head;
}

async function run(args: ParsedArgs): Promise<number> {
  const files = args.positional;
  if (files.length === 0) throw new UsageError('no vectors file given');
  const backend = flagString(args, 'backend', 'ts')!;
  const dtype = flagString(args, 'dtype', 'float64')!;
  if (dtype !== 'float32' && dtype !== 'float64') throw new UsageError(`--dtype must be float32 or float64, received '${dtype}'`);
  const json = flagBool(args, 'json');

  // Read and validate every file before running anything.
  const parsed: { file: string; doc: VectorFile }[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      console.error(`convkit verify: cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
      return 2;
    }
    try {
      parsed.push({ file, doc: parseVectors(text, file) });
    } catch (e) {
      if (e instanceof VectorFormatError) {
        console.error(`convkit verify: ${e.message}`);
        return 2;
      }
      throw e;
    }
  }

  // Every optional backend registers itself when its module loads: load them all before
  // checking the name, so that an unknown name is answered with the full list.
  const loadErrors = await loadOptionalBackends();
  if (!listBackends().includes(backend)) {
    const extra = loadErrors[backend] ? ` (its module did not load: ${loadErrors[backend]})` : '';
    throw new UsageError(`--backend must be a registered backend (${[...listBackends()].sort().join(', ')}), received '${backend}'${extra}`);
  }
  const reports: VerifyReport[] = [];
  for (const { file, doc } of parsed) {
    try {
      reports.push(await verifyVectors(doc, { backend, dtype, file, onCase: json ? undefined : (c) => console.log(caseLine(c)) }));
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      console.error(`convkit verify: backend '${backend}' is not available: ${why}`);
      return 2;
    }
  }

  const cases = reports.flatMap((r) => r.cases);
  const passed = cases.filter((c) => c.pass).length;
  const failed = cases.length - passed;
  if (json) {
    const out = {
      backend, dtype, passed, failed,
      cases: cases.map((c) => {
        const o: { name: string; op: string; pass: boolean; maxAbsErr: number | null; maxRelErr: number | null; error?: string } = {
          name: c.name, op: c.op, pass: c.pass, maxAbsErr: c.maxAbsErr, maxRelErr: c.maxRelErr,
        };
        if (c.error !== undefined) o.error = c.error;
        return o;
      }),
    };
    console.log(JSON.stringify(out, null, 2));
  } else {
    console.log(`${passed} passed, ${failed} failed`);
  }
  const fb = new Map<string, number>();
  for (const r of reports) for (const f of r.fallbacks) fb.set(`${f.kernel} (${f.reason})`, (fb.get(`${f.kernel} (${f.reason})`) ?? 0) + f.count);
  if (fb.size) console.error(`convkit verify: on '${backend}' these kernels ran on 'ts': ${[...fb.keys()].join(', ')}`);
  return failed === 0 ? 0 : 1;
}

export const verifyCommand: Command = {
  summary: 'check a backend against reference test vectors (convkit-vectors/1)',
  help: HELP,
  options: OPTIONS,
  run,
};
