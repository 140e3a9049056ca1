/*
 * Document uploads, before anything is sent (the server checks everything again):
 *   - a file of a kind the document does not accept, or over its size, is refused in the page
 *     with the same words as the server, next to the document, and nothing is sent;
 *   - when the document accepts JPEG, a phone photo (JPEG or PNG) over the size, or over
 *     MAX_SIDE pixels, is redrawn on a canvas to at most MAX_SIDE pixels and sent as a JPEG.
 * Forms carry data-upload-max (bytes) and data-upload-kinds ("pdf jpeg png"); the error
 * paragraph of the document is created when the page has none.
 */
(function () {
  'use strict';

  var MAX_SIDE = 2400;
  var QUALITY = 0.85;
  var MIME_KINDS = {
    'application/pdf': 'pdf', 'image/jpeg': 'jpeg', 'image/png': 'png',
    'image/heic': 'heic', 'image/heif': 'heic'
  };
  var EXT_KINDS = { pdf: 'pdf', jpg: 'jpeg', jpeg: 'jpeg', png: 'png', heic: 'heic', heif: 'heic' };

  function kindOf(file) {
    if (MIME_KINDS[file.type]) return MIME_KINDS[file.type];
    var ext = (file.name.split('.').pop() || '').toLowerCase();
    return EXT_KINDS[ext] || '';
  }

  /** engine.storage.inspection.megabytes: three significant digits, decimal comma. */
  function megabytes(size) {
    return String(Number((size / (1024 * 1024)).toPrecision(3))).replace('.', ',');
  }

  function errorBox(form) {
    var doc = form.closest('[data-document]');
    var id = doc.id + '-error';
    var box = document.getElementById(id);
    if (!box) {
      box = document.createElement('p');
      box.className = 'error-message';
      box.id = id;
      box.setAttribute('role', 'alert');
      form.parentNode.insertBefore(box, form);
    }
    return box;
  }

  function showError(form, message) {
    var box = errorBox(form);
    box.textContent = '';
    var hidden = document.createElement('span');
    hidden.className = 'visually-hidden';
    hidden.textContent = 'Erreur : ';
    box.appendChild(hidden);
    box.appendChild(document.createTextNode(message));
    form.closest('[data-document]').classList.add('document--error');
    Array.prototype.forEach.call(form.querySelectorAll('input[type="file"]'), function (input) {
      var ids = (input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
      if (ids.indexOf(box.id) < 0) ids.push(box.id);
      input.setAttribute('aria-describedby', ids.join(' '));
      input.setAttribute('aria-invalid', 'true');
    });
  }

  /** The decoded picture: createImageBitmap, else an <img> of a data: URL (the page's
   * Content-Security-Policy allows data: images, not blob: ones). */
  function decode(file) {
    if (typeof createImageBitmap === 'function') {
      return createImageBitmap(file).then(function (bitmap) {
        return { source: bitmap, width: bitmap.width, height: bitmap.height };
      });
    }
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () {
        var image = new Image();
        image.onload = function () {
          resolve({ source: image, width: image.naturalWidth, height: image.naturalHeight });
        };
        image.onerror = reject;
        image.src = reader.result;
      };
      reader.onerror = reject;
      reader.readAsDataURL(file);
    });
  }

  /** ``file`` redrawn to at most MAX_SIDE pixels as a JPEG; ``file`` itself when the browser
   * cannot read it (the size check then says what is wrong). */
  function shrink(file) {
    return decode(file).then(function (picture) {
      var scale = Math.min(1, MAX_SIDE / Math.max(picture.width, picture.height));
      var canvas = document.createElement('canvas');
      canvas.width = Math.round(picture.width * scale);
      canvas.height = Math.round(picture.height * scale);
      var context = canvas.getContext('2d');
      context.fillStyle = '#fff'; // a transparent PNG gets a white page, as on paper
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(picture.source, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob) { resolve(file); return; }
          var name = file.name.replace(/\.[^.]*$/, '') + '.jpg';
          resolve(new File([blob], name, { type: 'image/jpeg', lastModified: Date.now() }));
        }, 'image/jpeg', QUALITY);
      });
    }).catch(function () { return file; });
  }

  function needsShrinking(file, kinds, max) {
    var kind = kindOf(file);
    if (kinds.indexOf('jpeg') < 0 || (kind !== 'jpeg' && kind !== 'png')) return false;
    return file.size > max || (kind === 'jpeg' && file.size > 1024 * 1024);
  }

  function check(form, files, kinds, max) {
    for (var i = 0; i < files.length; i += 1) {
      if (kinds.indexOf(kindOf(files[i])) < 0) return 'Ce type de fichier n\'est pas accepté.';
      if (files[i].size > max) {
        return 'Le fichier dépasse la taille maximale de ' + megabytes(max) + ' Mo.';
      }
    }
    return '';
  }

  function onSubmit(event) {
    var form = event.target;
    if (!form.matches('form[data-upload-max]') || form.dataset.uploadChecked) return;
    event.preventDefault();
    var max = Number(form.dataset.uploadMax);
    var kinds = form.dataset.uploadKinds.split(' ');
    var inputs = Array.prototype.slice.call(form.querySelectorAll('input[type="file"]'));
    Promise.all(inputs.map(function (input) {
      var files = Array.prototype.slice.call(input.files);
      return Promise.all(files.map(function (f) {
        return needsShrinking(f, kinds, max) ? shrink(f) : f;
      })).then(function (ready) { return { input: input, files: ready }; });
    })).then(function (chosen) {
      var all = [];
      chosen.forEach(function (c) { all = all.concat(c.files); });
      var problem = check(form, all, kinds, max);
      if (problem) { showError(form, problem); return; }
      chosen.forEach(function (c) {
        if (!c.files.length || typeof DataTransfer === 'undefined') return;
        var transfer = new DataTransfer();
        c.files.forEach(function (f) { transfer.items.add(f); });
        c.input.files = transfer.files;
      });
      form.dataset.uploadChecked = '1';
      form.querySelector('[type="submit"]').disabled = true;
      form.submit();
    });
  }

  document.addEventListener('submit', onSubmit);
}());
