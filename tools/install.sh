#!/usr/bin/env bash
# One-command environment for grass_mm.
#
#   bash tools/install.sh            # creates ./.venv and installs everything (idempotent)
#
# Environment variables:
#   GRASS_VENV        virtual environment to create/use            (default: <repo>/.venv)
#   GRASS_PYTHON      interpreter used to create it                (default: python3.11, else python3)
#   GRASS_TORCH_SPEC  pip requirement(s) for torch when torch is missing
#                     (default: "torch==2.14.1 torchvision==0.29.1"); an already installed torch is kept
#   GRASS_CACHE       where the compiled mmcv wheel is kept        (default: ~/.cache/grass_mm)
#   MAX_JOBS          parallel compile jobs for mmcv               (default: number of cores)
#   FORCE_CUDA=1      build mmcv's CUDA ops even if no GPU is visible (needs nvcc)
#
# mmcv 2.1.0 (the newest that mmsegmentation 1.2.2 accepts) has no wheel for recent torch, so it is
# compiled from its PyPI sdist once (about 10-50 minutes on 2 cores) and the wheel is cached per
# (torch version, CPU/CUDA) in $GRASS_CACHE; later runs reuse it and finish in well under a minute.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${GRASS_VENV:-$REPO/.venv}"
CACHE="${GRASS_CACHE:-$HOME/.cache/grass_mm}"
TORCH_SPEC="${GRASS_TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1}"
MMCV_VERSION=2.1.0
T0=$(date +%s)

