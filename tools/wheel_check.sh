#!/usr/bin/env bash
# Build the wheel, install it (not editable) into a fresh venv outside the checkout, and run the
# commands a user of the installed package runs, on the packaged example data: the package must
# not need the repository (issue 21). Called by .ci/run and `make wheel-check`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== build the wheel"
"$PYTHON" -m pip wheel . --no-deps --quiet -w "$work/wheel"
rm -rf build/lib build/bdist.*   # setuptools' in-tree build folders, not the project's build/ outputs
wheel=$(ls "$work"/wheel/trialnb-*.whl)
echo "$wheel"
echo "== install it into a fresh venv ($work/venv)"
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip install --quiet -c constraints.txt "$wheel"
cd "$work"   # outside the checkout: nothing of the repository is on the path
bin="$work/venv/bin"
"$bin/python" - <<'PY'
import trialnb, trialnb.resources as r
assert "site-packages" in trialnb.__file__, trialnb.__file__
assert r.checkout_root() is None
assert (r.data_dir() / "trial_protocol.csv").is_file() and (r.reference_dir() / "rpact_monitoring.json").is_file()
print("installed:", trialnb.__file__)
PY
"$bin/trialnb" verify-data
"$bin/trialnb" audit --html "$work/audit.html"
"$bin/trialnb" sap --html "$work/sap.html"
month=$("$bin/python" -c "from trialnb import interim, resources; from trialnb.data import load_trial; print(interim.death_month(load_trial(resources.example_trial()), 33))")
"$bin/trialnb" monitor --example protocol --cutoff-month "$month" --json > "$work/monitor.json"
"$bin/python" - "$work" <<'PY'
import json, sys, pathlib
w = pathlib.Path(sys.argv[1])
rep = json.loads((w / "monitor.json").read_text())
assert rep["primary_deaths"] == 33 and rep["information_fraction"] == 0.5, rep  # the planned interim
for f in ("audit.html", "sap.html"):
    assert (w / f).stat().st_size > 10_000, f
print("audit, sap and monitor ran on the packaged data:", rep["primary_deaths"], "deaths,", rep["decision"])
PY
echo "== wheel check passed"
