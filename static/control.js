/* The control panel: one show's rundown, live. State comes from the socket's
   snapshot and is kept current by applying the show's events; every time on
   screen is computed from the server clock. */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("strings").textContent);
  var panel = document.getElementById("panel");
  var showId = panel.dataset.show;
  var state = null;
  var $ = function (id) { return document.getElementById(id); };

  function segAired(seg, now) {
    var live = seg.on_air_since != null ? Math.max(0, now - seg.on_air_since) : 0;
    return (seg._aired_ms || 0) + live;
  }

  // Mirror of live/rundown.switch: take `from` off the air, put `to` on it.
  function switchSeg(from, to, at) {
    var segs = state.rundown.segments;
    if (from != null && segs[from] && segs[from].on_air_since != null) {
      var s = segs[from];
      s._aired_ms = (s._aired_ms || 0) + Math.max(0, at - s.on_air_since);
      s.ended_at = at;
      s.on_air_since = null;
      s.deadline = null;
    }
    if (to != null) {
      var n = segs[to];
      if (n.started_at == null) n.started_at = at;
      n.on_air_since = at;
      n.ended_at = null;
      n.deadline = at + (n.planned_seconds + n.extended_seconds) * 1000 - (n._aired_ms || 0);
    }
    state.rundown.current = to;
  }

  function planSegment(plan, index) {
    return {index: index, kind: plan.kind, title: plan.title, sku: plan.sku,
      planned_seconds: plan.planned_seconds, extended_seconds: 0, started_at: null, ended_at: null,
      on_air_since: null, deadline: null, _aired_ms: 0,
      talking_points: plan.talking_points || [], actions: plan.actions || []};
  }

  function onSnapshot(msg) {
    state = msg.state;
    promotions.reset();
    var now = msg.server_time;
    state.rundown.segments.forEach(function (s) {
      // actual_seconds includes the running airing; keep earlier airings apart.
      var running = s.on_air_since != null ? Math.max(0, now - s.on_air_since) : 0;
      s._aired_ms = s.actual_seconds != null ? Math.max(0, s.actual_seconds * 1000 - running) : 0;
    });
    render();
    if (dash) dash.snapshot(state.show);
  }

  function onEvent(ev) {
    if (!state) return;
    switch (ev.type) {
      case "show.started": state.show.status = "live"; state.show.started_at = ev.at; break;
      case "segment.changed": switchSeg(ev.from, ev.to, ev.at); break;
      case "segment.extended":
        var s = state.rundown.segments[ev.index];
        s.extended_seconds = ev.extended_seconds;
        if (s.on_air_since != null) s.deadline = s.on_air_since + (s.planned_seconds + s.extended_seconds) * 1000 - (s._aired_ms || 0);
        break;
      case "product.pinned": state.pinned_sku = ev.sku; break;
      case "product.unpinned": state.pinned_sku = null; break;
      case "show.ended":
        switchSeg(state.rundown.current, null, ev.at);
        state.show.status = "ended"; state.show.ended_at = ev.at; break;
      case "products.replaced": state.products = ev.products; refetchCompliance(); break;
      case "flash_sale.opened": state.flash_sales.push(ev.sale); break;
      case "flash_sale.stock": var fs = byId(state.flash_sales, ev.sale_id); if (fs) fs.remaining = ev.remaining; break;
      case "flash_sale.restocked":
        var fr = byId(state.flash_sales, ev.sale_id);
        if (fr) {
          fr.stock = ev.stock; fr.remaining = ev.remaining;
          if (ev.reopened) { fr.status = "open"; fr.closed_reason = null; fr.closed_at = null; }
        }
        break;
      case "flash_sale.extended": var fx = byId(state.flash_sales, ev.sale_id); if (fx) fx.deadline = ev.deadline; break;
      case "flash_sale.closed":
        var fc = byId(state.flash_sales, ev.sale_id);
        if (fc) { fc.status = "closed"; fc.remaining = ev.remaining; fc.closed_reason = ev.reason; }
        break;
      case "draw.opened": ev.draw.entries = 0; ev.draw.drawn = []; state.draws.push(ev.draw); break;
      case "draw.entries": var de = byId(state.draws, ev.draw_id); if (de) de.entries = ev.entries; break;
      case "draw.closed":
        var dc = byId(state.draws, ev.draw_id);
        if (dc) { dc.status = "closed"; dc.entries = ev.entries; dc.drawn = ev.winners; dc.seed = ev.seed; }
        break;
      case "draw.rerolled": var dr = byId(state.draws, ev.draw_id); if (dr) dr.drawn = dr.drawn.concat(ev.winners); break;
      case "likes.tick": state.likes.total = ev.total; break;
      case "likes.goal": state.likes.goal = ev.target; state.likes.reached = false; break;
      case "likes.goal_reached": state.likes.reached = true; break;
      case "viewers.tick": state.viewers.now = ev.now; state.viewers.peak = ev.peak; break;
      case "comment.new":
        state.comments.push({comment_id: ev.comment_id, nickname: ev.nickname, text: ev.text, at: ev.at,
          viewer_id: ev.viewer_id, hidden: ev.hidden, flagged: ev.flagged, deleted: false});
        if (state.comments.length > 200) state.comments.shift();
        break;
      case "comment.deleted":
        state.comments.forEach(function (c) { if (c.comment_id === ev.comment_id) c.deleted = true; });
        break;
      case "comment.pinned": state.pinned_comment = {comment_id: ev.comment_id, nickname: ev.nickname, text: ev.text}; break;
      case "rundown.replaced":
        var keep = state.rundown.segments.slice(0, ev.from_index);
        ev.segments.forEach(function (p, i) { keep.push(planSegment(p, ev.from_index + i)); });
        state.rundown.segments = keep;
        refetchCompliance();
        break;
      default: break;
    }
    // High-rate audience events redraw only their own part: a likes tick four
    // times a second must not rebuild the rundown or the moderator's buttons.
    var t = ev.type;
    if (t === "likes.tick" || t === "likes.goal" || t === "likes.goal_reached" || t === "viewers.tick") renderNumbers();
    else if (t.indexOf("comment.") === 0 || t === "viewer.muted") renderComments();
    else if (t.indexOf("flash_sale.") === 0 || t.indexOf("draw.") === 0) renderPromotions();
    else render();
    if (dash) dash.event(ev);  // after the state took the event in: titles for the bands
  }

  function byId(list, id) {
    for (var i = 0; i < list.length; i++) if (list[i].id === id) return list[i];
    return null;
  }

  function button(label, onClick, cls) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "small" + (cls ? " " + cls : "");
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  function num(n) { return Number(n || 0).toLocaleString(lang); }
  function money(amount) { return Live.fmtMoney(amount, state && state.show.currency, lang); }

  function renderNumbers() {
    // without the dashboard (moderator), the presence count; with it, only the dashboard's
    if ($("n-viewers")) {
      text($("n-viewers"), num(state.viewers.now) + (state.viewers.peak ? " · " + T.peak_n.replace("{n}", num(state.viewers.peak)) : ""));
    }
    text($("n-likes"), num(state.likes.total) + (state.likes.goal ? " / " + num(state.likes.goal) + (state.likes.reached ? " " + T.goal_reached : "") : ""));
    // the field shows the goal when it changes, and never overwrites what is being typed
    var goal = $("goal-target");
    if (state.likes.goal !== shownGoal && document.activeElement !== goal) {
      shownGoal = state.likes.goal;
      goal.value = shownGoal ? String(shownGoal) : "";
    }
  }
  var shownGoal;

  function renderAudience() {
    if (!state) return;
    renderNumbers();
    var sel = $("sale-sku");
    var optKey = JSON.stringify(state.products.map(function (p) { return [p.sku, p.title, p.live_price]; }));
    if (sel.dataset.key !== optKey) {
      var was = sel.value;
      sel.dataset.key = optKey;
      sel.replaceChildren();
      state.products.forEach(function (p) {
        var o = document.createElement("option");
        o.value = p.sku; o.textContent = p.title + " · " + money(p.live_price);
        sel.appendChild(o);
      });
      if (was && product(was)) sel.value = was;
      pricePlaceholder();
    }
    renderComments();
    renderPromotions();
  }

  function pricePlaceholder() {
    var p = product($("sale-sku").value);
    $("sale-price").placeholder = p ? p.live_price : "";
  }

  function productTitle(sku) { var p = product(sku); return p ? p.title : sku; }

  function renderPromotions() { if (state) promotions.render(state, sock.clock.now()); }

  function renderComments() {
    var list = $("comment-list");
    var atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
    list.replaceChildren();
    state.comments.slice(-100).forEach(function (c) {
      var li = document.createElement("li");
      if (c.hidden) li.classList.add("flagged");
      if (c.deleted) li.classList.add("deleted");
      var who = document.createElement("b");
      who.textContent = c.nickname + ": ";
      var body = document.createElement("span");
      body.className = "grow";
      body.textContent = c.text + (c.flagged ? "  [" + T.flagged + ": " + c.flagged + "]" : "");  // text, never HTML
      body.prepend(who);
      li.appendChild(body);
      if (canModerate && !c.deleted) {
        if (!c.hidden) li.appendChild(button(T.pin_comment, function () { command({type: "comment.pin", comment_id: c.comment_id}); }));
        li.appendChild(button(T.delete, function () { command({type: "comment.delete", comment_id: c.comment_id}); }));
        if (c.viewer_id) li.appendChild(button(T.mute, function () { command({type: "viewer.mute", viewer_id: c.viewer_id, seconds: 600}); }));
      }
      list.appendChild(li);
    });
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  function refetchCompliance() {
    fetch("/api/shows/" + encodeURIComponent(showId) + "/state", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s && state) { state.compliance = s.compliance; renderCompliance(); } });
  }

  function product(sku) {
    if (!state || !sku) return null;
    for (var i = 0; i < state.products.length; i++) if (state.products[i].sku === sku) return state.products[i];
    return null;
  }

  function text(el, value) { el.textContent = value == null ? "" : String(value); }

  function fmtMin(seconds) { return Live.fmtDuration(seconds * 1000); }

  function renderClock() {
    if (!state) return;
    var now = sock.clock.now();
    var rd = state.rundown;
    var left = $("time-left");
    if (rd.current != null) {
      var seg = rd.segments[rd.current];
      var ms = seg.deadline - now;
      text(left, ms < 0 ? Live.fmtDuration(ms) : Live.fmtCountdown(ms));  // 0:00 only when time is up
      left.classList.toggle("overrun", ms < 0);
      text($("left-label"), ms < 0 ? T.overrun : T.time_left);
    } else {
      text(left, "--:--");
      left.classList.remove("overrun");
    }
    var d = Math.round(LiveTiming.driftMs(state, now) / 1000);
    var drift = $("drift");
    if (state.show.started_at == null) text(drift, "—");
    else if (Math.abs(d) < 5) text(drift, T.on_time);
    else text(drift, (d > 0 ? T.behind_t : T.ahead_t).replace("{t}", Live.fmtDuration(Math.abs(d) * 1000)));
    drift.classList.toggle("overrun", d >= 60);
    var end = LiveTiming.projectedEnd(state, now), pe = $("projected-end");
    text(pe, end == null ? "—" : LiveTiming.clockTime(end, lang, state.show.timezone));
    pe.dataset.ms = end == null ? "" : String(Math.round(end / 1000) * 1000);
    prompter.clock(state, now);
    // actual column of the running segment
    var rows = $("rundown").children;
    var totalActual = 0;
    rd.segments.forEach(function (s, i) {
      var a = s.started_at != null ? segAired(s, now) : null;
      if (a != null) totalActual += a;
      if (rows[i]) text(rows[i].children[4], a == null ? "" : Live.fmtDuration(a));
    });
    text($("total-actual"), Live.fmtDuration(totalActual));
  }

  function render() {
    if (!state) return;
    var show = state.show, rd = state.rundown, segs = rd.segments;
    var status = $("show-status");
    text(status, T["status_" + show.status]);
    status.className = "badge status-" + show.status;
    var cur = rd.current != null ? segs[rd.current] : null;
    if (cur) {
      text($("now-title"), (rd.current + 1) + ". " + cur.title);
      text($("now-kind"), T["kind_" + cur.kind] || cur.kind);
    } else {
      text($("now-title"), show.status === "ended" ? T.ended : T.not_started);
      text($("now-kind"), "");
    }
    var p = cur ? product(cur.sku) : null;
    text($("now-product"), p ? p.title + " · " + T.live_price + " " + money(p.live_price) + " · " + T.stock + " " + num(p.stock) : "");
    var points = $("points");
    points.replaceChildren();
    (cur ? cur.talking_points || [] : []).forEach(function (line) {
      var li = document.createElement("li");
      text(li, line);
      points.appendChild(li);
    });
    var nextIndex = cur ? rd.current + 1 : (show.status === "draft" ? 0 : null);
    var next = nextIndex != null && nextIndex < segs.length ? segs[nextIndex] : null;
    text($("next-title"), next ? (nextIndex + 1) + ". " + next.title + " · " + fmtMin(next.planned_seconds) : T.nothing_next);
    var pinned = product(state.pinned_sku);
    text($("pinned"), pinned ? pinned.title + " · " + money(pinned.live_price) : T.none);

    var body = $("rundown");
    body.replaceChildren();
    var totalPlanned = 0;
    segs.forEach(function (s, i) {
      totalPlanned += s.planned_seconds;
      var tr = document.createElement("tr");
      if (i === rd.current) tr.className = "current";
      else if (s.ended_at != null) tr.className = "done";
      var cells = [i + 1, s.title + (s.sku ? " [" + s.sku + "]" : ""), T["kind_" + s.kind] || s.kind,
        fmtMin(s.planned_seconds) + (s.extended_seconds ? " (" + (s.extended_seconds > 0 ? "+" : "−") + fmtMin(Math.abs(s.extended_seconds)).replace("+", "") + ")" : ""), ""];
      cells.forEach(function (c) { var td = document.createElement("td"); text(td, c); tr.appendChild(td); });
      var td = document.createElement("td");
      if (show.status === "live" && i !== rd.current && canRun) {
        var b = document.createElement("button");
        b.className = "small";
        text(b, T.go);
        b.addEventListener("click", function () {
          if (confirm(T.confirm_goto)) command({type: "segment.goto", index: i});
        });
        td.appendChild(b);
      }
      tr.appendChild(td);
      body.appendChild(tr);
    });
    text($("total-planned"), fmtMin(totalPlanned));
    renderCompliance();
    renderButtons();
    renderAudience();
    renderLinks();
    prompter.render({state: state, cur: cur, next: next, product: p, money: money, fmtMin: fmtMin});
    renderClock();
  }

  // Tracked links (直播专属链接): one per product, absolute from the public URL, to
  // paste into the platform. Rebuilt only when the products change, so a focused
  // field or button stays where it is.
  var publicUrl = panel.dataset.publicUrl || location.origin;
  var linksKey = null;
  function trackedLink(sku) {
    return publicUrl + "/go/" + encodeURIComponent(showId) + "/" + encodeURIComponent(sku);
  }
  function renderLinks() {
    var key = JSON.stringify(state.products.map(function (p) { return [p.sku, p.title, !!p.url]; }));
    if (key === linksKey) return;
    linksKey = key;
    var list = $("link-list");
    list.replaceChildren();
    if (!state.products.length) {
      var none = document.createElement("li");
      text(none, T.no_products);
      list.appendChild(none);
    }
    state.products.forEach(function (p) {
      var li = document.createElement("li");
      li.dataset.sku = p.sku;
      var label = document.createElement("label");
      label.className = "grow";
      var name = document.createElement("span");
      text(name, p.sku + " · " + p.title);
      var input = document.createElement("input");
      input.className = "link";
      input.readOnly = true;
      input.value = trackedLink(p.sku);
      input.setAttribute("aria-label", T.link_of.replace("{sku}", p.sku));
      input.addEventListener("focus", function () { input.select(); });
      label.appendChild(name);
      label.appendChild(input);
      if (!p.url) {
        var warn = document.createElement("span");
        warn.className = "no-url";
        text(warn, T.no_url);
        label.appendChild(warn);
      }
      li.appendChild(label);
      var b = button(T.copy, function () { copyLink(input, b); });
      b.setAttribute("aria-label", T.copy_link_for.replace("{sku}", p.sku));
      b.className += " copy";
      li.appendChild(b);
      list.appendChild(li);
    });
  }

  // The clipboard API needs a secure context (https, or localhost); elsewhere the
  // link is selected and copied the old way, or left selected for Ctrl+C.
  function copyLink(input, btn, status) {
    var value = input.value;
    function done(ok) {
      text(status || $("copy-status"), ok ? T.copied + ": " + value : T.copy_failed);
      text(btn, ok ? T.copied : T.copy);
      setTimeout(function () { text(btn, T.copy); }, 2000);
    }
    function fallback() {
      input.focus();
      input.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      done(ok);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(value).then(function () { done(true); }, fallback);
    } else {
      fallback();
    }
  }

  function renderCompliance() {
    var list = $("compliance-list");
    var items = (state && state.compliance) || [];
    $("compliance").hidden = items.length === 0;
    list.replaceChildren();
    items.forEach(function (w) {
      var li = document.createElement("li");
      var where = w.where === "product" ? w.sku : "#" + (w.index + 1);
      var b = document.createElement("strong");
      text(b, w.word);
      li.appendChild(b);
      li.appendChild(document.createTextNode(" — " + where + ": " + w.text));
      list.appendChild(li);
    });
  }

  var role = panel.dataset.role;
  var canRun = role === "admin" || role === "host" || role === "assistant";
  var canPlan = role === "admin" || role === "assistant";
  var canModerate = canPlan || role === "moderator";
  var lang = document.documentElement.lang;
  var promotions = new LivePromotions({T: T, lang: lang, showId: showId, canRun: canRun, canPlan: canPlan,
    canExport: canRun,  // the winners' CSV: admin, host, assistant
    command: command, button: button, money: money, num: num, productTitle: productTitle});
  if (!canPlan) {
    Array.prototype.forEach.call(document.querySelectorAll("[data-needs=plan]"), function (el) { el.hidden = true; });
  }

  function formSubmit(id, build) {
    $(id).addEventListener("submit", function (ev) {
      ev.preventDefault();
      var cmd = build();
      if (cmd) command(cmd).then(function (res) {
        if (!res) return;
        $(id).reset();
        if (id === "goal-form") { shownGoal = undefined; renderNumbers(); }
      });
    });
  }
  formSubmit("sale-form", function () {
    var cmd = {type: "flash_sale.open", sku: $("sale-sku").value, stock: parseInt($("sale-stock").value, 10),
      per_viewer_limit: parseInt($("sale-limit").value, 10),
      duration_seconds: Math.round(parseFloat($("sale-minutes").value) * 60)};
    if ($("sale-price").value.trim()) cmd.price = $("sale-price").value.trim();
    return cmd;
  });
  formSubmit("draw-form", function () {
    var cmd = {type: "draw.open", prize: $("draw-prize").value.trim(), winners: parseInt($("draw-winners").value, 10),
      eligibility: {present: true}};
    var kw = $("draw-keyword").value.trim();
    if (kw) cmd.eligibility = {keyword: kw};
    var minutes = parseFloat($("draw-minutes").value);
    if (minutes > 0) cmd.entry_seconds = Math.round(minutes * 60);
    return cmd;
  });
  formSubmit("goal-form", function () {
    return {type: "likes.goal", target: parseInt($("goal-target").value, 10)};
  });

  function renderButtons() {
    var st = state ? state.show.status : "draft";
    var live = st === "live";
    var rd = state ? state.rundown : {current: null, segments: []};
    var cur = rd.current != null ? rd.segments[rd.current] : null;
    $("btn-start").disabled = !canRun || st !== "draft";
    $("btn-end").disabled = !canRun || !live;
    $("btn-next").disabled = !canRun || !live || (rd.current != null && rd.current + 1 >= rd.segments.length);
    $("btn-back").disabled = !canRun || !live || !rd.current;
    $("btn-plus").disabled = !canRun || !live || !cur;
    // the server takes no segment below 0 s in all: − stops at that, and says why
    var floor = cur && cur.planned_seconds + cur.extended_seconds - 60 < 0;
    $("btn-minus").disabled = !canRun || !live || !cur || floor;
    var why = $("minus-why");
    why.hidden = !(canRun && live && floor);
    text(why, floor ? T.minus_limit.replace("{t}", fmtMin(cur.planned_seconds + cur.extended_seconds)) : "");
    $("btn-minus").title = floor ? why.textContent : "";
    $("btn-pin").disabled = !canRun || st === "ended" || !cur || !cur.sku || (state && state.pinned_sku === cur.sku);
    $("btn-unpin").disabled = !canRun || !state || !state.pinned_sku;
  }

  var toastTimer = null;
  function toast(message) {
    var el = $("toast");
    text(el, message);
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.hidden = true; }, 4000);
  }

  // An error in the page's words: by code and field, then by code, never the
  // server's English text (that goes to the console for whoever debugs).
  function errorText(err) {
    var code = (err && err.code) || "", field = (err && err.field) || "";
    var keys = ["perr_" + code + "_" + field, "perr_" + code, "err_" + code];
    if (window.console && err && err.message) console.warn(code, field, err.message);
    for (var i = 0; i < keys.length; i++) if (T[keys[i]]) return T[keys[i]];
    return T.err_generic;
  }

  function command(cmd) {
    return sock.send({type: "command", command: cmd}).catch(function (err) {
      toast(errorText(err));
    });
  }

  function runButton(btn) {
    if (!btn || btn.disabled) return;
    var cmd = {type: btn.dataset.cmd};
    if (cmd.type === "show.end" && !confirm(T.confirm_end)) return;
    if (cmd.type === "show.start" && !confirm(T.confirm_start)) return;
    if (btn.dataset.seconds) cmd.seconds = parseInt(btn.dataset.seconds, 10);
    if (cmd.type === "product.pin") {
      var cur = state.rundown.segments[state.rundown.current];
      cmd.sku = cur && cur.sku;
    }
    command(cmd);
  }

  $("sale-sku").addEventListener("change", pricePlaceholder);
  var prompter = new LivePrompter({T: T, lang: lang, next: function () { runButton($("btn-next")); },
    canNext: function () { return !$("btn-next").disabled; }});
  $("btn-prompter").addEventListener("click", function () { prompter.set(!prompter.on()); });
  if (panel.dataset.prompter === "on") prompter.set(true);
  new LiveOverlaySetup({showId: showId, T: T, canTest: canRun, command: command, copy: copyLink, button: button});

  $("controls").addEventListener("click", function (ev) {
    var btn = ev.target.closest("button");
    if (btn) runButton(btn);
  });

  var KEYS = {"n": "btn-next", "ArrowRight": "btn-next", "b": "btn-back", "ArrowLeft": "btn-back",
    "+": "btn-plus", "=": "btn-plus", "-": "btn-minus", "_": "btn-minus", "p": "btn-pin", "u": "btn-unpin",
    "s": "btn-start", "e": "btn-end", "v": "btn-prompter"};
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat) return;
    if (ev.key === "Escape" && prompter.on()) { ev.preventDefault(); prompter.set(false); return; }
    var tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    var id = KEYS[ev.key] || KEYS[ev.key.toLowerCase()];
    if (!id) return;
    ev.preventDefault();
    if (id === "btn-prompter") { prompter.set(!prompter.on()); return; }
    runButton($(id));
  });

  function onStatus(s) {
    var el = $("conn");
    el.className = "conn " + s;
    text(el, s === "connected" ? T.connected : s === "connecting" ? T.connecting : T.disconnected);
    if (s === "disconnected") renderButtonsOffline();
  }
  function renderButtonsOffline() {
    Array.prototype.forEach.call(document.querySelectorAll("#controls button"), function (b) { b.disabled = true; });
  }

  // The live numbers, for the roles that may read them (the page has #dashboard then).
  var dash = window.LiveDashboard && $("dashboard") ? new LiveDashboard({root: $("dashboard"), showId: showId,
    lang: document.documentElement.lang, T: T, state: function () { return state; }}) : null;

  var sock = new Live.ShowSocket(showId, {hello: {}, onSnapshot: onSnapshot, onEvent: onEvent, onStatus: onStatus,
    onRecovered: function () { if (dash) dash.recovered(); },
    onMessage: function (msg) {
      if (msg.type === "stats.tick") { if (dash) dash.tick(msg); return; }
      if (msg.type === "error") toast(errorText(msg));
    }});
  sock.connect();
  setInterval(renderClock, 250);
  setInterval(renderPromotions, 1000);
  window.__panel = {sock: sock, state: function () { return state; }, dash: dash, command: command};
})();
