#!/usr/bin/env bash
# A real Slurm test on one machine.
# 1. Starts a one-node cluster: Debian's munge and slurm-wlm, a generated slurm.conf on 127.0.0.1,
#    munged, slurmctld and slurmd, all in a temporary directory.
# 2. Submits deploy/slurm/sweep.sbatch as a 4-task array with `sbatch --wait`.
# 3. Merges the shards and compares the result, byte for byte, with the same sweep run in one
#    process.
# The daemons it started are stopped by their PIDs on exit. When the packages cannot be installed,
# it prints why and exits 0 (skipped). Usage: scripts/slurm-test.sh [path/to/optima-gym]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=${1:-$root/.build/release/optima-gym}
[ -x "$bin" ] || { echo "slurm-test: $bin not found; build with swift build -c release" >&2; exit 1; }
started=$(date +%s)

need=()
command -v slurmctld >/dev/null 2>&1 || need+=(slurm-wlm)
command -v munged >/dev/null 2>&1 || need+=(munge)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "slurm-test: installing ${need[*]}"
  if ! ( $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || { $sudo apt-get update -qq >/dev/null 2>&1 && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1; } ); then
    echo "slurm-test: SKIPPED: cannot install ${need[*]} with apt-get (no package source or no permission)"
    exit 0
  fi
fi

work=$(mktemp -d /tmp/optima-slurm.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# munge: its own key, socket and files under $work.
mkdir -p "$work/munge" "$work/state" "$work/spool" "$work/results"
chmod 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.socket" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed" --num-threads=2
for _ in $(seq 50); do [ -s "$work/munge/munged.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/munge/munged.pid")")

host=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
# Free ports for the two daemons.
port=$(( 20000 + RANDOM % 20000 ))
cat > "$work/slurm.conf" <<EOF
ClusterName=optima
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=$(id -un)
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
export SLURM_CONF=$work/slurm.conf
slurmctld -c -f "$SLURM_CONF"
for _ in $(seq 100); do [ -s "$work/slurmctld.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/slurmctld.pid")")
slurmd -f "$SLURM_CONF" -N "$host"
for _ in $(seq 100); do [ -s "$work/slurmd.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/slurmd.pid")")
for _ in $(seq 100); do sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && break; sleep 0.2; done
if ! sinfo -h -o %T | grep -qE '^(idle|mixed|allocated)'; then
  echo "slurm-test: FAILED: the node did not come up" >&2
  sinfo >&2 || true; tail -20 "$work/slurmctld.log" "$work/slurmd.log" >&2 || true
  exit 1
fi
echo "slurm-test: one-node cluster up in $(( $(date +%s) - started )) s ($(sinfo -h -o '%N %c CPUs %T'))"

# A small sweep (small_town, 2 x 2 random x 2 seeds = 8 cells), written next to the results.
sweep=$work/sweep.yaml
cat > "$sweep" <<EOF
name: slurm_check
base: $root/scenarios/small_town.yaml
set:
  training.episodes: 400
  evaluation.episodes: 400
  training.curve_window: 100
  evaluation.bootstrap_samples: 50
parameters:
  pairing.daily_exposure_budget: [1, 2]
  population.activity_mean: {uniform: [0.5, 1.5]}
samples: 2
seeds: {count: 2}
EOF
export OPTIMA_GYM=$bin
(cd "$work" && sbatch --wait --array=0-3 --cpus-per-task=1 --output="$work/task-%a.out" \
   "$root/deploy/slurm/sweep.sbatch" "$sweep" "$work/results" >/dev/null) || {
  echo "slurm-test: FAILED: the array job failed" >&2; cat "$work"/task-*.out >&2 || true; exit 1; }
"$bin" sweep merge "$work"/results/shard-* --out "$work/merged" >/dev/null
"$bin" sweep "$sweep" --out "$work/single" --quiet >/dev/null
status=0
for f in report.md cells.csv settings.csv; do
  cmp -s "$work/merged/$f" "$work/single/$f" || { echo "slurm-test: FAILED: $f differs between the Slurm merge and one process" >&2; status=1; }
done
diff -r -q -x sweep.json "$work/merged" "$work/single" >/dev/null || { echo "slurm-test: FAILED: the directories differ" >&2; diff -r -q -x sweep.json "$work/merged" "$work/single" >&2 || true; status=1; }
[ $status = 0 ] && echo "slurm-test: passed: 4-task array merged = one process, byte for byte ($(ls "$work/merged/cells" | wc -l) cells; $(( $(date +%s) - started )) s in all)"
exit $status
