// Mark dist/cjs as CommonJS (the package itself is "type": "module") and make the CLI executable.
import { writeFileSync, chmodSync, existsSync } from 'node:fs';
writeFileSync('dist/cjs/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');
if (existsSync('dist/cjs/cli/main.js')) chmodSync('dist/cjs/cli/main.js', 0o755);
