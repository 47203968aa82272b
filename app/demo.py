"""Demo data: three customers, their contacts, projects, pages, posts, requests, business
documents and a library certificate, made by the actions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from actions import (
    accounts,
    business_documents,
    customers,
    invitations,
    library,
    microposts,
    pages,
    projects,
    request_types,
    requests,
    watches,
)
from actions.demo_history import PastRequest, record_past_requests
from domain.request_forms import DEMO_FORMS
from infra.settings import load_settings
from infra.storage import BlobStorage, DirectoryStorage
from models import (
    BusinessDocumentKind,
    BusinessDocumentStatus,
    Customer,
    DocumentType,
    Project,
    ProjectStatus,
    RequestStatus,
    RequestType,
    Role,
    User,
    Visibility,
    WatchLevel,
    WatchTargetKind,
)
from realtime.bus import EventBus

DEMO_PASSWORD = "demo-extranet-2026"  # noqa: S105 (published in the README)

DEMO_USERS: list[tuple[str, str, Role, str | None]] = [
    ("admin@provider.example", "Ada Admin", Role.ADMIN, None),
    ("sam@provider.example", "Sam Account-Manager", Role.STAFF, None),
    ("olivia@provider.example", "Olivia Consultant", Role.STAFF, None),
    ("anna@acme.example", "Anna Lead (Acme)", Role.CUSTOMER_ADMIN, "acme"),
    ("max@acme.example", "Max Member (Acme)", Role.CUSTOMER_MEMBER, "acme"),
    ("gina@globex.example", "Gina Lead (Globex)", Role.CUSTOMER_ADMIN, "globex"),
    ("ian@umbrella.example", "Ian Lead (Umbrella)", Role.CUSTOMER_ADMIN, "umbrella"),
]


async def database_is_empty() -> bool:
    return not await User.exists()


async def load_demo(bus: EventBus, storage: BlobStorage | None = None) -> dict[str, User]:
    """Create the demo world through the same actions the API uses; files go to
    ``storage`` (default: the configured attachments directory)."""
    users: dict[str, User] = {}

    async def create_users(tenant: str | None, customer: Customer | None) -> None:
        for email, name, role, slug in DEMO_USERS:
            if slug == tenant:
                users[email.split("@")[0]] = await accounts.create_user(
                    email=email, name=name, role=role, password=DEMO_PASSWORD, customer=customer
                )

    await create_users(None, None)  # the provider's staff, then their customers
    admin, sam, olivia = users["admin"], users["sam"], users["olivia"]
    acme = await customers.create_customer(
        None,
        name="Acme Logistics",
        slug="acme",
        internal_notes="Renewal talks in Q3; decision maker is the COO.",
        annual_budget=Decimal("480000.00"),
        account_team_ids=[sam.id],
    )
    globex = await customers.create_customer(
        None,
        name="Globex Retail",
        slug="globex",
        internal_notes="Price-sensitive; compare with last year's offer first.",
        annual_budget=Decimal("150000.00"),
        account_team_ids=[olivia.id],
    )
    umbrella = await customers.create_customer(
        None,
        name="Umbrella Foods",
        slug="umbrella",
        internal_notes="New this year; no library documents offered yet.",
        account_team_ids=[sam.id],
    )
    tenants: dict[str, Customer] = {"acme": acme, "globex": globex, "umbrella": umbrella}
    for slug, tenant in tenants.items():
        await create_users(slug, tenant)
    for slug, tenant in tenants.items():
        await invitations.set_email_domains(
            admin, customer_id=tenant.id, domains=[f"{slug}.example"]
        )
    anna, max_, gina = users["anna"], users["max"], users["gina"]

    portal = await projects.create_project(
        sam,
        customer_id=acme.id,
        name="Warehouse portal relaunch",
        description="Replace the 2014 portal with a **mobile-first** booking flow.",
        budget=Decimal("120000.00"),
        member_ids=[max_.id],
    )
    await projects.create_project(
        sam,
        customer_id=acme.id,
        name="Fleet telematics pilot",
        description="A six-week pilot with twelve trucks.",
        budget=Decimal("35000.00"),
    )
    loyalty = await projects.create_project(
        admin,
        customer_id=globex.id,
        name="Loyalty app",
        description="Points, coupons and a new checkout for the Globex stores.",
        budget=Decimal("90000.00"),
        member_ids=[olivia.id, gina.id],
    )
    await projects.change_project_status(
        sam, bus, project_id=portal.id, status=ProjectStatus.ACTIVE, reason="Kick-off held."
    )
    await projects.change_project_status(
        olivia, bus, project_id=loyalty.id, status=ProjectStatus.ACTIVE, reason="Contract signed."
    )
    await pages.create_page(
        sam,
        bus,
        project_id=portal.id,
        title="Booking flow concept",
        body="## Goals\n\n- Book a loading slot in three taps\n- Works offline in the yard\n",
    )
    await pages.create_page(
        sam,
        bus,
        project_id=portal.id,
        title="Pricing assumptions (internal)",
        body="Day rate 1,150; keep 10% contingency.",
        visibility=Visibility.INTERNAL,
    )
    await pages.create_page(
        olivia, bus, project_id=loyalty.id, title="Loyalty tiers", body="Bronze, Silver, Gold."
    )
    kickoff = await microposts.post_micropost(
        sam,
        bus,
        project_id=portal.id,
        body="Kick-off done! @anna @max the #booking-flow concept page is up for comments.",
    )
    await microposts.post_micropost(
        max_, bus, project_id=portal.id, body="Thanks, reading it today.", parent_id=kickoff.id
    )
    await microposts.post_micropost(
        anna, bus, project_id=portal.id, body="Can we see the #timeline for the yard tests?"
    )
    await microposts.post_micropost(
        sam,
        bus,
        project_id=portal.id,
        body="Internal: Acme asked for a discount, hold until the pilot result.",
        visibility=Visibility.INTERNAL,
    )
    await microposts.post_micropost(
        gina, bus, project_id=loyalty.id, body="Store managers love the #coupons mock-ups."
    )
    await watches.watch(
        anna, kind=WatchTargetKind.CUSTOMER, target_id=acme.id, level=WatchLevel.WATCHING
    )
    await watches.watch(
        max_, kind=WatchTargetKind.PROJECT, target_id=portal.id, level=WatchLevel.PARTICIPATING
    )
    await load_request_demo(bus, users, acme=acme, portal=portal)
    await load_business_document_demo(bus, users, acme=acme, globex=globex, portal=portal)
    await load_budget_demo(bus, users, acme=acme, portal=portal)
    await load_past_requests_demo(users, acme=acme)
    storage = storage or DirectoryStorage(load_settings().attachments_dir)
    await load_library_demo(bus, storage, users, acme=acme, globex=globex)
    return users


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing ``lines`` in Helvetica (its text can be extracted and
    searched), built by hand: objects, cross-reference table and trailer."""

    def escaped(line: str) -> str:
        return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    shown = " ".join(f"({escaped(line)}) Tj T*" for line in lines)
    content = f"BT /F1 14 Tf 72 740 Td 20 TL {shown} ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(content.encode('latin-1'))} >>\nstream\n{content}\nendstream",
    ]
    pdf = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    table = len(pdf)
    pdf += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    pdf += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    pdf += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    pdf += f"startxref\n{table}\n%%EOF\n".encode()
    return pdf


