#!/usr/bin/env bash
# A one-node Slurm cluster for the Slurm recipe's test, from Debian's
# slurm-wlm and munge, with slurmctld and slurmd started as root and no
# systemd (about 30 s). `.ci/slurm.sh start` installs what is missing,
# writes the configuration under $PSVEVAL_SLURM_DIR (default
# /tmp/psveval-slurm), starts munged, slurmctld and slurmd, and waits
# until the node is idle; `.ci/slurm.sh stop` stops all three.
set -euo pipefail
dir=${PSVEVAL_SLURM_DIR:-/tmp/psveval-slurm}
conf=/etc/slurm/slurm.conf

stop() {
  for d in slurmd slurmctld; do
    if [ -f "$dir/$d.pid" ]; then kill "$(cat "$dir/$d.pid")" 2>/dev/null || true; fi
    pkill -x "$d" 2>/dev/null || true
  done
  if [ -f "$dir/munged.pid" ]; then kill "$(cat "$dir/munged.pid")" 2>/dev/null || true; fi
  pkill -x munged 2>/dev/null || true
  # slurmctld takes a few seconds to save its state and exit: wait for all
  # three, so that nothing is left running once .ci/run returns.
  for _ in $(seq 1 100); do
    pgrep -x slurmd >/dev/null || pgrep -x slurmctld >/dev/null || pgrep -x munged >/dev/null || return 0
    sleep 0.2
  done
  echo "slurm.sh: slurmd, slurmctld or munged still running after 20 s" >&2
}

start() {
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq slurm-wlm munge >/dev/null
  fi
  stop
  rm -rf "$dir"
  mkdir -p "$dir/ctld" "$dir/spool" "$dir/log" "$dir/munge" /etc/slurm /etc/munge /var/log/munge /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown root:root /etc/munge/munge.key /etc/munge /var/log/munge /run/munge 2>/dev/null || true
  chmod 0400 /etc/munge/munge.key
  chmod 0700 /etc/munge /var/log/munge
  chmod 0755 /run/munge
  chown -R root:root /var/log/munge 2>/dev/null || true
  munged --force --pid-file="$dir/munged.pid"
  host=$(hostname -s)
  cpus=$(nproc)
  # Slurm 22.05 refuses CgroupPlugin=disabled: an empty cgroup.conf and
  # proctrack/linuxproc with task/none need no cgroup at all.
  : > /etc/slurm/cgroup.conf
  cat > "$conf" <<CONF
ClusterName=psveval
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=cred_expire=10
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
JobRequeue=1
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8
CONF
  slurmctld -i
  slurmd
  for _ in $(seq 120); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
      echo "slurm: node $host up ($cpus CPUs)"
      return 0
    fi
    sleep 0.5
  done
  echo "slurm: the node did not come up; logs in $dir/log" >&2
  tail -20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
  return 1
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
