/*
 * DossierSCO expression interpreter: the browser twin of engine/expr/evaluate.py and
 * engine/expr/functions.py. It reads the JSON written by engine.expr.to_json and must give the
 * very results of the Python evaluator; tests/expr/corpus.json is the contract both sides pass.
 *
 * Loading (no bundler):
 *   <script src="/static/js/vendor/big.js"></script>
 *   <script src="/static/js/expr.js"></script>                       -> window.DossierExpr
 *   ES module: import Big from "/static/js/vendor/big.mjs"; import "/static/js/expr.js";
 *              const { evaluate, test } = globalThis.DossierExpr; DossierExpr.useBig(Big);
 *              (vendor/big.js cannot be imported as a module: it sets this.Big.)
 *   Node (CommonJS): const DossierExpr = require("./expr.js");   (loads ./vendor/big.js itself)
 * This file is a classic script so that one file serves all three; it has no `export`.
 *
 * Runtime values: null, true/false, strings, arrays, maps (plain objects), DossierExpr.Num
 * (an exact decimal, like Python's Decimal) and DossierExpr.DateValue (a day, no time zone).
 * Numbers are never JavaScript floats: big.js does the arithmetic, and Num also keeps Python's
 * exponent (12.50 stays "12.50") and the sign of zero, because str() of a Decimal shows both
 * when a number is joined to a text.
 */
