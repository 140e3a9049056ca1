// Evaluates expression cases with the browser twin (engine/web/static/js/expr.js) in Node.
//
//   node tests/expr/run_corpus.mjs <cases.json> <trees.json | inline JSON | ->
//       cases: a list of {values, changed, today} (or {"cases": [...]}, like corpus.json);
//       trees: the engine.expr.to_json trees, one per case, in the same order.
//       Prints a JSON list: {"value": encoded, "test": bool} or {"error": text} per case.
//
//   node tests/expr/run_corpus.mjs --script-check
//       Loads vendor/big.js and expr.js as plain <script>s would (no module, no require) and
//       prints the encoded value of 1.10 + 2, to prove window.DossierExpr works without a bundler.
//
//   node --experimental-vm-modules tests/expr/run_corpus.mjs --module-check
//       The same through ES modules: import Big from vendor/big.mjs, import expr.js, useBig(Big).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const HERE = dirname(fileURLToPath(import.meta.url));
const JS_DIR = join(HERE, '..', '..', 'engine', 'web', 'static', 'js');

function scriptCheck() {
  const window = {};
  window.window = window;
  window.self = window;
  const context = vm.createContext(window);
  for (const file of ['vendor/big.js', 'expr.js']) {
    vm.runInContext(readFileSync(join(JS_DIR, file), 'utf8'), context, { filename: file });
  }
  const X = window.DossierExpr;
  const tree = { op: '+', args: [{ num: '1.10' }, { num: '2' }] };
  return { value: X.encode(X.evaluate(tree, { today: '2027-06-01' })), global: typeof window.Big };
}

async function moduleCheck() {
  const window = {};
  window.window = window;
  window.self = window;
  const context = vm.createContext(window);
  const modules = {};
  for (const file of ['vendor/big.mjs', 'expr.js']) {
    const source = readFileSync(join(JS_DIR, file), 'utf8');
    modules[`./${file}`] = new vm.SourceTextModule(source, { context, identifier: file });
  }
  const page = new vm.SourceTextModule(`
    import Big from './vendor/big.mjs';
    import './expr.js';
    const X = globalThis.DossierExpr;
    X.useBig(Big);
    const tree = { op: '+', args: [{ num: '1.10' }, { num: '2' }] };
    globalThis.result = X.encode(X.evaluate(tree, { today: '2027-06-01' }));`, { context });
  await page.link((specifier) => modules[specifier]);
  await page.evaluate();
  return { value: window.result, global: typeof window.Big };
}

function readJson(arg) {
  if (arg === '-') return JSON.parse(readFileSync(0, 'utf8'));
  const text = arg.trimStart();
  if (text.startsWith('[') || text.startsWith('{')) return JSON.parse(text);
  return JSON.parse(readFileSync(arg, 'utf8'));
}

async function main(argv) {
  if (argv[0] === '--script-check') return scriptCheck();
  if (argv[0] === '--module-check') return moduleCheck();
  if (argv.length !== 2) {
    throw new Error('usage: run_corpus.mjs <cases.json> <trees.json|JSON|->');
  }
  const X = createRequire(import.meta.url)(join(JS_DIR, 'expr.js'));
  const corpus = readJson(argv[0]);
  const cases = Array.isArray(corpus) ? corpus : corpus.cases;
  const trees = readJson(argv[1]);
  if (trees.length !== cases.length) {
    throw new Error(`${cases.length} cases but ${trees.length} trees`);
  }
  return cases.map((c, i) => {
    try {
      const scope = X.scopeFrom(c);
      return { value: X.encode(X.evaluate(trees[i], scope)), test: X.test(trees[i], scope) };
    } catch (err) {
      return { error: String((err && err.stack) || err) };
    }
  });
}

process.stdout.write(JSON.stringify(await main(process.argv.slice(2))));
