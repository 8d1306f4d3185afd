#!/bin/bash
# Restart script of the web.pfile entry: procsafe restarts the web server in place first;
# only when that does not help (retry-over `group`) is the whole group restarted.

setsid @NODE@ @WORK_DIR@/web-server.js 18080 </dev/null >/dev/null 2>&1 &
echo $! > "@WORK_DIR@/web.pid"
