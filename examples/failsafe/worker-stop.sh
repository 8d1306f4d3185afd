#!/bin/bash

echo "worker: stopping ($PS_EVENT)"
if [ -f "@WORK_DIR@/worker.pid" ]; then kill "$(cat "@WORK_DIR@/worker.pid")" 2>/dev/null; rm -f "@WORK_DIR@/worker.pid"; fi
exit 0
