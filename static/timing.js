/* The show's timing, from the control panel's state (pure: no DOM): when the
   show will end at this pace, how far that is from the plan, and a time of day
   in the show's time zone. Plain script: exposes window.LiveTiming. */
(function () {
  "use strict";

  // When the show will end at this pace: the segment on air to its deadline (its
  // ±1 min included; an over-run counts as ending now), then what is left of each
  // later segment as planned and extended. Returns ms, or null before the start.
  function projectedEnd(state, now) {
    var show = state.show, rd = state.rundown, segs = rd.segments;
    if (show.started_at == null) return null;
    if (show.ended_at != null) return show.ended_at;
    var end = now;
    if (rd.current != null) {
      end = Math.max(now, segs[rd.current].deadline || now);
      for (var i = rd.current + 1; i < segs.length; i++) {
        end += Math.max(0, (segs[i].planned_seconds + segs[i].extended_seconds) * 1000 - (segs[i]._aired_ms || 0));
      }
    }
    return end;
  }

  // Projected end minus planned end (start + every segment as planned), in ms:
  // > 0 behind. The over-run of the segment on air and every ±1 min move it, so it
  // never disagrees with the clock above it. 0 before the start.
  function driftMs(state, now) {
    var end = projectedEnd(state, now);
    if (end == null) return 0;
    var planned = 0;
    state.rundown.segments.forEach(function (s) { planned += s.planned_seconds * 1000; });
    return end - (state.show.started_at + planned);
  }

  // "14:05": a server time as the time of day in the show's zone (the browser's if unknown).
  function clockTime(ms, lang, timeZone) {
    var opts = {hour: "2-digit", minute: "2-digit", hour12: false};
    try {
      return new Date(ms).toLocaleTimeString(lang, Object.assign({timeZone: timeZone || undefined}, opts));
    } catch (e) {
      return new Date(ms).toLocaleTimeString(lang, opts);
    }
  }

  window.LiveTiming = {projectedEnd: projectedEnd, driftMs: driftMs, clockTime: clockTime};
})();
