/* OBS browser source: read-only, the overlay key from the URL, reconnects by
   itself (jittered backoff, catch-up from the last seq): never needs a refresh. */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("strings").textContent);
  var stage = document.getElementById("stage");
  var params = new URLSearchParams(location.search);
  // the server already kept only known layer names
  var wanted = (stage.dataset.layers || "").split(",").filter(Boolean);
  var W = Number(stage.dataset.width) || 1920, H = Number(stage.dataset.height) || 1080;

  // The stage (1920×1080, or 1080×1920 for a vertical stream) scaled to the
  // browser source and centred in it.
  function fit() {
    var w = window.innerWidth, h = window.innerHeight;
    var k = Math.min(w / W, h / H);
    stage.style.transform = "translate(" + (w - W * k) / 2 + "px," + (h - H * k) / 2 + "px) scale(" + k + ")";
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
                                                 lang: document.documentElement.lang, tests: true,
                                                 comments: stage.dataset.stage === "9x16" ? 3 : 5});
  sock.connect();
  window.__overlay = {sock: sock, layers: layers};
})();
