from io import StringIO
from pathlib import Path

from django.core.management import call_command

DIAGRAM = Path(__file__).resolve().parents[2] / "docs" / "case-states.dot"


def _edges(dot_source: str) -> set[str]:
    return {line.strip() for line in dot_source.splitlines() if "->" in line}


def test_the_readme_state_diagram_is_generated_from_the_current_code():
    out = StringIO()
    call_command("graph_transitions", "casedesk.Case.state", stdout=out)

    assert _edges(out.getvalue()) == _edges(DIAGRAM.read_text()), "run `make docs`"
    assert len(_edges(out.getvalue())) == 14  # the 14 (source, transition) pairs of design.md
