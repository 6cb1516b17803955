// Load client for scripts/bench: holds thousands of viewer sockets on one core
// and times answers and fan-out. Driven by the Python bench over stdin/stdout,
// one JSON object per line each way:
//
//   {"cmd":"open","url":"ws://…","tokens":["vw_…",…]}      hello + wait for snapshot
//   {"cmd":"open","url":"ws://…","count":10000}             raw sockets (no hello)
//     optional: "urls":[…] instead of "url" (socket i to urls[i % n]: several
//     servers), "per_address":100 with "first_address":0 (socket i from
//     127.0.x.y, the (first_address + i / per_address)-th loopback source
//     address as harness.source_address counts them), "keep":true (add to the
//     sockets held instead of replacing them)
//     → {"type":"opened","n":…,"seconds":…}
//   {"cmd":"burst","kind":"ping"}                            every socket pings at once
//   {"cmd":"burst","kind":"claim","sale_id":"fs12"}          … or claims at once
//     → {"type":"burst","latencies":[ms|null,…],"answers":[{ok,code,order_id}|null,…],
//        "wall_ms":…,"cpu_ms":…}
//   {"cmd":"fanout","match":"product.pinned","http":{url,method,headers,body}}
//   {"cmd":"fanout","match":"tick","send":"go"}              (raw floor: socket 0 sends)
//   {"cmd":"fanout","match":"product.pinned","wait":true}    (another client triggers it)
//     → {"type":"fanout","latencies":[…],"first":<socket 0's message>,"wall_ms":…,"cpu_ms":…}
//   {"cmd":"likes","seconds":60,"rate":10}                   every socket sends rate likes/s
//     → {"type":"likes","sent":…,"skipped":…,"late":…,"seconds":…,"cpu_ms":…}
//   {"cmd":"refused"}            → {"type":"refused","n":…}  likes error frames named as not
//     counted since the last "likes" (ask once the server has read them all)
//   {"cmd":"ask","send":"…","match":"count"}                 socket 0 sends, waits for its answer
//     → {"type":"ask","answer":<the message>}
//   {"cmd":"count"}              → {"type":"count","open":…}  (sockets still open)
//   {"cmd":"quiet","ms":500}     → {"type":"quiet"} once no socket got anything for 500 ms
//   {"cmd":"close"}
//
// A latency is from this process's own send (of the message, or of the
// command) to the moment the answer was parsed here, on the same clock.
// Only one burst or fan-out runs at a time; messages outside one are read
// and dropped (tickers, stock updates).
"use strict";

const readline = require("readline");
const WebSocket = require("ws");

const TIMEOUT_MS = 60_000;
let sockets = [];
let waiting = null; // {onMessage, onClose} while a burst or fan-out runs
let lastMessage = 0; // performance.now() of the last message any socket got
let closed = 0; // sockets closed since they opened

