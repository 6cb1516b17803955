/* The control panel's flash sales and lucky draws: one row each, with stock
   left of the whole stock, the countdown, a sell-through bar, entries and the
   winners' full names (staff only), and the buttons of who may use them: add
   stock, +1 min, close early (a sold-out sale still on the stream: take it
   off), draw now, reroll, the winners' CSV. Plain script: exposes
   window.LivePromotions. */
(function () {
  "use strict";
  var RESTOCK = 10;  // units one "add stock" adds
  function text(el, value) { el.textContent = value == null ? "" : String(value); }

  // opts: {T, lang, showId, canRun, canPlan, canExport, command(cmd), button(label, onClick, cls),
  // money(amount), num(n), productTitle(sku)}
  function LivePromotions(opts) {
    this.opts = opts;
    this.rows = {};
  }

  // A fresh snapshot: every row is rebuilt.
  LivePromotions.prototype.reset = function () {
    this.rows = {};
    document.getElementById("sale-list").replaceChildren();
    document.getElementById("draw-list").replaceChildren();
  };

  // Sales and draws show countdowns: redrawn each second, and on their events.
  // Rows are kept by id and only their text changes each second, so a button
  // is never swapped out from under a finger or a mouse.
  LivePromotions.prototype.row = function (list, key, stateKey, build) {
    var rows = this.rows, r = rows[key];
    if (!r || r.stateKey !== stateKey) {
      var li = document.createElement("li");
      r = {li: li, stateKey: stateKey, info: document.createElement("span"), fill: null, bar: null, sold: null};
      r.info.className = "grow";
      li.appendChild(r.info);
      build(r);
      if (rows[key] && rows[key].li.parentNode) rows[key].li.replaceWith(li);
      rows[key] = r;
    }
    if (r.li.parentNode !== list) list.prepend(r.li);
    return r;
  };

  function part(cls, value) {
    var b = document.createElement("span");
    b.className = cls;
    text(b, value);
    return b;
  }

  // The rows of every sale and draw in ``state`` at server time ``now``.
  LivePromotions.prototype.render = function (state, now) {
    var o = this.opts, T = o.T, button = o.button, command = o.command, num = o.num, money = o.money;
    var row = this.row.bind(this);
    state.flash_sales.forEach(function (s) {
      var soldOut = s.remaining === 0;
      var over = now >= s.deadline;
      // sold out, it is still on the stream until its deadline: it can be restocked or taken off
      var closed = (s.status === "closed" && s.closed_reason !== "sold_out") || over;
      var key = closed ? "done" : soldOut ? "soldout" : "open";
      var r = row(document.getElementById("sale-list"), "s:" + s.id, key, function (r) {
        r.li.dataset.sale = s.id;
        var bar = document.createElement("div"); bar.className = "stockbar";
        bar.setAttribute("role", "img");
        r.fill = document.createElement("div"); bar.appendChild(r.fill);
        r.bar = bar;
        r.li.appendChild(bar);
        r.sold = part("sold", "");
        r.li.appendChild(r.sold);
        if (!closed && o.canRun) {
          var ctl = document.createElement("span");
          ctl.className = "sale-ctl";
          ctl.appendChild(button(T.add_stock_n.replace("{n}", RESTOCK), function () {
            command({type: "flash_sale.restock", sale_id: s.id, add: RESTOCK});
          }, "restock"));
          if (!soldOut) ctl.appendChild(button(T.extend_min, function () {
            command({type: "flash_sale.extend", sale_id: s.id, seconds: 60});
          }, "extend"));
          ctl.appendChild(button(soldOut ? T.remove_from_stream : T.close_early, function () {
            command({type: "flash_sale.close", sale_id: s.id});
          }, "close danger"));
          r.li.appendChild(ctl);
        }
      });
      var sold = s.stock - s.remaining;
      var status = s.status === "closed" && s.closed_reason !== "sold_out" ? T.closed : over ? (soldOut ? T.sold_out : T.ended_word) :
        soldOut ? T.sold_out_on_stream : now < s.opens_at ? T.opens_in + " " + Live.fmtCountdown(s.opens_at - now) :
        T.ends_in + " " + Live.fmtCountdown(s.deadline - now);
      text(r.info, o.productTitle(s.sku) + " · " + money(s.price) + " · " +
        T.left_of.replace("{n}", num(s.remaining)).replace("{m}", num(s.stock)) + " · " + status);
      var pct = s.stock ? Math.round(100 * sold / s.stock) : 0;
      r.fill.style.width = pct + "%";
      r.bar.setAttribute("aria-label", T.sold_pct.replace("{p}", pct));
      text(r.sold, T.sold_pct.replace("{p}", pct));
    });
    state.draws.forEach(function (d) {
      var drawn = (d.drawn || []).length;
      var r = row(document.getElementById("draw-list"), "d:" + d.id, d.status + drawn, function (r) {
        r.li.dataset.draw = d.id;
        if (o.canPlan && d.status === "open") r.li.appendChild(button(T.draw_now, function () { command({type: "draw.close", draw_id: d.id}); }, "primary"));
        if (o.canPlan && d.status === "closed") r.li.appendChild(button(T.reroll, function () { command({type: "draw.reroll", draw_id: d.id}); }));
        if (o.canExport && d.status === "closed") {
          var a = document.createElement("a");
          a.className = "csv";
          a.href = "/api/shows/" + encodeURIComponent(o.showId) + "/draws/" + encodeURIComponent(d.id) + "/winners.csv?lang=" + encodeURIComponent(o.lang);
          a.setAttribute("download", "");
          text(a, T.winners_csv);
          r.li.appendChild(a);
        }
      });
      // staff get the full nickname (the public one is masked): what the host reads out
      var winners = (d.drawn || []).map(function (w) { return w.full_nickname || w.nickname; }).join(", ");
      text(r.info, d.prize + " · " + T.entries.replace("{n}", num(d.entries || 0)) +
        (d.status === "open" && d.deadline ? " · " + T.draw_in + " " + Live.fmtCountdown(d.deadline - now) : "") +
        (d.status === "closed" && !winners ? " · " + T.no_entrants : "") +
        (winners ? " · " + T.winners + ": " + winners : ""));
    });
  };

  window.LivePromotions = LivePromotions;
})();
