#!/bin/bash
# Start script of group "worker": a background worker that writes a pid file.

echo "worker: starting ($PS_EVENT)"
setsid bash -c 'exec -a procsafe-example-worker sleep infinity' </dev/null >/dev/null 2>&1 &
echo $! > "@WORK_DIR@/worker.pid"
