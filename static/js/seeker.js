/* What a seeker keeps and passes on; every page works without this file.
   - "My list": service ids kept in this browser's localStorage only (no cookie, no account, never sent
     unless the visitor opens the My list page, which asks the server for exactly those listings).
   - Save / Share / Print on each result card (buttons added here, so the results fragment stays small).
   - List / map toggle: the map code and its open data load only when the visitor asks for the map. */
(function () {
  "use strict";

  var KEY = "crd-my-list";
  var MAX_SAVED = 50;
  var SERVICE_PATH = /\/services\/([0-9a-f-]{36})(?:[?#]|$)/;

  function saved() {
    try {
      var ids = JSON.parse(window.localStorage.getItem(KEY) || "[]");
      return Array.isArray(ids) ? ids.filter(function (id) { return typeof id === "string"; }) : [];
    } catch (e) {
      return [];
    }
  }

  function store(ids) {
    try { window.localStorage.setItem(KEY, JSON.stringify(ids.slice(0, MAX_SAVED))); } catch (e) { /* private mode */ }
  }

  function serviceId(href) {
    var found = SERVICE_PATH.exec(href || "");
    return found ? found[1] : null;
  }

  function text(root, name) { return root.getAttribute("data-" + name) || ""; }

  function button(label, kind) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "secondary small";
    b.setAttribute("data-card", kind);
    b.textContent = label;
    return b;
  }

  function say(card, message) {
    var status = card.querySelector("[data-card-status]");
    if (status) { status.textContent = message; }
  }

  function share(card, strings, link) {
    var url = new URL(link.getAttribute("href"), window.location.href).href;
    if (navigator.share) {
      navigator.share({ title: link.textContent, url: url }).catch(function () { /* dismissed */ });
      return;
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(url).then(function () { say(card, text(strings, "copied")); },
        function () { say(card, url); });
    } else {
      say(card, url);
    }
  }

  function printCard(card) {
    card.classList.add("print-this");
    document.body.classList.add("print-one");
    window.print();
    window.setTimeout(function () {
      card.classList.remove("print-this");
      document.body.classList.remove("print-one");
    }, 0);
  }

  function setSaved(b, strings, on) {
    b.setAttribute("aria-pressed", on ? "true" : "false");
    b.textContent = on ? text(strings, "saved") : text(strings, "save");
  }

  function addCardActions(root, strings) {
    var ids = saved();
    Array.prototype.forEach.call(root.querySelectorAll("li.result"), function (card) {
      var link = card.querySelector("h3 a");
      var id = link && serviceId(link.getAttribute("href"));
      if (!id || card.querySelector(".card-actions")) { return; }
      var bar = document.createElement("div");
      bar.className = "card-actions no-print";
      var save = button(text(strings, "save"), "save");
      setSaved(save, strings, ids.indexOf(id) !== -1);
      save.addEventListener("click", function () {
        var now = saved();
        var at = now.indexOf(id);
        if (at === -1) { now.unshift(id); } else { now.splice(at, 1); }
        store(now);
        setSaved(save, strings, at === -1);
        say(card, at === -1 ? text(strings, "added") : text(strings, "removed"));
      });
      var shareButton = button(text(strings, "share"), "share");
      shareButton.addEventListener("click", function () { share(card, strings, link); });
      var print = button(text(strings, "print"), "print");
      print.addEventListener("click", function () { printCard(card); });
      var status = document.createElement("span");
      status.className = "hint";
      status.setAttribute("role", "status");
      status.setAttribute("data-card-status", "");
      [save, shareButton, print, status].forEach(function (el) { bar.appendChild(el); });
      card.appendChild(bar);
    });
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = src;
      s.onload = resolve;
      s.onerror = reject;
      document.head.appendChild(s);
    });
  }

  function loadStyle(href) {
    var l = document.createElement("link");
    l.rel = "stylesheet";
    l.href = href;
    document.head.appendChild(l);
  }

  function setupToggle(toggle) {
    var panel = document.getElementById("map-panel");
    var results = document.getElementById("results");
    var loading = null;
    toggle.hidden = false;
    function show(view) {
      Array.prototype.forEach.call(toggle.querySelectorAll("button[data-view]"), function (b) {
        b.setAttribute("aria-pressed", b.getAttribute("data-view") === view ? "true" : "false");
      });
      panel.hidden = view !== "map";
      results.classList.toggle("under-map", view === "map");
      if (view !== "map") { return; }
      if (!loading) {
        loadStyle(text(toggle, "css"));
        loading = loadScript(text(toggle, "leaflet"))
          .then(function () { return loadScript(text(toggle, "topojson")); })
          .then(function () { return loadScript(text(toggle, "map")); });
      }
      loading.then(function () { window.ResultsMap.open(panel, toggle); });
    }
    Array.prototype.forEach.call(toggle.querySelectorAll("button[data-view]"), function (b) {
      b.addEventListener("click", function () { show(b.getAttribute("data-view")); });
    });
    document.body.addEventListener("htmx:afterSettle", function () {
      if (!panel.hidden && window.ResultsMap) { window.ResultsMap.open(panel, toggle); }
    });
  }

  function setupMyList(page) {
    var shown = (page.getAttribute("data-ids") || "").split(",").filter(Boolean);
    var ids = saved();
    if (!shown.length && ids.length) {
      var url = new URL(window.location.href);
      ids.forEach(function (id) { url.searchParams.append("id", id); });
      window.location.replace(url.href);
      return;
    }
    Array.prototype.forEach.call(page.querySelectorAll("[data-remove]"), function (b) {
      b.hidden = false;
      b.addEventListener("click", function () {
        var id = b.getAttribute("data-remove");
        store(saved().filter(function (x) { return x !== id; }));
        var url = new URL(window.location.href);
        var rest = url.searchParams.getAll("id").filter(function (x) { return x !== id; });
        url.searchParams.delete("id");
        rest.forEach(function (x) { url.searchParams.append("id", x); });
        window.location.replace(url.href);
      });
    });
  }

  function init() {
    var strings = document.querySelector("[data-card-strings]");
    if (strings) {
      addCardActions(document, strings);
      document.body.addEventListener("htmx:afterSettle", function (evt) {
        addCardActions(evt.detail.elt || document, strings);
      });
    }
    var toggle = document.querySelector("[data-map-toggle]");
    if (toggle) { setupToggle(toggle); }
    var myList = document.querySelector("[data-my-list]");
    if (myList) { setupMyList(myList); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
