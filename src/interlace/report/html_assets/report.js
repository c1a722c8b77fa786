// interlace HTML report: folding, the source panel and the copy button.  Program text is
// only ever inserted with textContent (never as markup).
(function () {
  "use strict";
  var body = document.body;
  body.classList.remove("no-js");
  body.classList.add("js");
  var data = { files: [], lines: {} };
  try {
    data = JSON.parse(document.getElementById("interlace-sources").textContent);
  } catch (err) { /* no source lines: the panel stays closed */ }

  // -- folded stretches ---------------------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll("button[data-fold]"), function (button) {
    button.addEventListener("click", function (ev) {
      ev.stopPropagation();  // a toggle on an event's card does not pin its source
      var folded = document.getElementById(button.getAttribute("data-fold"));
      if (!folded) { return; }
      var open = folded.hasAttribute("hidden");
      if (open) { folded.removeAttribute("hidden"); } else { folded.setAttribute("hidden", ""); }
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  });

  // -- the source panel ---------------------------------------------------------------------
  var panel = document.getElementById("source-panel");
  var where = document.getElementById("source-where");
  var code = document.getElementById("source-code");
  var pinned = null;
  var current = null;

  function show(element) {
    var ref = element.getAttribute("data-src");
    if (!ref) { return; }
    var parts = ref.split(":");
    var file = data.files[Number(parts[0])];
    var lines = data.lines[parts[0]] || {};
    var line = Number(parts[1]);
    if (file === undefined) { return; }
    while (code.firstChild) { code.removeChild(code.firstChild); }
    var context = Number(data.context) || 3;
    Object.keys(lines).map(Number).filter(function (n) {
      return Math.abs(n - line) <= context;
    }).sort(function (a, b) { return a - b; }).forEach(function (n) {
      var row = document.createElement("span");
      row.className = n === line ? "ln hit" : "ln";
      var no = document.createElement("span");
      no.className = "no";
      no.textContent = String(n);
      row.appendChild(no);
      row.appendChild(document.createTextNode(lines[String(n)]));
      code.appendChild(row);
    });
    where.textContent = file + ":" + line;
    panel.removeAttribute("hidden");
    if (current) { current.classList.remove("current"); }
    current = element;
    current.classList.add("current");
  }

  function eventOf(target) {
    return target && target.closest ? target.closest("[data-src]") : null;
  }

  document.addEventListener("mouseover", function (ev) {
    var element = eventOf(ev.target);
    if (element && !pinned) { show(element); }
  });
  document.addEventListener("focusin", function (ev) {
    var element = eventOf(ev.target);
    if (element && !pinned) { show(element); }
  });
  document.addEventListener("click", function (ev) {
    var element = eventOf(ev.target);
    if (!element) { return; }
    pinned = pinned === element ? null : element;
    show(element);
  });
  document.addEventListener("keydown", function (ev) {
    var element = eventOf(ev.target);
    if (element && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); pinned = element; show(element); }
    if (ev.key === "Escape") { pinned = null; panel.setAttribute("hidden", ""); }
  });
  document.getElementById("source-close").addEventListener("click", function (ev) {
    ev.stopPropagation();
    pinned = null;
    panel.setAttribute("hidden", "");
    if (current) { current.classList.remove("current"); current = null; }
  });

  // report.html#failure: scroll to the failure and open its source (the failing access,
  // else the exception's line).
  if (window.location.hash === "#failure") {
    var first = document.querySelector(".ev.failing[data-src]") || document.querySelector(".exc[data-src]");
    if (first) { show(first); first.scrollIntoView({ block: "center" }); }
  }

  // -- copy ---------------------------------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll("button.copy"), function (button) {
    button.addEventListener("click", function () {
      var text = document.getElementById(button.getAttribute("data-copy")).textContent;
      function done() {
        button.textContent = "Copied";
        button.classList.add("done");
        setTimeout(function () { button.textContent = "Copy"; button.classList.remove("done"); }, 1500);
      }
      function fallback() {
        var area = document.createElement("textarea");
        area.value = text;
        body.appendChild(area);
        area.select();
        try {
          if (document.execCommand("copy")) { done(); } else { area.select(); }
        } catch (err) { /* the command stays selectable on the page */ }
        body.removeChild(area);
      }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, fallback);
      } else {
        fallback();
      }
    });
  });
})();
