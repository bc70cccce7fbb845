from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

DOCS = Path(__file__).resolve().parents[2] / "docs"
DIAGRAM = DOCS / "case-states.dot"


def _edges(dot_source: str) -> set[str]:
    return {line.strip() for line in dot_source.splitlines() if "->" in line}


def test_the_readme_state_diagram_is_generated_from_the_current_code():
    out = StringIO()
    call_command("graph_transitions", "casedesk.Case.state", stdout=out)

    assert _edges(out.getvalue()) == _edges(DIAGRAM.read_text()), "run `make docs`"
    assert len(_edges(out.getvalue())) == 14  # the 14 (source, transition) pairs of design.md


@pytest.mark.parametrize(
    ("name", "model", "edges"),
    [
        ("handoff", "casedesk.HandOff", 5),  # assign, climb, complete, decline, withdraw
        ("callback", "casedesk.CallBack", 4),  # climb, complete, cancel, replace
        ("exception", "escalation.ExceptionRequest", 4),  # climb, approve, deny, withdraw
    ],
)
def test_every_item_with_a_deadline_is_a_state_machine_drawn_from_the_code(name, model, edges):
    out = StringIO()
    call_command("graph_transitions", f"{model}.state", stdout=out)

    diagram = DOCS / f"{name}-states.dot"
    assert _edges(out.getvalue()) == _edges(diagram.read_text()), "run `make docs`"
    assert len(_edges(out.getvalue())) == edges
