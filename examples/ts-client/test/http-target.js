// The local HTTP server that scripts/ts-client-test.sh points the client at.
// It listens on an ephemeral port on 127.0.0.1 only, prints "PORT <n>" once
// listening and "HIT <path>" for every request it serves (200 "ok"), so the
// script can tell which runs really reached it and which the proxy stopped.
"use strict";
const http = require("node:http");

const server = http.createServer((req, res) => {
  process.stdout.write(`HIT ${req.url}\n`);
  res.writeHead(200, { "content-type": "text/plain" });
  res.end("ok\n");
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
