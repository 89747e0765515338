/**
 * Global types the public declarations mention that a Node project compiled with
 * `lib: ["es2022"]` and @types/node 20 lacks: `WebAssembly.Memory` and `WebAssembly.Module`
 * live in TypeScript's DOM lib. An empty interface merges with the full one wherever that lib is loaded (our
 * own build, browser projects), and makes the name resolve everywhere else.
 */
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace WebAssembly {
    // eslint-disable-next-line @typescript-eslint/no-empty-interface, @typescript-eslint/no-empty-object-type
    interface Memory {}
    // eslint-disable-next-line @typescript-eslint/no-empty-interface, @typescript-eslint/no-empty-object-type
    interface Module {}
  }
}

/** The wasm backend's memory (a `WebAssembly.Memory`), by a name that needs no DOM lib. */
export type WasmMemory = WebAssembly.Memory;
