/**
 * `convkit bench [ARGS...]`: runs the benchmark suite in bench/ (`npm run bench`),
 * passing the arguments through. Benchmarks live in the source checkout, not in the
 * published package.
 */
import { UsageError, type Command, type ParsedArgs } from '../args.js';

const HELP = `usage: convkit bench [--quick] [--json] [other bench options]

Runs the benchmark suite of the source checkout (bench/, the same as 'npm run bench'),
passing every option through; see bench/README.md for the options and for recorded results.
It must run inside a convkit checkout (the published package has no bench/ folder).`;

/** The nearest folder at or above `start` with a package.json named convkit and a bench/ folder. */
async function findCheckout(start: string): Promise<string | null> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  let dir = path.resolve(start);
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && fs.existsSync(path.join(dir, 'bench'))) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'convkit') return dir;
      } catch {
        /* not ours */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

async function run(args: ParsedArgs): Promise<number> {
  const root = await findCheckout(process.cwd());
  if (!root) throw new UsageError('no convkit checkout with a bench/ folder here or above: run it inside a clone of convkit');
  const fs = await import('node:fs');
  const scripts = JSON.parse(fs.readFileSync(`${root}/package.json`, 'utf8')).scripts ?? {};
  if (!scripts.bench) {
    console.error(`convkit bench: ${root}/package.json has no "bench" script`);
    return 1;
  }
  const pass: string[] = [...args.positional];
  for (const [k, v] of Object.entries(args.flags)) pass.push(v === true ? `--${k}` : `--${k}=${v}`);
  const { spawn } = await import('node:child_process');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  return await new Promise<number>((resolve) => {
    const child = spawn(npm, ['run', '--silent', 'bench', '--', ...pass], { cwd: root, stdio: 'inherit' });
    child.on('error', (e) => {
      console.error(`convkit bench: cannot start npm (${e.message})`);
      resolve(1);
    });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

export const benchCommand: Command = { summary: "run the benchmark suite of the source checkout (npm run bench)", help: HELP, run };
