"""Run every benchmark under bench/ in turn (`make bench`).

Each bench_*.py is standalone and prints its own table; the ones that need
PostgreSQL say so and read DATABASE_URL. Figures go to docs/benchmarks.md by hand
after a run, with the date and the machine.
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {script.name}", flush=True)
        rc = subprocess.call([sys.executable, str(script), *sys.argv[1:]], cwd=HERE.parent)
        if rc:
            failed.append(script.name)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
