/* OBS browser source: read-only, the overlay key from the URL, reconnects by
   itself (jittered backoff, catch-up from the last seq): never needs a refresh. */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("strings").textContent);
  var stage = document.getElementById("stage");
  var params = new URLSearchParams(location.search);
  // the server already kept only known layer names
  var wanted = (stage.dataset.layers || "").split(",").filter(Boolean);

  // The 1920×1080 stage scaled to the browser source and centred in it.
  function fit() {
    var w = window.innerWidth, h = window.innerHeight;
    var k = Math.min(w / 1920, h / 1080);
    stage.style.transform = "translate(" + (w - 1920 * k) / 2 + "px," + (h - 1080 * k) / 2 + "px) scale(" + k + ")";
  }
  window.addEventListener("resize", fit);
  fit();

  var layers;
  var sock = new Live.ShowSocket(stage.dataset.show, {
    hello: {overlay_key: params.get("key") || ""},
    onSnapshot: function (msg) { layers.snapshot(msg.state); },
    onEvent: function (ev) { layers.apply(ev); },
    onStatus: function (s) { document.body.dataset.conn = s; },
  });
  layers = new LiveLayers(stage, T, sock.clock, {layers: wanted.length ? wanted : undefined,
                                                 lang: document.documentElement.lang});
  sock.connect();
  window.__overlay = {sock: sock, layers: layers};
})();
