// The example stack's web service: answers 200 "ok" until someone GETs /break, then 500.
'use strict';
const http = require('node:http');
const port = Number(process.argv[2] || 18080);
let broken = false;
http
  .createServer((req, res) => {
    if (req.url === '/break') broken = true;
    res.writeHead(broken ? 500 : 200, { 'content-type': 'text/plain' });
    res.end(broken ? 'broken\n' : 'ok\n');
  })
  .listen(port, '127.0.0.1');
