// Lists that refresh themselves (hx-trigger="every …", marked data-keep-input) never destroy
// what someone is typing: a refresh is skipped while the list holds the focus in a field, a
// field with something entered, or a form waiting for an answer (data-hold). It resumes by
// itself once the form is sent or put away.
(function () {
  function changed(f) {
    if (f.type === 'checkbox' || f.type === 'radio') return f.checked !== f.defaultChecked;
    return f.value !== f.defaultValue;
  }
  function busy(region) {
    var a = document.activeElement;
    if (a && region.contains(a) && a.matches('input, textarea, select')) return true;
    if (region.querySelector('[data-hold]')) return true;
    var fields = region.querySelectorAll('input:not([type=hidden]), textarea, select');
    for (var i = 0; i < fields.length; i++) {
      if (changed(fields[i])) return true;
    }
    return false;
  }
  document.addEventListener('htmx:beforeRequest', function (e) {
    var el = e.detail.elt;
    if (el && el.hasAttribute('data-keep-input') && busy(el)) e.preventDefault();
  });
})();
