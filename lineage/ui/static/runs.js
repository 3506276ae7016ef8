// Runs page: enable "Compare selected" for two or more selected runs.
(function () {
  "use strict";
  var form = document.getElementById("compare-form");
  var button = document.getElementById("compare-button");
  if (!form || !button) return;
  function update() {
    var picked = form.querySelectorAll("input[name=runs]:checked").length;
    button.disabled = picked < 2;
    button.textContent = picked >= 2 ? "Compare " + picked + " runs" : "Compare selected";
  }
  form.addEventListener("change", update);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var uids = Array.prototype.map.call(form.querySelectorAll("input[name=runs]:checked"),
                                        function (box) { return box.value; });
    if (uids.length >= 2) window.location.href = "/compare?runs=" + uids.join(",");
  });
  update();
})();
