// Evaluates dossiers with the browser twin (engine/web/static/js/rules.js) in Node, in one batch.
//
//   node tests/rules/run_twin.js <batch.json>
//       batch: {"model": client_model JSON, "cases": [{"answers": {...}, "context": {...}}]}
//       Prints a JSON list: the DossierRules.evaluate result, or {"error": text}, per case.
'use strict';

const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const DossierRules = require(join(__dirname, '..', '..', 'engine', 'web', 'static', 'js',
  'rules.js'));

const batch = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const out = batch.cases.map((c) => {
  try {
    return DossierRules.evaluate(batch.model, c.answers, c.context);
  } catch (err) {
    return { error: String((err && err.stack) || err) };
  }
});
process.stdout.write(JSON.stringify(out));
