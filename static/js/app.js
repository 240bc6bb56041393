/* Small enhancements; every page works without this file.
   - "Use my location": asks the browser only when clicked, rounds to 2 decimals (about 1 km), fills the
     lat/lng fields of the GET form and submits it. Nothing is stored.
   - Online meeting times in the visitor's own time zone (Intl, no cookie); search forms send that zone.
   - Clean search URLs (empty fields left out), aria-busy while results load, print button. */
(function () {
  "use strict";

  function field(form, name) {
    var input = form.querySelector('input[name="' + name + '"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    return input;
  }

  function submit(form) {
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  function setupLocate(form) {
    var button = form.querySelector("[data-locate]");
    var status = form.querySelector("[data-locate-status]");
    var near = form.querySelector('input[name="near"]');
    if (!button || !("geolocation" in navigator)) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = button.getAttribute("data-waiting");
      navigator.geolocation.getCurrentPosition(function (pos) {
        field(form, "lat").value = pos.coords.latitude.toFixed(2);
        field(form, "lng").value = pos.coords.longitude.toFixed(2);
        if (near) { near.value = ""; }
        status.textContent = button.getAttribute("data-found");
        submit(form);
      }, function () {
        status.textContent = button.getAttribute("data-failed");
      }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 });
    });
    if (near) {
      // A typed place replaces the device location.
      near.addEventListener("input", function () {
        ["lat", "lng"].forEach(function (name) {
          var input = form.querySelector('input[name="' + name + '"]');
          if (input) { input.parentNode.removeChild(input); }
        });
        if (status) { status.textContent = ""; }
      });
    }
  }

  function fillViewerZone(form) {
    // The visitor's IANA zone (not a location): online meetings are listed and timed in the visitor's own time.
    var input = form.querySelector("input[data-viewer-tz]");
    if (!input || input.value || !window.Intl) { return; }
    input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  }

  function dropEmpty(form) {
    // Plain (non-htmx) submits: leave empty fields out of the URL.
    form.addEventListener("submit", function () {
      if (form.hasAttribute("hx-get")) { return; }
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name && el.value === "" && !el.disabled) {
          el.disabled = true;
          window.setTimeout(function () { el.disabled = false; }, 0);
        }
      });
    });
  }

  function showViewerTimes(root) {
    var nodes = root.querySelectorAll("time[data-viewer-time]");
    if (!nodes.length || !window.Intl) { return; }
    var lang = document.documentElement.lang || "en";
    var format = new Intl.DateTimeFormat(lang, {
      weekday: "short", hour: "numeric", minute: "2-digit", timeZoneName: "short"
    });
    Array.prototype.forEach.call(nodes, function (node) {
      var when = new Date(node.getAttribute("datetime"));
      if (!isNaN(when.getTime())) { node.textContent = format.format(when); }
    });
    var select = root.querySelector("select[data-viewer-zone]");
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (select && zone && !select.querySelector("option[selected]")) {
      var option = Array.prototype.find.call(select.options, function (o) { return o.value === zone; });
      if (!option) {
        option = document.createElement("option");
        option.value = zone;
        option.textContent = zone.replace(/_/g, " ");
        select.insertBefore(option, select.firstChild);
      }
      option.selected = true;
    }
  }

  function setupPrint() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }

  function setupHtmx() {
    document.body.addEventListener("htmx:configRequest", function (evt) {
      var params = evt.detail.parameters;
      var empty = [];
      params.forEach(function (value, key) { if (value === "") { empty.push(key); } });
      empty.forEach(function (key) { params.delete(key); });
    });
    document.body.addEventListener("htmx:beforeRequest", function (evt) {
      var target = document.getElementById("results");
      if (target && evt.detail.target === target) { target.setAttribute("aria-busy", "true"); }
    });
    document.body.addEventListener("htmx:afterSettle", function (evt) {
      var target = document.getElementById("results");
      if (target) { target.removeAttribute("aria-busy"); }
      showViewerTimes(evt.detail.elt || document);
    });
    document.body.addEventListener("htmx:sendError", function () {
      var target = document.getElementById("results");
      if (target) {
        target.removeAttribute("aria-busy");
        var offline = target.getAttribute("data-offline");
        if (offline) {
          var note = document.createElement("p");
          note.className = "notice";
          note.textContent = offline;
          target.insertBefore(note, target.firstChild);
        }
      }
    });
  }

  // The browser's time zone, so that "tonight" in the search box means the seeker's own evening.
  function addZone(form) {
    var zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone || form.querySelector("input[name=tz]")) { return; }
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "tz";
    input.value = zone;
    form.appendChild(input);
  }

  // A removed "From your words" chip takes its words out of the search box too, or the next keystroke
  // would search with them again.
  function setupChips() {
    document.addEventListener("click", function (evt) {
      var chip = evt.target.closest ? evt.target.closest("a[data-set-q]") : null;
      var box = document.getElementById("q");
      if (chip && box) { box.value = chip.getAttribute("data-set-q"); }
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("form[role=search]"), function (form) {
      setupLocate(form);
      fillViewerZone(form);
      dropEmpty(form);
      addZone(form);
    });
    setupChips();
    showViewerTimes(document);
    setupPrint();
    setupHtmx();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
