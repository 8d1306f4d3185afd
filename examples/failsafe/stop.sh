#! /bin/sh
#***************************************
#*               stop.sh               *
#***************************************
# The stop.sh CLUSTERPRO generates for an exec resource (here: exec-web of group web), with
# the application's stop filled in. Like start.sh it branches on CLP_EVENT: procsafe passes
# START to stop scripts too (PS_EVENT says STOP or RESTART).

#ulimit -s unlimited

if [ "$CLP_EVENT" = "START" ]
then
	if [ "$CLP_DISK" = "SUCCESS" ]
	then
		echo "NORMAL1"
		if [ "$CLP_SERVER" = "HOME" ]
		then
			echo "NORMAL2"
			clplogcmd -m "stop.sh: stopping the web server" -l INFO
			if [ -f "@WORK_DIR@/web.pid" ]; then kill "$(cat "@WORK_DIR@/web.pid")" 2>/dev/null; rm -f "@WORK_DIR@/web.pid"; fi
		else
			echo "ON_OTHER1"
		fi
	else
		echo "ERROR_DISK from START"
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
			clplogcmd -m "stop.sh: stopping the web server (failover)" -l INFO
			if [ -f "@WORK_DIR@/web.pid" ]; then kill "$(cat "@WORK_DIR@/web.pid")" 2>/dev/null; rm -f "@WORK_DIR@/web.pid"; fi
		else
			echo "ON_OTHER2"
		fi
	else
		echo "ERROR_DISK from FAILOVER"
		exit 1
	fi
else
	echo "NO_CLP"
	clplogcmd -m "stop.sh: not stopped by the cluster (NO_CLP)" -l ERR
	exit 1
fi
echo "EXIT"
exit 0
