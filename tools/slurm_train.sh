#!/usr/bin/env bash
# Train on a Slurm cluster (OpenMMLab form): one srun task per GPU, mmengine's `slurm` launcher.
#
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] \
#   bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args]
#
# GPUS tasks in all, GPUS_PER_NODE per node (GPUS > GPUS_PER_NODE spans nodes), CPUS_PER_TASK cores
# per task (data loader workers); SRUN_ARGS is split on spaces and passed to srun (e.g. "--qos=high
# --time=2-00:00:00"). MASTER_PORT (default 29500) picks the rendezvous port; PYTHON the interpreter.
set -e
if [[ $# -lt 4 ]]; then
  echo "usage: $0 PARTITION JOB_NAME CONFIG WORK_DIR [train.py args]" >&2
  exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
PYTHON=${PYTHON:-python}
read -r -a SRUN_EXTRA <<< "${SRUN_ARGS:-}"
if (( GPUS < GPUS_PER_NODE )); then GPUS_PER_NODE=$GPUS; fi

PYTHONPATH="$(dirname "$0")/..":${PYTHONPATH:-} \
exec srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    "${SRUN_EXTRA[@]}" \
    "$PYTHON" -u "$(dirname "$0")/train.py" "$CONFIG" --work-dir="$WORK_DIR" --launcher=slurm "${@:5}"
