/* The viewer-facing layers (product card, flash sale, lucky draw, like goal,
   comment ticker), shared by the OBS overlay and the watch page. Keeps the
   public state from the snapshot current by applying events; renders every
   countdown from the server clock. Comments are only ever set as textContent. */
(function () {
  "use strict";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }

  function Layers(root, T, clock, opts) {
    this.root = root;
    this.T = T;
    this.clock = clock;
    this.opts = opts || {};
    this.state = null;
    this.layers = this.opts.layers || ["product", "sale", "draw", "likes", "comments"];
    this.revealing = {};
    var self = this;
    setInterval(function () { self.tick(); }, 100);
  }

  Layers.prototype.snapshot = function (state) {
    this.state = state;
    this.state.comments = state.comments || [];
    this.render();
  };

  Layers.prototype.find = function (list, id) {
    for (var i = 0; i < list.length; i++) if (list[i].id === id) return list[i];
    return null;
  };

  Layers.prototype.apply = function (ev) {
    var s = this.state;
    if (!s) return;
    switch (ev.type) {
      case "show.started": s.show.status = "live"; s.show.started_at = ev.at; break;
      case "show.ended": s.show.status = "ended"; s.show.ended_at = ev.at; break;
      case "segment.changed": s.rundown.current = ev.to; break;
      case "product.pinned": s.pinned_sku = ev.sku; break;
      case "product.unpinned": s.pinned_sku = null; break;
      case "products.replaced": s.products = ev.products; break;
      case "flash_sale.opened": s.flash_sales.push(ev.sale); break;
      case "flash_sale.stock":
        var sale = this.find(s.flash_sales, ev.sale_id);
        if (sale) sale.remaining = ev.remaining;
        break;
      case "flash_sale.closed":
        var c = this.find(s.flash_sales, ev.sale_id);
        if (c) { c.status = "closed"; c.remaining = ev.remaining; c.closed_reason = ev.reason; }
        break;
      case "draw.opened": ev.draw.entries = 0; ev.draw.drawn = []; s.draws.push(ev.draw); break;
      case "draw.entries":
        var d = this.find(s.draws, ev.draw_id);
        if (d) d.entries = ev.entries;
        break;
      case "draw.closed":
        var dc = this.find(s.draws, ev.draw_id);
        if (dc) {
          dc.status = "closed"; dc.seed = ev.seed; dc.entries = ev.entries; dc.entrants_hash = ev.entrants_hash;
          dc.drawn = ev.winners;
          this.revealing[dc.id] = this.clock.now();
        }
        break;
      case "draw.rerolled":
        var dr = this.find(s.draws, ev.draw_id);
        if (dr) { dr.drawn = dr.drawn.concat(ev.winners); this.revealing[dr.id] = this.clock.now(); }
        break;
      case "likes.tick": s.likes.total = ev.total; break;
      case "likes.goal": s.likes.goal = ev.target; s.likes.reached = false; break;
      case "likes.goal_reached": s.likes.reached = true; break;
      case "viewers.tick": s.viewers.now = ev.now; break;
      case "comment.new":
        s.comments.push({comment_id: ev.comment_id, nickname: ev.nickname, text: ev.text, at: ev.at});
        if (s.comments.length > 50) s.comments.shift();
        break;
      case "comment.deleted":
        s.comments = s.comments.filter(function (c) { return c.comment_id !== ev.comment_id; });
        if (s.pinned_comment && s.pinned_comment.comment_id === ev.comment_id) s.pinned_comment = null;
        break;
      case "comment.pinned": s.pinned_comment = {comment_id: ev.comment_id, nickname: ev.nickname, text: ev.text}; break;
      default: return;
    }
    this.render();
  };

  Layers.prototype.product = function (sku) {
    var ps = this.state.products || [];
    for (var i = 0; i < ps.length; i++) if (ps[i].sku === sku) return ps[i];
    return null;
  };

  Layers.prototype.activeSale = function () {
    var sales = this.state.flash_sales, now = this.clock.now(), best = null;
    for (var i = sales.length - 1; i >= 0; i--) {
      var s = sales[i];
      if (s.status === "closed" && s.closed_reason !== "sold_out") continue;
      if (s.status !== "closed" && now >= s.deadline) continue;
      // a sold-out sale stays on screen until its deadline: "抢光了"
      if (s.status === "closed" && now >= s.deadline) continue;
      best = s; break;
    }
    return best;
  };

  Layers.prototype.activeDraw = function () {
    var ds = this.state.draws, now = this.clock.now();
    for (var i = ds.length - 1; i >= 0; i--) {
      var d = ds[i];
      if (d.status === "open") return d;
      var shown = this.revealing[d.id];
      if (shown && now - shown < 60000) return d;
    }
    return null;
  };

  Layers.prototype.has = function (name) { return this.layers.indexOf(name) >= 0; };

  Layers.prototype.render = function () {
    if (!this.state) return;
    var T = this.T, s = this.state, root = this.root, self = this;
    root.replaceChildren();
    if (this.has("likes") && s.likes && s.likes.goal) {
      var box = el("div", "layer likes");
      box.dataset.layer = "likes";
      var pct = Math.min(100, Math.round(100 * s.likes.total / s.likes.goal));
      box.appendChild(el("div", "likes-label", "❤ " + s.likes.total + " / " + s.likes.goal + (s.likes.reached ? " ✓" : "")));
      var bar = el("div", "bar"), fill = el("div", "fill");
      fill.style.width = pct + "%";
      bar.appendChild(fill); box.appendChild(bar);
      root.appendChild(box);
    }
    var sale = this.has("sale") ? this.activeSale() : null;
    if (sale) {
      var p = this.product(sale.sku);
      var card = el("div", "layer sale");
      card.dataset.layer = "sale";
      card.dataset.sale = sale.id;
      card.appendChild(el("div", "tag", T.flash_sale));
      card.appendChild(el("div", "title", p ? p.title : sale.sku));
      var prices = el("div", "prices");
      prices.appendChild(el("span", "price", "¥" + sale.price));
      if (p) prices.appendChild(el("s", "was", "¥" + p.list_price));
      card.appendChild(prices);
      card.appendChild(el("div", "countdown", ""));
      var stock = el("div", "stock");
      var sbar = el("div", "bar"), sfill = el("div", "fill");
      sfill.style.width = Math.round(100 * sale.remaining / sale.stock) + "%";
      sbar.appendChild(sfill);
      stock.appendChild(sbar);
      stock.appendChild(el("div", "stock-label", sale.remaining > 0 ? T.left.replace("{n}", sale.remaining) : T.sold_out));
      card.appendChild(stock);
      if (this.opts.onSaleCard) this.opts.onSaleCard(card, sale);
      root.appendChild(card);
    }
    var draw = this.has("draw") ? this.activeDraw() : null;
    if (draw) {
      var dcard = el("div", "layer draw" + (draw.status === "closed" ? " drawn" : ""));
      dcard.dataset.layer = "draw";
      dcard.appendChild(el("div", "tag", draw.kind === "lucky_bag" ? T.lucky_bag : T.lucky_draw));
      dcard.appendChild(el("div", "title", draw.prize));
      if (draw.status === "open") {
        dcard.appendChild(el("div", "entries", T.entries.replace("{n}", draw.entries || 0)));
        if (draw.deadline) dcard.appendChild(el("div", "countdown draw-countdown", ""));
        dcard.appendChild(el("div", "hint", this.drawHint(draw)));
      } else {
        var list = el("ul", "winners");
        (draw.drawn || []).forEach(function (w) { list.appendChild(el("li", null, w.nickname)); });
        dcard.appendChild(el("div", "hint", T.winners));
        dcard.appendChild(list);
      }
      dcard.appendChild(el("div", "commitment", T.commitment + " " + String(draw.commitment).slice(0, 16) + "…"));
      root.appendChild(dcard);
    }
    if (this.has("product") && s.pinned_sku) {
      var pp = this.product(s.pinned_sku);
      if (pp) {
        var pc = el("div", "layer product");
        pc.dataset.layer = "product";
        if (pp.image) { var img = el("img"); img.src = pp.image; img.alt = ""; pc.appendChild(img); }
        var info = el("div", "info");
        info.appendChild(el("div", "title", pp.title));
        var pr = el("div", "prices");
        pr.appendChild(el("span", "price", "¥" + pp.live_price));
        if (pp.list_price !== pp.live_price) pr.appendChild(el("s", "was", "¥" + pp.list_price));
        info.appendChild(pr);
        pc.appendChild(info);
        root.appendChild(pc);
      }
    }
    if (this.has("comments")) {
      var ticker = el("div", "layer comments");
      ticker.dataset.layer = "comments";
      if (s.pinned_comment) {
        var pin = el("div", "pinned");
        pin.appendChild(el("b", null, "📌 " + s.pinned_comment.nickname + ": "));
        pin.appendChild(el("span", null, s.pinned_comment.text));
        ticker.appendChild(pin);
      }
      s.comments.slice(-5).forEach(function (c) {
        var line = el("div", "comment");
        line.appendChild(el("b", null, c.nickname + ": "));
        line.appendChild(el("span", "text", c.text));  // text, never HTML
        ticker.appendChild(line);
      });
      root.appendChild(ticker);
    }
    this.tick();
  };

  Layers.prototype.drawHint = function (d) {
    var T = this.T, e = d.eligibility || {}, parts = [];
    if (e.keyword) parts.push(T.say.replace("{k}", e.keyword));
    if (e.liked) parts.push(T.like_to_enter);
    if (e.watched_seconds) parts.push(T.watch_min.replace("{n}", Math.ceil(e.watched_seconds / 60)));
    if (e.bought_items) parts.push(T.buy_n.replace("{n}", e.bought_items));
    if (!parts.length) parts.push(T.stay_to_enter);
    return parts.join(" · ");
  };

  Layers.prototype.tick = function () {
    if (!this.state) return;
    var now = this.clock.now(), T = this.T, root = this.root;
    var sale = root.querySelector(".sale .countdown");
    if (sale) {
      var s = this.find(this.state.flash_sales, root.querySelector(".sale").dataset.sale);
      if (s) {
        var text;
        if (s.status === "closed") text = T.sold_out;
        else if (now < s.opens_at) text = T.opens_in + " " + Live.fmtDuration(s.opens_at - now);
        else text = T.ends_in + " " + Live.fmtDuration(Math.max(0, s.deadline - now));
        sale.textContent = text;
        sale.dataset.ms = String(now < s.opens_at ? s.opens_at - now : Math.max(0, s.deadline - now));
      }
    }
    var dc = root.querySelector(".draw-countdown");
    if (dc) {
      var d = this.activeDraw();
      if (d && d.deadline) dc.textContent = T.draw_in + " " + Live.fmtDuration(Math.max(0, d.deadline - now));
    }
  };

  window.LiveLayers = Layers;
})();
