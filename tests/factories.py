"""factory_boy factories and the demo organisation of design.md, for tests."""

from dataclasses import dataclass

import factory

from accounts.models import AuthorityLevel, Department, StaffProfile, User
from casedesk import services
from casedesk.actors import Actor
from casedesk.demo import install_service_levels
from casedesk.models import Client, ClientContact


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Department {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.LazyAttribute(lambda user: user.username.capitalize())
    email = factory.LazyAttribute(lambda user: f"{user.username}@casedesk.example")
    password = factory.django.Password("casedesk")


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffProfile

    user = factory.SubFactory(UserFactory)
    department = factory.SubFactory(DepartmentFactory)
    title = "Agent"
    authority_level = AuthorityLevel.AGENT


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n}")
    department = factory.SubFactory(DepartmentFactory)
    email = factory.Sequence(lambda n: f"client{n}@example.com")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientContact

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")


@dataclass
class DemoOrg:
    support: Department
    institutional: Department
    lee: StaffProfile
    maria: StaffProfile
    joanne: StaffProfile
    priya: StaffProfile
    devon: StaffProfile
    harbor: Client
    northwind: Client
    sam: ClientContact  # Harbor Dental's contact: a client of Client Support
    alex: ClientContact  # Northwind's contact: a client of Institutional Services


def staff(username, department, title, level, manager=None) -> StaffProfile:
    return StaffFactory(
        user=UserFactory(username=username),
        department=department,
        title=title,
        authority_level=level,
        manager=manager,
    )


def demo_org() -> DemoOrg:
    support = DepartmentFactory(name="Client Support")
    institutional = DepartmentFactory(name="Institutional Services")
    install_service_levels(support)
    install_service_levels(institutional)
    lee = staff("lee", support, "Director", AuthorityLevel.DIRECTOR)
    maria = staff("maria", support, "Supervisor", AuthorityLevel.SUPERVISOR, lee)
    joanne = staff("joanne", support, "Agent", AuthorityLevel.AGENT, maria)
    priya = staff("priya", institutional, "Supervisor", AuthorityLevel.SUPERVISOR, lee)
    devon = staff("devon", institutional, "Agent", AuthorityLevel.AGENT, priya)
    harbor = ClientFactory(name="Harbor Dental Group", department=support)
    northwind = ClientFactory(name="Northwind Credit Union", department=institutional)
    return DemoOrg(
        support=support,
        institutional=institutional,
        lee=lee,
        maria=maria,
        joanne=joanne,
        priya=priya,
        devon=devon,
        harbor=harbor,
        northwind=northwind,
        sam=ContactFactory(client=harbor, name="Sam Rivera", user=UserFactory(username="sam")),
        alex=ContactFactory(client=northwind, name="Alex Kim", user=UserFactory(username="alex")),
    )


def open_case(
    org: DemoOrg, *, owner=None, client=None, subject="Refund for a duplicated invoice", **extra
):
    """A Harbor Dental case (or `client`'s) opened by joanne (or `owner`) through the service."""
    owner = owner or org.joanne
    return services.case_open(
        actor=Actor.for_staff(owner),
        client=client or org.harbor,
        subject=subject,
        owner=owner,
        **extra,
    )