CERTIFICATE_LINES = [
    "Certificate of conformity",
    "Quality management system: ISO 9001:2015",
    "Scope: contract logistics, warehousing and yard services",
    "Registration number QMS-20417",
]


async def load_library_demo(
    bus: EventBus, storage: BlobStorage, users: dict[str, User], *, acme: Customer, globex: Customer
) -> None:
    """Sam publishes the ISO 9001 certificate (a PDF with its text) in the shared library's
    "Certificates" folder for Acme and Globex, valid for about two more months and to be
    acknowledged: Anna has acknowledged it, Gina still has to; Max watches the folder.
    Umbrella sees nothing of it."""
    sam, anna, max_ = users["sam"], users["anna"], users["max"]
    folder = await library.create_folder(sam, customer_id=None, parent_id=None, name="Certificates")
    document = await library.create_document(
        sam,
        customer_id=None,
        folder_id=folder.id,
        title="ISO 9001 certificate",
        description="Our quality management certificate, renewed every three years.",
        type=DocumentType.CERTIFICATE,
        tags=["iso 9001", "quality"],
        offered_to_all=False,
        customer_ids=[acme.id, globex.id],
        requires_acknowledgement=True,
    )

    async def chunks() -> AsyncIterator[bytes]:
        yield text_pdf(CERTIFICATE_LINES)

    await library.add_version(
        sam,
        storage,
        document_id=document.id,
        name="iso-9001-certificate.pdf",
        chunks=chunks(),
        max_bytes=1024 * 1024,
        label="2026",
        bus=bus,
    )
    start = datetime.now(UTC).replace(microsecond=0)
    await library.set_validity(
        sam, document.id, start - timedelta(days=30), start + timedelta(days=60), bus=bus
    )
    await library.acknowledge(anna, document.id, bus=bus)
    await watches.watch(
        max_, kind=WatchTargetKind.FOLDER, target_id=folder.id, level=WatchLevel.WATCHING
    )