say() { printf '[install %4ds] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }

if [[ -z "${GRASS_PYTHON:-}" ]]; then
  if command -v python3.11 >/dev/null; then GRASS_PYTHON=python3.11; else GRASS_PYTHON=python3; fi
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  say "creating virtual environment $VENV with $GRASS_PYTHON"
  "$GRASS_PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

have() { "$PY" - "$@" <<'PYEOF' >/dev/null 2>&1
import importlib.metadata as md, sys
from packaging.requirements import Requirement
for spec in sys.argv[1:]:
    r = Requirement(spec)
    v = md.version(r.name)
    if r.specifier and not r.specifier.contains(v, prereleases=True):
        sys.exit(1)
PYEOF
}


if "$PY" -c "import torch" >/dev/null 2>&1; then
  say "torch $("$PY" -c 'import torch;print(torch.__version__)') already installed: keeping it"
else
  say "installing $TORCH_SPEC"
  # shellcheck disable=SC2086
  "${PIP[@]}" install -q $TORCH_SPEC
fi
if ! "$PY" -c "import torchvision" >/dev/null 2>&1; then
  say "installing torchvision matching the installed torch"
  "${PIP[@]}" install -q torchvision
fi

# torch pulls the newest setuptools; mmcv's setup.py needs pkg_resources (setuptools < 82)
if ! have "setuptools<82" wheel ninja packaging; then
  say "build tools (setuptools<82, wheel, ninja)"
  "${PIP[@]}" install -q "setuptools>=64,<82" wheel ninja packaging
fi

# ---------------------------------------------------------------- mmcv with compiled ops
mmcv_ok() {
  "$PY" - <<PYEOF >/dev/null 2>&1
import mmcv, torch
assert mmcv.__version__ == '$MMCV_VERSION', mmcv.__version__
from mmcv.ops import nms  # compiled extension present
import mmcv._ext
PYEOF
}
if mmcv_ok; then
  say "mmcv $MMCV_VERSION with compiled ops already installed"
else
  read -r TORCH_VER CUDA_TAG CXXSTD < <("$PY" - <<'PYEOF'
import os, torch
v = torch.__version__.split('+')[0]
major, minor = (int(x) for x in v.split('.')[:2])
cuda = torch.version.cuda and (torch.cuda.is_available() or os.environ.get('FORCE_CUDA') == '1')
tag = 'cu' + torch.version.cuda.replace('.', '') if cuda else 'cpu'
std = 'c++20' if (major, minor) >= (2, 14) else 'c++17'
print(v, tag, std)
PYEOF
)
  WHEEL_DIR="$CACHE/wheels/torch-$TORCH_VER-$CUDA_TAG"
  mkdir -p "$WHEEL_DIR"
  WHEEL=$(ls "$WHEEL_DIR"/mmcv-$MMCV_VERSION-*.whl 2>/dev/null | head -n1 || true)
  if [[ -z "$WHEEL" ]]; then
    say "mmcv $MMCV_VERSION: no cached wheel for torch $TORCH_VER ($CUDA_TAG); compiling it from the sdist"
    say "this is the long step: about 10-50 minutes on 2 cores (progress every 30 s, log in $CACHE/mmcv-build.log)"
    SRC_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/grass-mmcv-XXXXXX")
    "${PIP[@]}" download -q --no-deps --no-build-isolation --no-binary :all: "mmcv==$MMCV_VERSION" -d "$SRC_ROOT"
    tar -xzf "$SRC_ROOT"/mmcv-$MMCV_VERSION.tar.gz -C "$SRC_ROOT"
    SRC="$SRC_ROOT/mmcv-$MMCV_VERSION"
    if [[ "$CXXSTD" != c++17 ]]; then
      say "torch $TORCH_VER headers need $CXXSTD: patching mmcv's hard-coded -std=c++17"
      sed -i "s/-std=c++17/-std=$CXXSTD/g; s/'c++17'/'$CXXSTD'/g" "$SRC/setup.py"
    fi
    (
      cd "$SRC"
      export MAX_JOBS="${MAX_JOBS:-$(nproc)}" MMCV_WITH_OPS=1
      [[ $CUDA_TAG == cpu ]] && export FORCE_CUDA=0 || export FORCE_CUDA=1
      "$PY" -m pip --disable-pip-version-check wheel -v --no-build-isolation --no-deps . -w "$SRC/dist" \
        >"$CACHE/mmcv-build.log" 2>&1
    ) &
    BUILD_PID=$!
    while kill -0 "$BUILD_PID" 2>/dev/null; do
      sleep 30
      STEP=$(grep -o '^ *\[[0-9]*/[0-9]*\]' "$CACHE/mmcv-build.log" 2>/dev/null | tail -n1 | tr -d ' []' || true)
      say "mmcv build: ${STEP:-preparing} compile steps done"
    done
    if ! wait "$BUILD_PID"; then
      tail -n 40 "$CACHE/mmcv-build.log" >&2
      echo "install: compiling mmcv $MMCV_VERSION failed; full log: $CACHE/mmcv-build.log" >&2
      exit 1
    fi
    cp "$SRC"/dist/mmcv-$MMCV_VERSION-*.whl "$WHEEL_DIR"/
    rm -rf "$SRC_ROOT"
    WHEEL=$(ls "$WHEEL_DIR"/mmcv-$MMCV_VERSION-*.whl | head -n1)
    say "mmcv wheel cached at $WHEEL"
  else
    say "using cached mmcv wheel $WHEEL"
  fi
  "${PIP[@]}" install -q --no-deps --force-reinstall "$WHEEL"
  # mmcv's own pure-python requirements
  "${PIP[@]}" install -q addict "mmengine>=0.10.7,<0.11" opencv-python-headless pyyaml yapf packaging Pillow
  mmcv_ok || { echo "install: mmcv installed but its compiled ops do not import" >&2; exit 1; }
fi

# ---------------------------------------------------------------- the OpenMMLab stack and grass_mm
if have "mmengine>=0.10.7,<0.11" "mmsegmentation==1.2.2" "mmpretrain==1.2.0" "openmim==0.3.9" pytest ftfy regex \
        scikit-image scipy matplotlib grass_mm 2>/dev/null \
   && [[ "$("$PY" -c 'import grass_mm,os;print(os.path.dirname(os.path.dirname(grass_mm.__file__)))' 2>/dev/null)" == "$REPO" ]] \
   && [[ -L "$REPO/grass_mm/.mim/configs" && -L "$REPO/grass_mm/.mim/tools" ]]; then
  say "mmengine, mmsegmentation, mmpretrain, openmim and grass_mm (editable) already installed"
else
  # setup.py links configs/, tools/ and model-index.yml into grass_mm/.mim (grass_mm:: configs, mim train grass_mm)
  say "installing mmengine, mmsegmentation 1.2.2, mmpretrain 1.2.0, openmim and grass_mm (editable, with tests extra)"
  "${PIP[@]}" install -q -e "$REPO[tests]" "openmim==0.3.9"
  [[ -L "$REPO/grass_mm/.mim/configs" && -L "$REPO/grass_mm/.mim/tools" ]] \
    || { echo "install: setup.py did not link configs/ and tools/ into grass_mm/.mim" >&2; exit 1; }
fi

# ---------------------------------------------------------------- lint tools (ruff.toml, .codespellrc)
# same pins as .pre-commit-config.yaml
LINT_PINS=("ruff==0.17.6" "codespell==2.4.3")
if have "${LINT_PINS[@]}"; then
  say "lint tools (${LINT_PINS[*]}) already installed"
else
  say "installing lint tools ${LINT_PINS[*]}"
  "${PIP[@]}" install -q "${LINT_PINS[@]}"
fi

say "checking the environment"
"$PY" - <<'PYEOF'
import torch, torchvision, mmcv, mmengine, mmseg, mmpretrain, grass_mm
from mmcv.ops import nms  # noqa: F401
print(f'  torch {torch.__version__} (cuda available: {torch.cuda.is_available()}), torchvision {torchvision.__version__}')
print(f'  mmcv {mmcv.__version__} (compiled ops), mmengine {mmengine.__version__}, mmseg {mmseg.__version__}, '
      f'mmpretrain {mmpretrain.__version__}, grass_mm {grass_mm.__version__}')
from mmengine.config.utils import _get_package_and_cfg_path
from grass_mm.utils.package_paths import configs_root, tools_root
_get_package_and_cfg_path('grass_mm::quickstart/any.py')  # mmengine accepts the grass_mm:: prefix
print(f'  grass_mm configs: {configs_root()}, tools: {tools_root()}')
PYEOF
say "done. Activate with: source ${VENV#$REPO/}/bin/activate"
