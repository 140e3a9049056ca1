/*
 * Browser twin of dossiersco_piece.IdentityDocumentField (normalize and validate, the same
 * French messages), loaded by wizard pages after rules.js.
 */
(function (root) {
  'use strict';
  var rules = root.DossierRules;
  if (!rules) throw new Error('piece_identite.js needs rules.js: load it before');

  /** The Python class's _text: a text or a whole number as text, anything else empty. */
  function text(v) {
    return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)) ? String(v)
      : '';
  }

  rules.registerType('piece_identite', {
    normalize: function (value, spec) {
      if (value === null) return null;
      if (typeof value !== 'object' || Array.isArray(value)) {
        throw new rules.FieldError('Pièce d\'identité incomplète.');
      }
      var kind = text(value.kind).trim().toLowerCase();
      var number = text(value.number).split(/\s+/).join('').toUpperCase();
      if (!kind && !number) return null;
      var kinds = (spec.options || {}).kinds || [];
      if (kind && kinds.indexOf(kind) === -1) {
        throw new rules.FieldError('Choisissez un des types de pièce proposés.');
      }
      if (number && !/^[A-Z0-9]+$/.test(number)) {
        throw new rules.FieldError('Le numéro ne comporte que des lettres et des chiffres.');
      }
      return { kind: kind, number: number };
    },
    validate: function (value) {
      var out = [];
      if (!value.kind) out.push('Indiquez le type de pièce.');
      if (!value.number) out.push('Indiquez le numéro de la pièce.');
      else if (value.number.length < 6 || value.number.length > 20) {
        out.push('Le numéro comporte de 6 à 20 caractères.');
      }
      return out;
    },
  });
}(typeof window !== 'undefined' ? window : globalThis));
