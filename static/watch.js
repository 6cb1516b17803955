/* The watch page: a viewer's own view of the show. Registers a nickname once
   (the viewer token stays in this browser's localStorage for this show),
   then likes, comments, shares and claims over the socket. */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("strings").textContent);
  var root = document.getElementById("watch");
  var showId = root.dataset.show;
  var stage = document.getElementById("stage");
  var $ = function (id) { return document.getElementById(id); };
  var KEY = "live.viewer." + showId;
  var me = null;
  try { me = JSON.parse(localStorage.getItem(KEY) || "null"); } catch (e) { me = null; }

  function toast(text) {
    var t = $("toast");
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { t.hidden = true; }, 3500);
  }

  function fit() {
    var box = stage.parentElement.getBoundingClientRect();
    var k = Math.min(box.width / 1920, box.height / 1080);
    stage.style.transform = "scale(" + k + ")";
  }
  window.addEventListener("resize", fit);

  var claims = {};
  function showClaim(requestId, text, ok) {
    var li = claims[requestId];
    if (!li) { li = document.createElement("li"); claims[requestId] = li; $("claims").prepend(li); }
    li.textContent = text;  // never HTML
    li.className = ok ? "ok" : "lost";
  }

  function claim(sale) {
    var requestId = "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    showClaim(requestId, T.claiming, true);
    sock.send({type: "claim", sale_id: sale.id, qty: 1, request_id: requestId}).then(function (res) {
      if (res.ok) showClaim(requestId, T.claim_ok.replace("{order}", res.order_id), true);
      else showClaim(requestId, T["claim_" + res.code] || res.code, false);
    }, function (err) {
      showClaim(requestId, (T["claim_" + err.code] || err.message || err.code), false);
    });
  }

  var layers = new LiveLayers(stage, T, null, {
    onSaleCard: function (card, sale) {
      if (!me) return;
      var b = document.createElement("button");
      b.className = "claim";
      b.type = "button";
      b.textContent = T.claim;
      var now = sock.clock.now();
      b.disabled = sale.status === "closed" || now >= sale.deadline || sale.remaining <= 0;
      b.addEventListener("click", function () { claim(sale); });
      card.appendChild(b);
    },
  });

  var sock = new Live.ShowSocket(showId, {
    hello: me ? {token: me.token} : {},
    onSnapshot: function (msg) { layers.snapshot(msg.state); fit(); viewers(msg.state.viewers.now); },
    onEvent: function (ev) { layers.apply(ev); if (ev.type === "viewers.tick") viewers(ev.now); },
    onMessage: function (msg) { if (msg.type === "error") toast(msg.message); },
    onStatus: function (s) { document.body.dataset.conn = s; },
  });
  layers.clock = sock.clock;

  function viewers(n) { $("viewers").textContent = T.watching.replace("{n}", n); }

  // Likes: taps are counted here and sent at most once per 250 ms.
  var pendingLikes = 0, myLikes = 0;
  $("like").addEventListener("click", function () { pendingLikes += 1; myLikes += 1; $("like-count").textContent = myLikes; });
  setInterval(function () {
    if (pendingLikes > 0 && sock.post({type: "like", count: pendingLikes})) pendingLikes = 0;
  }, 250);

  $("comment-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var input = $("comment");
    var text = input.value.trim();
    if (!text) return;
    sock.send({type: "comment", text: text}).then(function () { input.value = ""; },
      function (err) { toast(err.message || err.code); });
  });
  $("share").addEventListener("click", function () {
    if (navigator.clipboard) navigator.clipboard.writeText(location.origin + location.pathname).catch(function () {});
    sock.post({type: "share"});
    toast(T.shared);
  });

  function start() {
    $("join").hidden = !!me;
    $("controls").hidden = !me;
    sock.opts.hello = me ? {token: me.token} : {};
    sock.connect();
  }

  $("join").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var nickname = $("nickname").value.trim();
    fetch("/api/shows/" + encodeURIComponent(showId) + "/viewers", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({nickname: nickname}),
    }).then(function (r) { return r.json().then(function (b) { return {ok: r.ok, body: b}; }); }).then(function (res) {
      if (!res.ok) { toast(res.body.error ? res.body.error.message : "error"); return; }
      me = {viewer_id: res.body.viewer_id, token: res.body.token};
      localStorage.setItem(KEY, JSON.stringify(me));
      if (sock.ws) { sock.closed = true; sock.ws.close(); sock.closed = false; sock.ws = null; }
      sock.lastSeq = null;
      start();
    });
  });

  start();
  window.__watch = {sock: sock, layers: layers};
})();
