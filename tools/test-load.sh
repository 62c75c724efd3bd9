#!/bin/sh
# The default test suite three times in a row while two CPU-burning processes run beside it:
# the suite must not depend on timing. Exits 1 if any run fails. Run by `make test-load`.
PY=${PY:-.venv/bin/python}
burners=""
stop_burners() {
    for pid in $burners; do kill "$pid" 2>/dev/null; done
    burners=""
}
trap stop_burners EXIT
trap 'stop_burners; exit 130' INT
trap 'stop_burners; exit 143' TERM HUP

for _ in 1 2; do
    sh -c 'while :; do :; done' &
    burners="$burners $!"
done
echo "test-load: two CPU burners running (pids$burners)"

failed=0
for run in 1 2 3; do
    echo "test-load: run $run of 3"
    if ! "$PY" -m pytest -q -n 2 -m "not slow and not browser" -p no:cacheprovider; then
        failed=1
        echo "test-load: run $run FAILED"
    fi
done
stop_burners
if [ "$failed" -ne 0 ]; then
    echo "test-load: FAILED"
    exit 1
fi
echo "test-load: 3 of 3 runs passed under load"