function reply(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

let refused = 0; // likes an error frame said were not counted (outside bursts and fan-outs too)

function sourceAddress(n) {
  n += 2;
  return `127.0.${n >> 8}.${n & 255}`;
}

function openOne(url, token, i, localAddress) {
  return new Promise((resolve, reject) => {
    const options = { perMessageDeflate: false, handshakeTimeout: 60_000 };
    if (localAddress) options.localAddress = localAddress;
    const ws = new WebSocket(url, options);
    let ready = false;
    ws.on("open", () => {
      if (token === undefined) {
        ready = true;
        resolve(ws);
      } else {
        ws.send(JSON.stringify({ type: "hello", token }));
      }
    });
    ws.on("message", (data) => {
      if (!ready) {
        const msg = JSON.parse(data);
        if (msg.type === "snapshot") {
          ready = true;
          resolve(ws);
        } else if (msg.type === "error") {
          reject(new Error(`socket ${i}: ${msg.code} ${msg.message}`));
        }
        return;
      }
      lastMessage = performance.now();
      if (waiting !== null) waiting.onMessage(i, data, lastMessage);
      else if (data.length < 300 && data.includes("RATE_LIMITED")) {
        const m = /: (\d+) of \d+ were not counted/.exec(data.toString());
        refused += m ? Number(m[1]) : 1;
      }
    });
    ws.on("error", (err) => { if (!ready) reject(err); });
    ws.on("close", () => { closed++; if (waiting !== null) waiting.onClose(i); });
  });
}

async function open(cmd) {
  const t0 = performance.now();
  const n = cmd.tokens ? cmd.tokens.length : cmd.count;
  const out = new Array(n);
  const urls = cmd.urls || [cmd.url];
  const base = cmd.keep ? sockets.length : 0;
  let next = 0;
  // A bounded number of handshakes in flight: a SYN flood of 10,000 would
  // overflow the server's accept backlog and measure retransmits instead.
  async function worker() {
    while (next < n) {
      const i = next++;
      const local = cmd.per_address ? sourceAddress((cmd.first_address || 0) + Math.floor(i / cmd.per_address)) : null;
      out[i] = await openOne(urls[i % urls.length], cmd.tokens ? cmd.tokens[i] : undefined, base + i, local);
    }
  }
  await Promise.all(Array.from({ length: cmd.concurrency || 200 }, worker));
  sockets = cmd.keep ? sockets.concat(out) : out;
  reply({ type: "opened", n, seconds: (performance.now() - t0) / 1000 });
}

// Runs ``start`` (which sends) and resolves once every socket has its answer,
// or TIMEOUT_MS passed (then the unanswered ones stay null).
function collect(matches, start) {
  return new Promise((resolve) => {
    const n = sockets.length;
    const latencies = new Array(n).fill(null);
    const answers = new Array(n).fill(null);
    const t0 = new Array(n).fill(0);
    let pending = n;
    const cpu0 = process.cpuUsage();
    let wall0 = 0;
    let timer = null;
    function finish() {
      clearTimeout(timer);
      waiting = null;
      const cpu = process.cpuUsage(cpu0);
      resolve({ latencies, answers, wall_ms: performance.now() - wall0, cpu_ms: (cpu.user + cpu.system) / 1000 });
    }
    waiting = {
      onMessage(i, data, now) {
        if (latencies[i] !== null) return;
        const msg = JSON.parse(data);
        if (!matches(i, msg)) return;
        latencies[i] = now - t0[i];
        answers[i] = msg;
        if (--pending === 0) finish();
      },
      onClose(i) {
        if (latencies[i] === null && answers[i] === null) {
          answers[i] = { type: "closed" };
          if (--pending === 0) finish();
        }
      },
    };
    timer = setTimeout(finish, TIMEOUT_MS);
    wall0 = performance.now();
    start(t0);
  });
}

async function burst(cmd) {
  const texts = sockets.map((_, i) => JSON.stringify(
    cmd.kind === "ping"
      ? { type: "ping", t: i }
      : { type: "claim", sale_id: cmd.sale_id, qty: 1, request_id: `${cmd.sale_id}-${i}` }));
  const answer = cmd.kind === "ping" ? "pong" : "claim.result";
  const result = await collect(
    (i, msg) => msg.type === "error" || (msg.type === answer && (answer === "pong" || msg.request_id === `${cmd.sale_id}-${i}`)),
    (t0) => {
      for (let i = 0; i < sockets.length; i++) {
        t0[i] = performance.now();
        sockets[i].send(texts[i]);
      }
    });
  // Only what the bench checks goes back (10,000 full answers is needless JSON).
  result.answers = result.answers.map((a) => a && { type: a.type, ok: a.ok, code: a.code, order_id: a.order_id });
  reply({ type: "burst", ...result });
}

async function fanout(cmd) {
  const result = await collect(
    (i, msg) => msg.type === cmd.match,
    (t0) => {
      const now = performance.now();
      t0.fill(now);
      if (cmd.wait) {
        // another load client sends the trigger
      } else if (cmd.http) {
        const { url, method, headers, body } = cmd.http;
        fetch(url, { method, headers, body }).then(async (r) => {
          if (!r.ok) reply({ type: "log", message: `trigger answered ${r.status}: ${await r.text()}` });
        }, (err) => reply({ type: "log", message: `trigger failed: ${err}` }));
      } else {
        sockets[0].send(cmd.send);
      }
    });
  result.first = result.answers[0];
  delete result.answers;
  reply({ type: "fanout", ...result });
}

// Every socket sends ``rate`` likes a second for ``seconds``, in ticks of
// ``tick_ms`` (default 200) with the sockets' turns spread over the tick (a
// steady stream, not a burst each tick). A socket's likes of one tick are
// separate frames written together (corked: one write for them, as a busy
// client's would be), so the client's cost per like stays below the server's.
// A socket whose buffer backs up (the server not reading) skips its turn:
// what was sent is counted, not what was meant to be.
async function likes(cmd) {
  const text = JSON.stringify({ type: "like", count: 1 });
  const tickMs = cmd.tick_ms || 200;
  const perTick = cmd.rate * tickMs / 1000;
  const slices = 10;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + cmd.seconds * 1000;
  let sent = 0;
  let skipped = 0;
  let late = 0; // slices that began after their time (this client the limit)
  refused = 0;
  let tick = 0;
  let owed = 0;
  while (performance.now() < end) {
    owed += perTick;
    const k = Math.floor(owed);
    owed -= k;
    for (let s = 0; s < slices; s++) {
      const from = Math.floor(sockets.length * s / slices);
      const to = Math.floor(sockets.length * (s + 1) / slices);
      for (let i = from; i < to; i++) {
        const ws = sockets[i];
        if (ws.readyState !== WebSocket.OPEN || ws.bufferedAmount > 65536) { skipped += k; continue; }
        const raw = ws._socket;
        raw.cork();
        for (let j = 0; j < k; j++) ws.send(text);
        process.nextTick(() => raw.uncork());
        sent += k;
      }
      const due = t0 + tick * tickMs + (s + 1) * tickMs / slices;
      const wait = due - performance.now();
      if (wait < 0) late++;
      await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    }
    tick++;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  reply({ type: "likes", sent, skipped, late, seconds, cpu_ms: (cpu.user + cpu.system) / 1000 });
}

async function ask(cmd) {
  const answer = await new Promise((resolve) => {
    const timer = setTimeout(() => { waiting = null; resolve(null); }, TIMEOUT_MS);
    waiting = {
      onMessage(i, data) {
        if (i !== 0) return;
        const msg = JSON.parse(data);
        if (msg.type === cmd.match) { clearTimeout(timer); waiting = null; resolve(msg); }
      },
      onClose() {},
    };
    sockets[0].send(cmd.send);
  });
  reply({ type: "ask", answer });
}

async function quiet(cmd) {
  lastMessage = performance.now();
  while (performance.now() - lastMessage < cmd.ms) {
    await new Promise((r) => setTimeout(r, Math.max(1, cmd.ms - (performance.now() - lastMessage))));
  }
  reply({ type: "quiet" });
}

async function main() {
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const cmd = JSON.parse(line);
    try {
      if (cmd.cmd === "open") await open(cmd);
      else if (cmd.cmd === "burst") await burst(cmd);
      else if (cmd.cmd === "fanout") await fanout(cmd);
      else if (cmd.cmd === "quiet") await quiet(cmd);
      else if (cmd.cmd === "likes") await likes(cmd);
      else if (cmd.cmd === "ask") await ask(cmd);
      else if (cmd.cmd === "refused") reply({ type: "refused", n: refused });
      else if (cmd.cmd === "count") reply({ type: "count", open: sockets.filter((w) => w.readyState === WebSocket.OPEN).length, closed });
      else if (cmd.cmd === "close") break;
      else reply({ type: "failed", message: `unknown cmd ${cmd.cmd}` });
    } catch (err) {
      reply({ type: "failed", message: String(err && err.stack || err) });
    }
  }
  for (const ws of sockets) ws.terminate();
  process.exit(0);
}

main();
