#!/usr/bin/env bash
# A suite as a Slurm array job on a real Slurm: a single-node cluster made here (Debian 12's
# slurm-wlm and munge; this host, its CPUs, no GPUs — lavapipe runs on the CPU), a tiny suite
# (2 replicates = 2 array tasks, 2 configurations, 1 epoch, a small synthetic set), submitted with
# the sbatch script `halfwatt suite --slurm` writes; then merge, report, and the resubmission of a
# lost task with the one command merge prints. Every daemon this script starts is stopped on exit.
#
# Usage (as root, on Debian 12, after `npm run build`): scripts/slurm-check.sh
#   KEEP=1 keeps the work folder (logs, stores, report); SLURM_CHECK_TIMEOUT=seconds per array wait.
set -euo pipefail

say() { printf 'slurm-check: %s\n' "$*" >&2; }
fail() {
  say "FAILED: $*"
  exit 1
}

[ "$(id -u)" = 0 ] || fail "run as root (it installs packages and starts slurmctld, slurmd and munged)"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="/usr/local/bin:$PATH"
NODE=$(command -v node)
CLI="$ROOT/dist/src/cli/main.js"
[ -f "$CLI" ] || fail "$CLI is missing: run npm run build first"
TIMEOUT=${SLURM_CHECK_TIMEOUT:-900}

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurm-wlm and munge"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge >/dev/null
fi

