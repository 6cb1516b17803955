/* The viewer-facing layers (product card, flash sale, lucky draw, like goal,
   comment ticker), shared by the OBS overlay and the watch page.

   Keeps the public state from the snapshot current by applying events and
   renders every countdown from the server clock. Each layer lives in its own
   slot and is rebuilt only when what it shows changes (counters and
   countdowns are updated in place), so a button is never replaced under a
   finger and an animation plays once. Viewer text is only ever set as
   textContent: a comment can never become markup. */
(function () {
  "use strict";

  var ALL = ["likes", "draw", "sale", "product", "comments"];
  var DRAW_SHOWN_MS = 60000;  // a drawn draw stays on screen this long after the reveal
  var SOLD_OUT_SHOWN_MS = 60000;
  var TEST_SHOWN_MS = 6000;  // a staff "send a test" card (overlay.test) stays this long  // a sold-out sale says so this long (or to its deadline, or until staff close it)

  // Icons are inline SVG, never emoji: a machine without an emoji font (OBS on
  // a bare PC) would draw an empty box. Paths on a 24×24 grid.
  var ICONS = {
    heart: "M12 21.35l-1.45-1.32C5.4 15.36 2 12.28 2 8.5 2 5.42 4.42 3 7.5 3c1.74 0 3.41.81 4.5 2.09C13.09 3.81 " +
           "14.76 3 16.5 3 19.58 3 22 5.42 22 8.5c0 3.78-3.4 6.86-8.55 11.54L12 21.35z",
    pin: "M16 9V4h1a1 1 0 0 0 0-2H7a1 1 0 0 0 0 2h1v5c0 1.66-1.34 3-3 3v2h5.97v7l1 1 1-1v-7H19v-2c-1.66 0-3-1.34-3-3z",
    gift: "M20 6h-2.18c.11-.31.18-.65.18-1a3 3 0 0 0-5.5-1.65l-.5.67-.5-.68A3 3 0 0 0 6 5c0 .35.07.69.18 1H4a2 2 0 0 " +
          "0-1.99 2L2 19a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V8a2 2 0 0 0-2-2zm-5-2a1 1 0 1 1 0 2 1 1 0 0 1 0-2zM9 4a1 1 0 1 1 " +
          "0 2 1 1 0 0 1 0-2zm11 15H4v-2h16v2zm0-5H4V8h5.08L7 10.83 8.62 12 11 8.76l1-1.36 1 1.36L15.38 12 17 10.83 14.92 8H20v6z",
    check: "M9 16.17L4.83 12l-1.42 1.41L9 19 21 7l-1.41-1.41z",
  };
  function icon(name) {
    var NS = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("class", "icon icon-" + name);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.dataset.icon = name;
    var path = document.createElementNS(NS, "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }

  function setText(node, text) { if (node && node.textContent !== text) node.textContent = text; }

  // opts: {layers: [...], order: [...], comments: n, lang, links: bool (watch page:
  // product and verify links), and on the watch page: claim(sale) → shows a claim
  // button on the sale card; claimNote(sale) → {text, kind, done} or null: this
  // viewer's last result, shown under the button (done: the button stays off);
  // me() → {pseudonym} or null: tells a winner they won}
  function Layers(root, T, clock, opts) {
    this.root = root;
    this.T = T;
    this.clock = clock;
    this.opts = opts || {};
    this.state = null;
    this.layers = this.opts.layers || ALL;
    this.revealing = {};  // draw id → server time of the reveal seen live
    this.testing = {};  // layer → local time its test card leaves (opts.tests: the OBS overlay only)
    this.keys = {};
    this.slots = {};
    var order = this.opts.order || ALL;
    for (var i = 0; i < order.length; i++) {
      if (this.layers.indexOf(order[i]) < 0) continue;
      var slot = el("div", "slot slot-" + order[i]);
      this.slots[order[i]] = slot;
      root.appendChild(slot);
    }
    var self = this;
    setInterval(function () { self.render(); }, 100);
  }

  Layers.prototype.snapshot = function (state) {
    this.state = state;
    state.comments = state.comments || [];
    state.flash_sales = state.flash_sales || [];
    state.draws = state.draws || [];
    state.likes = state.likes || {total: 0, goal: null};
    state.viewers = state.viewers || {now: 0};
    this.keys = {};  // a fresh snapshot rebuilds every layer
    this.render();
  };

  Layers.prototype.find = function (list, id) {
    for (var i = 0; i < list.length; i++) if (list[i].id === id) return list[i];
    return null;
  };

  // Fold one public event into the state and re-render; unknown events are ignored.
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
      case "flash_sale.opened":
        if (!this.find(s.flash_sales, ev.sale.id)) s.flash_sales.push(Object.assign({}, ev.sale));
        break;
      case "flash_sale.stock":
        var sale = this.find(s.flash_sales, ev.sale_id);
        if (sale) sale.remaining = ev.remaining;
        break;
      case "flash_sale.restocked":
        var r = this.find(s.flash_sales, ev.sale_id);
        if (r) {
          r.stock = ev.stock; r.remaining = ev.remaining;
          if (ev.reopened) { r.status = "open"; r.closed_reason = null; r.closed_at = null; }
        }
        break;
      case "flash_sale.extended":
        var x = this.find(s.flash_sales, ev.sale_id);
        if (x) x.deadline = ev.deadline;
        break;
      case "flash_sale.closed":
        var c = this.find(s.flash_sales, ev.sale_id);
        if (c) { c.status = "closed"; c.remaining = ev.remaining; c.closed_reason = ev.reason; c.closed_at = c.closed_at || ev.at; }
        break;
      case "draw.opened":
        if (!this.find(s.draws, ev.draw.id)) s.draws.push(Object.assign({entries: 0, drawn: []}, ev.draw));
        break;
      case "draw.entries":
        var d = this.find(s.draws, ev.draw_id);
        if (d) d.entries = ev.entries;
        break;
      case "draw.closed":
        var dc = this.find(s.draws, ev.draw_id);
        if (dc) {
          dc.status = "closed"; dc.seed = ev.seed; dc.entries = ev.entries; dc.entrants_hash = ev.entrants_hash;
          dc.closed_at = ev.at;
          dc.drawn = ev.winners;
          this.revealing[dc.id] = this.clock.now();
        }
        break;
      case "draw.rerolled":
        var dr = this.find(s.draws, ev.draw_id);
        if (dr) { dr.drawn = (dr.drawn || []).concat(ev.winners); this.revealing[dr.id] = this.clock.now(); }
        break;
      case "overlay.test":
        if (this.opts.tests && this.slots[ev.layer]) this.testing[ev.layer] = Date.now() + TEST_SHOWN_MS;
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
        s.comments = s.comments.filter(function (x) { return x.comment_id !== ev.comment_id; });
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

  Layers.prototype.money = function (amount) {
    return Live.fmtMoney(amount, this.state.show && this.state.show.currency, this.opts.lang || document.documentElement.lang);
  };

  // The sale to show now (server time): the newest one open or scheduled. A sold-out
  // sale says so for SOLD_OUT_SHOWN_MS (at most to its deadline); closed by staff,
  // ended or with the show, it leaves at once.
  Layers.prototype.activeSale = function () {
    var sales = this.state.flash_sales, now = this.clock.now();
    for (var i = sales.length - 1; i >= 0; i--) {
      var s = sales[i];
      if (now >= s.deadline) continue;
      if (s.status === "closed" && s.closed_reason !== "sold_out") continue;
      if (s.closed_reason === "sold_out" && s.closed_at && now - s.closed_at >= SOLD_OUT_SHOWN_MS) continue;
      return s;
    }
    return null;
  };

  // The sale selling ``sku`` right now (open, started, stock left), or null.
  Layers.prototype.sellingSale = function (sku, now) {
    var sales = this.state.flash_sales;
    for (var i = sales.length - 1; i >= 0; i--) {
      var s = sales[i];
      if (s.sku === sku && s.status !== "closed" && s.remaining > 0 && now >= s.opens_at && now < s.deadline) return s;
    }
    return null;
  };

  // What a product costs on screen now: a running flash sale's price, else its live
  // price; the list price is struck through beside it when higher.
  Layers.prototype.priceOf = function (p, now) {
    var sale = this.sellingSale(p.sku, now);
    return {price: sale ? sale.price : p.live_price, was: p.list_price, sale: sale ? sale.id : null};
  };

  Layers.prototype.activeDraw = function () {
    var ds = this.state.draws, now = this.clock.now();
    for (var i = ds.length - 1; i >= 0; i--) {
      var d = ds[i];
      if (d.status === "open") return d;
      // drawn: on screen for a minute after the reveal, also on a page (re)loaded meanwhile
      var shown = this.revealing[d.id] || d.closed_at;
      if (shown && now - shown < DRAW_SHOWN_MS) return d;
    }
    return null;
  };

  Layers.prototype.has = function (name) { return !!this.slots[name]; };

  // Put ``node`` (or nothing) in a layer's slot when its key changed; returns
  // the layer's current node.
  Layers.prototype.place = function (name, key, build) {
    var slot = this.slots[name];
    if (!slot) return null;
    // a test card replaces the layer while it lasts; nothing updates it in place
    var until = this.testing[name];
    if (until && Date.now() < until) {
      key = "test|" + until;
      build = function () { return this.buildTest(name); };
    } else if (until) {
      delete this.testing[name];
    }
    if (this.keys[name] !== key) {
      this.keys[name] = key;
      var node = key === null ? null : build.call(this);
      if (node) { node.dataset.layer = name; slot.replaceChildren(node); } else slot.replaceChildren();
    }
    return until && this.testing[name] ? null : slot.firstChild;
  };

  // The clearly marked card a "send a test" shows: TEST, the layer's name.
  Layers.prototype.buildTest = function (name) {
    var box = el("div", "layer " + name + " test-card");
    box.dataset.test = name;
    box.appendChild(el("div", "test-badge", this.T.test_card));
    box.appendChild(el("div", "test-name", this.T["ov_layer_" + name] || name));
    return box;
  };

  Layers.prototype.render = function () {
    if (!this.state) return;
    var s = this.state, now = this.clock.now();
    document.documentElement.dataset.showStatus = s.show ? s.show.status : "";

    // likes: built once, counters updated in place (the bar animates)
    var likes = s.likes || {};
    var node = this.place("likes", likes.goal || likes.total ? "likes" : null, this.buildLikes);
    if (node) this.updateLikes(node, likes);

    var sale = this.has("sale") ? this.activeSale() : null;
    node = this.place("sale", sale ? sale.id + "|" + this.soldOut(sale) : null,
                      function () { return this.buildSale(sale); });
    if (node) this.updateSale(node, sale, now);

    var draw = this.has("draw") ? this.activeDraw() : null;
    var me = this.opts.me ? this.opts.me() : null;
    node = this.place("draw", draw ? [draw.id, draw.status, (draw.drawn || []).length, me && me.pseudonym].join("|") : null,
                      function () { return this.buildDraw(draw, me); });
    if (node) this.updateDraw(node, draw, now);

    var pinned = s.pinned_sku ? this.product(s.pinned_sku) : null;
    var price = pinned ? this.priceOf(pinned, now) : null;
    // The sale card on this page already shows the pinned product at its sale price:
    // one card for one product. (A page with the product layer alone keeps its card.)
    if (pinned && sale && price.sale === sale.id) pinned = null;
    this.place("product", pinned ? JSON.stringify([pinned, price]) : null, function () { return this.buildProduct(pinned, price); });

    // the pinned comment has its own line: not again in the ticker
    var n = this.opts.comments || 5, pc = s.pinned_comment;
    var shown = s.comments.filter(function (c) { return !pc || c.comment_id !== pc.comment_id; }).slice(-n);
    var ckey = JSON.stringify([pc && pc.comment_id, shown.map(function (c) { return c.comment_id; })]);
    this.place("comments", ckey, function () { return this.buildComments(shown, pc); });
  };

  Layers.prototype.buildLikes = function () {
    var box = el("div", "layer likes");
    var label = el("div", "likes-label");
    label.appendChild(icon("heart"));
    label.appendChild(el("span", "count"));
    var done = el("span", "done");
    done.appendChild(icon("check"));
    label.appendChild(done);
    box.appendChild(label);
    var bar = el("div", "bar"), fill = el("div", "fill");
    bar.appendChild(fill);
    box.appendChild(bar);
    return box;
  };

  Layers.prototype.updateLikes = function (box, likes) {
    var T = this.T, count = box.querySelector(".likes-label .count"), bar = box.querySelector(".bar");
    box.dataset.total = String(likes.total);
    box.querySelector(".done").hidden = !likes.reached;
    if (likes.goal) {
      bar.hidden = false;
      setText(count, likes.total + " / " + likes.goal);
      box.querySelector(".fill").style.width = Math.min(100, Math.floor(100 * likes.total / likes.goal)) + "%";
    } else {
      bar.hidden = true;
      setText(count, T.likes_n.replace("{n}", likes.total));
    }
    box.classList.toggle("reached", !!likes.reached);
  };

  Layers.prototype.soldOut = function (sale) { return sale.remaining <= 0 || sale.status === "closed"; };

  Layers.prototype.buildSale = function (sale) {
    var T = this.T, p = this.product(sale.sku);
    var card = el("div", "layer sale" + (this.soldOut(sale) ? " soldout" : ""));
    card.dataset.sale = sale.id;
    card.appendChild(el("div", "tag", T.flash_sale));
    card.appendChild(el("div", "title", p ? p.title : sale.sku));
    var prices = el("div", "prices");
    prices.appendChild(el("span", "price", this.money(sale.price)));
    if (p && Number(p.list_price) > Number(sale.price)) prices.appendChild(el("s", "was", this.money(p.list_price)));
    card.appendChild(prices);
    card.appendChild(el("div", "countdown"));
    var stock = el("div", "stock");
    var sbar = el("div", "bar"), sfill = el("div", "fill");
    sbar.appendChild(sfill);
    stock.appendChild(sbar);
    stock.appendChild(el("div", "stock-label"));
    card.appendChild(stock);
    if (sale.per_viewer_limit) card.appendChild(el("div", "limit", T.limit_n.replace("{n}", sale.per_viewer_limit)));
    if (this.opts.claim) {
      var self = this, b = el("button", "claim", T.claim);
      b.type = "button";
      b.addEventListener("click", function () { self.opts.claim(sale); });
      card.appendChild(b);
      var note = el("div", "claim-result");
      note.setAttribute("role", "status");
      note.hidden = true;
      card.appendChild(note);
    }
    return card;
  };

  Layers.prototype.updateSale = function (card, sale, now) {
    var T = this.T, cd = card.querySelector(".countdown"), ms, text;
    var soldOut = this.soldOut(sale);
    if (soldOut) { ms = Math.max(0, sale.deadline - now); text = T.sold_out; }
    else if (now < sale.opens_at) { ms = sale.opens_at - now; text = T.opens_in + " " + Live.fmtCountdown(ms); }
    else { ms = Math.max(0, sale.deadline - now); text = T.ends_in + " " + Live.fmtCountdown(ms); }
    setText(cd, text);
    // what the countdown shows, in ms: tests (and curious operators) read it here
    cd.dataset.ms = String(Math.round(ms));
    cd.dataset.phase = soldOut ? "sold_out" : now < sale.opens_at ? "opens" : "ends";
    card.dataset.remaining = String(sale.remaining);
    // "Sold out" once, in the countdown's place: no empty bar, no "0 left"
    card.querySelector(".stock").hidden = soldOut;
    card.querySelector(".fill").style.width = Math.round(100 * Math.max(0, sale.remaining) / sale.stock) + "%";
    setText(card.querySelector(".stock-label"), T.left.replace("{n}", Math.max(0, sale.remaining)));
    var b = card.querySelector(".claim");
    if (!b) return;
    var mine = this.opts.claimNote ? this.opts.claimNote(sale) : null, note = card.querySelector(".claim-result");
    b.disabled = soldOut || now < sale.opens_at || now >= sale.deadline || !!(mine && mine.done);
    note.hidden = !mine;
    if (mine) {
      setText(note, mine.text);
      if (note.dataset.kind !== mine.kind) { note.dataset.kind = mine.kind; note.className = "claim-result " + mine.kind; }
      if (mine.code) note.dataset.code = mine.code; else delete note.dataset.code;
    }
  };

  Layers.prototype.buildDraw = function (draw, me) {
    var T = this.T, drawn = draw.status === "closed";
    var card = el("div", "layer draw" + (drawn ? " drawn" : ""));
    card.dataset.draw = draw.id;
    card.appendChild(el("div", "tag", draw.kind === "lucky_bag" ? T.lucky_bag : T.lucky_draw));
    card.appendChild(el("div", "title", draw.prize));
    if (!drawn) {
      card.appendChild(el("div", "entries"));
      if (draw.deadline) card.appendChild(el("div", "countdown draw-countdown"));
      card.appendChild(el("div", "hint", this.drawHint(draw)));
    } else {
      // seen live: a short roll, then the names pop in one after another
      var live = !!this.revealing[draw.id];
      if (live) { var drum = el("div", "drum"); drum.appendChild(icon("gift")); card.appendChild(drum); }
      card.appendChild(el("div", "hint", T.winners));
      var list = el("ul", "winners" + (live ? " reveal" : ""));
      (draw.drawn || []).forEach(function (w, i) {
        var li = el("li", null, w.nickname);  // masked by the server: 王**
        if (live) li.style.animationDelay = (1.2 + Math.min(i, 10) * 0.15) + "s";
        list.appendChild(li);
      });
      if (!(draw.drawn || []).length) list.appendChild(el("li", "none", T.no_entrants));
      card.appendChild(list);
      var won = me && me.pseudonym && (draw.drawn || []).some(function (w) { return w.pseudonym === me.pseudonym; });
      if (won) card.appendChild(el("div", "you-won", T.you_won.replace("{prize}", draw.prize)));
    }
    // The commitment means nothing to a viewer on the stream; the watch page links
    // to the page that shows it, and how to check the draw with it.
    if (this.opts.links) {
      var a = el("a", "verify", T.verify);
      a.href = "/shows/" + encodeURIComponent(this.state.show.id) + "/draws/" + encodeURIComponent(draw.id) +
               "?lang=" + encodeURIComponent(this.opts.lang || document.documentElement.lang);
      a.target = "_blank";
      a.rel = "noopener";
      card.appendChild(a);
    }
    return card;
  };

  Layers.prototype.updateDraw = function (card, draw, now) {
    setText(card.querySelector(".entries"), this.T.entries.replace("{n}", draw.entries || 0));
    var dc = card.querySelector(".draw-countdown");
    if (dc && draw.deadline) {
      var ms = Math.max(0, draw.deadline - now);
      setText(dc, this.T.draw_in + " " + Live.fmtCountdown(ms));
      dc.dataset.ms = String(Math.round(ms));
    }
  };

  Layers.prototype.buildProduct = function (p, price) {
    var card = el("div", "layer product");
    card.dataset.sku = p.sku;
    if (p.image) { var img = el("img"); img.src = p.image; img.alt = ""; card.appendChild(img); }
    var info = el("div", "info");
    info.appendChild(el("div", "title", p.title));
    var pr = el("div", "prices");
    if (price.sale) { card.dataset.sale = price.sale; pr.appendChild(el("span", "tag", this.T.flash_sale)); pr.appendChild(document.createTextNode(" ")); }
    pr.appendChild(el("span", "price", this.money(price.price)));
    if (Number(price.was) > Number(price.price)) pr.appendChild(el("s", "was", this.money(price.was)));
    info.appendChild(pr);
    // while a flash sale sells it, its card (and its Grab button) is the way to buy
    if (this.opts.links && !price.sale && p.url && /^https?:\/\//.test(p.url)) {
      var a = el("a", "buy", this.T.buy);
      // through the tracked link: the click counts (with this viewer's click cookie), then the shop opens
      a.href = "/go/" + encodeURIComponent(this.state.show.id) + "/" + encodeURIComponent(p.sku);
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      info.appendChild(a);
    }
    card.appendChild(info);
    return card;
  };

  Layers.prototype.buildComments = function (shown, pinned) {
    var ticker = el("div", "layer comments");
    if (pinned) {
      var pin = el("div", "pinned");
      var label = el("span", "pin-label");
      label.appendChild(icon("pin"));
      label.appendChild(document.createTextNode(" " + this.T.pinned_label));
      pin.appendChild(label);
      pin.appendChild(el("b", "nick", pinned.nickname + ": "));
      pin.appendChild(el("span", "text", pinned.text));  // text, never HTML
      ticker.appendChild(pin);
    }
    shown.forEach(function (c) {
      var line = el("div", "comment");
      line.dataset.id = c.comment_id;
      line.appendChild(el("b", "nick", c.nickname + ": "));
      line.appendChild(el("span", "text", c.text));  // text, never HTML
      ticker.appendChild(line);
    });
    return ticker;
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

  Layers.icon = icon;
  window.LiveLayers = Layers;
})();
