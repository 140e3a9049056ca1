// Evaluates dossiers with the browser twin and the plugin types' scripts, loaded as the wizard
// page loads them (plain <script>s sharing one global object), in one batch.
//
//   node tests/plugin/run_twin.js <batch.json>
//       batch: {"model": client_model JSON, "scripts": [plugin script paths],
//               "cases": [{"answers": {...}, "context": {...}}]}
//       Prints a JSON list: the DossierRules.evaluate result, or {"error": text}, per case.
'use strict';

const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const vm = require('node:vm');

const JS_DIR = join(__dirname, '..', '..', 'engine', 'web', 'static', 'js');
const batch = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const window = {};
window.window = window;
const context = vm.createContext(window);
const files = ['vendor/big.js', 'expr.js', 'rules.js'].map((f) => join(JS_DIR, f));
for (const file of [...files, ...batch.scripts]) {
  vm.runInContext(readFileSync(file, 'utf8'), context, { filename: file });
}
process.stdout.write(JSON.stringify(batch.cases.map((c) => {
  try {
    return window.DossierRules.evaluate(batch.model, c.answers, c.context);
  } catch (err) {
    return { error: String((err && err.stack) || err) };
  }
})));
