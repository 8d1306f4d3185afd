#!/bin/bash
# Restart script for Tomcat under procsafe (the construction guide's example). pcheck runs it
# when the java process is gone, then waits RESTART_WAIT seconds for a java process whose
# command line contains "apache" and "tomcat". It starts Tomcat detached and returns at once:
# never `wait` for the JVM here.
#
# pcheck gives scripts a clean environment (PATH, LANG, TZ and PS_*), so Tomcat's location is
# set here, not in the shell that starts pcheck: a tarball in /opt/tomcat, or Debian's
# tomcat10 package (CATALINA_HOME /usr/share/tomcat10, CATALINA_BASE /var/lib/tomcat10).
# Tomcat finds java on PATH; set JAVA_HOME here if yours is elsewhere.
if [ -z "${CATALINA_HOME:-}" ]; then
  if [ -x /opt/tomcat/bin/startup.sh ]; then
    CATALINA_HOME=/opt/tomcat
  elif [ -x /usr/share/tomcat10/bin/startup.sh ]; then
    CATALINA_HOME=/usr/share/tomcat10
    CATALINA_BASE=${CATALINA_BASE:-/var/lib/tomcat10}
  else
    echo "tomcat_start.sh: no Tomcat in /opt/tomcat or /usr/share/tomcat10: set CATALINA_HOME in $0" >&2
    exit 1
  fi
fi
export CATALINA_HOME CATALINA_BASE=${CATALINA_BASE:-$CATALINA_HOME}
echo "starting Tomcat from $CATALINA_BASE (retry ${PS_RETRY_COUNT:-?}, old pid ${PS_OLD_PID:-none})"
setsid "$CATALINA_HOME/bin/startup.sh" </dev/null >/dev/null 2>&1 &
exit 0
