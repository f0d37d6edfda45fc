// Progressive enhancement only: the app works without this file.
document.addEventListener("submit", function (ev) {
  var form = ev.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) { ev.preventDefault(); return; }
  var busy = form.getAttribute("data-busy");
  var button = form.querySelector("button");
  if (busy && button) { button.disabled = true; button.textContent = busy; }
});
