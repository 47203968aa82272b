"""A small world of two customers, built through the same actions the API uses."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from actions import accounts, customers, microposts, pages, projects, request_types, requests
from domain.business_hours import BusinessCalendar as Calendar
from domain.passwords import hash_password
from domain.request_forms import SUPPORT_TICKET
from models import (
    AccountTeamMembership,
    BusinessCalendar,
    Customer,
    CustomerEmailDomain,
    DocumentType,
    LibraryDocument,
    Micropost,
    Page,
    PendingMail,
    Project,
    RequestType,
    Role,
    ServiceRequest,
    User,
    Visibility,
)
from models.jobs import Job
from realtime.bus import EventBus

PASSWORD = "correct horse battery staple"
TICKET_ANSWERS = {
    "severity": "normal",
    "system": "Extranet",
    "description": "Readings stop every hour.",
}


@lru_cache(maxsize=1)
def password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class World:
    acme: Customer
    globex: Customer
    admin: User
    sam: User  # staff on Acme's account team
    olivia: User  # staff on Globex's account team
    stan: User  # staff on no team: reads everything, writes nowhere
    anna: User  # Acme's lead contact (CUSTOMER_ADMIN)
    max: User  # Acme contact, member of the portal project
    mia: User  # Acme contact, member of no project
    gina: User  # Globex's lead contact
    gus: User  # Globex contact, member of the loyalty project
    portal: Project  # Acme, max is a member
    pilot: Project  # Acme, no contact is a member
    loyalty: Project  # Globex, gus is a member
    portal_page: Page
    portal_internal_page: Page
    loyalty_page: Page
    portal_post: Micropost
    portal_internal_post: Micropost
    loyalty_post: Micropost
    calendar: BusinessCalendar  # Monday to Friday, 9:00 to 17:00 UTC
    support_type: RequestType  # offered to all, assigned to sam by default, with an SLA
    acme_type: RequestType  # offered to Acme only
    globex_type: RequestType  # offered to Globex only
    acme_request: ServiceRequest  # ACME-1, a support ticket of max's, assigned to sam
    globex_request: ServiceRequest  # GLOBEX-1, gus's, of the Globex type, unassigned
    globex_library_document: LibraryDocument  # in Globex's library, a DRAFT, olivia's

    def users(self) -> dict[str, User]:
        names = ("admin", "sam", "olivia", "stan", "anna", "max", "mia", "gina", "gus")
        return {name: getattr(self, name) for name in names}


async def _user(email: str, role: Role, customer: Customer | None = None) -> User:
    user = await accounts.create_user(
        email=email,
        name=email.split("@")[0].title(),
        role=role,
        password=None,
        customer=customer,
    )
    user.password_hash = password_hash()
    await user.save(update_fields=["password_hash"])
    return user


async def build_world(bus: EventBus) -> World:
    acme = await customers.create_customer(
        None,
        name="Acme Logistics",
        slug="acme",
        internal_notes="Acme renewal is at risk",
        annual_budget=Decimal("480000"),
    )
    globex = await customers.create_customer(
        None,
        name="Globex Retail",
        slug="globex",
        internal_notes="Globex wants a discount",
        annual_budget=Decimal("150000"),
    )
    admin = await _user("admin@provider.example", Role.ADMIN)
    sam = await _user("sam@provider.example", Role.STAFF)
    olivia = await _user("olivia@provider.example", Role.STAFF)
    stan = await _user("stan@provider.example", Role.STAFF)
    anna = await _user("anna@acme.example", Role.CUSTOMER_ADMIN, acme)
    max_ = await _user("max@acme.example", Role.CUSTOMER_MEMBER, acme)
    mia = await _user("mia@acme.example", Role.CUSTOMER_MEMBER, acme)
    gina = await _user("gina@globex.example", Role.CUSTOMER_ADMIN, globex)
    gus = await _user("gus@globex.example", Role.CUSTOMER_MEMBER, globex)
    await AccountTeamMembership.create(customer_id=acme.id, user_id=sam.id)
    await AccountTeamMembership.create(customer_id=globex.id, user_id=olivia.id)
    for customer in (acme, globex):
        await CustomerEmailDomain.create(customer_id=customer.id, domain=f"{customer.slug}.example")

    portal = await projects.create_project(
        sam,
        customer_id=acme.id,
        name="Acme warehouse portal",
        description="Portal *relaunch*",
        budget=Decimal("120000"),
        member_ids=[max_.id],
    )
    pilot = await projects.create_project(sam, customer_id=acme.id, name="Acme fleet pilot")
    loyalty = await projects.create_project(
        olivia,
        customer_id=globex.id,
        name="Globex loyalty app",
        budget=Decimal("90000"),
        member_ids=[gus.id],
    )
    portal_page = await pages.create_page(
        sam, bus, project_id=portal.id, title="Acme booking concept", body="# Goals"
    )
    portal_internal_page = await pages.create_page(
        sam,
        bus,
        project_id=portal.id,
        title="Acme pricing internals",
        body="Day rate",
        visibility=Visibility.INTERNAL,
    )
    loyalty_page = await pages.create_page(
        olivia, bus, project_id=loyalty.id, title="Globex loyalty tiers", body="Gold"
    )
    portal_post = await microposts.post_micropost(
        sam, bus, project_id=portal.id, body="Acme kick-off done #launch @max"
    )
    portal_internal_post = await microposts.post_micropost(
        sam,
        bus,
        project_id=portal.id,
        body="Acme internal: hold the discount",
        visibility=Visibility.INTERNAL,
    )
    loyalty_post = await microposts.post_micropost(
        olivia, bus, project_id=loyalty.id, body="Globex coupons ready #launch"
    )
    calendar = await request_types.set_business_calendar(
        admin, name="Office hours", definition=Calendar().to_json()
    )
    support_type = await request_types.create_request_type(
        admin, name="Support ticket", form=SUPPORT_TICKET, default_assignee_id=sam.id
    )
    await request_types.set_sla_policy(
        admin,
        type_id=support_type.id,
        calendar_id=calendar.id,
        first_response_minutes=4 * 60,
        resolution_minutes=5 * 8 * 60,
    )
    acme_type, globex_type = [
        await request_types.create_request_type(
            admin, name=name, form=SUPPORT_TICKET, offered_to_all=False, customer_ids=[customer.id]
        )
        for name, customer in (("Acme spare parts", acme), ("Globex coupons", globex))
    ]
    acme_request, globex_request = [
        await requests.submit_request(
            user, bus, type_id=request_type.id, title=title, answers=TICKET_ANSWERS
        )
        for user, request_type, title in (
            (max_, support_type, "Acme sensor drops readings"),
            (gus, globex_type, "Globex coupon scanner fails"),
        )
    ]
    globex_library_document = await LibraryDocument.create(
        customer_id=globex.id,
        title="Globex store manual",
        type=DocumentType.MANUAL,
        owner_id=olivia.id,
    )
    # nothing of the world waits to be mailed: tests mail what they make
    await PendingMail.all().delete()
    await Job.filter(kind="mail.notifications").delete()
    return World(
        acme=acme,
        globex=globex,
        admin=admin,
        sam=sam,
        olivia=olivia,
        stan=stan,
        anna=anna,
        max=max_,
        mia=mia,
        gina=gina,
        gus=gus,
        portal=portal,
        pilot=pilot,
        loyalty=loyalty,
        portal_page=portal_page,
        portal_internal_page=portal_internal_page,
        loyalty_page=loyalty_page,
        portal_post=portal_post,
        portal_internal_post=portal_internal_post,
        loyalty_post=loyalty_post,
        calendar=calendar,
        support_type=support_type,
        acme_type=acme_type,
        globex_type=globex_type,
        acme_request=acme_request,
        globex_request=globex_request,
        globex_library_document=globex_library_document,
    )
