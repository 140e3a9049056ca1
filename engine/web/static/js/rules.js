/*
 * DossierSCO campaign rules in the browser: the twin of engine/rules/evaluation.py (with
 * scope.py, fees.py and the field types' normalize / validate / same hooks). It reads the JSON
 * of engine.rules.client.client_model and gives, for a dossier's answers, what the server gives:
 * the same visible / required / read-only keys, computed values, fees with their explanations
 * word for word, memberships, documents with their reasons and the total. tests/rules/
 * test_twin.py runs the campaign tests and generated dossiers through both and compares.
 *
 * The server stays authoritative: errors here are those the browser can check (required
 * answers, numbers, dates, choices, lengths, patterns, the campaign's own `validate` rules);
 * e-mail, phone and country syntax are checked by the server only.
 *
 * Loading (no bundler), after vendor/big.js and expr.js:
 *   <script src="/static/js/rules.js"></script>            -> window.DossierRules
 *   Node: const DossierRules = require("./rules.js");      (loads ./expr.js itself)
 *
 *   DossierRules.evaluate(model, answers, {prefill, family, today: "YYYY-MM-DD"})
 *     -> {visiblePages, visible, required, readonly, computed, errors, fees, memberships,
 *         documents, total}
 *   DossierRules.formatMoney("12.3") -> "12,30 €" (engine.fields.common.format_money)
 *   DossierRules.displayComputed("boolean", true) -> "Oui" (ComputedField.display)
 *   DossierRules.registerType("name", {normalize, validate, exprValue}): a plugin field type's
 *     twin of its FieldType hooks (its script is loaded after rules.js), see registerType
 */
