/* The control panel's dashboard: viewers now, likes and comments of the last
   full minute, orders, GMV and conversion so far; the viewers at each minute
   with the segments on air as bands, and the orders of the last 30 minutes as
   bars.

   The review (GET /api/shows/{id}/review) gives the minutes so far once: on
   load, after a reconnect, when the show ends, and when ticks were missed for
   over a minute. Each stats.tick then carries the rows of the last complete
   minute and the running one (`rows`), put in by their minute, so the charts
   stay current with no refetch. The numbers are the server's: nothing is
   counted here. SVG is built with createElementNS, all text via textContent.
   Plain script, no build step: exposes window.LiveDashboard. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var BARS = 30;            // minutes shown as bars
  var RELOAD_GAP_MS = 5000; // at most one review refetch this often when ticks left a gap

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(node);
    return node;
  }

  function label(parent, x, y, value, cls, anchor) {
    var t = el("text", {x: x, y: y, "class": cls || "tick", "text-anchor": anchor || "middle"}, parent);
    t.textContent = String(value);
    return t;
  }

  // An x-axis label, kept inside the chart's width `w` (the last one may sit at its edge).
  function xLabel(parent, x, box, value) {
    var t = label(parent, x, box.h - 5, value);
    var half = t.getComputedTextLength() / 2;
    if (x + half > box.w - 1) { t.setAttribute("x", box.w - 1); t.setAttribute("text-anchor", "end"); }
    return t;
  }

  // The smallest 1, 2 or 5 × 10^k at least v (and at least 1): a round top for an axis.
  function niceMax(v) {
    if (!(v > 1)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= v) return steps[i] * p;
    return 10 * p;
  }

  // Label every k-th minute, k the first of these whose labels sit `gap` px apart.
  function labelEvery(slot, gap) {
    var ks = [1, 2, 5, 10, 15, 20, 30, 60, 120];
    for (var i = 0; i < ks.length; i++) if (ks[i] * slot >= gap) return ks[i];
    return 240;
  }

  function size(svg) {
    var box = svg.getBoundingClientRect();
    var w = Math.max(120, Math.round(box.width)), h = Math.max(80, Math.round(box.height));
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    svg.replaceChildren();
    return {w: w, h: h};
  }

  // opts: {root, showId, lang, T, state: () => the panel's show state or null}
  function LiveDashboard(opts) {
    this.root = opts.root;
    this.showId = opts.showId;
    this.lang = opts.lang;
    this.T = opts.T;
    this.state = opts.state;
    this.minutes = [];        // the review's minute rows, index = minute
    this.stats = null;        // the latest stats.tick's numbers, or the same read from a review
    this.asOf = -Infinity;    // the server time those are for
    this.final = false;       // the show has ended: no more ticks
    this.loading = null;      // ticks received while a review is on its way
    this.lastLoad = -Infinity;
    this.generation = 0;
    this.curve = this.root.querySelector("#dash-curve");
    this.bars = this.root.querySelector("#dash-bars");
    this.width = 0;
    var self = this;
    var resized = function () {
      var w = self.root.getBoundingClientRect().width;
      if (w === self.width) return;
      self.width = w;
      Array.prototype.forEach.call(self.root.querySelectorAll("[data-stat]"), fit);
      self.draw();
    };
    if (window.ResizeObserver) new ResizeObserver(resized).observe(this.root);
    else window.addEventListener("resize", resized);
  }

  // A (re)connected socket's snapshot: read the review unless the show is a draft.
  LiveDashboard.prototype.snapshot = function (show) {
    this.final = show.status === "ended";
    if (show.status === "draft") {
      this.minutes = []; this.stats = null; this.asOf = -Infinity;
      this.render();
    } else {
      this.load();
    }
  };

  LiveDashboard.prototype.recovered = function () { this.load(); };

  LiveDashboard.prototype.event = function (ev) {
    if (ev.type === "show.ended") { this.final = true; this.load(); return; }
    if (ev.type === "show.started") { this.final = false; this.render(); return; }
    // segment titles and the bands
    if (ev.type === "segment.changed" || ev.type === "rundown.replaced") this.draw();
  };

  LiveDashboard.prototype.tick = function (msg) {
    if (this.loading) this.loading.push(msg);
    if (msg.at < this.asOf) return;
    this.stats = msg;
    this.asOf = msg.at;
    if (!this.put(msg.rows || []) && !this.loading && Date.now() - this.lastLoad >= RELOAD_GAP_MS) this.load();
    this.render();
  };

  // Put rows in by their minute; returns false if one lies past the next minute (a gap).
  LiveDashboard.prototype.put = function (rows) {
    var whole = true;
    for (var i = 0; i < rows.length; i++) {
      var m = rows[i].minute;
      if (m < this.minutes.length) this.minutes[m] = rows[i];
      else if (m === this.minutes.length) this.minutes.push(rows[i]);
      else whole = false;
    }
    return whole;
  };

  LiveDashboard.prototype.load = function () {
    var self = this, gen = ++this.generation;
    this.loading = [];
    this.lastLoad = Date.now();
    fetch("/api/shows/" + encodeURIComponent(this.showId) + "/review", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; })
      .then(function (review) {
        if (gen !== self.generation) return;  // a newer load is on its way
        var since = self.loading || [];
        self.loading = null;
        if (review) self.apply(review, since);
      });
  };

  // The review's minutes, then the rows of every tick newer than it.
  LiveDashboard.prototype.apply = function (review, since) {
    this.minutes = review.minutes.slice();
    if (review.show && review.show.status === "ended") this.final = true;
    if (review.as_of >= this.asOf) {
      this.stats = fromReview(review);
      this.asOf = review.as_of;
    }
    for (var i = 0; i < since.length; i++) if (since[i].at > review.as_of) this.put(since[i].rows || []);
    this.render();
  };

  // The numbers of a stats.tick, read from a review at its as_of (stats/review.py: tick).
  function fromReview(review) {
    var m = review.minutes, last = m.length - 1, ref = Math.max(0, last - 1);
    if (last < 0) return null;
    var x = review.metrics;
    return {at: review.as_of, minute: ref, viewers: m[last].concurrent, likes_per_min: m[ref].likes,
      comments_per_min: m[ref].comments, orders: x.orders, units: x.units, gmv: x.gmv,
      conversion_rate: x.conversion_rate};
  }

  LiveDashboard.prototype.currency = function () {
    var s = this.state();
    return (s && s.show && s.show.currency) || "CNY";
  };

  LiveDashboard.prototype.number = function (v) {
    return v == null ? "—" : Number(v).toLocaleString(this.lang);
  };

  LiveDashboard.prototype.render = function () {
    var s = this.stats, T = this.T, self = this;
    var values = {
      viewers: s ? this.number(s.viewers) : "—",
      likes_per_min: s ? this.number(s.likes_per_min) : "—",
      comments_per_min: s ? this.number(s.comments_per_min) : "—",
      orders: s ? this.number(s.orders) : "—",
      gmv: s ? Live.fmtMoney(s.gmv, this.currency(), this.lang) : "—",
      conversion_rate: s && s.conversion_rate != null ? (s.conversion_rate * 100).toFixed(1) + "%" : "—"
    };
    Object.keys(values).forEach(function (k) {
      var dd = self.root.querySelector('[data-stat="' + k + '"]');
      if (dd.textContent !== values[k]) { dd.textContent = values[k]; fit(dd); }
    });
    var show = this.state() && this.state().show;
    var asof = this.root.querySelector("#dash-asof");
    if (!s) asof.textContent = "";
    else if (this.final) asof.textContent = T.dash_ended;
    else if (show && show.started_at != null) asof.textContent = T.dash_updated.replace("{t}", Live.fmtDuration(s.at - show.started_at));
    this.root.querySelector("#dash-waiting").hidden = !!s;
    this.draw();
  };

  // A figure too wide for its cell (a big GMV on a phone) gets a smaller font, never cut.
  function fit(dd) {
    dd.style.fontSize = "";
    var size = parseFloat(getComputedStyle(dd).fontSize);
    while (dd.scrollWidth > dd.clientWidth && size > 12) {
      size -= 1;
      dd.style.fontSize = size + "px";
    }
  }

  LiveDashboard.prototype.segments = function () {
    var s = this.state();
    return (s && s.rundown && s.rundown.segments) || [];
  };

  LiveDashboard.prototype.draw = function () {
    this.drawCurve();
    this.drawBars();
  };

  // Viewers at each minute's end (the running minute: now), the segments on air as bands.
  LiveDashboard.prototype.drawCurve = function () {
    var svg = this.curve, rows = this.minutes, n = rows.length, T = this.T;
    svg.dataset.minutes = String(n);
    var box = size(svg);
    var left = 40, right = 8, top = 20, bottom = 20;
    var pw = box.w - left - right, ph = box.h - top - bottom;
    var slot = pw / Math.max(n, 1);
    var max = niceMax(rows.reduce(function (a, r) { return Math.max(a, r.concurrent); }, 0));
    var x = function (i) { return left + (i + 0.5) * slot; };
    var y = function (v) { return top + ph - ph * v / max; };

    // bands: each run of minutes with one segment on air
    var segs = this.segments(), bands = el("g", {"class": "bands"}, svg);
    for (var i = 0; i < n;) {
      var seg = rows[i].segment, j = i;
      while (j + 1 < n && rows[j + 1].segment === seg) j++;
      if (seg != null) {
        var bx = left + i * slot, bw = (j - i + 1) * slot;
        var g = el("g", {"class": "band band-" + (seg % 2), "data-segment": seg}, bands);
        var info = segs[seg];
        var name = (seg + 1) + ". " + (info ? info.title : "");
        el("title", {}, g).textContent = name;
        el("rect", {x: bx, y: 0, width: bw, height: top + ph}, g);
        el("line", {x1: bx, x2: bx, y1: 0, y2: top + ph}, g);
        var clipId = "dash-clip-" + seg + "-" + i;
        el("rect", {x: bx, y: 0, width: Math.max(0, bw - 2), height: top}, el("clipPath", {id: clipId}, g));
        label(g, bx + 3, 14, name, "band-title", "start").setAttribute("clip-path", "url(#" + clipId + ")");
      }
      i = j + 1;
    }

    // the y axis: 0, half and the top
    var axis = el("g", {"class": "axis"}, svg);
    [0, max / 2, max].forEach(function (v) {
      if (v !== Math.round(v)) return;
      el("line", {x1: left, x2: left + pw, y1: y(v), y2: y(v), "class": "grid"}, axis);
      label(axis, left - 5, y(v) + 4, v, "tick", "end");
    });
    if (!n) return;

    // the x axis: a minute every few, so the labels never touch
    var every = labelEvery(slot, 60);
    for (var m = 0; m < n; m += every) xLabel(axis, x(m), box, T.dash_min.replace("{n}", m));

    var pts = rows.map(function (r, k) { return x(k).toFixed(1) + "," + y(r.concurrent).toFixed(1); });
    el("polygon", {points: x(0).toFixed(1) + "," + y(0) + " " + pts.join(" ") + " " + x(n - 1).toFixed(1) + "," + y(0),
      "class": "area"}, svg);
    el("polyline", {points: pts.join(" "), "class": "line"}, svg);
    var dots = el("g", {"class": "dots"}, svg);
    rows.forEach(function (r, k) {
      if (slot < 8 && k !== n - 1) return;
      var c = el("circle", {cx: x(k), cy: y(r.concurrent), r: k === n - 1 ? 4 : 2.5, "class": k === n - 1 ? "now" : ""}, dots);
      el("title", {}, c).textContent = T.dash_min.replace("{n}", r.minute) + ": " + r.concurrent;
    });
  };

  // Orders in each of the last 30 minutes; the running minute's bar is lighter.
  LiveDashboard.prototype.drawBars = function () {
    var svg = this.bars, rows = this.minutes.slice(-BARS), n = rows.length, T = this.T, self = this;
    svg.dataset.minutes = String(n);
    var box = size(svg);
    var left = 40, right = 8, top = 16, bottom = 20;
    var pw = box.w - left - right, ph = box.h - top - bottom;
    var slot = pw / BARS;
    var max = niceMax(rows.reduce(function (a, r) { return Math.max(a, r.orders); }, 0));
    var y = function (v) { return top + ph - ph * v / max; };
    var axis = el("g", {"class": "axis"}, svg);
    [0, max].forEach(function (v) {
      el("line", {x1: left, x2: left + pw, y1: y(v), y2: y(v), "class": "grid"}, axis);
      label(axis, left - 5, y(v) + 4, v, "tick", "end");
    });
    var g = el("g", {"class": "bars"}, svg);
    rows.forEach(function (r, k) {
      var running = k === n - 1 && !self.final;
      var bx = left + k * slot + slot * 0.15, bw = slot * 0.7, by = y(r.orders);
      var bar = el("rect", {x: bx, y: by, width: bw, height: Math.max(0, top + ph - by),
        "class": "bar" + (running ? " running" : ""), "data-minute": r.minute, "data-value": r.orders}, g);
      el("title", {}, bar).textContent = T.dash_min.replace("{n}", r.minute) + ": " + r.orders;
      if (r.orders > 0 && slot >= 16) label(g, bx + bw / 2, by - 3, r.orders, "value");
    });
    if (!n) return;
    var every = labelEvery(slot, 60);
    for (var k = 0; k < n; k += every) xLabel(axis, left + (k + 0.5) * slot, box, T.dash_min.replace("{n}", rows[k].minute));
    var lastLabelled = Math.floor((n - 1) / every) * every;
    if (!this.final && (n - 1 - lastLabelled) * slot >= 48) xLabel(axis, left + (n - 0.5) * slot, box, T.dash_now);
  };

  window.LiveDashboard = LiveDashboard;
})();