# The work folder is under /tmp, seen by the one node: the shared filesystem a cluster would have.
WORK=$(mktemp -d /tmp/halfwatt-slurm-check.XXXXXX)
chmod 755 "$WORK"
export SLURM_CONF="$WORK/slurm.conf"
STARTED_MUNGE=0
cleanup() {
  local status=$?
  set +e
  # Only what this script started: the jobs of its own cluster (SLURM_CONF names its controller),
  # given a moment to end, then the daemons by the pids they recorded.
  if [ -s "$WORK/slurmctld.pid" ]; then
    squeue -h -o %A 2>/dev/null | xargs -r scancel 2>/dev/null
    for _ in $(seq 20); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.5; done
  fi
  for pidfile in "$WORK/slurmd.pid" "$WORK/slurmctld.pid"; do
    [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
  done
  if [ "$STARTED_MUNGE" = 1 ] && [ -s /run/munge/munged.pid ]; then kill "$(cat /run/munge/munged.pid)" 2>/dev/null; fi
  # Give them a moment to exit before the folder they write into goes.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    local alive=0
    for pidfile in "$WORK/slurmd.pid" "$WORK/slurmctld.pid"; do
      [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && alive=1
    done
    [ "$alive" = 0 ] && break
    sleep 0.5
  done
  if [ "${KEEP:-0}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$status"
}
trap cleanup EXIT INT TERM

# munge: the key the package made (or a new one), and the daemon unless one already runs.
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
fi
if ! munge -n >/dev/null 2>&1; then
  mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
  runuser -u munge -- /usr/sbin/munged
  STARTED_MUNGE=1
  for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n >/dev/null 2>&1 || fail "munged did not start"
fi

# A minimal single-node cluster: this host with its CPUs and memory as slurmd sees them, no GPUs,
# no cgroups or accounting (a container may have neither), daemons and jobs as root.
HOST=$(hostname -s)
NODELINE=$(slurmd -C | head -n 1)
mkdir -p "$WORK/state" "$WORK/spool"
cat >"$SLURM_CONF" <<EOF
ClusterName=halfwatt-check
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
$NODELINE State=UNKNOWN
PartitionName=check Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF

say "starting slurmctld and slurmd ($NODELINE)"
slurmctld -c -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
  state=$(sinfo -h -N -o %t 2>/dev/null | head -n 1 || true)
  [ "$state" = idle ] && break
  sleep 1
done
[ "${state:-}" = idle ] || fail "the node is '${state:-unknown}', not idle (see $WORK/slurmctld.log, slurmd.log)"

# The tiny suite.
cat >"$WORK/tiny.json" <<'EOF'
{
  "name": "slurm-check",
  "data": "synthetic:classes=3,size=8,train=48,valid=16,test=16,seed=7",
  "replicates": 2,
  "epochs": 1,
  "optimizer": { "name": "adam", "lr": 0.003 },
  "configurations": [
    { "precision": "f32", "batch": 16, "neurons": [8] },
    { "precision": "mixed", "batch": 16, "neurons": [8] }
  ],
  "baselineSeconds": 0.2,
  "cooldown": { "withinCelsius": 3, "maxSeconds": 0 },
  "carbon": { "intensity": 268 }
}
EOF

halfwatt() { "$NODE" "$CLI" "$@"; }
JOBDIR="$WORK/job"
halfwatt suite "$WORK/tiny.json" --slurm --out "$JOBDIR" --gpus-per-task 0 --cpus-per-task 1 \
  --time 00:30:00 --partition check --cache-dir "$WORK/cache"

# Waits for array job $1 to leave the queue.
wait_for() {
  local waited=0
  [[ "$1" =~ ^[0-9]+$ ]] || fail "not a job id: '$1'"
  while [ -n "$(squeue -h -j "$1" 2>/dev/null)" ]; do
    [ "$waited" -ge "$TIMEOUT" ] && fail "job $1 still queued or running after ${TIMEOUT} s"
    sleep 2
    waited=$((waited + 2))
  done
}
show_logs() { for f in "$JOBDIR"/logs/*; do say "--- $f"; cat "$f" >&2; done; }

started=$(date +%s)
JOB=$(sbatch --parsable "$JOBDIR/suite.sbatch")
say "submitted array job $JOB"
wait_for "$JOB"
say "array done in $(($(date +%s) - started)) s"
ls "$JOBDIR"/tasks/task-0.db "$JOBDIR"/tasks/task-1.db >/dev/null || {
  show_logs
  fail "a task wrote no store"
}

MERGED="$JOBDIR/suite.db"
halfwatt merge "$JOBDIR"/tasks/*.db --out "$MERGED" || {
  show_logs
  fail "merge found incomplete tasks"
}

# A lost task: merge lists it and prints the one command that reruns it alone.
mv "$JOBDIR/tasks/task-1.db" "$WORK/task-1.lost.db"
set +e
halfwatt merge "$JOBDIR"/tasks/*.db --out "$MERGED" --force --json >"$WORK/merge-lost.json"
lost_status=$?
set -e
[ "$lost_status" = 1 ] || fail "merge without task 1 exited $lost_status, not 1"
resubmit=$("$NODE" -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.stdout.write(r.resubmit ?? "")' "$WORK/merge-lost.json")
[ "$resubmit" = "sbatch --array=1 $JOBDIR/suite.sbatch" ] || fail "resubmit command: '$resubmit'"
say "resubmitting: $resubmit"
read -ra command <<<"$resubmit"
# --parsable before the script's path: options after it would go to the script.
JOB=$("${command[0]}" --parsable "${command[@]:1}")
wait_for "$JOB"
halfwatt merge "$JOBDIR"/tasks/*.db --out "$MERGED" --force --json >"$WORK/merge.json" || {
  show_logs
  fail "merge after the resubmission found incomplete tasks"
}

halfwatt report "$MERGED" --out "$JOBDIR/report" >/dev/null
[ -s "$JOBDIR/report/report.html" ] || fail "no report.html"
"$NODE" - "$MERGED" "$CLI" <<'EOF'
// Every planned run completed once, on this node, in a store that passes SQLite's own check.
const { createRequire } = require("node:module");
const Database = createRequire(process.argv[3])("better-sqlite3");
const db = new Database(process.argv[2], { readonly: true });
const plan = JSON.parse(db.prepare("SELECT plan FROM suites").pluck().get());
const runs = db.prepare("SELECT plan_index, status, env FROM runs").all();
const done = runs.filter((r) => r.status === "completed");
const problems = [];
if (db.pragma("integrity_check", { simple: true }) !== "ok") problems.push("integrity_check failed");
if (plan.length !== 4) problems.push(`plan of ${plan.length} runs, not 4`);
if (new Set(done.map((r) => r.plan_index)).size !== plan.length || done.length !== plan.length)
  problems.push(`${done.length} completed runs for ${plan.length} planned`);
const hosts = new Set(done.map((r) => JSON.parse(r.env).hostname));
if (hosts.size !== 1) problems.push(`hosts ${[...hosts].join(", ")}`);
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.error(`slurm-check: ${done.length}/${plan.length} runs completed on ${[...hosts][0]}`);
EOF
say "ok: array job, merge, resubmission of a lost task, report ($(($(date +%s) - started)) s)"
