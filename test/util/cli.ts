/** Run the convkit CLI in-process for tests: exit status and what went to stdout / stderr (console.warn counts as stderr). */
import { vi } from 'vitest';
import { main } from '../../src/cli/main.js';

export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (out += `${a.join(' ')}\n`));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (err += `${a.join(' ')}\n`));
  const warn = vi.spyOn(console, 'warn').mockImplementation((...a: unknown[]) => void (err += `${a.join(' ')}\n`));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    for (const s of [log, error, warn, stderr, stdout]) s.mockRestore();
  }
}
