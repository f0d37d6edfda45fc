#!/usr/bin/env bash
# Set up, then run the whole pipeline offline on the bundled demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/newsdesk demo "$@"
