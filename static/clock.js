/* Shared by every page: the show socket with reconnect + catch-up, and the
   server clock estimated from ping/pong (the sample with the smallest round
   trip wins). No build step: plain script, exposes window.Live. */
(function () {
  "use strict";

  function ServerClock() {
    this.offset = 0;        // server time - local time, ms
    this.bestRtt = Infinity;
  }
  ServerClock.prototype.now = function () { return Date.now() + this.offset; };
  ServerClock.prototype.sample = function (t0, serverTime, t1) {
    var rtt = t1 - t0;
    if (rtt < 0) return;
    if (rtt <= this.bestRtt) {
      this.bestRtt = rtt;
      this.offset = serverTime - (t0 + t1) / 2;
    }
  };
  ServerClock.prototype.reset = function () { this.bestRtt = Infinity; };

  // opts: {hello: {...}, onSnapshot(msg), onEvent(msg), onMessage(msg), onStatus(s)}
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
    var self = this;
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") { self.clock.reset(); self.pingBurst(); }
    });
  }

  ShowSocket.prototype.url = function () {
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    return proto + "//" + location.host + "/ws/shows/" + encodeURIComponent(this.showId);
  };

  ShowSocket.prototype.connect = function () {
    var self = this;
    this.status("connecting");
    var ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = function () {
      var hello = Object.assign({type: "hello"}, self.opts.hello || {});
      if (self.lastSeq !== null) hello.last_seq = self.lastSeq;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = function (ev) {
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      self.handle(msg);
    };
    ws.onclose = function (ev) {
      if (self.ws !== ws) return;
      self.ws = null;
      clearInterval(self.pinger);
      for (var id in self.pending) {
        self.pending[id].reject({code: "DISCONNECTED", message: "connection lost"});
      }
      self.pending = {};
      if (self.closed) return;
      if (ev.code === 4401 || ev.code === 4404) { self.status("refused"); return; }
      self.status("disconnected");
      // Jittered exponential backoff: a restarted server is not stampeded.
      var base = Math.min(10000, 500 * Math.pow(2, self.attempt));
      self.attempt += 1;
      setTimeout(function () { self.connect(); }, base / 2 + Math.random() * base / 2);
    };
  };

  ShowSocket.prototype.handle = function (msg) {
    var self = this;
    if (msg.type === "pong") {
      this.clock.sample(msg.t, msg.server_time, Date.now());
      return;
    }
    if (msg.type === "snapshot") {
      this.attempt = 0;
      this.lastSeq = msg.seq;
      this.clock.reset();
      this.status("connected");
      this.clock.sample(Date.now(), msg.server_time, Date.now());
      this.opts.onSnapshot(msg);
      this.pingBurst();
      this.pinger = setInterval(function () { self.ping(); }, 15000);
      return;
    }
    if (msg.type === "recovered") {
      this.attempt = 0;
      this.status("connected");
      this.clock.reset();
      this.pingBurst();
      this.pinger = setInterval(function () { self.ping(); }, 15000);
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

  // Fire and forget (likes, shares): no answer is awaited.
  ShowSocket.prototype.post = function (msg) {
    if (this.ws && this.ws.readyState === 1) { this.ws.send(JSON.stringify(msg)); return true; }
    return false;
  };

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

  ShowSocket.prototype.status = function (s) { if (this.opts.onStatus) this.opts.onStatus(s); };

  function fmtDuration(ms) {
    var neg = ms < 0;
    var s = Math.floor(Math.abs(ms) / 1000);
    if (neg) s = Math.ceil(Math.abs(ms) / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var out = (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + String(sec).padStart(2, "0");
    return (neg ? "+" : "") + out;
  }

  window.Live = {ShowSocket: ShowSocket, ServerClock: ServerClock, fmtDuration: fmtDuration};
})();
