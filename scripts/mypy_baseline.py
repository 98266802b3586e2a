"""mypy against the baseline of known errors: `python scripts/mypy_baseline.py [--write]`.

The engine (jobs/scheduling/) and core/ are strict and have no known errors; the rest of the project
is checked as written and its known errors are listed in mypy-baseline.txt, one per line, as
"path: message  [code]" (no line numbers, so that moving code does not change the list). An error
that is not in the list fails the check; a listed error that is gone is fine (`--write`, or
`make mypy-baseline`, rewrites the list to what mypy finds now).
"""

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "mypy-baseline.txt"
ERROR = re.compile(r"^(?P<path>[^:\s]+\.py):(?:\d+:)*\s*error: (?P<message>.*)$")


def current_errors() -> list[str]:
    """mypy's errors (notes left out), without their line numbers."""
    run = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    if run.returncode not in (0, 1):  # 2: mypy itself failed (configuration, crash)
        sys.exit(f"mypy failed:\n{run.stdout}{run.stderr}")
    return sorted(
        f"{match['path']}: {match['message']}" for line in run.stdout.splitlines() if (match := ERROR.match(line))
    )


def main() -> int:
    errors = current_errors()
    if "--write" in sys.argv[1:]:
        BASELINE.write_text("".join(f"{error}\n" for error in errors))
        print(f"mypy: {len(errors)} known errors written to {BASELINE.name}")
        return 0
    known = Counter(BASELINE.read_text().splitlines() if BASELINE.exists() else [])
    new = Counter(errors) - known
    fixed = sum((known - Counter(errors)).values())
    if new:
        print(f"mypy: {sum(new.values())} new error(s), not in {BASELINE.name}:")
        for error, count in sorted(new.items()):
            print(f"  {error}" + (f"  (x{count})" if count > 1 else ""))
        return 1
    note = f"; {fixed} known error(s) fixed: `make mypy-baseline` drops them from the list" if fixed else ""
    print(f"mypy: no new errors ({len(errors)} known){note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
