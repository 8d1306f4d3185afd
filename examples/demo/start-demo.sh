#!/bin/bash
# Restart script of the demo entry. pcheck runs it with PS_PNAME, PS_PENT_ID, PS_OLD_PID,
# PS_RETRY_COUNT and PS_RESTART_COUNT set. Like any restart script, it starts the service
# detached (setsid, no inherited stdin/stdout) and exits; pcheck then looks for the process.
here=$(cd "$(dirname "$0")" && pwd)
echo "starting demo-service (retry ${PS_RETRY_COUNT:-0}, old pid ${PS_OLD_PID:-none})"
setsid "$here/demo-service" </dev/null >/dev/null 2>&1 &
