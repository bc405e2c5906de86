// Acts that take something away ask first: a form with data-confirm="what will happen" opens a
// dialog saying so, with a way back and a button (data-confirm-yes, styled danger unless
// data-confirm-kind says otherwise) that sends the form. Forms sent by htmx ask through the
// same dialog (hx-confirm).
(function () {
  function ask(text, yesLabel, kind, go) {
    var d = document.getElementById('confirm-dialog');
    if (!d || typeof d.showModal !== 'function') { if (window.confirm(text)) go(); return; }
    d.querySelector('#confirm-text').textContent = text;
    var yes = d.querySelector('#confirm-yes');
    yes.textContent = yesLabel || yes.dataset.label;
    yes.className = kind || 'danger';
    yes.onclick = function () { d.close(); go(); };
    d.querySelector('#confirm-no').onclick = function () { d.close(); };
    d.showModal();
  }
  document.addEventListener('submit', function (e) {
    var f = e.target;
    if (!f.matches || !f.matches('form[data-confirm]') || f.dataset.confirmed === '1') return;
    e.preventDefault();
    e.stopImmediatePropagation();
    var submitter = e.submitter;
    ask(f.dataset.confirm, f.dataset.confirmYes, f.dataset.confirmKind, function () {
      f.dataset.confirmed = '1';
      if (f.requestSubmit) { f.requestSubmit(submitter || undefined); } else { f.submit(); }
      f.dataset.confirmed = '';
    });
  }, true);
  document.addEventListener('htmx:confirm', function (e) {
    var q = e.detail.question;
    if (!q) return;
    e.preventDefault();
    var el = e.detail.elt;
    ask(q, el.dataset.confirmYes, el.dataset.confirmKind, function () { e.detail.issueRequest(true); });
  });
})();
