// The planning page: a form whose work takes seconds (running the planner, publishing) greys
// its button out once pressed, so it is not pressed twice, and says what is being done and for
// how long so far (`data-working`: the words; the page's `#working` line shows them).
(function () {
  var line = document.getElementById('working');
  document.querySelectorAll('form[data-busy]').forEach(function (form) {
    form.addEventListener('submit', function () {
      form.classList.add('busy');
      if (!line || !form.dataset.working) { return; }
      var started = Date.now();
      var say = function () {
        var s = Math.floor((Date.now() - started) / 1000);
        line.textContent = form.dataset.working + ' ' + line.dataset.elapsed.replace('%{s}', s);
      };
      say();
      line.hidden = false;
      setInterval(say, 1000);
    });
  });
})();
