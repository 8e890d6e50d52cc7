#!/usr/bin/env bash
# Download the wheels that benchmarks/gpu_run.sh installs on the GPU machine into .whl/ (git-ignored).
#
#   bash benchmarks/fetch_gpu_wheels.sh            # from the repository root, with network
#
# The GPU machine has no network and no Snakemake: the wheels of benchmarks/gpu-wheels.txt travel
# with the working tree (`carry: [".whl", ...]`). They are for CPython 3.12 on x86-64 Linux, the
# machine's python3, whatever this machine runs. Afterwards the script checks that every wheel's
# own requirements are met by the list or by the packages the image already has (ON_IMAGE in
# gpu-wheels.txt), and that the folder stays under 40 MiB (everything that travels: 64 MiB).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LIST="$ROOT/benchmarks/gpu-wheels.txt"
DEST="$ROOT/.whl"
PYTHON=${PYTHON:-python3}
LIMIT_MIB=40

# BUILD_HERE: packages published as source only (pure Python), built here into py3-none-any wheels
read -r -a BUILD_HERE <<<"$(sed -n 's/^# BUILD_HERE://p' "$LIST")"
SPECS=() SOURCE_SPECS=()
while read -r spec; do
    name=${spec%%==*}
    if [[ " ${BUILD_HERE[*]} " == *" $name "* ]]; then
        SOURCE_SPECS+=("$spec")
    else
        SPECS+=("$spec")
    fi
done < <(grep -Ev '^[[:space:]]*(#|$)' "$LIST")
echo "fetching ${#SPECS[@]} wheels and building ${#SOURCE_SPECS[@]} into $DEST"
# only the listed versions: two versions of one package would stop the install there
rm -rf "$DEST"
mkdir -p "$DEST"
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --abi cp312 --abi abi3 --abi none \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform any \
    -d "$DEST" "${SPECS[@]}"
if ((${#SOURCE_SPECS[@]})); then
    "$PYTHON" -m pip wheel --quiet --no-deps -w "$DEST" "${SOURCE_SPECS[@]}"
    for wheel in "$DEST"/*.whl; do
        case $wheel in
        *-py3-none-any.whl | *-py2.py3-none-any.whl | *-cp312-*.whl | *-abi3-*.whl) ;;
        *) echo "error: $wheel is not for CPython 3.12 on any platform" >&2 && exit 1 ;;
        esac
    done
fi

"$PYTHON" - "$DEST" "$LIST" <<'EOF'
"""Every wheel's requirements (Python 3.12, Linux x86-64, no extras) are in the list or on the image."""
import re
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

dest, listing = Path(sys.argv[1]), Path(sys.argv[2]).read_text()
norm = lambda name: re.sub(r"[-_.]+", "-", name).lower()
on_image = {norm(n) for n in re.search(r"^# ON_IMAGE:(.*)$", listing, re.M).group(1).split()}
wanted = {norm(line.split("==")[0]) for line in listing.splitlines() if "==" in line}
env = {
    "python_version": "3.12", "python_full_version": "3.12.3", "sys_platform": "linux",
    "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
    "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": "",
}
try:
    from packaging.requirements import Requirement
except ImportError:  # pip vendors it
    from pip._vendor.packaging.requirements import Requirement

have, missing = set(), []
wheels = sorted(dest.glob("*.whl"))
for wheel in wheels:
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        headers = Parser().parsestr(zf.read(meta).decode())
    have.add(norm(headers["Name"]))
    for text in headers.get_all("Requires-Dist") or []:
        req = Requirement(text)
        if req.marker is None or req.marker.evaluate(env):
            if norm(req.name) not in wanted | on_image:
                missing.append(f"{headers['Name']} needs {req}")
if have != wanted:
    sys.exit(f"wheels differ from the list: missing {sorted(wanted - have)}, extra {sorted(have - wanted)}")
if missing:
    sys.exit("requirements met by neither the list nor the image:\n  " + "\n  ".join(missing))
print(f"{len(wheels)} wheels; every requirement is in the list or on the image")
EOF

size_kib=$(du -sk "$DEST" | cut -f1)
echo "total size of $DEST: $((size_kib / 1024)) MiB ($size_kib KiB)"
if ((size_kib > LIMIT_MIB * 1024)); then
    echo "error: $DEST is over $LIMIT_MIB MiB" >&2
    exit 1
fi
