#!/usr/bin/env bash
# Runs the excuses benchmark with PyYAML (and its C loader) installed, so the
# ratio against Python is printed, and with the release binary built, so the
# whole `shepherd retry --excuses … --dry-run` run is timed too. Reads the
# vendored tests/fixtures.
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -c 'import yaml; yaml.CSafeLoader' 2>/dev/null || python3 -m pip install --quiet 'PyYAML>=6'
cargo build --release -p shepherd
cargo bench -p shepherd-adapters --bench excuses
