// Rating forms: show only the reasons that fit the chosen level (the server checks again),
// and the counter card's print button. Without this script every reason shows, grouped.
(function () {
  "use strict";
  var data = document.getElementById("reasons-by-level");
  if (data) {
    var byLevel = {};
    JSON.parse(data.textContent).forEach(function (row) { byLevel[row.level] = row.codes; });
    var form = document.querySelector(".rate-form, .feedback-form");
    var levelInputs = form ? form.querySelectorAll("input[name='level'], select[name='level']") : [];
    var reasons = form ? form.querySelectorAll("[data-reason]") : [];
    var fieldset = form ? form.querySelector("fieldset.reasons") : null;
    var current = function () {
      var value = "";
      levelInputs.forEach(function (input) {
        if (input.tagName === "SELECT") { value = input.value; }
        else if (input.checked) { value = input.value; }
      });
      return value;
    };
    var update = function () {
      var level = current();
      var allowed = byLevel[level] || [];
      if (fieldset) { fieldset.hidden = !level; }
      reasons.forEach(function (label) {
        var fits = allowed.indexOf(label.dataset.reason) !== -1;
        label.hidden = !fits;
        var box = label.querySelector("input");
        if (!fits && box) { box.checked = false; }
      });
    };
    levelInputs.forEach(function (input) { input.addEventListener("change", update); });
    update();
  }
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
