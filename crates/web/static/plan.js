// The planning page: a form whose work takes seconds (running the planner, publishing) greys
// its button out once pressed, so it is not pressed twice.
(function () {
  document.querySelectorAll('form[data-busy]').forEach(function (form) {
    form.addEventListener('submit', function () { form.classList.add('busy'); });
  });
})();
