#!/usr/bin/env bash
# Evaluate a checkpoint on a Slurm cluster (OpenMMLab form): one srun task per GPU.
#
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] \
#   bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]
#
# Variables as in tools/slurm_train.sh.
set -e
if [[ $# -lt 4 ]]; then
  echo "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]" >&2
  exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
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
    "$PYTHON" -u "$(dirname "$0")/test.py" "$CONFIG" "$CHECKPOINT" --launcher=slurm "${@:5}"
