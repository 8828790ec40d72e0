#!/bin/sh
# A single-node Slurm cluster in a private directory, for `make scale-check`:
# munged on its own socket, slurmctld and slurmd as root without systemd
# (proctrack/linuxproc, task/none), on ports no system Slurm uses.
#
#   slurm-cluster.sh start DIR   write DIR/slurm.conf, start the daemons, wait for the node
#   slurm-cluster.sh stop DIR    stop them (kill by pid file), keep DIR for the logs
#
# Clients need SLURM_CONF=DIR/slurm.conf. Needs root (slurmd runs jobs as
# their submitter) and Debian's slurm-wlm and munge.
set -eu
cmd=$1
dir=$(cd "$2" && pwd)

stop() {
    for p in slurmd slurmctld munged; do
        if [ -s "$dir/$p.pid" ]; then
            kill "$(cat "$dir/$p.pid")" 2>/dev/null || true
        fi
    done
    # the daemons remove their pid files as they go; give them a moment
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        alive=0
        for p in slurmd slurmctld munged; do
            [ -s "$dir/$p.pid" ] && kill -0 "$(cat "$dir/$p.pid")" 2>/dev/null && alive=1
        done
        [ $alive -eq 0 ] && return 0
        sleep 0.5
    done
    for p in slurmd slurmctld munged; do
        [ -s "$dir/$p.pid" ] && kill -9 "$(cat "$dir/$p.pid")" 2>/dev/null || true
    done
}

case $cmd in
stop) stop; exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac

[ "$(id -u)" -eq 0 ] || { echo "slurm-cluster: needs root (slurmd runs the jobs)" >&2; exit 2; }
host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"
# A fresh key for this cluster only: never the machine's /etc/munge key.
head -c 1024 /dev/urandom > "$dir/munge/munge.key"
chmod 600 "$dir/munge/munge.key"
munged --force --socket="$dir/munge/munge.sock" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed"

cat > "$dir/slurm.conf" <<CONF
ClusterName=audithound-scale
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.sock
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=scale Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$dir/slurm.conf"
slurmd -f "$dir/slurm.conf"
# Wait for the node to take jobs (idle), at most 60 s.
i=0
until sinfo -h -o '%t' 2>/dev/null | grep -q '^idle'; do
    i=$((i + 1))
    if [ $i -gt 120 ]; then
        echo "slurm-cluster: the node did not come up; logs in $dir" >&2
        sinfo 2>&1 | head -5 >&2 || true
        tail -5 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
        stop
        exit 1
    fi
    sleep 0.5
done
