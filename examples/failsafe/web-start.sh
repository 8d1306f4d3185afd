#!/bin/bash
# Start script of group "web", in the shape written for CLUSTERPRO / FailSafe: it branches on
# $CLP_EVENT and runs unchanged under procsafe, which also sets PS_EVENT and PS_GROUP.

if [ "$CLP_EVENT" = "START" ] || [ "$CLP_EVENT" = "RECOVER" ]; then
  echo "web: starting ($PS_EVENT)"
  setsid @NODE@ @WORK_DIR@/web-server.js 18080 </dev/null >/dev/null 2>&1 &
  echo $! > "@WORK_DIR@/web.pid"
  sleep 0.3
else
  echo NO_CLP
  exit 1
fi
exit 0
