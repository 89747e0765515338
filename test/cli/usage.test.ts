/**
 * The CLI's right answers (issue 13): usage errors exit 2 naming the argument, the value
 * received and what was expected; file problems exit 1 naming the file; --version is the
 * package's; training that diverges stops with the epoch and step.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli } from '../util/cli.js';
import { VERSION } from '../../src/version.js';


const EXAMPLE = fileURLToPath(new URL('../vectors/example.json', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const re = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));

let dir: string;
let saved: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'convkit-usage-'));
  saved = join(dir, 'model');
  const r = await cli('train', '--limit', '64', '--test-limit', '20', '--epochs', '1', '--backend', 'ts', '--quiet', '--save', saved);
  expect(r.code, r.err).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('convkit itself', () => {
  it('with no arguments prints the commands to stderr and exits 2', async () => {
    const r = await cli();
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^usage: convkit <command> \[options\]/);
    expect(r.err).toMatch(/train +train a CNN/);
    expect((await cli('--help')).code).toBe(0);
  });

  it('--version prints the version of package.json (src/version.ts is generated from it)', async () => {
    expect(VERSION).toBe(pkg.version);
    for (const flag of ['--version', '-V']) {
      const r = await cli(flag);
      expect(r.code).toBe(0);
      expect(r.out).toBe(`${pkg.version}\n`);
    }
  });
});

describe('usage errors exit 2, naming the option, the value received and what was expected', () => {
  it('an unknown --model', async () => {
    const r = await cli('train', '--model', 'resnet9000', '--backend', 'ts');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/convkit train: --model must be a zoo model \(.*smallCnn8.*\), received 'resnet9000'/);
    expect(r.out).not.toMatch(/Epoch/);
  });

  it('--lr that is NaN, infinite, zero, negative or empty; --epochs that is not a positive integer', async () => {
    for (const v of ['NaN', 'Infinity', '-Infinity', '1e999', '0', '-0.1', '', 'abc']) {
      const r = await cli('train', '--lr', v, '--backend', 'ts');
      expect(r.code, v).toBe(2);
      expect(r.err, v).toContain(`--lr must be a finite number > 0, received '${v}'`);
    }
    for (const v of ['0', '-1', '1.5', '', 'NaN']) {
      const r = await cli('train', `--epochs=${v}`, '--backend', 'ts');
      expect(r.code, v).toBe(2);
      expect(r.err, v).toContain(`--epochs must be an integer >= 1, received '${v}'`);
    }
    const r = await cli('train', '--lr', '--epochs', '3');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--lr needs a value');
  });

  it('every command rejects an unknown option, listing the known ones', async () => {
    const cases: [string[], string][] = [
      [['verify', EXAMPLE, '--backnd', 'ts'], '--backnd'],
      [['summary', 'lenet5', '--inputs', '32x32x1'], '--inputs'],
      [['evaluate', saved, '--frobnicate'], '--frobnicate'],
      [['predict', '--model-dir', saved, '--index', '0', '--topk', '2'], '--topk'],
      [['train', '--epoch', '2'], '--epoch'],
      [['verify', EXAMPLE, '-x'], '-x'],
    ];
    for (const [argv, flag] of cases) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(new RegExp(`^convkit ${argv[0]}: unknown option ${flag} \\(known options: --\\S+`));
    }
    const v = await cli('verify', EXAMPLE, '--nope');
    expect(v.err).toContain('(known options: --backend, --dtype, --help, --json)');
    expect(v.out).toBe(''); // nothing ran
  });

  it('a boolean option never swallows the next argument', async () => {
    const r = await cli('verify', '--json', EXAMPLE);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ backend: 'ts', failed: 0 });
    expect((await cli('verify', EXAMPLE, '--json=maybe')).err).toContain("--json takes no value (or =true, =false), received 'maybe'");
  });

  it('predict --index with an empty or non-integer item', async () => {
    for (const v of ['1,,2', '', '0.5', '-1']) {
      const r = await cli('predict', '--model-dir', saved, '--index', v, '--backend', 'ts');
      expect(r.code, v).toBe(2);
      expect(r.err, v).toMatch(v === '' ? /--index needs a value|--index must list/ : re(`--index must list images of the held-out part (integers 0..`));
    }
  });
});

describe('file problems exit 1, naming the file', () => {
  it('train --save under a regular file fails before training, naming the path', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    const r = await cli('train', '--limit', '64', '--epochs', '1', '--backend', 'ts', '--save', join(file, 'sub'));
    expect(r.code).toBe(1);
    expect(r.err).toContain(`convkit train: --save ${join(file, 'sub')}: ${file} is a file, not a folder, so ${join(file, 'sub')} cannot be created; expected a folder that can be created and written`);
    expect(r.out + r.err).not.toMatch(/Epoch 1\/1/); // it did not train first
    const r2 = await cli('train', '--limit', '64', '--epochs', '1', '--backend', 'ts', '--save', file);
    expect(r2.code).toBe(1);
    expect(r2.err).toContain(`--save ${file}: ${file} is a file, not a folder`);
  });

  it('evaluate and predict of a missing model say how to make one', async () => {
    const nowhere = join(dir, 'no-model-here');
    const e = await cli('evaluate', nowhere, '--backend', 'ts');
    expect(e.code).toBe(1);
    expect(e.err).toBe(`convkit evaluate: no model at ${nowhere}: train one with \`convkit train --save ${nowhere}\`\n`);
    const p = await cli('predict', '--model-dir', nowhere, '--index', '0', '--backend', 'ts');
    expect(p.code).toBe(1);
    expect(p.err).toContain(`no model at ${nowhere}: train one with \`convkit train --save ${nowhere}\``);
  });

  it('a malformed model.json is named, with the parser\'s message, by evaluate, summary and predict', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad, { recursive: true });
    for (const f of ['model.json', 'weights.bin', 'training.json']) writeFileSync(join(bad, f), readFileSync(join(saved, f)));
    const text = readFileSync(join(saved, 'model.json'), 'utf8');
    writeFileSync(join(bad, 'model.json'), text.slice(0, text.length >> 1));
    const json = join(bad, 'model.json');
    for (const argv of [['evaluate', bad, '--backend', 'ts'], ['summary', bad], ['predict', '--model-dir', bad, '--index', '0', '--backend', 'ts']]) {
      const r = await cli(...argv);
      expect(r.code, argv[0]).toBe(1);
      expect(r.err, argv[0]).toMatch(re(`convkit ${argv[0]}: loadModel: ${json}: not valid JSON (`));
      expect(r.err, argv[0]).toMatch(/JSON/);
    }
    // A damaged weights file is named too.
    writeFileSync(json, text);
    writeFileSync(join(bad, 'weights.bin'), Buffer.concat([readFileSync(join(saved, 'weights.bin')), Buffer.alloc(8)]));
    const r = await cli('evaluate', bad, '--backend', 'ts');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(re(`convkit evaluate: loadModel: ${json}: ${join(bad, 'weights.bin')} has `));
    expect(r.err).toMatch(/8 extra bytes/);
  });
});

describe('training.json is checked, not trusted', () => {
  it('a field of the wrong kind names the file and the field (it used to surface as a bad --test-split)', async () => {
    const d = join(dir, 'bad-note');
    mkdirSync(d, { recursive: true });
    for (const f of ['model.json', 'weights.bin']) writeFileSync(join(d, f), readFileSync(join(saved, f)));
    const note = JSON.parse(readFileSync(join(saved, 'training.json'), 'utf8'));
    writeFileSync(join(d, 'training.json'), JSON.stringify({ ...note, testSplit: 'a fifth' }));
    const r = await cli('evaluate', d, '--backend', 'ts');
    expect(r.code).toBe(1);
    expect(r.err).toBe(`convkit evaluate: ${join(d, 'training.json')}: "testSplit" must be a number in (0, 1), received "a fifth"\n`);
    writeFileSync(join(d, 'training.json'), JSON.stringify({ ...note, classNames: [0, 1] }));
    const p = await cli('predict', '--model-dir', d, '--index', '0', '--backend', 'ts');
    expect(p.code).toBe(1);
    expect(p.err).toContain(`${join(d, 'training.json')}: "classNames" must be an array of strings or null, received [0,1]`);
  });
});

describe('a run whose loss becomes NaN or infinite', () => {
  it('stops with the epoch and step, saves nothing and exits 1', async () => {
    const out = join(dir, 'diverged');
    const r = await cli('train', '--limit', '64', '--test-limit', '20', '--epochs', '3', '--batch-size', '16', '--optimizer', 'sgd', '--lr', '1e30', '--backend', 'ts', '--save', out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^convkit train: Epoch 1, step \d: loss is (NaN|Infinity|-Infinity); training stopped \(TerminateOnNaN\)$/m);
    expect(r.out).not.toMatch(/Epoch 2\/3/);
    expect(existsSync(join(out, 'model.json'))).toBe(false);
  });
});