DEMO_CALENDAR = {
    "timeZone": "Europe/Berlin",
    "hours": {
        day: [["09:00", "17:00"]]
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
    },
    "holidays": ["2026-12-24", "2026-12-25", "2026-12-26", "2027-01-01"],
}
DEMO_SLAS = {  # business minutes: first response, resolution
    "Quote request": (8 * 60, 16 * 60),
    "Support ticket": (4 * 60, 5 * 8 * 60),
    "Document submission": (8 * 60, 5 * 8 * 60),
    "Access request": (4 * 60, 2 * 8 * 60),
}


async def load_request_demo(
    bus: EventBus, users: dict[str, User], *, acme: Customer, portal: Project
) -> None:
    """The four request types of domain/request_forms.py with office hours and SLAs, and a
    few requests: one waiting for Acme's answer, one quote in progress, one resolved."""
    admin, sam, olivia = users["admin"], users["sam"], users["olivia"]
    anna, max_, gina = users["anna"], users["max"], users["gina"]
    calendar = await request_types.set_business_calendar(
        admin, name="Office hours (Berlin)", definition=DEMO_CALENDAR
    )
    types = {}
    for name, (description, form) in DEMO_FORMS.items():
        assignee = sam.id if name in ("Quote request", "Support ticket") else None
        types[name] = await request_types.create_request_type(
            admin, name=name, description=description, form=form, default_assignee_id=assignee
        )
        first, resolution = DEMO_SLAS[name]
        await request_types.set_sla_policy(
            admin,
            type_id=types[name].id,
            calendar_id=calendar.id,
            first_response_minutes=first,
            resolution_minutes=resolution,
        )
    ticket = await requests.submit_request(
        max_,
        bus,
        type_id=types["Support ticket"].id,
        title="Yard scanner shows no bookings",
        answers={
            "severity": "high",
            "system": "Sensor gateway",
            "description": "Since this morning the scanner at gate 3 lists no bookings.",
        },
    )
    await requests.reply_to_request(
        sam,
        bus,
        request_id=ticket.id,
        body="Checked the gateway logs: no errors on our side.",
        visibility=Visibility.INTERNAL,
    )
    await requests.change_request_status(
        sam,
        bus,
        request_id=ticket.id,
        status=RequestStatus.NEEDS_INFO,
        reason="Which scanner model is it?",
        next_step="Send us a photo of the error screen.",
        expected_documents=["Photo of the error screen"],
    )
    quote = await requests.submit_request(
        anna,
        bus,
        type_id=types["Quote request"].id,
        project_id=portal.id,
        title="Sensors for the new hall",
        answers={
            "offering": "sensors",
            "quantity": 40,
            "wantedBy": "2027-02-01",
            "description": "Temperature sensors for the **new cold hall**, 40 bays.",
        },
    )
    await requests.add_request_participant(anna, bus, request_id=quote.id, user_id=max_.id)
    await requests.change_request_status(
        sam,
        bus,
        request_id=quote.id,
        status=RequestStatus.IN_PROGRESS,
        next_step="We prepare the quote; expect it within two business days.",
    )
    access = await requests.submit_request(
        gina,
        bus,
        type_id=types["Access request"].id,
        title="Reporting access for a store manager",
        answers={
            "personName": "Gloria Store",
            "email": "gloria@globex.example",
            "systems": ["Reporting"],
            "confirmation": True,
        },
    )
    await requests.assign_request(olivia, bus, request_id=access.id, assignee_id=olivia.id)
    for status in (RequestStatus.IN_PROGRESS, RequestStatus.RESOLVED):
        await requests.change_request_status(olivia, bus, request_id=access.id, status=status)
    await requests.reply_to_request(
        olivia, bus, request_id=access.id, body="Done: Gloria can sign in to Reporting."
    )


PAST_TICKETS = (
    "Label printer at dock 2 offline",
    "Booking export misses the night shift",
    "Gate camera shows an old picture",
    "Password reset mail not received",
    "Slot planner slow in the morning",
    "Wrong time zone on the delivery note",
)


async def load_past_requests_demo(users: dict[str, User], *, acme: Customer) -> None:
    """Eighteen Acme support tickets of the past twelve weeks (one or two a week), answered
    within hours and resolved within days: weeks of figures for the dashboard's charts."""
    ticket = await RequestType.get(name="Support ticket")
    today = datetime.now(UTC).date()
    past = []
    for week in range(12, 0, -1):
        monday = today - timedelta(days=today.weekday(), weeks=week)
        for n in range(1 + week % 2):
            submitted = datetime.combine(monday + timedelta(days=2 * n), time(8, 30), UTC)
            answered = submitted + timedelta(hours=1 + (3 * week + n) % 5)
            past.append(
                PastRequest(
                    title=PAST_TICKETS[(week + n) % len(PAST_TICKETS)],
                    submitted=submitted,
                    answered=answered,
                    resolved=answered + timedelta(days=(week + n) % 4, hours=3),
                    answer="We are on it and will tell you here when it is fixed.",
                    answers={
                        "severity": "normal",
                        "system": "Extranet",
                        "description": "Reported by phone, recorded here.",
                    },
                )
            )
    await record_past_requests(acme, ticket, users["anna"], users["sam"], past)


