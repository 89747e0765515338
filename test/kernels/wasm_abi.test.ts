/**
 * The codes and layouts the host and the AssemblyScript kernels share come from one
 * source (src/kernels/wasm_abi.ts); assembly/abi.ts is generated from it. This fails when
 * someone edits one side only.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script, no type declarations
import { renderAbi, TARGET } from '../../scripts/gen-abi.mjs';

describe('wasm ABI', () => {
  it('assembly/abi.ts is what scripts/gen-abi.mjs writes from src/kernels/wasm_abi.ts', async () => {
    const want: string = await renderAbi();
    const have = readFileSync(new URL(`../../${TARGET}`, import.meta.url), 'utf8');
    expect(have, 'assembly/abi.ts is out of date: run node scripts/gen-abi.mjs').toBe(want);
  });

});
