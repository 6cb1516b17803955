/* The watch page: a viewer's own view of the show. Registers a nickname once
   (the viewer token stays in this browser's localStorage for this show),
   then likes, comments, shares and claims over the socket. */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("strings").textContent);
  var root = document.getElementById("watch");
  var showId = root.dataset.show;
  var $ = function (id) { return document.getElementById(id); };
  var KEY = "live.viewer." + showId;
  var LIKE_EVERY_MS = 250;   // at most one like message this often
  var LIKES_PER_SEND = 5;    // 20 a second: what the server accepts from one viewer
  var LIKES_BACKLOG = 40;    // taps beyond this are not queued (an auto-clicker gains nothing)
  var me = null;
  try { me = JSON.parse(localStorage.getItem(KEY) || "null"); } catch (e) { me = null; }

  function toast(text, kind) {
    var t = $("toast");
    t.textContent = text;  // never HTML
    t.className = "toast" + (kind ? " " + kind : "");
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { t.hidden = true; }, 3500);
  }

  // A server error in the page's language, from its code: never the server's own
  // (English, technical) message.
  function errorText(err) {
    if (!err) return T.err_generic;
    if (err.code === "RATE_LIMITED") return T.too_fast;
    if (err.code === "MUTED") return T.muted;
    if (err.code === "DISCONNECTED") return T.offline;
    if (err.code === "INVALID" && (err.field === "text" || err.field === "nickname")) return T.bad_text;
    return T["claim_" + err.code] || T["err_" + err.code] || T.err_generic;
  }

  // -- my orders, and what the Grab button says ------------------------------------
  var claims = {};
  var bought = {};  // sale id → units this viewer won
  var notes = {};   // sale id → this viewer's last claim result {text, kind, code, done}
  // A claim that cannot win again: the sale sold out or ended, or the limit is reached.
  var FINAL = {SOLD_OUT: true, LIMIT_REACHED: true, ENDED: true};

  function note(saleId, text, kind, code) {
    notes[saleId] = {text: text, kind: kind, code: code || null, done: kind === "pending" || !!FINAL[code]};
    layers.render();
  }

  // Shown under the sale's Grab button (layers.js asks on every render).
  function claimNote(sale) {
    var n = notes[sale.id], units = bought[sale.id] || 0;
    if (!n) return null;
    return {text: n.text, kind: n.kind, code: n.code, done: n.done || units >= sale.per_viewer_limit};
  }
  function saleTitle(sku) {
    var p = layers.state ? layers.product(sku) : null;
    return p ? p.title : sku;
  }
  function showClaim(requestId, info, text, kind, extra) {
    var li = claims[requestId];
    if (!li) { li = document.createElement("li"); claims[requestId] = li; $("claims").prepend(li); }
    li.className = kind;
    li.dataset.state = kind;
    if (extra && extra.code) li.dataset.code = extra.code;
    if (extra && extra.order) li.dataset.order = extra.order;
    li.replaceChildren();
    var what = document.createElement("span");
    what.className = "what";
    what.textContent = saleTitle(info.sku) + (info.price ? " · " + layers.money(info.price) : "");
    var res = document.createElement("span");
    res.className = "result";
    res.textContent = text;  // never HTML
    li.appendChild(what);
    li.appendChild(res);
  }

  var waiting = [];
  function whenConnected(fn) { waiting.push(fn); }

  function claim(sale) {
    if (!me) { askJoin(); return; }
    var requestId = "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    attempt(requestId, {sku: sale.sku, price: sale.price}, sale.id, 0);
  }

  // The same request_id on a retry: a claim that won before the socket dropped
  // answers with the same order, never a second one. The result shows twice: next
  // to the button that was tapped, and in "My orders".
  function attempt(requestId, info, saleId, tries) {
    showClaim(requestId, info, T.claiming, "pending");
    note(saleId, T.claiming, "pending");
    sock.send({type: "claim", sale_id: saleId, qty: 1, request_id: requestId}).then(function (res) {
      if (res.ok) {
        bought[saleId] = (bought[saleId] || 0) + (res.qty || 1);
        showClaim(requestId, info, T.claim_ok.replace("{order}", res.order_id), "ok", {order: res.order_id});
        note(saleId, T.claim_won, "ok");
      } else {
        var lost = T["claim_" + res.code] || errorText(res);
        showClaim(requestId, info, lost, "lost", {code: res.code});
        note(saleId, lost, "lost", res.code);
      }
    }, function (err) {
      if (err.code === "DISCONNECTED" && tries < 3) {
        whenConnected(function () { attempt(requestId, info, saleId, tries + 1); });
        return;
      }
      var failed = T["claim_" + err.code] || T.claim_failed.replace("{message}", errorText(err));
      showClaim(requestId, info, failed, "lost", {code: err.code});
      note(saleId, failed, "lost", err.code);
    });
  }

  // -- prizes: a winner is told on their own page -------------------------------------
  var meInfo = null;  // {pseudonym, ...} from the snapshot's "me"
  var toldWon = {};
  function prizes(announce) {
    var s = layers.state, list = $("prizes");
    if (!s || !meInfo) return;
    list.replaceChildren();
    s.draws.forEach(function (d) {
      var won = (d.drawn || []).some(function (w) { return w.pseudonym === meInfo.pseudonym; });
      if (!won) return;
      var li = document.createElement("li");
      li.className = "ok";
      li.dataset.draw = d.id;
      var what = document.createElement("span");
      what.className = "what";
      what.textContent = T.you_won.replace("{prize}", d.prize);  // never HTML
      var a = document.createElement("a");
      a.className = "verify";
      a.textContent = T.verify;
      a.href = "/shows/" + encodeURIComponent(showId) + "/draws/" + encodeURIComponent(d.id) + "?lang=" +
               encodeURIComponent(document.documentElement.lang);
      li.appendChild(what);
      li.appendChild(a);
      list.appendChild(li);
      if (announce && !toldWon[d.id]) toast(what.textContent, "good");
      toldWon[d.id] = true;
    });
    $("prizes-box").hidden = !list.children.length;
  }

  function askJoin() {
    toast(T.join_hint);
    $("nickname").focus();
  }

  var layers = new LiveLayers($("layers"), T, new Live.ServerClock(), {
    order: ["likes", "draw", "sale", "product", "comments"], comments: 4, links: true,
    lang: document.documentElement.lang, claim: claim, claimNote: claimNote,
    me: function () { return meInfo; },
  });

  function statusNote() {
    var s = layers.state, n = $("status-note");
    var text = !s ? "" : s.show.status === "ended" ? T.ended : s.show.status === "draft" ? T.not_started : "";
    n.textContent = text;
    n.hidden = !text;
  }

  function viewers(n) { $("viewers").textContent = T.watching.replace("{n}", n); }

  var sock = new Live.ShowSocket(showId, {
    hello: me ? {token: me.token} : {},
    onSnapshot: function (msg) {
      meInfo = msg.me && msg.me.role === "viewer" ? msg.me : null;
      bought = {};
      var mine = (msg.me && msg.me.claims) || [];
      mine.forEach(function (c) {
        bought[c.sale_id] = (bought[c.sale_id] || 0) + (c.qty || 1);
        if (!notes[c.sale_id]) notes[c.sale_id] = {text: T.claim_won, kind: "ok", code: null, done: false};
      });
      layers.snapshot(msg.state);
      mine.forEach(function (c) {
        showClaim(c.request_id, c, T.claim_ok.replace("{order}", c.order_id), "ok", {order: c.order_id});
      });
      viewers(msg.state.viewers.now);
      statusNote();
      prizes(false);
    },
    onEvent: function (ev) {
      layers.apply(ev);
      if (ev.type === "viewers.tick") viewers(ev.now);
      if (ev.type === "show.started" || ev.type === "show.ended") statusNote();
      if (ev.type === "draw.closed" || ev.type === "draw.rerolled") prizes(true);
    },
    onMessage: function (msg) {
      // likes over the rate are dropped by the server; nothing for the viewer to do
      if (msg.type === "error" && msg.code !== "RATE_LIMITED") toast(errorText(msg));
    },
    onStatus: function (s, code) {
      document.body.dataset.conn = s;
      $("conn-banner").hidden = s !== "disconnected";
      if (s === "connected") {
        var run = waiting;
        waiting = [];
        run.forEach(function (fn) { fn(); });
      }
      if (s === "refused" && me) {
        // the token is not valid here (a reset server): register again
        localStorage.removeItem(KEY);
        me = null;
        showControls();
        sock.reconnect({}, true);
      }
    },
  });
  layers.clock = sock.clock;

  // -- likes: taps counted here, sent at most once per 250 ms ---------------------
  // The first tap goes at once; later ones wait until 250 ms after the last send
  // (measured, not a setInterval, whose ticks can come closer than their period).
  var pendingLikes = 0, myLikes = 0, lastLikeSent = -Infinity, likeTimer = null;
  function flushLikes() {
    likeTimer = null;
    if (pendingLikes <= 0) return;
    var wait = lastLikeSent + LIKE_EVERY_MS - performance.now();
    if (wait > 0) { likeTimer = setTimeout(flushLikes, wait); return; }
    var n = Math.min(pendingLikes, LIKES_PER_SEND);
    if (!sock.post({type: "like", count: n})) { likeTimer = setTimeout(flushLikes, 1000); return; }
    pendingLikes -= n;
    lastLikeSent = performance.now();
    if (pendingLikes > 0) likeTimer = setTimeout(flushLikes, LIKE_EVERY_MS);
  }
  $("like").addEventListener("click", function () {
    if (pendingLikes >= LIKES_BACKLOG) return;
    pendingLikes += 1;
    myLikes += 1;
    $("like-count").textContent = myLikes;
    var heart = document.createElement("span");
    heart.className = "heart";
    heart.appendChild(LiveLayers.icon("heart"));
    heart.style.left = (20 + Math.random() * 60) + "%";
    $("like").appendChild(heart);
    setTimeout(function () { heart.remove(); }, 900);
    if (!likeTimer) flushLikes();
  });

  $("comment-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var input = $("comment");
    var text = input.value.trim();
    if (!text) return;
    var button = ev.target.querySelector("button");
    button.disabled = true;
    sock.send({type: "comment", text: text}).then(function () { input.value = ""; },
      function (err) { toast(errorText(err)); }).then(function () { button.disabled = false; });
  });

  $("share").addEventListener("click", function () {
    var url = location.origin + location.pathname;
    sock.post({type: "share"});
    if (navigator.share) { navigator.share({title: document.title, url: url}).catch(function () {}); return; }
    if (navigator.clipboard) navigator.clipboard.writeText(url).catch(function () {});
    toast(T.shared);
  });

  function showControls() {
    $("join").hidden = !!me;
    $("controls").hidden = !me;
  }

  $("join").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var nickname = $("nickname").value.trim();
    if (!nickname) return;
    var button = ev.target.querySelector("button");
    button.disabled = true;
    fetch("/api/shows/" + encodeURIComponent(showId) + "/viewers", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({nickname: nickname}),
    }).then(function (r) {
      return r.json().then(function (b) { return {ok: r.ok, body: b}; });
    }).then(function (res) {
      if (!res.ok) { toast(errorText(res.body && res.body.error)); return; }
      me = {viewer_id: res.body.viewer_id, token: res.body.token, nickname: res.body.nickname};
      localStorage.setItem(KEY, JSON.stringify(me));
      showControls();
      // a fresh snapshot as this viewer (with "me")
      sock.reconnect({token: me.token}, true);
    }, function () { toast(T.offline); }).then(function () { button.disabled = false; });
  });

  showControls();
  sock.connect();
  window.__watch = {sock: sock, layers: layers};
})();
