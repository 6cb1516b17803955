/* The control panel's overlay set-up: every overlay URL of the show (combined and
   per layer, on the 16:9 and the 9:16 stage, from GET …/overlay-urls) with a copy
   button and, for who runs the show, a "send a test" button (overlay.test); a
   live preview of the combined overlay above. Plain script: exposes
   window.LiveOverlaySetup. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  function text(el, value) { el.textContent = value == null ? "" : String(value); }

  // The preview loads from this page's origin (the public URL may be a proxy's).
  function localUrl(url) { var u = new URL(url, location.href); return u.pathname + u.search; }

  // opts: {showId, T, canTest, command(cmd) → promise of the result (undefined on an
  // error, already shown), copy(input, button, statusEl), button(label, onClick, cls)}
  function LiveOverlaySetup(opts) {
    this.opts = opts;
    this.stage = "16x9";
    this.urls = null;
    var self = this;
    Array.prototype.forEach.call(document.querySelectorAll(".ov-stages button"), function (b) {
      b.addEventListener("click", function () { self.stage = b.dataset.stage; self.render(); });
    });
    fetch("/api/shows/" + encodeURIComponent(opts.showId) + "/overlay-urls", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body) { self.urls = body.overlays; self.render(); } })
      .catch(function () { /* the section stays empty; the panel works without it */ });
  }

  LiveOverlaySetup.prototype.layerName = function (layer) { return this.opts.T["ov_layer_" + layer] || layer; };

  LiveOverlaySetup.prototype.render = function () {
    var self = this, T = this.opts.T, opts = this.opts, stage = this.stage;
    Array.prototype.forEach.call(document.querySelectorAll(".ov-stages button"), function (b) {
      b.setAttribute("aria-pressed", b.dataset.stage === stage ? "true" : "false");
    });
    $("ov-preview").dataset.stage = stage;
    if (!this.urls) return;
    var list = $("ov-list");
    list.replaceChildren();
    this.urls.filter(function (o) { return o.stage === stage; }).forEach(function (o) {
      var li = document.createElement("li");
      li.dataset.layer = o.layers;
      var label = document.createElement("label");
      label.className = "grow";
      var name = document.createElement("span");
      text(name, self.layerName(o.layers) + " · " + o.width + "×" + o.height);
      var input = document.createElement("input");
      input.className = "link";
      input.readOnly = true;
      input.value = o.url;
      input.addEventListener("focus", function () { input.select(); });
      label.appendChild(name);
      label.appendChild(input);
      li.appendChild(label);
      var b = opts.button(T.copy, function () { opts.copy(input, b, $("ov-status")); }, "copy");
      b.setAttribute("aria-label", T.copy + " · " + name.textContent);
      li.appendChild(b);
      if (opts.canTest && o.layers !== "all") {
        li.appendChild(opts.button(T.ov_test, function () {
          opts.command({type: "overlay.test", layer: o.layers}).then(function (res) {
            if (res) text($("ov-status"), T.ov_test_sent.replace("{layer}", self.layerName(o.layers)));
          });
        }, "test"));
      }
      list.appendChild(li);
      if (o.layers === "all") {
        var src = localUrl(o.url);
        if ($("ov-frame").getAttribute("src") !== src) $("ov-frame").setAttribute("src", src);
      }
    });
  };

  window.LiveOverlaySetup = LiveOverlaySetup;
})();
