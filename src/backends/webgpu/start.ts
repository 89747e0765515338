/**
 * Starting the `webgpu` backend: find a WebGPU implementation, open the adapter and the device,
 * and load the WGSL kernels (each kernels/ file registers its kernels as it loads). index.ts
 * imports this module only when `setBackend('webgpu')` runs, so an app that never starts webgpu
 * does not load it, and a bundler puts it in a chunk of its own (about 125 kB minified, with the
 * backend class, that a wasm-only app no longer carries: test/package/treeshake.test.ts).
 *
 * Where the GPU comes from: `navigator.gpu` when it exists (browsers, Deno); otherwise,
 * in Node, the optional peer package `webgpu` (Dawn), loaded by a dynamic import that
 * bundlers do not follow, so browser builds never need it.
 */
import { WebGPUBackend } from './backend.js';
import type { Gpu, GpuAdapter } from './gpu_api.js';
import './kernels/elementwise.js';
import './kernels/reduce.js';
import './kernels/shape.js';
import './kernels/matmul.js';
import './kernels/conv.js';
import './kernels/pool.js';
import './kernels/optim.js';
import './kernels/activation.js';
import './kernels/norm.js';
import './kernels/loss.js';
import './kernels/boxes.js';

/**
 * Load a package at run time without bundlers following it. The plain `import()` of a
 * variable serves ESM builds, vitest and the CommonJS build on Node >= 20.19 (where tsc
 * turns it into `require`, which loads ES modules there); older Nodes refuse to
 * `require` an ES module, and for them an `import()` compiled by `new Function` is used.
 */
async function runtimeImport(specifier: string): Promise<Record<string, unknown>> {
  try {
    return (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as Record<string, unknown>;
  } catch (first) {
    try {
      return await (new Function('s', 'return import(s)') as (s: string) => Promise<Record<string, unknown>>)(specifier);
    } catch {
      throw first;
    }
  }
}

const NODE_HINT =
  "In Node, install the optional peer package 'webgpu' (npm install webgpu). On a machine without a GPU, " +
  "Dawn can run on SwiftShader: install Debian's chromium and libvulkan1 and set " +
  'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json.';

/** Find a WebGPU implementation: navigator.gpu, else the `webgpu` package in Node. */
export async function findGpu(): Promise<Gpu> {
  const nav = (globalThis as { navigator?: { gpu?: Gpu } }).navigator;
  if (nav && nav.gpu) return nav.gpu;
  const isNode = typeof process !== 'undefined' && !!(process as { versions?: { node?: string } }).versions?.node;
  if (!isNode) {
    throw new Error("webgpu: this browser exposes no navigator.gpu (WebGPU needs a secure context, https or localhost, and a browser with WebGPU enabled)");
  }
  let mod: Record<string, unknown>;
  try {
    mod = await runtimeImport('webgpu');
  } catch (e) {
    throw new Error(`webgpu: no navigator.gpu and the package 'webgpu' could not be loaded (${(e as Error).message}). ${NODE_HINT}`);
  }
  const create = mod.create as ((flags: string[]) => Gpu) | undefined;
  if (typeof create !== 'function') throw new Error("webgpu: the package 'webgpu' does not export create(); expected dawn.node's API");
  return create([]);
}

/** Open the adapter and device and build the backend. */
export async function createWebGPUBackend(gpuImpl?: Gpu): Promise<WebGPUBackend> {
  const gpuApi = gpuImpl ?? (await findGpu());
  let adapter: GpuAdapter | null;
  try {
    adapter = await gpuApi.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    throw new Error(`webgpu: requestAdapter failed (${(e as Error).message}). ${NODE_HINT}`);
  }
  if (!adapter) {
    throw new Error(`webgpu: no GPU adapter is available (requestAdapter returned null). ${NODE_HINT}`);
  }
  const lim = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
      maxBufferSize: lim.maxBufferSize,
      maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: lim.maxComputeInvocationsPerWorkgroup,
    },
  });
  const info = adapter.info;
  const name = [info?.vendor, info?.architecture, info?.device, info?.description].filter((s) => s).join(' ') || 'unnamed adapter';
  return new WebGPUBackend(device, { adapterName: name, owner: gpuApi });
}
