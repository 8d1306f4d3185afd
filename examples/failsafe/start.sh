#! /bin/sh
#***************************************
#*              start.sh               *
#***************************************
# The start.sh CLUSTERPRO generates for an exec resource (here: exec-web of group web), with
# the application's start filled in where the template says NORMAL2 and FAILOVER2, and
# clplogcmd where the template echoes. procsafe runs it unchanged: CLP_EVENT=START,
# CLP_DISK=SUCCESS, CLP_SERVER=HOME (PS_EVENT says START or RESTART); clplogcmd writes into
# procsafe's log.

#ulimit -s unlimited

if [ "$CLP_EVENT" = "START" ]
then
	if [ "$CLP_DISK" = "SUCCESS" ]
	then
		echo "NORMAL1"
		if [ "$CLP_SERVER" = "HOME" ]
		then
			echo "NORMAL2"
			clplogcmd -m "start.sh: starting the web server" -l INFO
			setsid @NODE@ @WORK_DIR@/web-server.js 18080 </dev/null >/dev/null 2>&1 &
			echo $! > "@WORK_DIR@/web.pid"
		else
			echo "ON_OTHER1"
		fi
	else
		echo "ERROR_DISK from START"
		clplogcmd -m "start.sh: disk error, not started" -l ERR
		exit 1
	fi
elif [ "$CLP_EVENT" = "FAILOVER" ]
then
	if [ "$CLP_DISK" = "SUCCESS" ]
	then
		echo "FAILOVER1"
		if [ "$CLP_SERVER" = "HOME" ]
		then
			echo "FAILOVER2"
			clplogcmd -m "start.sh: starting the web server (failover)" -l INFO
			setsid @NODE@ @WORK_DIR@/web-server.js 18080 </dev/null >/dev/null 2>&1 &
			echo $! > "@WORK_DIR@/web.pid"
		else
			echo "ON_OTHER2"
		fi
	else
		echo "ERROR_DISK from FAILOVER"
		clplogcmd -m "start.sh: disk error, not started" -l ERR
		exit 1
	fi
else
	echo "NO_CLP"
	clplogcmd -m "start.sh: not started by the cluster (NO_CLP)" -l ERR
	exit 1
fi
echo "EXIT"
exit 0
