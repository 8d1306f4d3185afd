#!/bin/bash
# Stop script of group "web".

echo "web: stopping ($PS_EVENT)"
if [ -f "@WORK_DIR@/web.pid" ]; then kill "$(cat "@WORK_DIR@/web.pid")" 2>/dev/null; rm -f "@WORK_DIR@/web.pid"; fi
exit 0
