// Observation countdowns: every element with data-due (milliseconds since the epoch) shows the
// minutes and seconds left, and its row turns overdue when the time is up. Reads the elements
// afresh each second, so rows the page swaps in tick too.
(function () {
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function tick() {
    var now = Date.now();
    var all = document.querySelectorAll('[data-due]');
    for (var i = 0; i < all.length; i++) {
      var el = all[i];
      var left = Math.round((Number(el.dataset.due) - now) / 1000);
      var row = el.closest('li');
      if (left <= 0) {
        el.textContent = el.dataset.over;
        if (row) row.classList.add('overdue');
      } else {
        el.textContent = Math.floor(left / 60) + ':' + pad(left % 60);
      }
    }
  }
  tick();
  setInterval(tick, 1000);
})();
