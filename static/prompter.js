/* The prompter: what the host reads from across the room (the segment, its time
   left in big digits, red when over-running, the talking points, next up, and
   one big Next). A mode of the control panel (?view=prompter, V, the header's
   button), drawn from the panel's state. Plain script: exposes window.LivePrompter. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  function text(el, value) { el.textContent = value == null ? "" : String(value); }

  // opts: {T, lang, next(): runs the panel's Next, canNext(): whether Next may run}
  function LivePrompter(opts) {
    this.T = opts.T;
    this.lang = opts.lang;
    this.opts = opts;
    var self = this;
    $("pr-exit").addEventListener("click", function () { self.set(false); });
    $("pr-go-next").addEventListener("click", function () { opts.next(); });
  }

  LivePrompter.prototype.on = function () { return !$("prompter").hidden; };

  // Show or hide it; the URL says which (a reload keeps the mode).
  LivePrompter.prototype.set = function (on) {
    $("prompter").hidden = !on;
    document.body.classList.toggle("prompting", on);
    $("btn-prompter").setAttribute("aria-pressed", on ? "true" : "false");
    var url = new URL(location.href);
    if (on) url.searchParams.set("view", "prompter"); else url.searchParams.delete("view");
    history.replaceState(null, "", url.pathname + url.search);
    if (on) $("pr-go-next").focus();
  };

  // view: {state, cur, next, product (of cur) or null, money(amount), fmtMin(seconds)}
  LivePrompter.prototype.render = function (view) {
    var T = this.T, state = view.state, rd = state.rundown, cur = view.cur;
    text($("pr-title"), cur ? cur.title : state.show.status === "ended" ? T.ended : T.not_started);
    text($("pr-kind"), cur ? (rd.current + 1) + " / " + rd.segments.length + " · " + (T["kind_" + cur.kind] || cur.kind) : "");
    var list = $("pr-points");
    list.replaceChildren();
    (cur ? cur.talking_points || [] : []).forEach(function (line) {
      var li = document.createElement("li");
      text(li, line);
      list.appendChild(li);
    });
    if (view.product) {
      var li = document.createElement("li");
      li.className = "pr-price";
      text(li, view.product.title + " · " + T.live_price + " " + view.money(view.product.live_price));
      list.prepend(li);
    }
    text($("pr-next"), view.next ? view.next.title + " · " + view.fmtMin(view.next.planned_seconds) : T.nothing_next);
    $("pr-go-next").disabled = !this.opts.canNext();
  };

  // The clock and the projected end, each tick.
  LivePrompter.prototype.clock = function (state, now) {
    var T = this.T, rd = state.rundown, left = $("pr-left");
    var cur = rd.current != null ? rd.segments[rd.current] : null;
    var over = false;
    if (cur) {
      var ms = cur.deadline - now;
      over = ms < 0;
      text(left, over ? Live.fmtDuration(ms) : Live.fmtCountdown(ms));
      text($("pr-left-label"), over ? T.overrun : T.time_left);
    } else {
      text(left, "--:--");
    }
    left.classList.toggle("overrun", over);
    $("prompter").classList.toggle("over", over);
    var end = LiveTiming.projectedEnd(state, now);
    text($("pr-end"), end == null ? "" : T.projected_end + " " + LiveTiming.clockTime(end, this.lang, state.show.timezone));
  };

  window.LivePrompter = LivePrompter;
})();
