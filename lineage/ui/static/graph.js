// Lineage graph page: fetch the Graphviz SVG from the API, pan, zoom, expand (no libraries).
(function () {
  "use strict";
  var box = document.getElementById("graph");
  if (!box) return;
  var focus = box.dataset.focus;
  var params = new URLSearchParams(window.location.search);
  var state = {
    up: parseInt(params.get("up") || "2", 10),
    down: parseInt(params.get("down") || "2", 10),
    collapse: params.get("collapse") !== "false",
    expand: list(params.get("expand")),
    open: list(params.get("open"))
  };
  var svg = null, view = null, natural = null;

  function list(text) { return text ? text.split(",").filter(Boolean) : []; }

  function query() {
    var q = new URLSearchParams();
    q.set("up", state.up); q.set("down", state.down);
    if (!state.collapse) q.set("collapse", "false");
    if (state.expand.length) q.set("expand", state.expand.join(","));
    if (state.open.length) q.set("open", state.open.join(","));
    return q.toString();
  }

  function load(keepView) {
    document.getElementById("up-depth").textContent = state.up;
    document.getElementById("down-depth").textContent = state.down;
    document.getElementById("collapse").checked = state.collapse;
    var status = document.getElementById("graph-status");
    status.textContent = "loading…";
    history.replaceState(null, "", window.location.pathname + "?" + query());
    var started = performance.now();
    fetch("/api/graph/" + encodeURIComponent(focus) + "/svg?" + query(), {credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) return response.json().then(function (body) { throw new Error(body.error); });
        return response.text();
      })
      .then(function (text) {
        var old = view;
        box.innerHTML = text;
        svg = box.querySelector("svg");
        svg.removeAttribute("width"); svg.removeAttribute("height");
        var v = svg.getAttribute("viewBox").split(/[\s,]+/).map(Number);
        natural = {x: v[0], y: v[1], w: v[2], h: v[3]};
        if (keepView && old) { view = old; } else { initialView(); }
        apply();
        var nodes = svg.querySelectorAll("g.node:not(.more)").length;
        status.textContent = nodes + " nodes · " + Math.round(performance.now() - started) + " ms";
        box.dataset.ready = "1";
      })
      .catch(function (error) { status.textContent = "error: " + error.message; });
  }

  function initialView() {
    var rect = box.getBoundingClientRect();
    var scale = Math.min(rect.width / natural.w, rect.height / natural.h);
    view = {x: natural.x, y: natural.y, w: natural.w, h: natural.h};
    if (scale >= 0.45) return;
    // Too large to read when fitted: show the focus at a readable size.
    apply();
    var target = svg.querySelector("g.node.focus") || svg.querySelector("g.node");
    if (!target) return;
    var b = target.getBBox(), p = svg.createSVGPoint();
    p.x = b.x + b.width / 2; p.y = b.y + b.height / 2;
    var c = p.matrixTransform(svg.getScreenCTM().inverse().multiply(target.getScreenCTM()));
    var w = rect.width / 0.9, h = rect.height / 0.9;
    view = {x: c.x - w / 2, y: c.y - h / 2, w: w, h: h};
  }

  function apply() {
    svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" "));
  }

  function fit() {
    view = {x: natural.x, y: natural.y, w: natural.w, h: natural.h};
    apply();
  }

  // --- pan and zoom ------------------------------------------------------------------
  var drag = null, moved = false;
  box.addEventListener("mousedown", function (event) {
    if (!svg || event.button !== 0) return;
    drag = {x: event.clientX, y: event.clientY, view: Object.assign({}, view)};
    moved = false;
  });
  window.addEventListener("mousemove", function (event) {
    if (!drag) return;
    var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 4) { moved = true; box.classList.add("dragging"); }
    if (!moved) return;
    var rect = box.getBoundingClientRect();
    var k = Math.max(drag.view.w / rect.width, drag.view.h / rect.height);
    view.x = drag.view.x - dx * k; view.y = drag.view.y - dy * k;
    apply();
  });
  window.addEventListener("mouseup", function () { drag = null; box.classList.remove("dragging"); });
  box.addEventListener("wheel", function (event) {
    if (!svg) return;
    event.preventDefault();
    var rect = box.getBoundingClientRect();
    var factor = Math.exp(Math.max(-0.5, Math.min(0.5, event.deltaY * 0.0015)));
    var k = Math.max(view.w / rect.width, view.h / rect.height);
    var offsetX = (rect.width - view.w / k) / 2, offsetY = (rect.height - view.h / k) / 2;
    var px = view.x + (event.clientX - rect.left - offsetX) * k;
    var py = view.y + (event.clientY - rect.top - offsetY) * k;
    view = {x: px - (px - view.x) * factor, y: py - (py - view.y) * factor,
            w: view.w * factor, h: view.h * factor};
    apply();
  }, {passive: false});

  // --- clicks: open a node (its link), expand ⋯, open a ×N group ------------------------
  box.addEventListener("click", function (event) {
    if (moved) { event.preventDefault(); event.stopPropagation(); moved = false; return; }
    var more = event.target.closest("g.more");
    if (more) {
      event.preventDefault();
      var id = more.id.replace(/^node-/, "").replace(/-more$/, "");
      if (state.expand.indexOf(id) < 0) state.expand.push(id);
      load(true);
      return;
    }
    var group = event.target.closest("g.group");
    if (group) {
      event.preventDefault();
      var member = group.id.replace(/^group-/, "");
      if (state.open.indexOf(member) < 0) state.open.push(member);
      load(true);
    }
  }, true);

  document.getElementById("graph-toolbar").addEventListener("click", function (event) {
    var step = event.target.dataset && event.target.dataset.step;
    if (step) {
      var parts = step.split(":");
      state[parts[0]] = Math.max(0, state[parts[0]] + parseInt(parts[1], 10));
      load(false);
    }
  });
  document.getElementById("collapse").addEventListener("change", function (event) {
    state.collapse = event.target.checked; load(false);
  });
  document.getElementById("fit").addEventListener("click", fit);
  document.getElementById("reset").addEventListener("click", function () {
    state = {up: 2, down: 2, collapse: true, expand: [], open: []}; load(false);
  });
  load(false);
})();
