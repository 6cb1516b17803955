// The Node peer for the fan-out bench: a plain `ws` broadcast server.
//
//   node floor_server.js PORT
//
// Keeps every socket; any message a socket sends goes, as is, to every socket
// held (the sender included). No compression, 64 KiB messages, like server.py.
// Prints "ready" once listening.
"use strict";

const { WebSocketServer } = require("ws");

const port = Number(process.argv[2]);
const wss = new WebSocketServer({ host: "127.0.0.1", port, perMessageDeflate: false, maxPayload: 64 * 1024, backlog: 1024 });
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => {
    for (const client of wss.clients) client.send(data, { binary: isBinary });
  });
});
wss.on("listening", () => process.stdout.write("ready\n"));
process.on("SIGINT", () => process.exit(0));
process.on("SIGTERM", () => process.exit(0));
