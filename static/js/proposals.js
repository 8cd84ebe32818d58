// The proposal form: show the station and service choices only when the scope needs them.
// Without this script both show, and the server ignores the one the scope does not use.
(function () {
  "use strict";
  var box = document.querySelector("[data-scope]");
  if (!box) { return; }
  var radios = box.querySelectorAll("input[name='scope']");
  var parts = box.querySelectorAll("[data-scope-field]");
  var wanted = { platform: [], station: ["station"], service: ["service", "station"] };
  var update = function () {
    var scope = "platform";
    radios.forEach(function (radio) { if (radio.checked) { scope = radio.value; } });
    var show = wanted[scope] || [];
    parts.forEach(function (part) {
      // A field with an error stays in sight whatever the scope.
      part.hidden = show.indexOf(part.dataset.scopeField) === -1 && !part.querySelector(".field-error");
    });
  };
  radios.forEach(function (radio) { radio.addEventListener("change", update); });
  update();
})();
