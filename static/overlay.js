/* OBS browser source: read-only, the overlay key from the URL, reconnects by itself. */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("strings").textContent);
  var stage = document.getElementById("stage");
  var params = new URLSearchParams(location.search);
  var layersParam = params.get("layers");
  var sock;
  var layers;
  function fit() {
    var k = Math.min(window.innerWidth / 1920, window.innerHeight / 1080);
    stage.style.transform = "scale(" + k + ")";
  }
  window.addEventListener("resize", fit);
  fit();
  sock = new Live.ShowSocket(stage.dataset.show, {
    hello: {overlay_key: params.get("key") || ""},
    onSnapshot: function (msg) { layers.snapshot(msg.state); },
    onEvent: function (ev) { layers.apply(ev); },
    onStatus: function (s) { document.body.dataset.conn = s; },
  });
  layers = new LiveLayers(stage, T, sock.clock, {layers: layersParam ? layersParam.split(",") : undefined});
  sock.connect();
  window.__overlay = {sock: sock, layers: layers};
})();