(function (root, factory) {
  'use strict';
  var cjs = typeof module === 'object' && module !== null && typeof module.exports === 'object' &&
    typeof require === 'function';
  var api = factory(root, cjs ? require : null);
  if (cjs) module.exports = api;
  if (root) root.DossierExpr = api;
}(typeof globalThis !== 'undefined' ? globalThis : this, function (root, nodeRequire) {
  'use strict';

  // Python's default decimal context: 28 significant digits, ROUND_HALF_EVEN.
  var PREC = 28;
  // Division results are rounded to this many decimals (DIVISION_PLACES in evaluate.py).
  var DIVISION_PLACES = 10;
  var HALF_UP = 1;
  var HALF_EVEN = 2;
  var DOWN = 0;

  // ---------------------------------------------------------------------------------------------
  // big.js: a private constructor, so our DP/RM settings never leak into the page's own Big.
  var Big = null;

  function useBig(BigCtor) {
    if (typeof BigCtor !== 'function') {
      throw new Error('DossierExpr needs big.js: load vendor/big.js before expr.js');
    }
    Big = BigCtor();
    Big.RM = HALF_EVEN;
    return Big;
  }

  function big(v) {
    if (Big === null) {
      useBig(root && root.Big ? root.Big : nodeRequire && nodeRequire('./vendor/big.js'));
    }
    return new Big(v);
  }

  function bigIsZero(b) {
    return b.c[0] === 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Num: an exact decimal, mirroring Python's Decimal (sign, coefficient, exponent).

  /**
   * @param {Big} v the exact value (for a zero, its big.js sign is not used)
   * @param {number} exp Python's exponent: v * 10**-exp is an integer (12.50 -> -2)
   * @param {boolean} neg the sign bit, kept for zeros too (Python prints -0)
   */
  function Num(v, exp, neg) {
    this.v = v;
    this.exp = exp;
    this.neg = neg;
  }
  Num.prototype.isZero = function () { return bigIsZero(this.v); };
  Num.prototype.toString = function () { return numText(this); };
  Num.prototype.toJSON = function () { return { num: numText(this) }; };

  var NUM_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

  /** A Num from Decimal text ("12.50", "-3", "1E+3", "1E-7"), as str(Decimal) writes it. */
  function parseNum(text) {
    var m = NUM_RE.exec(String(text).trim());
    if (m === null || (m[2] === '' && !m[3])) throw new TypeError('not a number: ' + text);
    var frac = m[3] || '';
    var e = m[4] ? parseInt(m[4], 10) : 0;
    var v = big((m[1] === '-' ? '-' : '') + (m[2] || '0') + '.' + (frac || '0') + 'e' + e);
    return new Num(v, e - frac.length, m[1] === '-');
  }

  function intNum(i) {
    return parseNum(String(i));
  }

  var ZERO_TEXT = '0';

  /** The coefficient digits, trailing zeros included (Decimal's _int). */
  function coefficient(n) {
    if (n.isZero()) return ZERO_TEXT;
    var digits = n.v.c.join('');
    return digits + '0'.repeat(n.v.e - n.exp + 1 - digits.length);
  }

  /** str(Decimal): plain notation unless the exponent is positive or the number is tiny. */
  function numText(n) {
    var digits = coefficient(n);
    var left = n.exp + digits.length;
    var dot = n.exp <= 0 && left > -6 ? left : 1;
    var intPart;
    var fracPart = '';
    if (dot <= 0) {
      intPart = '0';
      fracPart = '.' + '0'.repeat(-dot) + digits;
    } else if (dot >= digits.length) {
      intPart = digits + '0'.repeat(dot - digits.length);
    } else {
      intPart = digits.slice(0, dot);
      fracPart = '.' + digits.slice(dot);
    }
    var e = left === dot ? '' : 'E' + (left - dot > 0 ? '+' : '-') + Math.abs(left - dot);
    return (n.neg ? '-' : '') + intPart + fracPart + e;
  }

  /** Decimal._fix: round to 28 significant digits (half even) when the coefficient is longer. */
  function fix(v, exp, negIfZero) {
    if (bigIsZero(v)) return new Num(v, exp, negIfZero);
    var len = v.e - exp + 1;
    if (len <= PREC) return new Num(v, exp, v.s < 0);
    var r = v.prec(PREC, HALF_EVEN);
    var e = exp + len - PREC;
    if (r.e > v.e) e += 1; // 999...9 rounded up to 1000...0: one digit more, drop it
    return new Num(r, e, r.s < 0);
  }

  function add(a, b) {
    var v = a.v.plus(b.v);
    var exp = Math.min(a.exp, b.exp);
    if (bigIsZero(v)) {
      // Decimal: -0 + -0 is -0; any other zero sum (including x - x) is +0
      return new Num(big(0), exp, a.isZero() && b.isZero() && a.neg && b.neg);
    }
    return fix(v, exp, false);
  }

  function copyNegate(a) {
    return new Num(a.v.neg(), a.exp, !a.neg);
  }

  function sub(a, b) {
    return add(a, copyNegate(b)); // Decimal.__sub__ is exactly this
  }

  function mul(a, b) {
    var neg = a.neg !== b.neg;
    if (a.isZero() || b.isZero()) return new Num(big(0), a.exp + b.exp, neg);
    return fix(a.v.times(b.v), a.exp + b.exp, neg);
  }

  function negate(a) {
    if (a.isZero()) return new Num(a.v, a.exp, false); // Python: -Decimal('0') is 0, not -0
    return fix(a.v.neg(), a.exp, false);
  }

  function absNum(a) {
    if (a.isZero()) return new Num(a.v, a.exp, false);
    return fix(a.v.abs(), a.exp, false);
  }

  var TEN_POW_18 = null;
  var TEN_POW_28 = null;

  /**
   * a / b as evaluate.py computes it: Decimal division (28 significant digits, half even), then
   * quantize to 10 decimals (half even), then trailing zeros dropped. Python's quantize fails
   * (InvalidOperation, caught, null) once the result needs more than 28 digits, i.e. >= 1e18.
   */
  function div(a, b) {
    var neg = a.neg !== b.neg;
    if (a.isZero()) return new Num(big(0), 0, neg);
    if (TEN_POW_18 === null) TEN_POW_18 = big('1e18');
    var x = a.v.abs();
    var y = b.v.abs();
    var d = x.e - y.e;
    var adjusted = x.cmp(y.times(big('1e' + d))) >= 0 ? d : d - 1; // exponent of the first digit
    if (adjusted >= 18) return null;
    Big.DP = PREC - 1 - adjusted; // the 28th significant digit
    Big.RM = HALF_EVEN;
    var q = x.div(y).round(DIVISION_PLACES, HALF_EVEN); // two roundings, as in Python
    if (q.cmp(TEN_POW_18) >= 0) return null;
    if (bigIsZero(q)) return new Num(big(0), 0, neg);
    var exp = Math.min(0, q.e - q.c.length + 1); // plain(): integral -> exponent 0, else normalized
    return new Num(neg ? q.neg() : q, exp, neg);
  }

  /** a % b as Decimal does it: truncated remainder with the sign of a; null when too large. */
  function mod(a, b) {
    if (TEN_POW_28 === null) TEN_POW_28 = big('1e28');
    var x = a.v.abs();
    var y = b.v.abs();
    if (!a.isZero()) {
      if (x.e - y.e > PREC) return null; // DivisionImpossible -> InvalidOperation -> null
      Big.DP = 0;
      Big.RM = DOWN;
      if (x.div(y).cmp(TEN_POW_28) >= 0) return null;
    }
    var exp = Math.min(a.exp, b.exp);
    var r = a.isZero() ? big(0) : a.v.mod(b.v);
    return fix(r, exp, a.neg);
  }

  /** round(value, places): quantize half up (away from zero on ties) to 0..10 decimals. */
  function roundNum(value, places) {
    if (!(value instanceof Num)) return null;
    var n = 0;
    if (places instanceof Num) {
      var t = places.v.round(0, DOWN); // int(Decimal) truncates
      n = t.cmp(big(10)) > 0 ? 10 : t.cmp(big(0)) < 0 ? 0 : Number(t.toFixed(0));
    }
    var r = value.v.round(n, HALF_UP);
    // Python raises InvalidOperation here (uncaught, see the report); we keep "never raises".
    if (!bigIsZero(r) && r.e + n + 1 > PREC) return null;
    return new Num(r, -n, value.neg);
  }

  // ---------------------------------------------------------------------------------------------
  // DateValue: a calendar day (Python's datetime.date), no time and no time zone.

  function DateValue(y, m, d) {
    this.y = y;
    this.m = m;
    this.d = d;
  }
  DateValue.prototype.toString = function () {
    return pad(this.y, 4) + '-' + pad(this.m, 2) + '-' + pad(this.d, 2);
  };
  DateValue.prototype.toJSON = function () { return { date: this.toString() }; };
  DateValue.prototype.ordinal = function () { return ymdToOrd(this.y, this.m, this.d); };

  function pad(n, width) {
    var s = String(n);
    return s.length >= width ? s : '0'.repeat(width - s.length) + s;
  }

  function isLeap(y) {
    return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  }

  var DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

  function daysInMonth(y, m) {
    return m === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[m];
  }

  function makeDate(y, m, d) {
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return null;
    return new DateValue(y, m, d);
  }

  function ymdToOrd(y, m, d) { // proleptic Gregorian ordinal, 0001-01-01 is 1 (Python's)
    var p = y - 1;
    var days = p * 365 + Math.floor(p / 4) - Math.floor(p / 100) + Math.floor(p / 400);
    for (var i = 1; i < m; i++) days += daysInMonth(y, i);
    return days + d;
  }

  function ordToDate(n) { // Python's _ord2ymd, for ordinals >= 1
    if (n < 1) return null;
    n -= 1;
    var n400 = Math.floor(n / 146097);
    n %= 146097;
    var n100 = Math.floor(n / 36524);
    n %= 36524;
    var n4 = Math.floor(n / 1461);
    n %= 1461;
    var n1 = Math.floor(n / 365);
    n %= 365;
    var year = n400 * 400 + 1 + n100 * 100 + n4 * 4 + n1;
    if (n1 === 4 || n100 === 4) return makeDate(year - 1, 12, 31);
    var month = 1;
    while (n >= daysInMonth(year, month)) {
      n -= daysInMonth(year, month);
      month += 1;
    }
    return makeDate(year, month, n + 1);
  }

  var ISO_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

  /** A DateValue from strict "YYYY-MM-DD" (scope values, today, encoded {"date": ...}). */
  function parseDate(text) {
    var m = ISO_DATE_RE.exec(text);
    var d = m && makeDate(+m[1], +m[2], +m[3]);
    if (!d) throw new TypeError('not a date (YYYY-MM-DD): ' + text);
    return d;
  }

  function utf8Length(s) {
    var n = 0;
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c <= 0xdbff) { n += 4; i += 1; } else n += 3;
    }
    return n;
  }

  /**
   * Python 3.11's date.fromisoformat (C implementation), quirks included, as the date field
   * type reads answers (engine/fields/date.py): it also reads "20270101", ISO weeks "2027-W01-1"
   * / "2027W011" / "2027-W01", checks only the UTF-8 length (7, 8 or 10) and ignores what
   * follows a complete basic date ("20270101xx"). The expression function date() is strict.
   */
  function fromIsoFormat(s) {
    if (/\p{Surrogate}/u.test(s)) return null; // not encodable in UTF-8: Python fails too
    var len = utf8Length(s);
    if (len !== 7 && len !== 8 && len !== 10) return null;
    var p = 0;
    function digits(n) {
      var v = 0;
      for (var k = 0; k < n; k++) {
        var c = s.charCodeAt(p);
        if (!(c >= 48 && c <= 57)) return -1;
        v = v * 10 + (c - 48);
        p += 1;
      }
      return v;
    }
    var year = digits(4);
    if (year < 0) return null;
    var sep = s.charAt(p) === '-';
    if (sep) p += 1;
    if (s.charAt(p) === 'W') {
      p += 1;
      var week = digits(2);
      if (week < 0) return null;
      var day = 1;
      if (p < len) {
        if (sep && s.charAt(p++) !== '-') return null;
        day = digits(1);
        if (day < 0) return null;
      }
      return isoWeekDate(year, week, day);
    }
    var month = digits(2);
    if (month < 0) return null;
    if (sep && s.charAt(p++) !== '-') return null;
    var dd = digits(2);
    if (dd < 0) return null;
    return makeDate(year, month, dd);
  }

  function isoWeekDate(year, week, day) {
    if (year < 1) return null; // year 0 never gives a valid date in Python
    var first = ymdToOrd(year, 1, 1);
    var firstWeekday = (first + 6) % 7; // Monday is 0
    if (week <= 0 || week >= 53) {
      var has53 = firstWeekday === 3 || (firstWeekday === 2 && isLeap(year));
      if (!(week === 53 && has53)) return null;
    }
    if (day <= 0 || day >= 8) return null;
    var monday = first - firstWeekday + (firstWeekday > 3 ? 7 : 0);
    return ordToDate(monday + (week - 1) * 7 + day - 1);
  }

  function fullYears(born, on) {
    var years = on.y - born.y;
    if (on.m < born.m || (on.m === born.m && on.d < born.d)) years -= 1;
    return years;
  }

  function fullMonths(start, on) {
    var months = (on.y - start.y) * 12 + on.m - start.m;
    if (on.d < start.d) months -= 1;
    return months;
  }

  // ---------------------------------------------------------------------------------------------
  // Kinds, emptiness, equality, ordering.

  function isMap(v) {
    return v !== null && typeof v === 'object' && !Array.isArray(v) &&
      !(v instanceof Num) && !(v instanceof DateValue);
  }

  function kind(v) {
    if (v === null) return 'null';
    if (typeof v === 'boolean') return 'bool';
    if (typeof v === 'string') return 'str';
    if (v instanceof Num) return 'num';
    if (v instanceof DateValue) return 'date';
    if (Array.isArray(v)) return 'list';
    return 'map';
  }

  /** functions.is_empty: null, "", [] and {} (never 0 or false). */
  function isEmpty(v) {
    return v === null || v === '' || (Array.isArray(v) && v.length === 0) ||
      (isMap(v) && Object.keys(v).length === 0);
  }

  /** evaluate.truthy: false, null, empty values and zero are false. */
  function truthy(v) {
    if (typeof v === 'boolean') return v;
    return !isEmpty(v) && !(v instanceof Num && v.isZero());
  }

  /** Python's own ==, used inside lists and maps (there True == 1 and null != ""). */
  function pyEq(a, b) {
    var ka = kind(a);
    var kb = kind(b);
    if ((ka === 'bool' || ka === 'num') && (kb === 'bool' || kb === 'num')) {
      if (ka === 'bool' && kb === 'bool') return a === b;
      return (ka === 'num' ? a.v : big(a ? 1 : 0)).cmp(kb === 'num' ? b.v : big(b ? 1 : 0)) === 0;
    }
    if (ka !== kb) return false;
    if (ka === 'null') return true;
    if (ka === 'str') return a === b;
    if (ka === 'date') return a.y === b.y && a.m === b.m && a.d === b.d;
    if (ka === 'list') {
      if (a.length !== b.length) return false;
      for (var i = 0; i < a.length; i++) if (!pyEq(a[i], b[i])) return false;
      return true;
    }
    var keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    for (var j = 0; j < keys.length; j++) {
      if (!Object.prototype.hasOwnProperty.call(b, keys[j]) || !pyEq(a[keys[j]], b[keys[j]])) {
        return false;
      }
    }
    return true;
  }

  /** evaluate._equal: booleans by identity, all empty values equal, else Python's ==. */
  function equal(a, b) {
    if (typeof a === 'boolean' || typeof b === 'boolean') return a === b;
    if (isEmpty(a) && isEmpty(b)) return true;
    return pyEq(a, b);
  }

  /** Python compares text by code points; JavaScript's < compares UTF-16 units. */
  function compareText(a, b) {
    var i = 0;
    var j = 0;
    while (i < a.length && j < b.length) {
      var ca = a.codePointAt(i);
      var cb = b.codePointAt(j);
      if (ca !== cb) return ca < cb ? -1 : 1;
      i += ca > 0xffff ? 2 : 1;
      j += cb > 0xffff ? 2 : 1;
    }
    return i < a.length ? 1 : j < b.length ? -1 : 0;
  }

  function compare(op, a, b) {
    if (op === '==') return equal(a, b);
    if (op === '!=') return !equal(a, b);
    if (op === 'in' || op === 'not in') {
      var found = false;
      if (Array.isArray(b)) found = b.some(function (item) { return equal(a, item); });
      else if (typeof b === 'string' && typeof a === 'string') found = b.indexOf(a) !== -1;
      return op === 'in' ? found : !found;
    }
    // Ordering: only two numbers, two texts or two dates; anything else (null, mixed) is false.
    var k = kind(a);
    if (k !== kind(b) || (k !== 'num' && k !== 'str' && k !== 'date')) return false;
    var c = k === 'num' ? a.v.cmp(b.v)
      : k === 'str' ? compareText(a, b)
        : a.ordinal() - b.ordinal();
    if (op === '<') return c < 0;
    if (op === '<=') return c <= 0;
    if (op === '>') return c > 0;
    if (op === '>=') return c >= 0;
    throw new TypeError('unknown comparison ' + op);
  }

  // ---------------------------------------------------------------------------------------------
  // Text conversion: "+" with a text uses Python's str() of the other side.

  var NON_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

  function hex(cp, width) {
    return pad(cp.toString(16), width);
  }

  function reprText(s) {
    var quote = s.indexOf("'") !== -1 && s.indexOf('"') === -1 ? '"' : "'";
    var out = quote;
    for (var ch of s) {
      var cp = ch.codePointAt(0);
      if (ch === quote || ch === '\\') out += '\\' + ch;
      else if (ch === '\t') out += '\\t';
      else if (ch === '\n') out += '\\n';
      else if (ch === '\r') out += '\\r';
      else if (cp < 0x20 || cp === 0x7f) out += '\\x' + hex(cp, 2);
      else if (cp < 0x7f || !NON_PRINTABLE.test(ch)) out += ch;
      else if (cp <= 0xff) out += '\\x' + hex(cp, 2);
      else if (cp <= 0xffff) out += '\\u' + hex(cp, 4);
      else out += '\\U' + hex(cp, 8);
    }
    return out + quote;
  }

  /** Python's repr(), for lists and maps joined to a text (rare, but defined). */
  function repr(v) {
    switch (kind(v)) {
      case 'null': return 'None';
      case 'bool': return v ? 'True' : 'False';
      case 'str': return reprText(v);
      case 'num': return "Decimal('" + numText(v) + "')";
      case 'date': return 'datetime.date(' + v.y + ', ' + v.m + ', ' + v.d + ')';
      case 'list': return '[' + v.map(repr).join(', ') + ']';
      default: return '{' + Object.keys(v).map(function (k) {
        return reprText(k) + ': ' + repr(v[k]);
      }).join(', ') + '}';
    }
  }

  /** Python's str(). */
  function toText(v) {
    switch (kind(v)) {
      case 'str': return v;
      case 'bool': return v ? 'True' : 'False';
      case 'num': return numText(v);
      case 'date': return v.toString();
      default: return repr(v);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Operators and functions.

  function binary(op, a, b) {
    if (op === '+' && (typeof a === 'string' || typeof b === 'string')) {
      return (a === null ? '' : toText(a)) + (b === null ? '' : toText(b));
    }
    if (!(a instanceof Num) || !(b instanceof Num)) return null; // null-safe arithmetic
    if (op === '+') return add(a, b);
    if (op === '-') return sub(a, b);
    if (op === '*') return mul(a, b);
    if (b.isZero()) return null; // division by zero
    if (op === '/') return div(a, b);
    if (op === '%') return mod(a, b);
    throw new TypeError('unknown operator ' + op);
  }

  /** functions._numbers: the numbers of the arguments, lists flattened one level. */
  function numbersOf(args) {
    var out = [];
    args.forEach(function (a) {
      (Array.isArray(a) ? a : [a]).forEach(function (x) { if (x instanceof Num) out.push(x); });
    });
    return out;
  }

  function pick(args, better) { // Python's min/max keep the first of equal values
    var nums = numbersOf(args);
    if (nums.length === 0) return null;
    return nums.reduce(function (best, x) { return better(x.v.cmp(best.v)) ? x : best; });
  }

  var FUNCTIONS = {
    len: function (v) {
      if (Array.isArray(v)) return intNum(v.length);
      if (typeof v === 'string') return intNum(Array.from(v).length); // code points, like Python
      return intNum(0);
    },
    count: function (v) {
      if (!Array.isArray(v)) return intNum(0);
      return intNum(v.filter(function (x) { return !isEmpty(x) && x !== false; }).length);
    },
    sum: function (v) {
      if (!Array.isArray(v)) return intNum(0);
      return numbersOf([v]).reduce(add, intNum(0)); // sum(nums, Decimal(0))
    },
    min: function () {
      return pick(Array.prototype.slice.call(arguments), function (c) { return c < 0; });
    },
    max: function () {
      return pick(Array.prototype.slice.call(arguments), function (c) { return c > 0; });
    },
    round: roundNum,
    abs: function (v) { return v instanceof Num ? absNum(v) : null; },
    date: function (v) { // strictly YYYY-MM-DD, like functions._date
      if (v instanceof DateValue) return v;
      var m = typeof v === 'string' ? ISO_DATE_RE.exec(v) : null;
      return m ? makeDate(+m[1], +m[2], +m[3]) : null;
    },
    year: function (v) { return v instanceof DateValue ? intNum(v.y) : null; },
    empty: function (v) { return isEmpty(v === undefined ? null : v); },
    lower: function (v) { return typeof v === 'string' ? v.toLowerCase() : null; },
    upper: function (v) { return typeof v === 'string' ? v.toUpperCase() : null; },
  };

  function call(name, argNodes, scope) {
    if (name === 'changed') { // asks the scope; the argument is a field, not a value
      var arg = argNodes[0];
      var isField = arg !== undefined && arg !== null && Array.isArray(arg.ref);
      return isField ? scope.changed(arg.ref) : false;
    }
    var args = argNodes.map(function (n) { return ev(n, scope); });
    if (name === 'today') return scope.today;
    if (name === 'age' || name === 'months_since') {
      var start = args[0] instanceof DateValue ? args[0] : null;
      var on = args.length > 1 ? args[1] : scope.today;
      if (start === null || !(on instanceof DateValue)) return null;
      return intNum(name === 'age' ? fullYears(start, on) : fullMonths(start, on));
    }
    if (!Object.prototype.hasOwnProperty.call(FUNCTIONS, name)) {
      throw new TypeError('unknown function ' + name); // the checker rejects these at load time
    }
    return FUNCTIONS[name].apply(null, args);
  }

  var BINARY = { '+': 1, '-': 1, '*': 1, '/': 1, '%': 1 };
  var COMPARE = { '==': 1, '!=': 1, '<': 1, '<=': 1, '>': 1, '>=': 1, in: 1, 'not in': 1 };

  function ev(node, scope) {
    if (node === null || typeof node !== 'object') throw new TypeError('not an expression node');
    if ('lit' in node) return node.lit; // text, true/false or null
    if ('num' in node) return parseNum(node.num);
    if ('ref' in node) return scope.value(node.ref);
    if ('list' in node) return node.list.map(function (n) { return ev(n, scope); });
    if ('if' in node) return ev(truthy(ev(node.if[0], scope)) ? node.if[1] : node.if[2], scope);
    if ('call' in node) return call(node.call, node.args || [], scope);
    if ('op' in node) {
      var op = node.op;
      var args = node.args;
      if (op === 'not') return !truthy(ev(args[0], scope));
      if (op === 'and') return args.every(function (n) { return truthy(ev(n, scope)); });
      if (op === 'or') return args.some(function (n) { return truthy(ev(n, scope)); });
      if (op === '-' && args.length === 1) {
        var v = ev(args[0], scope);
        return v instanceof Num ? negate(v) : null;
      }
      if (BINARY[op] === 1) return binary(op, ev(args[0], scope), ev(args[1], scope));
      if (COMPARE[op] === 1) return compare(op, ev(args[0], scope), ev(args[1], scope));
      throw new TypeError('unknown operator ' + op);
    }
    throw new TypeError('unknown expression node ' + JSON.stringify(node));
  }

  // ---------------------------------------------------------------------------------------------
  // Value encoding (the JSON of tests/expr/corpus.json) and scopes.

  /**
   * A runtime value from its JSON encoding: text / true / false / null as is, {"num": "12.50"},
   * {"date": "2027-01-01"}, lists, {"map": {...}}. Also accepts runtime values (returned as is),
   * undefined (null), JavaScript numbers (through their shortest text, e.g. 0.1 -> 0.1) and
   * other plain objects (maps).
   */
  function decode(x) {
    if (x === undefined || x === null) return null;
    if (typeof x === 'string' || typeof x === 'boolean') return x;
    if (typeof x === 'number') return Number.isFinite(x) ? parseNum(String(x)) : null;
    if (x instanceof Num || x instanceof DateValue) return x;
    if (Array.isArray(x)) return x.map(decode);
    if (typeof x !== 'object') throw new TypeError('cannot decode ' + typeof x);
    var keys = Object.keys(x);
    if (keys.length === 1 && keys[0] === 'num') return parseNum(x.num);
    if (keys.length === 1 && keys[0] === 'date') return parseDate(x.date);
    var inner = keys.length === 1 && keys[0] === 'map' ? x.map : x;
    var out = {};
    Object.keys(inner).forEach(function (k) { out[k] = decode(inner[k]); });
    return out;
  }

  /** The JSON encoding of a runtime value (numbers written as Python's str(Decimal)). */
  function encode(v) {
    switch (kind(v)) {
      case 'num': return { num: numText(v) };
      case 'date': return { date: v.toString() };
      case 'list': return v.map(encode);
      case 'map': {
        var out = {};
        Object.keys(v).forEach(function (k) { out[k] = encode(v[k]); });
        return { map: out };
      }
      default: return v;
    }
  }

  function toDate(x) {
    if (x === undefined || x === null) return null;
    return x instanceof DateValue ? x : parseDate(String(x));
  }

  /** Normalises a caller's scope: today as a DateValue, values decoded, changed as a bool. */
  function wrapScope(scope) {
    scope = scope || {};
    return {
      today: toDate(scope.today),
      value: function (path) { return decode(scope.value ? scope.value(path) : null); },
      changed: function (path) { return scope.changed ? Boolean(scope.changed(path)) : false; },
    };
  }

  /**
   * A scope from plain data: {today: "YYYY-MM-DD", values: {"dotted.path": encoded},
   * changed: ["dotted.path"]}. Unknown paths read as null.
   */
  function scopeFrom(data) {
    var values = data.values || {};
    var changed = data.changed || [];
    return {
      today: data.today,
      value: function (path) {
        var key = path.join('.');
        return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : null;
      },
      changed: function (path) { return changed.indexOf(path.join('.')) !== -1; },
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Decimal helpers for rules.js (fees): Python's Decimal operations, same results and exponents.

  /** n.quantize(Decimal(10) ** -places, rounding): rm is HALF_UP (1) or HALF_EVEN (2). */
  function quantize(n, places, rm) {
    var r = n.v.round(places, rm);
    return new Num(r, -places, bigIsZero(r) ? n.neg : r.s < 0);
  }

  /** format(n, "f"): plain digits, the exponent's zeros written out (1.5E+3 -> 1500). */
  function plainText(n) {
    var digits = coefficient(n);
    var body;
    if (n.exp >= 0) {
      body = n.isZero() ? '0' : digits + '0'.repeat(n.exp);
    } else {
      var k = -n.exp;
      if (digits.length <= k) digits = '0'.repeat(k - digits.length + 1) + digits;
      body = digits.slice(0, digits.length - k) + '.' + digits.slice(digits.length - k);
    }
    return (n.neg ? '-' : '') + body;
  }

  /** Decimal.adjusted(): the exponent of the most significant digit. */
  function adjusted(n) {
    return n.isZero() ? n.exp : n.v.e;
  }

  /** Whether n is a whole number (Decimal: n == n.to_integral_value()). */
  function isIntegral(n) {
    return n.isZero() || n.v.e >= n.v.c.length - 1;
  }

  /** Decimal.normalize() of a non-zero number: trailing zeros dropped. */
  function stripZeros(n) {
    if (n.isZero()) return new Num(n.v, 0, n.neg);
    return new Num(n.v, n.v.e - n.v.c.length + 1, n.neg);
  }

  /** n.quantize(Decimal(1)) of a whole number: exponent 0. */
  function wholeNum(n) {
    return new Num(n.v, 0, n.neg);
  }

  function cmpNum(a, b) {
    return a.v.cmp(b.v);
  }

  /** abs(n): the magnitude, rounded to the context's 28 digits as Decimal.__abs__ does. */
  function absNum(n) {
    return fix(n.v.abs(), n.exp, false);
  }

  /** The value of an expression (a runtime value: see decode/encode). */
  function evaluate(json, scope) {
    return ev(json, wrapScope(scope));
  }

  /** A condition: the truthiness of its value. */
  function test(json, scope) {
    return truthy(evaluate(json, scope));
  }

  return {
    evaluate: evaluate,
    test: test,
    truthy: truthy,
    isEmpty: isEmpty,
    decode: decode,
    encode: encode,
    toText: toText,
    scopeFrom: scopeFrom,
    num: parseNum,
    date: parseDate,
    Num: Num,
    DateValue: DateValue,
    useBig: useBig,
    DIVISION_PLACES: DIVISION_PLACES,
    // for rules.js
    isMap: isMap,
    reprText: reprText,
    intNum: intNum,
    add: add,
    sub: sub,
    mul: mul,
    cmpNum: cmpNum,
    absNum: absNum,
    quantize: quantize,
    plainText: plainText,
    adjusted: adjusted,
    isIntegral: isIntegral,
    stripZeros: stripZeros,
    wholeNum: wholeNum,
    makeDate: makeDate,
    fromIsoFormat: fromIsoFormat,
    HALF_UP: HALF_UP,
    HALF_EVEN: HALF_EVEN,
  };
}));
