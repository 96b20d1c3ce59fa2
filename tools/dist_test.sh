#!/usr/bin/env bash
# Distributed testing with torchrun:  bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args]
set -e
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
if [[ -z "$CONFIG" || -z "$CHECKPOINT" || -z "$NPROC" ]]; then
  echo "usage: $0 CONFIG CHECKPOINT NPROC [test.py args]" >&2
  exit 2
fi
PYTHONPATH="$(dirname "$0")/..":${PYTHONPATH:-} \
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" \
    --master_port="$PORT" \
    "$(dirname "$0")/test.py" \
    "$CONFIG" \
    "$CHECKPOINT" \
    --launcher pytorch "${@:4}"
