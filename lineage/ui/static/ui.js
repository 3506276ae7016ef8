// lineage UI: small helpers shared by the pages (no libraries).
(function () {
  "use strict";
  // Filter the rows of a table by text (packages on the run page).
  document.querySelectorAll("input.filter-list").forEach(function (input) {
    var table = document.getElementById(input.dataset.target);
    input.addEventListener("input", function () {
      var text = input.value.toLowerCase();
      table.querySelectorAll("tr").forEach(function (row) {
        row.style.display = row.textContent.toLowerCase().indexOf(text) >= 0 ? "" : "none";
      });
    });
  });
  // Comparison: show only the rows whose values differ.
  var only = document.getElementById("only-differences");
  if (only) {
    only.addEventListener("change", function () {
      document.getElementById("compare-table").classList.toggle("only-diff", only.checked);
    });
  }
})();
