/*
 * DossierSCO wizard page, enhanced: the page works without this file (every button posts and
 * the server re-evaluates everything); with it, the campaign rules run in the browser after
 * each change, through DossierRules.evaluate (rules.js, the twin of engine/rules):
 *   - fields and stepper steps appear and disappear (a field that hides is cleared when its
 *     on_hide is "clear", as the server will do);
 *   - "required" follows the conditions; computed values, the fee panel and the list of
 *     documents asked for are refreshed; an aria-live region says what changed;
 *   - repeat rows are added and removed in place, from the row <template> of each repeat.
 * It also moves the focus to the error summary (or conflict notice) the server rendered.
 *
 * Reads <script type="application/json" id="dossier-model">: {model, context, answers, page}
 * (answers of the other pages; this page's answers are read from the form inputs).
 * No inline script or style anywhere (CSP): this file only toggles attributes and text.
 */
(function () {
  'use strict';

  function focusNotice() {
    var notice = document.querySelector('[data-focus]');
    if (notice) notice.focus();
  }

  function each(list, fn) {
    Array.prototype.forEach.call(list, fn);
  }

  function insideTemplate(el) {
    for (var node = el.parentNode; node; node = node.parentNode) {
      if (node.nodeName === 'TEMPLATE') return true;
    }
    return false;
  }

  function inputsNamed(root, name) {
    var found = [];
    each(root.querySelectorAll('[name]'), function (el) {
      if (el.name === name && !insideTemplate(el)) found.push(el);
    });
    return found;
  }

  /** One part's input: its text, or the radio button checked (a grid's row), else ''. */
  function partValue(inputs) {
    var picked = inputs.filter(function (el) {
      return (el.type !== 'radio' && el.type !== 'checkbox') || el.checked;
    });
    return picked.length ? picked[picked.length - 1].value : '';
  }

  function Page(form, data) {
    this.form = form;
    this.model = data.model;
    this.context = data.context;
    this.stored = data.answers || {};
    this.pageId = data.page;
    this.live = document.querySelector('[data-live]');
    this.previous = null;
    var page = this.model.pages.filter(function (p) { return p.id === data.page; })[0];
    this.fieldIds = page ? page.fields : [];
  }

  // -- reading the form --------------------------------------------------------------------

  /** The raw value of one field from its inputs (as the server's parse_page reads them). */
  Page.prototype.read = function (spec, root, name) {
    var inputs = inputsNamed(root, name);
    var options = spec.options || {};
    if (spec.input_parts && spec.input_parts.length) { // a type entered in several inputs
      var value = {};
      var found = false;
      spec.input_parts.forEach(function (part) {
        var els = inputsNamed(root, name + '-' + part);
        found = found || els.length > 0;
        value[part] = partValue(els);
      });
      return found ? value : undefined;
    }
    if (!inputs.length) return undefined;
    var kind = inputs[inputs.length - 1].type;
    if (spec.type === 'memberships' || (spec.type === 'choice' && options.multiple)) {
      return inputs.filter(function (el) { return el.checked; })
        .map(function (el) { return el.value; });
    }
    if (kind === 'radio' || kind === 'checkbox') {
      var checked = inputs.filter(function (el) {
        return el.type === 'hidden' || el.checked;
      });
      return checked.length ? checked[checked.length - 1].value : null;
    }
    var text = inputs[inputs.length - 1].value;
    return text === '' ? null : text;
  };

  Page.prototype.rowsOf = function (spec) {
    var box = this.form.querySelector('[data-repeat="' + spec.id + '"]');
    if (!box) return [];
    var rows = [];
    each(box.children, function (child) {
      if (child.classList && child.classList.contains('repeat-row')) rows.push(child);
    });
    return rows;
  };

  /** Every answer: the stored ones, with this page's inputs read over them. */
  Page.prototype.answers = function () {
    var self = this;
    var answers = {};
    Object.keys(this.stored).forEach(function (k) { answers[k] = self.stored[k]; });
    this.fieldIds.forEach(function (id) {
      var spec = self.model.fields[id];
      if (!spec || !spec.has_value || !spec.editable || spec.type === 'file') return;
      if (spec.is_container) {
        var before = {};
        (self.stored[id] || []).forEach(function (row) { before[row._key] = row; });
        answers[id] = self.rowsOf(spec).map(function (rowEl) {
          var n = rowEl.getAttribute('data-row');
          var key = inputsNamed(rowEl, 'f-' + id + '-' + n + '-_key')[0];
          var row = { _key: key ? key.value : null };
          var old = before[row._key] || {};
          (spec.fields || []).forEach(function (childKey) {
            var child = self.model.fields[childKey];
            if (!child || !child.has_value) return;
            var value = child.editable
              ? self.read(child, rowEl, 'f-' + id + '-' + n + '-' + child.id) : undefined;
            row[child.id] = value === undefined ? (old[child.id] === undefined ? null
              : old[child.id]) : value;
          });
          return row;
        });
        return;
      }
      var value = self.read(spec, self.form, 'f-' + id);
      if (value !== undefined) answers[id] = value;
    });
    return answers;
  };

  // -- applying an evaluation --------------------------------------------------------------

  function clearInputs(wrapper) {
    each(wrapper.querySelectorAll('input, select, textarea'), function (el) {
      if (insideTemplate(el) || el.readOnly || el.disabled) return;
      if (el.type === 'checkbox' || el.type === 'radio') el.checked = false;
      else if (el.type !== 'hidden' && el.type !== 'submit' && el.type !== 'file') el.value = '';
    });
  }

  function setRequired(wrapper, required) {
    var mark = wrapper.querySelector('label > .required, label > .optional, ' +
      'legend > .required, legend > .optional');
    if (mark) {
      var wanted = required ? 'required' : 'optional';
      if (!mark.classList.contains(wanted)) {
        mark.className = wanted;
        mark.textContent = required ? ' *' : ' (facultatif)';
        if (required) mark.setAttribute('aria-hidden', 'true');
        else mark.removeAttribute('aria-hidden');
      }
    }
    each(wrapper.querySelectorAll('input:not([type=hidden]):not([type=radio]), select, ' +
      'textarea'), function (el) {
      if (insideTemplate(el) || el.readOnly || el.type === 'file' ||
          el.closest('.subfield-line2')) return;
      if (el.type === 'checkbox' && el.closest('.field-choice, .field-memberships')) return;
      el.required = required;
      if (required) el.setAttribute('aria-required', 'true');
      else el.removeAttribute('aria-required');
    });
  }

  /** Show or hide one field wrapper; returns true when it was just hidden. */
  Page.prototype.toggle = function (wrapper, spec, shown) {
    var wasShown = !wrapper.hidden;
    wrapper.hidden = !shown;
    if (wasShown && !shown && spec && spec.on_hide !== 'keep') clearInputs(wrapper);
    return wasShown !== shown;
  };

  Page.prototype.applyFields = function (result) {
    var self = this;
    var visible = {}, required = {};
    result.visible.forEach(function (k) { visible[k] = true; });
    result.required.forEach(function (k) { required[k] = true; });
    var appeared = 0;
    this.fieldIds.forEach(function (id) {
      var spec = self.model.fields[id];
      var wrapper = self.form.querySelector('.field[data-key="' + id + '"]');
      if (!spec || !wrapper) return;
      if (self.toggle(wrapper, spec, !!visible[id]) && visible[id]) appeared += 1;
      // the notes that belong to the field (another guardian's answer, a correction)
      each(self.form.querySelectorAll('[data-shown-with="' + id + '"]'), function (note) {
        note.hidden = !visible[id];
      });
      if (spec.editable && spec.has_value && !spec.is_container) setRequired(wrapper, !!required[id]);
      each(wrapper.querySelectorAll('[data-part-key]'), function (part) { // a grid's rows
        var key = part.getAttribute('data-part-key');
        if (self.toggle(part, spec, !!visible[key]) && visible[key]) appeared += 1;
      });
      if (!spec.is_container) return;
      self.rowsOf(spec).forEach(function (rowEl, n) {
        (spec.fields || []).forEach(function (childKey) {
          var child = self.model.fields[childKey];
          var box = rowEl.querySelector('.field[data-key="' + childKey + '"]');
          if (!child || !box || box.classList.contains('field-masked')) return;
          var key = id + '.' + n + '.' + child.id;
          if (self.toggle(box, child, !!visible[key]) && visible[key]) appeared += 1;
          if (child.editable && child.has_value) setRequired(box, !!required[key]);
        });
      });
    });
    return appeared;
  };

  Page.prototype.applyComputed = function (result) {
    var self = this;
    each(document.querySelectorAll('[data-computed]'), function (out) {
      var key = out.getAttribute('data-computed');
      if (Object.prototype.hasOwnProperty.call(result.computed, key)) {
        var spec = self.model.fields[key] || {};
        out.textContent = window.DossierRules.displayComputed(spec.format, result.computed[key]);
      }
    });
  };

  Page.prototype.applySteps = function (result) {
    var shown = {};
    result.visiblePages.forEach(function (id) { shown[id] = true; });
    each(document.querySelectorAll('[data-page]'), function (step) {
      step.hidden = !shown[step.getAttribute('data-page')];
    });
    var at = result.visiblePages.indexOf(this.pageId);
    var label = document.querySelector('.page-title__step');
    if (label && at >= 0) {
      label.textContent = 'Étape ' + (at + 1) + ' sur ' + result.visiblePages.length;
    }
  };

  function item(label, amount, explanation) {
    var li = document.createElement('li');
    li.className = 'fees__item';
    var name = document.createElement('span');
    name.className = 'fees__label';
    name.textContent = label;
    var value = document.createElement('span');
    value.className = 'fees__amount';
    value.textContent = window.DossierRules.formatMoney(amount);
    li.appendChild(name);
    li.appendChild(document.createTextNode(' '));
    li.appendChild(value);
    if (explanation) {
      var why = document.createElement('span');
      why.className = 'fees__explanation hint';
      why.textContent = explanation;
      li.appendChild(document.createElement('br'));
      li.appendChild(why);
    }
    return li;
  }

  Page.prototype.applyFees = function (result) {
    var panel = document.querySelector('[data-fees]');
    if (!panel) return;
    var list = panel.querySelector('[data-fees-list]');
    while (list.firstChild) list.removeChild(list.firstChild);
    result.fees.forEach(function (f) { list.appendChild(item(f.label, f.amount, f.explanation)); });
    result.memberships.forEach(function (m) {
      list.appendChild(item('Adhésion : ' + m.label, m.fee, ''));
    });
    panel.querySelector('[data-fees-total]').textContent =
      window.DossierRules.formatMoney(result.total);
    panel.hidden = !result.fees.length && !result.memberships.length;
    var schedule = panel.querySelector('[data-fees-schedule]');
    if (schedule) { // the school's fees in instalments, as the server splits them
      var dues = schedule.querySelector('[data-fees-instalments]');
      while (dues.firstChild) dues.removeChild(dues.firstChild);
      result.instalments.forEach(function (i) { dues.appendChild(item(i.label, i.amount, '')); });
      schedule.querySelector('[data-fees-count]').textContent = String(result.instalments.length);
      schedule.hidden = !result.instalments.length;
    }
    var effect = document.querySelector('[data-fee-effect]');
    if (effect) {
      effect.querySelector('[data-fee-effect-total]').textContent =
        window.DossierRules.formatMoney(result.total);
      effect.hidden = panel.hidden;
    }
  };

  Page.prototype.applyDocuments = function (result) {
    var asked = {};
    result.documents.forEach(function (d) { asked[d.document] = d; });
    var specs = {};
    this.model.documents.forEach(function (d) { specs[d.id] = d; });
    each(document.querySelectorAll('[data-document]'), function (block) {
      var id = block.getAttribute('data-document');
      var spec = specs[id.split('~')[0]]; // a per-row slot: <document>~<row key>
      if (!spec) return;
      var optional = spec.required_if === null && !spec.required;
      // a block holding files stays shown (no longer asked: the family may delete them)
      block.hidden = !asked[id] && !optional && !block.hasAttribute('data-document-files');
      var reason = block.querySelector('[data-document-reason]');
      if (reason && asked[id]) reason.textContent = asked[id].reason;
    });
  };

  Page.prototype.say = function (text) {
    if (!this.live || !text) return;
    this.live.textContent = '';
    var live = this.live;
    window.setTimeout(function () { live.textContent = text; }, 50);
  };

  Page.prototype.update = function () {
    var result = window.DossierRules.evaluate(this.model, this.answers(), this.context);
    var appeared = this.applyFields(result);
    this.applyComputed(result);
    this.applySteps(result);
    this.applyFees(result);
    this.applyDocuments(result);
    var news = [];
    if (appeared === 1) news.push('Une nouvelle question est affichée.');
    if (appeared > 1) news.push(appeared + ' nouvelles questions sont affichées.');
    if (this.previous !== null && this.previous !== result.total) {
      news.push('Total des frais : ' + window.DossierRules.formatMoney(result.total) + '.');
    }
    this.previous = result.total;
    this.say(news.join(' '));
  };

  // -- repeat rows -------------------------------------------------------------------------

  var RENUMBERED = ['name', 'id', 'for', 'aria-describedby', 'value', 'data-row', 'data-name'];

  function renumber(rowEl, repeat, from, to) {
    var prefix = 'f-' + repeat + '-' + from + '-';
    var target = 'f-' + repeat + '-' + to + '-';
    var nodes = [rowEl].concat(Array.prototype.slice.call(rowEl.querySelectorAll('*')));
    nodes.forEach(function (el) {
      RENUMBERED.forEach(function (attr) {
        var v = el.getAttribute(attr);
        if (v === null) return;
        if (attr === 'data-row') el.setAttribute(attr, String(to));
        else if (attr === 'value' && v === 'remove:' + repeat + ':' + from) {
          el.setAttribute(attr, 'remove:' + repeat + ':' + to);
        } else if (attr !== 'value' && v.indexOf(prefix) !== -1) {
          el.setAttribute(attr, v.split(prefix).join(target));
        }
      });
    });
    each(rowEl.querySelectorAll('[data-row-label], [data-row-number]'), function (el) {
      el.textContent = el.textContent.replace(/\d+$/, String(to + 1));
    });
  }

  function newKey() {
    var bytes = new Uint8Array(6);
    window.crypto.getRandomValues(bytes);
    return 'new-' + Array.prototype.map.call(bytes, function (b) {
      return ('0' + b.toString(16)).slice(-2);
    }).join('');
  }

  Page.prototype.refreshRowButtons = function (box, count) {
    var min = Number(box.getAttribute('data-min'));
    var max = Number(box.getAttribute('data-max'));
    var add = box.querySelector('[data-add-row]');
    if (add) add.hidden = count >= max;
    each(box.querySelectorAll('[data-remove-row]'), function (button) {
      if (!insideTemplate(button)) button.hidden = count <= min;
    });
  };

  Page.prototype.addRow = function (box) {
    var repeat = box.getAttribute('data-repeat');
    var spec = this.model.fields[repeat];
    var rows = this.rowsOf(spec);
    var template = box.querySelector('template[data-row-template]');
    if (!template || rows.length >= Number(box.getAttribute('data-max'))) return;
    var n = rows.length;
    var html = template.innerHTML.split('__N__').join(String(n))
      .split('__NUM__').join(String(n + 1));
    var holder = document.createElement('div');
    holder.innerHTML = html;
    var row = holder.querySelector('.repeat-row');
    inputsNamed(row, 'f-' + repeat + '-' + n + '-_key')[0].value = newKey();
    box.insertBefore(row, template);
    each(row.querySelectorAll('select[data-search]'), searchable);
    this.refreshRowButtons(box, n + 1);
    this.update();
    var first = row.querySelector('input:not([type=hidden]), select, textarea');
    if (first) first.focus();
    this.say(row.querySelector('[data-row-label]').textContent + ' ajouté.');
  };

  Page.prototype.removeRow = function (box, rowEl) {
    var repeat = box.getAttribute('data-repeat');
    var rows = this.rowsOf(this.model.fields[repeat]);
    if (rows.length <= Number(box.getAttribute('data-min'))) return;
    var at = rows.indexOf(rowEl);
    var label = rowEl.querySelector('[data-row-label]').textContent;
    box.removeChild(rowEl);
    for (var i = at + 1; i < rows.length; i += 1) renumber(rows[i], repeat, i, i - 1);
    this.refreshRowButtons(box, rows.length - 1);
    this.update();
    var add = box.querySelector('[data-add-row]');
    (add && !add.hidden ? add : box).focus();
    this.say(label + ' retiré.');
  };

  Page.prototype.listen = function () {
    var self = this;
    var timer = null;
    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { self.update(); }, 120);
    }
    this.form.addEventListener('input', later);
    this.form.addEventListener('change', later);
    this.form.addEventListener('click', function (event) {
      var button = event.target.closest('[data-add-row], [data-remove-row]');
      if (!button) return;
      var box = button.closest('[data-repeat]');
      if (!box) return;
      event.preventDefault();
      if (button.hasAttribute('data-add-row')) self.addRow(box);
      else self.removeRow(box, button.closest('.repeat-row'));
    });
  };

  // -- a long list (the countries): a search box above it narrows its options ---------------

  function fold(text) {
    return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  }

  /** Put a search box above ``select``: typing keeps the options whose name contains the
   * text (accents and case ignored); a single match is chosen and announced. */
  function searchable(select) {
    if (select.disabled || select.hasAttribute('data-search-on') || insideTemplate(select)) return;
    select.setAttribute('data-search-on', '');
    var all = Array.prototype.map.call(select.options, function (o) {
      return {value: o.value, text: o.text, key: fold(o.text)};
    });
    var what = select.getAttribute('data-search');
    var box = document.createElement('input');
    box.type = 'search';
    box.className = 'list-search';
    box.id = select.id + '-recherche';
    box.autocomplete = 'off';
    box.placeholder = 'Rechercher un ' + what + '…';
    box.setAttribute('aria-label', 'Rechercher un ' + what + ' dans la liste');
    box.setAttribute('aria-controls', select.id);
    var status = document.createElement('span');
    status.className = 'visually-hidden';
    status.setAttribute('aria-live', 'polite');
    select.parentNode.insertBefore(box, select);
    select.parentNode.insertBefore(status, select.nextSibling);
    box.addEventListener('input', function () {
      var wanted = fold(box.value.trim());
      var chosen = select.value;
      var matches = all.filter(function (o) {
        return o.value !== '' && o.key.indexOf(wanted) !== -1;
      });
      var kept = all.filter(function (o) {
        return !wanted || o.value === '' || o.value === chosen || matches.indexOf(o) !== -1;
      });
      select.options.length = 0;
      kept.forEach(function (o) {
        select.add(new Option(o.text, o.value, false, o.value === chosen));
      });
      if (wanted && matches.length === 1 && matches[0].value !== chosen) {
        select.value = matches[0].value;
        select.dispatchEvent(new Event('change', {bubbles: true}));
        status.textContent = matches[0].text + ' choisi.';
      } else {
        status.textContent = wanted ? matches.length + ' ' + what + ' dans la liste.' : '';
      }
    });
  }

  function start() {
    focusNotice();
    each(document.querySelectorAll('select[data-search]'), searchable);
    var source = document.getElementById('dossier-model');
    var form = document.querySelector('[data-wizard-form]');
    if (!source || !form || !window.DossierRules) return;
    var page = new Page(form, JSON.parse(source.textContent));
    page.listen();
    page.update();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
}());
