// A "go back" link (data-back) returns to the previous page when there is one; otherwise it
// follows its own address.
(function () {
  document.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('a[data-back]');
    if (a && window.history.length > 1) { e.preventDefault(); window.history.back(); }
  });
})();