async def load_budget_demo(
    bus: EventBus, users: dict[str, User], *, acme: Customer, portal: Project
) -> None:
    """Monthly invoices of the portal's hosting and support over the last eight months and
    a discovery workshop last year: a burn per month to chart and project, and a past year
    to review."""
    today = business_documents.today()
    monthly = [
        "3900.00",
        "4650.00",
        "4200.00",
        "5100.00",
        "4480.00",
        "4975.00",
        "4300.00",
        "5240.00",
    ]
    invoices = []
    for back, net in enumerate(monthly, start=1):
        index = today.year * 12 + today.month - 1 - back
        issued = date(index // 12, index % 12 + 1, 5)
        invoices.append((f"M-{issued:%Y-%m}", f"Hosting and support, {issued:%B %Y}", issued, net))
    workshop = date(today.year - 1, 9, 15)
    invoices.append((f"W-{workshop.year}", "Portal discovery workshop", workshop, "18000.00"))
    for number, title, issued, net in invoices:
        net_amount = Decimal(net)
        await business_documents.upsert_business_document(
            users["admin"],
            bus,
            source="erp",
            external_id=f"erp-i-{number.lower()}",
            customer_id=acme.id,
            fields=business_documents.DocumentFields(
                kind=BusinessDocumentKind.INVOICE,
                number=number,
                title=title,
                issue_date=issued,
                due_date=issued + timedelta(days=30),
                net_amount=net_amount,
                gross_amount=(net_amount * Decimal("1.19")).quantize(Decimal("0.01")),
                currency="EUR",
                status=BusinessDocumentStatus.PAID,
                project_id=portal.id,
            ),
        )


async def load_business_document_demo(
    bus: EventBus, users: dict[str, User], *, acme: Customer, globex: Customer, portal: Project
) -> None:
    """Quotes, orders and invoices as the ERP would push them: an Acme quote waiting for
    Anna's decision, an accepted one with its order, a paid invoice and an overdue one (of
    the portal project, so Max sees them without amounts), and a Globex invoice."""
    erp = users["admin"]  # the ERP's service account would do the same
    today = business_documents.today()
    K, S = BusinessDocumentKind, BusinessDocumentStatus
    documents = [
        (
            acme,
            "erp-q-1001",
            K.QUOTE,
            "Q-1001",
            "Yard sensors, phase 2",
            45,
            -25,
            "18500.00",
            S.SENT,
        ),
        (
            acme,
            "erp-q-0990",
            K.QUOTE,
            "Q-0990",
            "Warehouse portal relaunch",
            90,
            60,
            "42000.00",
            S.ACCEPTED,
        ),
        (
            acme,
            "erp-o-0990",
            K.ORDER,
            "O-0990",
            "Warehouse portal relaunch",
            58,
            None,
            "42000.00",
            S.CONFIRMED,
        ),
        (
            acme,
            "erp-i-0412",
            K.INVOICE,
            "2026-0412",
            "Portal relaunch, first instalment",
            50,
            20,
            "21000.00",
            S.PAID,
        ),
        (
            acme,
            "erp-i-0431",
            K.INVOICE,
            "2026-0431",
            "Portal relaunch, second instalment",
            40,
            10,
            "12600.50",
            S.OPEN,
        ),
        (
            globex,
            "erp-i-0433",
            K.INVOICE,
            "2026-0433",
            "Loyalty app, design sprint",
            5,
            -25,
            "9800.00",
            S.OPEN,
        ),
    ]
    for customer, external_id, kind, number, title, issued_ago, due_ago, net, status in documents:
        net_amount = Decimal(net)
        await business_documents.upsert_business_document(
            erp,
            bus,
            source="erp",
            external_id=external_id,
            customer_id=customer.id,
            fields=business_documents.DocumentFields(
                kind=kind,
                number=number,
                title=title,
                issue_date=today - timedelta(days=issued_ago),
                due_date=None if due_ago is None else today - timedelta(days=due_ago),
                net_amount=net_amount,
                gross_amount=(net_amount * Decimal("1.19")).quantize(Decimal("0.01")),
                currency="EUR",
                status=status,
                project_id=portal.id if customer is acme else None,
            ),
        )
