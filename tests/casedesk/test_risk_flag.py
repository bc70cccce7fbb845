import pytest

from casedesk import services
from casedesk.errors import InvalidTransition, NotPermitted
from tests.casedesk.helpers import case_in_state
from tests.factories import open_case


def test_a_legal_threat_sends_the_case_straight_to_the_manager_over_every_department(org, as_actor):
    case = case_in_state(org, "cross_department")  # Client Support and Institutional Services

    case = services.case_flag_risk(
        case=case, actor=as_actor(org.devon), risk="legal", reason="Their lawyer wrote to us."
    )

    assert (case.state, case.owner, case.risk) == ("escalated", org.lee, "legal")
    flagged, escalated = case.events.order_by("-id")[:2][::-1]
    assert (flagged.kind, flagged.actor_user) == ("risk_flagged", org.devon.user)
    assert flagged.reason == "Legal threat: Their lawyer wrote to us."
    assert escalated.kind == "escalated"
    assert escalated.target == org.lee
    assert "lowest manager over Client Support, Institutional Services" in escalated.reason


def test_within_one_department_it_goes_to_that_departments_lowest_common_manager(org, as_actor):
    case = services.case_open(
        actor=as_actor(org.devon), client=org.northwind, subject="Regulator letter"
    )

    case = services.case_flag_risk(
        case=case, actor=as_actor(org.devon), risk="regulator", reason="The FCA asked."
    )

    assert case.owner == org.priya


def test_a_risk_needs_a_reason_and_someone_working_the_case(org, as_actor):
    case = open_case(org)

    with pytest.raises(InvalidTransition):
        services.case_flag_risk(case=case, actor=as_actor(org.joanne), risk="press", reason="")
    with pytest.raises(NotPermitted):
        services.case_flag_risk(case=case, actor=as_actor(org.devon), risk="press", reason="x")
    with pytest.raises(NotPermitted):
        services.case_flag_risk(case=case, actor=as_actor(org.sam), risk="press", reason="x")
    case.refresh_from_db()
    assert (case.risk, case.owner) == ("", org.joanne)


def test_the_flag_is_offered_and_works_from_the_case_page(client, org):
    case = open_case(org)
    client.force_login(org.joanne.user)

    response = client.post(
        f"/cases/{case.reference}/act/flag_risk",
        {"version": case.version, "risk": "press", "reason": "A journalist called."},
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.risk, case.owner) == ("press", org.lee)  # lee is over all of Client Support
    assert "risk: press" in client.get(f"/cases/{case.reference}/").content.decode()


def test_the_department_it_was_handed_to_sees_the_badge_but_not_the_reason(client, org, as_actor):
    case = case_in_state(org, "cross_department")
    services.case_flag_risk(
        case=case,
        actor=as_actor(org.joanne),
        risk="legal",
        reason=f"Sam Rivera ({org.sam.email}) has a lawyer.",
    )

    client.force_login(org.devon.user)
    receiving = client.get(f"/cases/{case.reference}/").content.decode()
    client.force_login(org.maria.user)
    own_side = client.get(f"/cases/{case.reference}/").content.decode()

    assert "risk: legal threat" in receiving
    assert org.sam.email not in receiving
    assert "has a lawyer" not in receiving
    assert org.sam.email in own_side
    assert "has a lawyer" in own_side
