// Evaluates dossiers with the browser twin (engine/web/static/js/rules.js) in Node, in one batch.
//
//   node tests/rules/run_twin.js <batch.json>
//       batch: {"model": client_model JSON, "cases": [{"answers": {...}, "context": {...}}]}
//       Prints a JSON list: the DossierRules.evaluate result, or {"error": text}, per case.
//
//   node tests/rules/run_twin.js --format <numbers.json>
//       numbers: a list of decimal texts; prints [[formatMoney, formatDecimal], ...].
//
//   node tests/rules/run_twin.js --format-date <values.json>
//       values: a list of computed date values (any JSON); prints [formatDate, ...].
//
//   node tests/rules/run_twin.js --display-computed <values.json>
//       values: a list of [format, stored computed value]; prints [displayComputed, ...].
//
//   node tests/rules/run_twin.js --script-check <batch.json>
//       The same for the first case, with vendor/big.js, expr.js and rules.js loaded as the
//       page loads them: plain <script>s sharing one global object (no module, no require).
'use strict';

const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const vm = require('node:vm');

const JS_DIR = join(__dirname, '..', '..', 'engine', 'web', 'static', 'js');

function evaluateAll(DossierRules, batch) {
  return batch.cases.map((c) => {
    try {
      return DossierRules.evaluate(batch.model, c.answers, c.context);
    } catch (err) {
      return { error: String((err && err.stack) || err) };
    }
  });
}

function asScripts() {
  const window = {};
  window.window = window;
  const context = vm.createContext(window);
  for (const file of ['vendor/big.js', 'expr.js', 'rules.js']) {
    vm.runInContext(readFileSync(join(JS_DIR, file), 'utf8'), context, { filename: file });
  }
  return window.DossierRules;
}

const args = process.argv.slice(2);
if (args[0] === '--format') {
  const rules = require(join(JS_DIR, 'rules.js'));
  const numbers = JSON.parse(readFileSync(args[1], 'utf8'));
  process.stdout.write(JSON.stringify(numbers.map((n) => [rules.formatMoney(n),
    rules.formatDecimal(n)])));
  process.exit(0);
}
if (args[0] === '--format-date') {
  const rules = require(join(JS_DIR, 'rules.js'));
  const values = JSON.parse(readFileSync(args[1], 'utf8'));
  process.stdout.write(JSON.stringify(values.map((v) => rules.formatDate(v))));
  process.exit(0);
}
if (args[0] === '--display-computed') {
  const rules = require(join(JS_DIR, 'rules.js'));
  const values = JSON.parse(readFileSync(args[1], 'utf8'));
  process.stdout.write(JSON.stringify(values.map(([f, v]) => rules.displayComputed(f, v))));
  process.exit(0);
}
const scripts = args[0] === '--script-check';
const batch = JSON.parse(readFileSync(scripts ? args[1] : args[0], 'utf8'));
const rules = scripts ? asScripts() : require(join(JS_DIR, 'rules.js'));
process.stdout.write(JSON.stringify(evaluateAll(rules, batch)));