(function (root, factory) {
  'use strict';
  var cjs = typeof module === 'object' && module !== null && typeof module.exports === 'object' &&
    typeof require === 'function';
  var X = cjs ? require('./expr.js') : root.DossierExpr;
  if (!X) throw new Error('DossierRules needs expr.js: load it before rules.js');
  var api = factory(X);
  if (cjs) module.exports = api;
  if (root) root.DossierRules = api;
}(typeof globalThis !== 'undefined' ? globalThis : this, function (X) {
  'use strict';

  var NNBSP = '\u202f'; // thousands separator of format_decimal
  var NBSP = '\u00a0'; // before the euro sign
  var ZERO = X.num('0');
  var HUNDREDTH = X.num('0.01');

  function FieldError(message) {
    this.message = message;
  }

  function own(obj, key) {
    return obj !== null && typeof obj === 'object' &&
      Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
  }

  function get(obj, key) { // Python's mapping.get(key): null when absent
    var v = own(obj, key);
    return v === undefined ? null : v;
  }

  var isPlainObject = X.isMap; // an object that is neither a list, a Num nor a DateValue

  /** Python's str() of a JSON value: True/False, lists and objects as Python writes them. */
  function pyStr(v) {
    if (typeof v === 'string') return v;
    if (v instanceof X.Num || v instanceof X.DateValue) return X.toText(v);
    return pyRepr(v);
  }

  /** Python's repr() of a JSON value (a hostile answer posted as a list or an object). */
  function pyRepr(v) {
    if (v === null || v === undefined) return 'None';
    if (typeof v === 'boolean') return v ? 'True' : 'False';
    if (typeof v === 'string') return X.reprText(v);
    if (typeof v === 'number') return String(v);
    if (Array.isArray(v)) return '[' + v.map(pyRepr).join(', ') + ']';
    if (v instanceof X.Num || v instanceof X.DateValue) return X.toText(v);
    return '{' + Object.keys(v).map(function (k) {
      return X.reprText(k) + ': ' + pyRepr(v[k]);
    }).join(', ') + '}';
  }

  // Python's str.split() / str.strip() whitespace (JavaScript's \s differs slightly).
  var WS = '\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f' +
    '\\u205f\\u3000';
  var WS_RUN = new RegExp('[' + WS + ']+');
  var WS_EDGES = new RegExp('^[' + WS + ']+|[' + WS + ']+$', 'g');
  var WS_END = new RegExp('[' + WS + ']+$');

  function strip(s) {
    return s.replace(WS_EDGES, '');
  }

  function splitWords(s) {
    return s.split(WS_RUN).filter(function (w) { return w !== ''; });
  }

  // -------------------------------------------------------------------------------------------
  // Numbers, dates and booleans as engine.fields reads them.

  // what Decimal() reads once Python's C implementation has dropped the underscores
  var DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

  /** engine.fields.common.to_decimal: a Num from a number or French/English text, else null. */
  function toDecimal(value) {
    if (value === null || value === undefined || typeof value === 'boolean') return null;
    if (value instanceof X.Num) return value;
    if (typeof value !== 'string' && typeof value !== 'number') return null;
    var text = strip(pyStr(value)).replace(/[\u202f\u00a0 ]/g, '').replace(/,/g, '.');
    text = text.replace(/_/g, '');
    if (!DECIMAL_RE.test(text)) return null;
    var n = X.num(text);
    return Math.abs(X.adjusted(n)) > 15 ? null : n;
  }

  var DATE_TIME = '(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\\.[0-9]+)?)?)?';
  var FR_DATE = new RegExp('^\\s*(\\d{1,2})[/.\\- ](\\d{1,2})[/.\\- ](\\d{4})' + DATE_TIME + '\\s*$');
  var ISO_DATE = new RegExp('^([0-9]{4})-([0-9]{2})-([0-9]{2})' + DATE_TIME + '$');

  /** engine.fields.date.read_date: JJ/MM/AAAA or ISO text, a time may follow (spreadsheet
   * cells); else Python's fromisoformat. */
  function parseDate(value) {
    if (value instanceof X.DateValue) return value;
    if (typeof value !== 'string') return null;
    var text = strip(value);
    var m = FR_DATE.exec(text);
    if (m) return X.makeDate(+m[3], +m[2], +m[1]);
    m = ISO_DATE.exec(text);
    if (m) return X.makeDate(+m[1], +m[2], +m[3]);
    return X.fromIsoFormat(text);
  }

  var TRUE_WORDS = ['true', '1', 'oui', 'yes', 'on', 'o', 'y'];
  var FALSE_WORDS = ['false', '0', 'non', 'no', 'off', 'n'];

  function toBool(value) {
    if (value === null || value === undefined) return null;
    if (typeof value === 'boolean') return value;
    var text = strip(pyStr(value)).toLowerCase();
    if (TRUE_WORDS.indexOf(text) !== -1) return true;
    if (FALSE_WORDS.indexOf(text) !== -1) return false;
    if (text === '') return null;
    throw new FieldError('Répondez par oui ou par non.');
  }

  function two(n) {
    return (n < 10 ? '0' : '') + n;
  }

  /** engine.fields.common.format_date: dd/mm/yyyy, the year always on four digits. */
  function dmy(d) {
    return two(d.d) + '/' + two(d.m) + '/' + String(d.y).padStart(4, '0');
  }

  // -------------------------------------------------------------------------------------------
  // French display of amounts (engine.fields.common).

  /**
   * format_decimal: comma decimals, narrow no-break spaces between thousands; its abs()
   * rounds a number of more than 28 digits.
   */
  function formatDecimal(n) {
    var sign = X.cmpNum(n, ZERO) < 0 ? '-' : '';
    var text = X.plainText(X.absNum(n));
    var dot = text.indexOf('.');
    var whole = dot === -1 ? text : text.slice(0, dot);
    var frac = dot === -1 ? '' : text.slice(dot + 1);
    var groups = [];
    while (whole.length > 3) {
      groups.unshift(whole.slice(-3));
      whole = whole.slice(0, -3);
    }
    groups.unshift(whole);
    return sign + groups.join(NNBSP) + (frac ? ',' + frac : '');
  }

  /** format_money: to the cent (half even, as Decimal.quantize by default) with the euro sign. */
  function formatMoney(value) {
    var n = value instanceof X.Num ? value : X.num(String(value));
    return formatDecimal(X.quantize(n, 2, X.HALF_EVEN)) + NBSP + '€';
  }

  /**
   * ComputedField.display: a stored computed value as the page, the review, the PDF and the
   * e-mails write it for its `format` ('' when it is not of that format).
   */
  function displayComputed(format, value) {
    if (value === null || value === undefined) return '';
    if (format === 'number' || format === 'integer' || format === 'money') {
      var n = toDecimal(value);
      if (n === null) return '';
      if (format === 'money') return formatMoney(n);
      // integer: quantize(Decimal(1)), half even
      return formatDecimal(format === 'integer' ? X.quantize(n, 0, X.HALF_EVEN) : n);
    }
    if (format === 'date') {
      var d = parseDate(value);
      return d ? dmy(d) : '';
    }
    if (format === 'boolean') return X.truthy(value) ? 'Oui' : 'Non'; // Python's truth value
    return pyStr(value);
  }

  // -------------------------------------------------------------------------------------------
  // Field types: normalize (stored value), validate, emptiness, expression value, sameness.

  var ADDRESS_PARTS = ['line1', 'line2', 'postal_code', 'commune_insee', 'commune', 'country'];

  function opts(spec) {
    return spec.options || {};
  }

  function choiceValues(spec) {
    return (opts(spec).choices || []).map(function (c) { return c.value; });
  }

  /**
   * E.164 for the usual French forms (06 12 34 56 78, 6 12 34 56 78, 0033…, +33…, 33…), as
   * the server's phonenumbers writes them; other text unchanged (the server checks it).
   */
  function normalizePhone(text, region) {
    var compact = text.replace(/[\s.\-()/\u00a0\u202f]/g, '');
    if (/^00\d{6,15}$/.test(compact)) compact = '+' + compact.slice(2);
    if (/^\+33\(?0\)?\d{9}$/.test(compact)) compact = '+33' + compact.slice(-9);
    if (/^\+\d{6,15}$/.test(compact)) return compact;
    if ((region || 'FR') === 'FR') {
      if (/^0[1-9]\d{8}$/.test(compact)) return '+33' + compact.slice(1);
      if (/^[1-9]\d{8}$/.test(compact)) return '+33' + compact; // the leading 0 forgotten
      if (/^33[1-9]\d{8}$/.test(compact)) return '+' + compact; // the + forgotten
    }
    return text;
  }

  var NORMALIZE = {
    text: function (v) {
      if (v === null) return null;
      return splitWords(pyStr(v)).join(' ') || null;
    },
    textarea: function (v) {
      if (v === null) return null;
      var lines = pyStr(v).replace(/\r\n/g, '\n').split('\n').map(function (l) {
        return l.replace(WS_END, '');
      });
      return strip(lines.join('\n')) || null;
    },
    number: function (v, spec) { return normalizeNumber(v, spec, false); },
    integer: function (v, spec) { return normalizeNumber(v, spec, true); },
    date: function (v) {
      if (v === null || v === '') return null;
      var d = parseDate(v);
      if (d === null) throw new FieldError('Saisissez une date valide, par exemple 31/12/2014.');
      return d.toString();
    },
    email: function (v) {
      if (v === null || strip(pyStr(v)) === '') return null;
      var text = strip(pyStr(v));
      var at = text.lastIndexOf('@');
      return at > 0 ? text.slice(0, at) + '@' + text.slice(at + 1).toLowerCase() : text;
    },
    phone: function (v, spec) {
      if (v === null || strip(pyStr(v)) === '') return null;
      return normalizePhone(strip(pyStr(v)), opts(spec).region);
    },
    country: function (v) {
      if (v === null || strip(pyStr(v)) === '') return null;
      var text = strip(pyStr(v));
      return /^[A-Za-z]{2}$/.test(text) ? text.toUpperCase() : text;
    },
    address: function (v, spec) {
      if (v === null) return null;
      if (!isPlainObject(v)) throw new FieldError('Adresse incomplète.');
      var out = {};
      ADDRESS_PARTS.forEach(function (k) {
        var part = get(v, k);
        out[k] = splitWords(part === null || part === '' || part === false ? ''
          : pyStr(part)).join(' ');
      });
      out.country = (out.country || 'FR').toUpperCase();
      out.commune = out.commune.toUpperCase();
      if (!out.line1 && !out.line2 && !out.postal_code && !out.commune) return null;
      if (out.country === 'FR') {
        if (!/^\d{5}$/.test(out.postal_code)) {
          throw new FieldError('Le code postal doit comporter 5 chiffres.');
        }
        if (out.commune_insee && !/^(\d{5}|2[AB]\d{3})$/.test(out.commune_insee)) {
          throw new FieldError('Le code commune INSEE n\'est pas valide.');
        }
      } else if (opts(spec).allow_foreign === false) {
        throw new FieldError('L\'adresse doit être en France.');
      }
      return out;
    },
    choice: function (v, spec) {
      var o = opts(spec);
      if (v === null || v === '' || (Array.isArray(v) && v.length === 0)) {
        return o.multiple ? [] : null;
      }
      var items = (Array.isArray(v) ? v : [v]).map(pyStr);
      var values = choiceValues(spec);
      if (items.some(function (i) { return values.indexOf(i) === -1; })) {
        throw new FieldError('Choisissez une des réponses proposées.');
      }
      if (o.multiple) return values.filter(function (c) { return items.indexOf(c) !== -1; });
      if (items.length > 1) throw new FieldError('Choisissez une seule réponse.');
      return items[0];
    },
    boolean: function (v) { return toBool(v); },
    consent: function (v) { return toBool(v); },
    file: function (v) {
      if (v === null) return [];
      return (Array.isArray(v) ? v : [v]).map(pyStr).filter(function (s) {
        return strip(s) !== '';
      });
    },
    memberships: function (v, spec) {
      var items = v === null ? [] : Array.isArray(v) ? v : [v];
      var ids = opts(spec).association_ids || [];
      var given = items.map(pyStr);
      if (given.some(function (i) { return ids.indexOf(i) === -1; })) {
        throw new FieldError('Choisissez parmi les associations proposées.');
      }
      return ids.filter(function (a) { return given.indexOf(a) !== -1; });
    },
    computed: function (v) { return computedStored(v); },
    grid: function (v, spec) {
      if (v === null || v === '') return null;
      if (!isPlainObject(v)) throw new FieldError('Répondez ligne par ligne.');
      var o = opts(spec);
      var values = choiceValues(spec);
      var out = {};
      var any = false;
      o.rows.forEach(function (row) {
        var answer = get(v, row.id);
        if (answer === null || (typeof answer === 'string' && strip(answer) === '')) return;
        if (values.length) {
          answer = strip(pyStr(answer));
          if (values.indexOf(answer) === -1) {
            throw new FieldError('Choisissez une des réponses proposées.');
          }
          out[row.id] = answer;
        } else {
          out[row.id] = toBool(answer);
        }
        any = true;
      });
      return any ? out : null;
    },
  };

  /**
   * The hooks of the types whose parts have their own conditions (FieldType.without_parts and
   * answered): the value without its hidden parts, and whether every shown part is answered.
   */
  var PARTS = {
    grid: {
      without: function (value, spec, hidden) {
        if (!hidden.length || !isPlainObject(value)) return value;
        var out = {};
        var any = false;
        Object.keys(value).forEach(function (k) {
          if (hidden.indexOf(k) === -1) { out[k] = value[k]; any = true; }
        });
        return any ? out : null;
      },
      answered: function (value, spec, hidden) {
        var given = isPlainObject(value) ? value : {};
        return opts(spec).rows.every(function (row) {
          return hidden.indexOf(row.id) !== -1 || own(given, row.id) !== undefined;
        });
      },
    },
  };

  function withoutParts(spec, value, hidden) {
    var hooks = own(PARTS, spec.type);
    return hooks ? hooks.without(value, spec, hidden) : value;
  }

  function answered(spec, value, hidden) {
    var hooks = own(PARTS, spec.type);
    return hooks ? hooks.answered(value, spec, hidden) : !isEmptyValue(spec, value);
  }

  // the hooks of plugin field types, by type name (registerType)
  var PLUGIN_TYPES = {};

  /**
   * Register the twin of a plugin field type, with the same hooks as its Python class (each
   * optional; the base class's behaviour otherwise): normalize(value, spec) -> stored value or
   * throw new DossierRules.FieldError(message); validate(value, spec) -> French messages for a
   * non-empty stored value; exprValue(value, spec) -> what expressions see. spec.options are
   * the field's options as client_model writes them.
   */
  function registerType(name, hooks) {
    if (Object.prototype.hasOwnProperty.call(NORMALIZE, name) || name === 'repeat' ||
        Object.prototype.hasOwnProperty.call(PLUGIN_TYPES, name)) {
      throw new Error("field type '" + name + "' is registered twice");
    }
    PLUGIN_TYPES[name] = hooks;
  }

  function pluginHook(spec, hook) {
    var hooks = Object.prototype.hasOwnProperty.call(PLUGIN_TYPES, spec.type)
      ? PLUGIN_TYPES[spec.type] : null;
    return hooks && typeof hooks[hook] === 'function' ? hooks[hook] : null;
  }

  function normalizeNumber(v, spec, whole) {
    if (v === null || v === '') return null;
    var n = toDecimal(v);
    var message = whole ? 'Saisissez un nombre entier.' : 'Saisissez un nombre, par exemple 12,5.';
    if (n === null) throw new FieldError(message);
    if (whole) {
      if (!X.isIntegral(n)) throw new FieldError('Saisissez un nombre entier.');
      return X.plainText(X.quantize(n, 0, 0)).replace(/^-0$/, '0'); // int(): no -0
    }
    return X.toText(X.isIntegral(n) ? X.quantize(n, 0, 0) : X.stripZeros(n));
  }

  /** ComputedField.normalize: numbers and dates as text, JSON-safe. */
  function computedStored(v) {
    if (v === null || v === undefined) return null;
    if (typeof v === 'boolean' || typeof v === 'string') return v;
    return X.toText(v);
  }

  function normalizeRepeat(v, spec, model) {
    if (v === null) return [];
    if (!Array.isArray(v)) throw new FieldError('Liste attendue.');
    return v.map(function (row, index) {
      if (!isPlainObject(row)) throw new FieldError('Liste attendue.');
      var given = get(row, '_key');
      var key = given || rowKey(row, spec) || 'row' + (index + 1);
      var out = { _key: pyStr(key) };
      children(spec, model).forEach(function (child) {
        if (child.has_value) out[child.id] = normalize(child, get(row, child.id), model);
      });
      return out;
    });
  }

  function normalize(spec, value, model) {
    var v = value === undefined ? null : value;
    if (spec.type === 'repeat') return normalizeRepeat(v, spec, model);
    var fn = Object.prototype.hasOwnProperty.call(NORMALIZE, spec.type) ? NORMALIZE[spec.type]
      : pluginHook(spec, 'normalize');
    if (fn) return fn(v, spec);
    if (v === null) return null; // a plugin type: the base class's normalize
    return strip(pyStr(v)) || null;
  }

  function rowKey(row, spec) {
    var key = opts(spec).key;
    if (!key) return null;
    var v = get(row, key);
    return v === null || v === '' ? null : pyStr(v);
  }

  function children(spec, model) {
    return (spec.fields || []).map(function (k) { return model.fields[k]; });
  }

  function isEmptyValue(spec, value) {
    if (spec.type === 'consent') return value !== true;
    if (spec.type === 'repeat') return !value || value.length === 0;
    return X.isEmpty(value === undefined ? null : value);
  }

  function codePoints(s) {
    return Array.from(s).length;
  }

  /** The server accepts only patterns that RegExp reads the same way with the u flag
   * (engine/fields/patterns.py); null for anything else, which the server then judges alone. */
  function patternOf(source) {
    try {
      return new RegExp('^(?:' + source + ')$', 'u');
    } catch (e) {
      return null;
    }
  }

  function checkLength(value, o, out) {
    if (o.min_length != null && codePoints(value) < o.min_length) {
      out.push('Saisissez au moins ' + o.min_length + ' caractères.');
    }
    if (o.max_length != null && codePoints(value) > o.max_length) {
      out.push('Saisissez au plus ' + o.max_length + ' caractères.');
    }
  }

  /** The type's own checks of a non-empty stored value (French messages of the server). */
  function validate(spec, value) {
    var o = opts(spec);
    var out = [];
    switch (spec.type) {
      case 'text':
        checkLength(value, o, out);
        if (o.pattern != null) {
          var re = patternOf(o.pattern);
          if (re !== null && !re.test(value)) out.push(o.pattern_message || 'Le format n\'est pas valide.');
        }
        break;
      case 'textarea':
        checkLength(value, o, out);
        break;
      case 'number':
      case 'integer': {
        var n = X.num(String(value));
        if (o.min != null && X.cmpNum(n, X.num(o.min)) < 0) {
          out.push('La valeur doit être supérieure ou égale à ' + formatDecimal(X.num(o.min)) + '.');
        }
        if (o.max != null && X.cmpNum(n, X.num(o.max)) > 0) {
          out.push('La valeur doit être inférieure ou égale à ' + formatDecimal(X.num(o.max)) + '.');
        }
        if (spec.type === 'number' && o.decimals != null && !n.isZero() &&
            -X.stripZeros(n).exp > o.decimals) {
          out.push('Saisissez au plus ' + o.decimals + ' décimales.');
        }
        break;
      }
      case 'date': {
        var d = X.fromIsoFormat(value);
        var lo = o.min ? X.date(o.min) : null;
        var hi = o.max ? X.date(o.max) : null;
        if (lo && d.ordinal() < lo.ordinal()) out.push('La date doit être postérieure ou égale au ' + dmy(lo) + '.');
        if (hi && d.ordinal() > hi.ordinal()) out.push('La date doit être antérieure ou égale au ' + dmy(hi) + '.');
        break;
      }
      case 'choice':
        if (o.multiple) {
          if (o.min_selected != null && value.length < o.min_selected) {
            out.push('Cochez au moins ' + o.min_selected + ' réponses.');
          }
          if (o.max_selected != null && value.length > o.max_selected) {
            out.push('Cochez au plus ' + o.max_selected + ' réponses.');
          }
        }
        break;
      case 'repeat':
        if (value.length < o.min) out.push('Ajoutez au moins ' + o.min + ' élément(s).');
        if (value.length > o.max) out.push('Ajoutez au plus ' + o.max + ' élément(s).');
        break;
      case 'file':
        if (value.length > o.max_files) out.push('Joignez au plus ' + o.max_files + ' fichiers.');
        break;
      case 'address':
        if (!value.line1) out.push('Indiquez le numéro et la voie.');
        if (!value.commune) out.push('Indiquez la commune.');
        break;
      default: {
        var check = pluginHook(spec, 'validate');
        if (check) out.push.apply(out, check(value, spec));
        break;
      }
    }
    return out;
  }

  /** FieldType.expr_value: the stored value as expressions see it. */
  function exprValue(spec, value, model) {
    var v = value === undefined ? null : value;
    switch (spec.type) {
      case 'number':
      case 'integer':
        return toDecimal(v);
      case 'date':
        return parseDate(v);
      case 'file':
        return X.intNum(Array.isArray(v) ? v.length : 0);
      case 'computed': {
        var fmt = opts(spec).format;
        if (fmt === 'number' || fmt === 'integer' || fmt === 'money') return toDecimal(v);
        return fmt === 'date' ? parseDate(v) : v;
      }
      case 'repeat':
        return (v || []).map(function (row) {
          var out = {};
          children(spec, model).forEach(function (c) {
            out[c.id] = exprValue(c, get(row, c.id), model);
          });
          return out;
        });
      default: {
        var fn = pluginHook(spec, 'exprValue');
        return fn ? fn(v, spec) : v;
      }
    }
  }

  /** Python's == between two stored (JSON) values. */
  function pyEqual(a, b) {
    if (a === b) return true;
    if (Array.isArray(a) && Array.isArray(b)) {
      return a.length === b.length && a.every(function (x, i) { return pyEqual(x, b[i]); });
    }
    if (isPlainObject(a) && isPlainObject(b)) {
      var ka = Object.keys(a);
      return ka.length === Object.keys(b).length && ka.every(function (k) {
        return Object.prototype.hasOwnProperty.call(b, k) && pyEqual(a[k], b[k]);
      });
    }
    return false;
  }

  function tryNormalize(spec, value, model) {
    try {
      return normalize(spec, value, model);
    } catch (e) {
      if (e instanceof FieldError) return value === undefined ? null : value;
      throw e;
    }
  }

  /** FieldType.same: whether the prefilled value and the answer mean the same thing. */
  function same(spec, old, now, model) {
    if (spec.type === 'address') {
      var key = function (v) {
        var n;
        try {
          n = normalize(spec, v, model);
        } catch (e) {
          if (e instanceof FieldError) return v === undefined ? null : v;
          throw e;
        }
        if (n === null) return null;
        return ADDRESS_PARTS.filter(function (k) { return k !== 'commune_insee'; })
          .map(function (k) { return n[k].toUpperCase(); });
      };
      return pyEqual(key(old), key(now));
    }
    if (spec.type === 'repeat') return sameRows(spec, old, now, model);
    var a = tryNormalize(spec, old, model);
    var b = tryNormalize(spec, now, model);
    if (isEmptyValue(spec, a) && isEmptyValue(spec, b)) return true;
    return pyEqual(a, b);
  }

  function sameRows(spec, old, now, model) {
    var before;
    var after;
    try {
      before = normalize(spec, old, model);
      after = normalize(spec, now, model);
    } catch (e) {
      if (!(e instanceof FieldError)) throw e;
      var a = tryNormalize(spec, old, model);
      var b = tryNormalize(spec, now, model);
      return (isEmptyValue(spec, a) && isEmptyValue(spec, b)) || pyEqual(a, b);
    }
    var byKey = {};
    before.forEach(function (r) { byKey[r._key] = r; });
    var afterKeys = {};
    after.forEach(function (r) { afterKeys[r._key] = r; });
    if (Object.keys(byKey).length !== Object.keys(afterKeys).length) return false;
    return Object.keys(afterKeys).every(function (k) {
      if (!Object.prototype.hasOwnProperty.call(byKey, k)) return false;
      return children(spec, model).every(function (c) {
        return !c.has_value || same(c, get(byKey[k], c.id), get(afterKeys[k], c.id), model);
      });
    });
  }

  // -------------------------------------------------------------------------------------------
  // The dossier scope (engine/rules/scope.py): what expressions see of one dossier.

  function recordValue(value, kind) {
    if (value === null || value === undefined) return null;
    if (kind === 'date') return parseDate(value);
    if (kind === 'number') return toDecimal(value);
    if (kind === 'bool') {
      try {
        return toBool(value);
      } catch (e) {
        if (e instanceof FieldError) return null;
        throw e;
      }
    }
    if (kind === 'list') return Array.isArray(value) ? value.slice() : [value];
    return isPlainObject(value) ? value : pyStr(value);
  }

  function prefillValue(spec, ctx, row) {
    if (!spec.prefill) return null;
    var node = row !== null && row !== undefined && spec.parent ? row : ctx.prefill;
    var parts = spec.prefill.split('.');
    for (var i = 0; i < parts.length; i++) {
      if (!isPlainObject(node)) return null;
      node = get(node, parts[i]);
    }
    return node;
  }

  function Scope(model, answers, ctx) {
    this.model = model;
    this.answers = answers;
    this.ctx = ctx;
    this.today = ctx.today;
    this.memo = { visible: {}, pages: {}, computed: {}, fees: {}, hidden: {} };
    this.row = null;
    this.root = this;
  }

  Scope.prototype.test = function (json) {
    return X.test(json, this);
  };

  Scope.prototype.evaluate = function (json) {
    return X.evaluate(json, this);
  };

  Scope.prototype.pageVisible = function (pageId) {
    var memo = this.memo.pages;
    if (!Object.prototype.hasOwnProperty.call(memo, pageId)) {
      var page = this.model.pages.filter(function (p) { return p.id === pageId; })[0];
      memo[pageId] = page.visible_if === null || this.root.test(page.visible_if);
    }
    return memo[pageId];
  };

  Scope.prototype.visible = function (key) {
    var memo = this.memo.visible;
    if (!Object.prototype.hasOwnProperty.call(memo, key)) {
      var spec = this.model.fields[key];
      memo[key] = this.pageVisible(spec.page) &&
        (spec.visible_if === null || this.root.test(spec.visible_if));
    }
    return memo[key];
  };

  Scope.prototype.rowScope = function (repeat, row) {
    var inner = Object.create(Scope.prototype);
    inner.model = this.model;
    inner.answers = this.answers;
    inner.ctx = this.ctx;
    inner.today = this.today;
    inner.memo = this.memo;
    inner.row = { spec: repeat, values: row };
    inner.root = this.root;
    return inner;
  };

  Scope.prototype.childVisible = function (child) {
    return child.visible_if === null || this.test(child.visible_if);
  };

  Scope.prototype.stored = function (spec, raw) {
    try {
      return normalize(spec, raw, this.model);
    } catch (e) {
      if (e instanceof FieldError) return null;
      throw e;
    }
  };

  Scope.prototype.computed = function (spec) {
    var memo = this.memo.computed;
    if (!Object.prototype.hasOwnProperty.call(memo, spec.id)) {
      memo[spec.id] = this.root.evaluate(spec.expr);
    }
    return memo[spec.id];
  };

  Scope.prototype.fieldValue = function (spec) {
    if (!this.visible(spec.id)) return null;
    if (spec.expr) return this.computed(spec);
    var shown = withoutParts(spec, this.stored(spec, get(this.answers, spec.id)),
      this.hiddenParts(spec));
    return exprValue(spec, shown, this.model);
  };

  /** DossierScope.hidden_parts: the parts of a top-level field whose condition is false. */
  Scope.prototype.hiddenParts = function (spec) {
    var memo = this.memo.hidden;
    if (!Object.prototype.hasOwnProperty.call(memo, spec.id)) {
      var conditions = spec.part_conditions || {};
      var root = this.root;
      memo[spec.id] = Object.keys(conditions).filter(function (part) {
        return !root.test(conditions[part]);
      });
    }
    return memo[spec.id];
  };

  Scope.prototype.rowsOf = function (spec) {
    var rows = this.stored(spec, get(this.answers, spec.id));
    return Array.isArray(rows) ? rows : [];
  };

  function tail(value, rest) {
    for (var i = 0; i < rest.length; i++) {
      value = isPlainObject(value) ? get(value, rest[i]) : null;
      if (value === '') value = null;
    }
    return value;
  }

  function childOf(spec, id, model) {
    return children(spec, model).filter(function (c) { return c.id === id; })[0];
  }

  Scope.prototype.topField = function (id) {
    var spec = own(this.model.fields, id);
    return spec && spec.parent === null ? spec : null;
  };

  Scope.prototype.value = function (path) {
    var self = this;
    var model = this.model;
    var head = path[0];
    var rest = path.slice(1);
    if (this.row !== null) {
      var child = childOf(this.row.spec, head, model);
      if (child) return tail(exprValue(child, get(this.row.values, child.id), model), rest);
    }
    var spec = this.topField(head);
    if (spec) {
      if (spec.is_container && rest.length) {
        if (!this.visible(spec.id)) return null;
        var target = childOf(spec, rest[0], model);
        return this.rowsOf(spec).map(function (row) {
          return self.rowScope(spec, row).childVisible(target)
            ? exprValue(target, get(row, target.id), model) : null;
        });
      }
      return tail(this.fieldValue(spec), rest);
    }
    var prefill = this.ctx.prefill;
    var kinds = model.namespace;
    if (head === 'pupil' && rest.length) {
      var kind = own(kinds.pupil, rest[0]);
      if (kind === undefined) return null;
      return tail(recordValue(get(get(prefill, 'pupil') || {}, rest[0]), kind), rest.slice(1));
    }
    if (head === 'guardians') {
      var guardians = get(prefill, 'guardians') || [];
      if (!rest.length) return guardians.slice();
      var gkind = own(kinds.guardians, rest[0]);
      return gkind === undefined ? null : guardians.map(function (g) {
        return recordValue(get(g, rest[0]), gkind);
      });
    }
    if (head === 'family' && rest.length) {
      var fkind = own(kinds.family, rest[0]);
      return fkind === undefined ? null : recordValue(get(this.ctx.family, rest[0]), fkind);
    }
    if (head === 'fees' && rest.length === 1) return this.root.feesValue(rest[0]);
    if (head === 'previous' && rest.length) {
      var raw = get(get(prefill, 'previous') || {}, rest[0]);
      var prev = own(model.fields, rest[0]);
      if (prev && rest.length === 1) return exprValue(prev, this.stored(prev, raw), model);
      return tail(raw, rest.slice(1));
    }
    return null;
  };

  Scope.prototype.importedRow = function (repeat, row) {
    var rows = prefillValue(repeat, this.ctx, null);
    var key = get(row, '_key');
    if (!Array.isArray(rows) || key === null) return null;
    for (var i = 0; i < rows.length; i++) {
      if (isPlainObject(rows[i]) && rowKey(rows[i], repeat) === key) return rows[i];
    }
    return null;
  };

  Scope.prototype.importedRows = function (spec) {
    var rows = prefillValue(spec, this.ctx, null);
    var ctx = this.ctx;
    if (!Array.isArray(rows)) return [];
    return rows.filter(isPlainObject).map(function (row) {
      var out = { _key: rowKey(row, spec) };
      children(spec, this.model).forEach(function (c) {
        if (c.has_value) out[c.id] = prefillValue(c, ctx, row);
      });
      return out;
    }, this);
  };

  Scope.prototype.childChanged = function (repeat, childId) {
    var child = childOf(repeat, childId, this.model);
    if (!child || !child.has_value) return false;
    var rows = this.rowsOf(repeat);
    for (var i = 0; i < rows.length; i++) {
      var before = this.importedRow(repeat, rows[i]);
      var old = before !== null ? prefillValue(child, this.ctx, before) : null;
      if (!same(child, old, get(rows[i], child.id), this.model)) return true;
    }
    return false;
  };

  Scope.prototype.changed = function (path) {
    var model = this.model;
    var head = path[0];
    if (this.row !== null) {
      var child = childOf(this.row.spec, head, model);
      if (child) {
        var before = this.importedRow(this.row.spec, this.row.values);
        var old = before && Object.keys(before).length ? prefillValue(child, this.ctx, before)
          : null;
        return before !== null && !same(child, old, get(this.row.values, child.id), model);
      }
    }
    var spec = own(model.fields, head);
    if (!spec) return false;
    if (spec.is_container && path.length === 2) return this.childChanged(spec, path[1]);
    var now = get(this.answers, spec.id);
    if (spec.is_container) {
      if (X.isEmpty(now)) return false;
      if (this.stored(spec, now) === null) return true; // rows that are not rows
      return !same(spec, this.importedRows(spec), now, model);
    }
    return !same(spec, prefillValue(spec, this.ctx, null), now, model);
  };

  // -- fees and memberships (engine/rules/fees.py) --------------------------------------------

  Scope.prototype.fee = function (tariff) {
    var memo = this.memo.fees;
    if (!Object.prototype.hasOwnProperty.call(memo, tariff.id)) {
      var applies = tariff.applies_if === null || this.root.test(tariff.applies_if);
      memo[tariff.id] = applies ? computeFee(tariff, this.root).amount : null;
    }
    return memo[tariff.id];
  };

  Scope.prototype.chosenAssociations = function () {
    var self = this;
    var chosen = [];
    this.model.pages.forEach(function (page) {
      page.fields.forEach(function (id) {
        var spec = self.model.fields[id];
        if (spec.type === 'memberships' && self.visible(id)) {
          chosen = chosen.concat(self.stored(spec, get(self.answers, id)) || []);
        }
      });
    });
    return chosen;
  };

  Scope.prototype.memberships = function () {
    var root = this.root;
    var chosen = this.chosenAssociations();
    return this.model.associations.filter(function (a) {
      return (a.available_if === null || root.test(a.available_if)) &&
        (a.required || chosen.indexOf(a.id) !== -1);
    });
  };

  Scope.prototype.total = function () {
    var self = this;
    var total = ZERO;
    this.model.tariffs.forEach(function (t) {
      var amount = self.fee(t);
      if (amount !== null) total = X.add(total, amount);
    });
    this.memberships().forEach(function (a) { total = X.add(total, self.membershipFee(a)); });
    return X.quantize(total, 2, X.HALF_EVEN);
  };

  /** DossierScope.membership_fee: the family's amount (fee_from), else the first price whose
   * condition holds, else the fee. */
  Scope.prototype.membershipFee = function (a) {
    var root = this.root;
    if (a.fee_from) {
      var amount = toDecimal(root.evaluate(a.fee_from));
      if (amount === null || X.cmpNum(amount, ZERO) <= 0) return X.num('0.00');
      return X.quantize(amount, 2, X.HALF_UP);
    }
    var price = (a.prices || []).filter(function (p) { return root.test(p.when); })[0];
    return X.num(price ? price.fee : a.fee);
  };

  Scope.prototype.feesValue = function (name) {
    if (name === 'total') return this.total();
    var tariff = this.model.tariffs.filter(function (t) { return t.id === name; })[0];
    return tariff ? this.fee(tariff) : null;
  };

  function pick(brackets, value) {
    var table = brackets.table;
    if (value === null) {
      if (brackets.default !== null) {
        return table.filter(function (b) { return b.label === brackets.default; })[0];
      }
      return table[table.length - 1];
    }
    for (var i = 0; i < table.length; i++) {
      if (table[i].up_to === null || X.cmpNum(value, X.num(table[i].up_to)) <= 0) return table[i];
    }
    return table[table.length - 1];
  }

  /** compute_fee: one tariff's amount and its explanation, word for word. */
  function computeFee(tariff, scope) {
    if (tariff.exempt_if !== null && scope.test(tariff.exempt_if)) {
      return {
        amount: X.num('0.00'),
        explanation: (tariff.exempt_label || 'exonération') + ' : ' + formatMoney(ZERO),
      };
    }
    var parts = [];
    var unit;
    var brackets = tariff.brackets;
    if (brackets !== null) {
      var on = toDecimal(scope.evaluate(brackets.on));
      var bracket = pick(brackets, on);
      var shown = on !== null ? formatDecimal(on) : 'non renseigné';
      parts.push(brackets.label + ' ' + shown + ' → tranche ' + bracket.label);
      unit = X.num(bracket.amount);
    } else {
      unit = tariff.amount !== null && !X.num(tariff.amount).isZero() ? X.num(tariff.amount)
        : ZERO;
    }
    var amount = unit;
    var factors = [formatMoney(unit)];
    tariff.multipliers.forEach(function (m) {
      var by = toDecimal(scope.evaluate(m.by));
      amount = X.mul(amount, by !== null ? by : ZERO);
      factors.push(strip((by !== null ? formatDecimal(by) : '?') + ' ' + m.label));
    });
    var base = X.quantize(amount, 2, X.HALF_UP);
    var line = factors.join(' × ');
    if (tariff.multipliers.length) line += ' = ' + formatMoney(base);
    parts.push(line);
    var applied = 0;
    tariff.reductions.forEach(function (r) {
      if (!scope.test(r.when)) return;
      applied += 1;
      var cut;
      var what;
      if (r.percent !== null) {
        var percent = X.num(r.percent);
        cut = X.quantize(X.mul(X.mul(amount, percent), HUNDREDTH), 2, X.HALF_UP);
        what = '−' + formatDecimal(percent) + ' %';
      } else {
        var fixed = r.amount !== null && !X.num(r.amount).isZero() ? X.num(r.amount) : ZERO;
        cut = X.cmpNum(amount, fixed) < 0 ? amount : fixed; // Python's min keeps the first
        what = '−' + formatMoney(cut);
      }
      var left = X.sub(amount, cut);
      amount = X.cmpNum(ZERO, left) > 0 ? ZERO : left; // Python's max keeps the first
      parts.push(r.label + ' ' + what + ' : −' + formatMoney(cut));
    });
    var final = X.quantize(amount, 2, X.HALF_UP);
    var explanation = parts.join(', ');
    if (applied || (brackets === null && !tariff.multipliers.length)) {
      explanation += ' → ' + formatMoney(final);
    }
    return { amount: final, explanation: explanation };
  }

  // -------------------------------------------------------------------------------------------
  // The evaluation (engine/rules/evaluation.py).

  function localToday() {
    var now = new Date();
    return String(now.getFullYear()).padStart(4, '0') + '-' + two(now.getMonth() + 1) + '-' +
      two(now.getDate());
  }

  function OrderedSet() {
    this.items = [];
    this.seen = {};
  }
  OrderedSet.prototype.add = function (k) {
    if (!Object.prototype.hasOwnProperty.call(this.seen, k)) {
      this.seen[k] = true;
      this.items.push(k);
    }
  };
  OrderedSet.prototype.has = function (k) {
    return Object.prototype.hasOwnProperty.call(this.seen, k);
  };

  function isLocked(spec, scope) {
    return !spec.editable || (spec.readonly_if !== null && scope.test(spec.readonly_if));
  }

  /** A locked field is never required: the family could not give the missing value; nor is a
   * per-guardian field when no guardian reads the dossier (context without `guardian`). */
  function isRequired(spec, scope) {
    if (isLocked(spec, scope)) return false;
    if (spec.per_guardian && scope.ctx.guardian === null) return false;
    if (isPlainObject(spec.required)) return scope.test(spec.required.when);
    return spec.required === true;
  }

  function checkValue(spec, raw, key, scope, out) {
    var messages = [];
    var required = isRequired(spec, scope);
    if (required) out.required.add(key);
    if (isLocked(spec, scope)) out.readonly.add(key);
    var value;
    try {
      value = normalize(spec, raw, scope.model);
    } catch (e) {
      if (!(e instanceof FieldError)) throw e;
      out.errors[key] = [e.message];
      return raw === undefined ? null : raw;
    }
    var hidden = spec.parent === null ? scope.hiddenParts(spec) : [];
    value = withoutParts(spec, value, hidden);
    if (required && !answered(spec, value, hidden)) messages.push(spec.required_message);
    if (!isEmptyValue(spec, value)) {
      messages = messages.concat(validate(spec, value));
      spec.validate.forEach(function (rule) {
        if (!scope.test(rule.rule)) messages.push(rule.message || 'Valeur non valide.');
      });
    }
    if (messages.length) out.errors[key] = messages;
    return value;
  }

  function evaluateRow(spec, index, row, scope, out) {
    var inner = scope.rowScope(spec, row);
    children(spec, scope.model).forEach(function (child) {
      var key = spec.id + '.' + index + '.' + child.id;
      if (!inner.childVisible(child)) return;
      out.visible.add(spec.id + '.' + child.id);
      out.visible.add(key);
      if (child.expr) return; // a row's computed value is not an answer and not listed
      if (child.has_value) {
        checkValue(child, get(row, child.id), key, inner, out);
        if (out.required.has(key)) out.required.add(spec.id + '.' + child.id);
      }
    });
  }

  function evaluateField(spec, scope, out) {
    if (!scope.visible(spec.id)) return;
    out.visible.add(spec.id);
    if (spec.expr) {
      out.computed[spec.id] = computedStored(scope.computed(spec));
      return;
    }
    if (!spec.has_value) return;
    var value = checkValue(spec, get(scope.answers, spec.id), spec.id, scope, out);
    if (spec.conditional_parts) {
      var hidden = scope.hiddenParts(spec);
      spec.input_parts.forEach(function (part) {
        if (hidden.indexOf(part) === -1) out.visible.add(spec.id + '.' + part);
      });
    }
    if (spec.is_container && Array.isArray(value) && value.every(isPlainObject)) {
      value.forEach(function (row, i) { evaluateRow(spec, i, row, scope, out); });
    }
  }

  /** A whole number of cents as a decimal text: -1234 -> "-12.34". */
  function centsText(cents) {
    var digits = String(Math.abs(cents)).padStart(3, '0');
    return (cents < 0 ? '-' : '') + digits.slice(0, -2) + '.' + digits.slice(-2);
  }

  /**
   * Evaluate one dossier. `answers`: stored or raw values by field id (repeat rows are lists of
   * objects with `_key`); `context`: {prefill, family, today: "YYYY-MM-DD", guardian: the
   * reading guardian's key, or null}.
   */
  function evaluate(model, answers, context) {
    var ctx = context || {};
    var scope = new Scope(model, isPlainObject(answers) ? answers : {}, {
      prefill: isPlainObject(ctx.prefill) ? ctx.prefill : {},
      family: isPlainObject(ctx.family) ? ctx.family : {},
      today: ctx.today || localToday(),
      guardian: typeof ctx.guardian === 'string' ? ctx.guardian : null,
    });
    var out = {
      visiblePages: [], visible: new OrderedSet(), required: new OrderedSet(),
      readonly: new OrderedSet(), computed: {}, errors: {},
    };
    model.pages.forEach(function (page) {
      if (scope.pageVisible(page.id)) out.visiblePages.push(page.id);
      page.fields.forEach(function (id) { evaluateField(model.fields[id], scope, out); });
    });
    var fees = [];
    model.tariffs.forEach(function (t) {
      if (scope.fee(t) === null) return;
      var fee = computeFee(t, scope);
      fees.push({ tariff: t.id, label: t.label, amount: X.toText(fee.amount),
        explanation: fee.explanation });
    });
    var memberships = scope.memberships().map(function (a) {
      return { association: a.id, label: a.label, fee: X.toText(scope.membershipFee(a)),
        required: a.required };
    });
    var documents = [];
    model.documents.forEach(function (d) {
      // a per-row document (for_each): one slot per row of its shown repeat, <id>~<row key>,
      // its condition read in that row (engine.rules.evaluation.document_slots)
      var slots = [{ key: null, scope: scope }];
      if (d.for_each !== null) {
        var repeat = model.fields[d.for_each];
        slots = !scope.visible(repeat.id) ? [] : scope.rowsOf(repeat).map(function (row) {
          return { key: pyStr(row._key), scope: scope.rowScope(repeat, row) };
        });
      }
      slots.forEach(function (slot) {
        var asked = d.required_if !== null ? slot.scope.test(d.required_if) : d.required;
        if (!asked) return;
        var item = { document: slot.key === null ? d.id : d.id + '~' + slot.key,
          label: d.label, reason: d.reason };
        if (slot.key !== null) item.row = slot.key;
        documents.push(item);
      });
    });
    var instalments = [];
    if (model.payment && fees.length) { // split_in_instalments: equal, the rest on the last
      var labels = model.payment.instalments;
      var due = X.quantize(fees.reduce(function (sum, f) { return X.add(sum, X.num(f.amount)); },
        ZERO), 2, X.HALF_UP);
      var cents = Number(X.plainText(due).replace('.', ''));
      var each = X.num(centsText(Math.trunc(cents / labels.length))); // rounded towards zero
      labels.forEach(function (label, i) {
        var amount = i < labels.length - 1 ? each
          : X.sub(due, X.mul(each, X.intNum(labels.length - 1)));
        instalments.push({ label: label, amount: X.toText(amount) });
      });
    }
    return {
      visiblePages: out.visiblePages,
      visible: out.visible.items,
      required: out.required.items,
      readonly: out.readonly.items,
      computed: out.computed,
      errors: out.errors,
      fees: fees,
      memberships: memberships,
      documents: documents,
      instalments: instalments,
      total: X.toText(scope.total()),
    };
  }

  return {
    evaluate: evaluate,
    registerType: registerType,
    FieldError: FieldError,
    formatMoney: formatMoney,
    displayComputed: displayComputed,
    // a date as the server writes it (JJ/MM/AAAA, '' if not a date)
    formatDate: function (v) { var d = parseDate(v); return d ? dmy(d) : ''; },
    formatDecimal: function (v) { return formatDecimal(v instanceof X.Num ? v : X.num(String(v))); },
  };
}));
