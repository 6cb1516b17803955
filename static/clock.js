/* Shared by every page: the show socket with reconnect + catch-up, and the
   server clock estimated from ping/pong (the sample with the smallest round
   trip wins). No build step: plain script, exposes window.Live. */
(function () {
  "use strict";

  var PING_EVERY = 15000;   // ms between pings once connected
  var SILENCE_LIMIT = 40000; // no message for this long: the socket is dead (half-open TCP)
  var MAX_BACKOFF = 10000;

  function ServerClock() {
    this.offset = 0;        // server time - local time, ms
    this.bestRtt = Infinity;
  }
  ServerClock.prototype.now = function () { return Date.now() + this.offset; };
  // One ping/pong: sent at local t0, answered with serverTime, received at local t1.
  // The server read its clock somewhere in [t0, t1]; the midpoint is off by at most
  // rtt/2, so the sample with the smallest round trip is the most accurate.
  ServerClock.prototype.sample = function (t0, serverTime, t1) {
    var rtt = t1 - t0;
    if (!(rtt >= 0) || typeof serverTime !== "number") return;
    if (rtt <= this.bestRtt) {
      this.bestRtt = rtt;
      this.offset = serverTime - (t0 + t1) / 2;
    }
  };
  // A first guess before any pong (a snapshot's server_time): its error is unknown,
  // so any real ping sample replaces it.
  ServerClock.prototype.rough = function (serverTime) {
    if (this.bestRtt === Infinity && typeof serverTime === "number") this.offset = serverTime - Date.now();
  };
  ServerClock.prototype.reset = function () { this.bestRtt = Infinity; };

  // opts: {hello: {...}, onSnapshot(msg), onEvent(msg), onMessage(msg), onStatus(s, closeCode)}
  function ShowSocket(showId, opts) {
    this.showId = showId;
    this.opts = opts;
    this.clock = new ServerClock();
    this.lastSeq = null;
    this.ws = null;
    this.attempt = 0;
    this.pending = {};
    this.nextId = 1;
    this.closed = false;
    this.pinger = null;
    this.retry = null;
    this.heard = 0;
    var self = this;
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState !== "visible") return;
      // a tab in the background may have slept through timers: re-measure, and
      // reconnect at once if the socket died meanwhile
      self.clock.reset();
      self.pingBurst();
      if (!self.ws && !self.closed) self.connectSoon(0);
    });
    window.addEventListener("online", function () { if (!self.ws && !self.closed) self.connectSoon(0); });
  }

  ShowSocket.prototype.url = function () {
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    return proto + "//" + location.host + "/ws/shows/" + encodeURIComponent(this.showId);
  };

  ShowSocket.prototype.connectSoon = function (delay) {
    var self = this;
    clearTimeout(this.retry);
    this.retry = setTimeout(function () { self.retry = null; if (!self.ws && !self.closed) self.connect(); }, delay);
  };

  ShowSocket.prototype.connect = function () {
    var self = this;
    this.status("connecting");
    var ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = function () {
      var hello = Object.assign({type: "hello"}, self.opts.hello || {});
      if (self.lastSeq !== null) hello.last_seq = self.lastSeq;
      self.heard = Date.now();
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = function (ev) {
      if (self.ws !== ws) return;
      self.heard = Date.now();
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      self.handle(msg);
    };
    ws.onclose = function (ev) {
      if (self.ws !== ws) return;  // replaced on purpose (reconnect): nothing to do
      self.dropped();
      if (self.closed) return;
      if (ev.code === 4401 || ev.code === 4404) { self.status("refused", ev.code); return; }
      self.status("disconnected");
      // Jittered exponential backoff: a restarted server is not stampeded by
      // every overlay and viewer at the same instant.
      var base = Math.min(MAX_BACKOFF, 500 * Math.pow(2, self.attempt));
      self.attempt += 1;
      self.connectSoon(base / 2 + Math.random() * base / 2);
    };
  };

  // Forget the current socket: stop pinging, fail what awaited an answer.
  ShowSocket.prototype.dropped = function () {
    this.ws = null;
    clearInterval(this.pinger);
    this.pinger = null;
    var pending = this.pending;
    this.pending = {};
    for (var id in pending) pending[id].reject({code: "DISCONNECTED", message: "connection lost"});
  };

  // Reconnect now with another hello (a viewer who just registered). Returns nothing.
  ShowSocket.prototype.reconnect = function (hello, fresh) {
    this.opts.hello = hello;
    if (fresh) this.lastSeq = null;
    var ws = this.ws;
    this.dropped();
    if (ws) ws.close(1000, "reconnect");
    this.attempt = 0;
    this.connect();
  };

  ShowSocket.prototype.live = function () {
    var self = this;
    this.attempt = 0;
    this.status("connected");
    this.clock.reset();
    this.pingBurst();
    clearInterval(this.pinger);
    this.pinger = setInterval(function () {
      // a half-open connection never fires onclose by itself: close it
      if (self.ws && Date.now() - self.heard > SILENCE_LIMIT) { self.ws.close(4000, "silent"); return; }
      self.ping();
    }, PING_EVERY);
  };

  ShowSocket.prototype.handle = function (msg) {
    if (msg.type === "pong") {
      this.clock.sample(msg.t, msg.server_time, Date.now());
      return;
    }
    if (msg.type === "snapshot") {
      this.lastSeq = msg.seq;
      this.live();
      this.clock.rough(msg.server_time);
      this.opts.onSnapshot(msg);
      return;
    }
    if (msg.type === "recovered") {
      if (typeof msg.seq === "number") this.lastSeq = Math.max(this.lastSeq || 0, msg.seq);
      this.live();
      if (this.opts.onRecovered) this.opts.onRecovered(msg);
      return;
    }
    if (msg.type === "command.result" || msg.type === "claim.result" || (msg.type === "error" && msg.request_id)) {
      var p = this.pending[msg.request_id];
      if (p) {
        delete this.pending[msg.request_id];
        if (msg.type === "error") p.reject(msg); else p.resolve(msg);
      } else if (this.opts.onMessage) {
        this.opts.onMessage(msg);
      }
      return;
    }
    if (typeof msg.seq === "number") {
      if (this.lastSeq !== null && msg.seq <= this.lastSeq) return;
      this.lastSeq = msg.seq;
      this.opts.onEvent(msg);
      return;
    }
    if (this.opts.onMessage) this.opts.onMessage(msg);
  };

  ShowSocket.prototype.ping = function () {
    if (this.ws && this.ws.readyState === 1) {
      this.ws.send(JSON.stringify({type: "ping", t: Date.now()}));
    }
  };
  ShowSocket.prototype.pingBurst = function () {
    var self = this;
    for (var i = 0; i < 5; i++) setTimeout(function () { self.ping(); }, i * 200);
  };

  // Fire and forget (likes, shares): no answer is awaited. Returns whether it was sent.
  ShowSocket.prototype.post = function (msg) {
    if (this.ws && this.ws.readyState === 1) { this.ws.send(JSON.stringify(msg)); return true; }
    return false;
  };

  // A message that gets an answer (command.result, claim.result or an error with
  // its request_id): returns a promise of the answer, rejected with the error.
  ShowSocket.prototype.send = function (msg) {
    var self = this;
    return new Promise(function (resolve, reject) {
      if (!self.ws || self.ws.readyState !== 1) {
        reject({code: "DISCONNECTED", message: "not connected"});
        return;
      }
      var id = msg.request_id || ("r" + (self.nextId++));
      msg.request_id = id;
      self.pending[id] = {resolve: resolve, reject: reject};
      self.ws.send(JSON.stringify(msg));
    });
  };

  ShowSocket.prototype.status = function (s, code) { if (this.opts.onStatus) this.opts.onStatus(s, code); };

  // "m:ss" or "h:mm:ss"; a negative duration (an over-run) as "+m:ss".
  function fmtDuration(ms) {
    var neg = ms < 0;
    var s = neg ? Math.ceil(Math.abs(ms) / 1000) : Math.floor(Math.abs(ms) / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var out = (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + String(sec).padStart(2, "0");
    return (neg ? "+" : "") + out;
  }

  // A countdown: whole seconds rounded up, so "0:00" shows only when time is up.
  function fmtCountdown(ms) {
    return fmtDuration(Math.ceil(Math.max(0, ms) / 1000) * 1000);
  }

  // The one money format of every page: the server's decimal string (never through
  // a float), thousands grouped, after the currency's short symbol in the page's
  // language: "¥149.00", "¥1,299.00", "$5.00".
  var symbols = {};
  function fmtMoney(amount, currency, lang) {
    currency = currency || "CNY";
    var key = lang + ":" + currency;
    if (!(key in symbols)) {
      symbols[key] = currency + " ";
      try {
        var parts = new Intl.NumberFormat(lang, {style: "currency", currency: currency, currencyDisplay: "narrowSymbol"})
          .formatToParts(0);
        for (var i = 0; i < parts.length; i++) if (parts[i].type === "currency") symbols[key] = parts[i].value;
      } catch (e) { /* unknown currency code: keep "XYZ " */ }
    }
    var text = String(amount), neg = text.charAt(0) === "-";
    if (neg) text = text.slice(1);
    var dot = text.indexOf("."), whole = dot < 0 ? text : text.slice(0, dot), rest = dot < 0 ? "" : text.slice(dot);
    if (/^\d+$/.test(whole)) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (neg ? "-" : "") + symbols[key] + whole + rest;
  }

  window.Live = {ShowSocket: ShowSocket, ServerClock: ServerClock, fmtDuration: fmtDuration,
                 fmtCountdown: fmtCountdown, fmtMoney: fmtMoney};
})();
