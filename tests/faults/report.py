"""What the drills measured, one line each: printed (see it with `pytest -s`) and, when
CASEDESK_DRILL_REPORT names a file, appended to it (`make bench-drills` prints that file)."""

import os


def report_line(line: str) -> str:
    print(line)
    path = os.environ.get("CASEDESK_DRILL_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as report:
            report.write(line + "\n")
    return line


def report_recovery(drill: str, seconds: float, detail: str = "") -> str:
    """How long the system took to be whole again after the fault ended."""
    return report_line(
        f"{drill}: recovered in {seconds:.1f} s" + (f" ({detail})" if detail else "")
    )
