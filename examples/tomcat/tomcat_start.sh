#!/bin/bash
# Restart script for Tomcat under procsafe (reference). pcheck waits RESTART_WAIT seconds
# for a java process whose command line contains "apache" and "tomcat" to appear.
# Start it detached and return at once; never `wait` for the JVM here.
export CATALINA_HOME=${CATALINA_HOME:-/opt/tomcat}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/default-java}
logger -t tomcat_start "procsafe restart of Tomcat (retry ${PS_RETRY_COUNT:-?}, old pid ${PS_OLD_PID:-none})"
setsid "$CATALINA_HOME/bin/startup.sh" </dev/null >/dev/null 2>&1 &
exit 0
