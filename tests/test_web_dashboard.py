"""The home dashboard (#/dashboard) as its readers notice it, in a real Chromium against
``extranet serve`` with the demo data (tests/browser.py): a member of staff sees what waits
for them and the figures and charts of the customer they choose (Acme's, with its budget's
burn and projection); Acme's lead contact sees the very same figures of Acme and no other
customer's; a member of Acme sees what waits for them and no figures at all. Screenshots:
``var/screenshots/dashboard-*``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.async_api import Page, expect

from tests.browser import (
    DESKTOP,
    PHONE,
    People,
    Server,
    browser,
    client_behaviour,
    people,
    screenshot,
    web_build,
)

__all__ = ["browser", "people", "web_build"]  # fixtures this module's tests use

# the server's side of these is tested on both databases by the API tests
pytestmark = client_behaviour

SAM = "sam@provider.example"
ANNA = "anna@acme.example"
MAX = "max@acme.example"


@pytest.fixture(scope="module")
def server(shared_server: Server) -> Server:
    return shared_server  # this module only reads


async def open_dashboard(page: Page) -> None:
    await page.get_by_role("link", name="Dashboard").click()
    await expect(page.get_by_role("heading", name="Home", level=1)).to_be_visible()
    await expect(page.get_by_test_id("action-count")).to_have_text(re.compile(r"^\d+$"))


async def figures(page: Page) -> dict[str, str]:
    """The KPI tiles' values and the budget's spent amount, once shown."""
    await expect(page.get_by_test_id("figures-of")).to_be_visible()
    values = {}
    for tile in await page.locator("[data-kpi]").all():
        key = await tile.get_attribute("data-kpi") or ""
        values[key] = await tile.get_by_test_id("kpi-value").inner_text()
    values["spent"] = await page.get_by_test_id("spent-EUR").inner_text()
    values["years"] = await page.get_by_test_id("year-reviews").inner_text()
    values["burn"] = (
        await page.get_by_test_id("chart-burn-EUR").locator(".chart-summary").inner_text()
    )
    return values


async def test_staff_see_their_queue_and_acmes_charts_which_its_lead_contact_sees_alone(
    people: People,
) -> None:
    # given a member of staff on Acme's account team
    sam = await people.sign_in(SAM, DESKTOP)
    # when they open the dashboard
    await open_dashboard(sam)
    # then their queue is listed, the unassigned and overdue requests of their customers
    queue = sam.get_by_role("list", name="What needs my action")
    await expect(queue.get_by_role("listitem").first).to_be_visible()
    # and they choose Acme: tiles with the previous period, charts with their tables
    customer = sam.get_by_label("Customer")
    acme = await customer.locator("option", has_text="Acme").get_attribute("value")
    await customer.select_option(acme)
    await expect(sam.get_by_test_id("figures-of")).to_contain_text("Acme")
    await expect(sam.locator("[data-kpi]").first).to_contain_text("Previous period")
    for chart in ("chart-requests", "chart-times", "chart-burn-EUR"):
        await expect(sam.get_by_test_id(chart).locator("canvas")).to_be_visible()
    burn = sam.get_by_test_id("chart-burn-EUR")
    await expect(burn.locator(".chart-summary")).to_contain_text("by the end of")
    await burn.get_by_text("the figures").click()
    await expect(burn.get_by_role("table")).to_contain_text("Projection")
    last_year = str(datetime.now(UTC).year - 1)
    await expect(
        sam.get_by_test_id("year-reviews").get_by_role("row", name=last_year)
    ).to_be_visible()
    staff_figures = await figures(sam)
    await screenshot(sam, "dashboard-staff-desktop")

    # when Acme's lead contact opens theirs, on a phone
    anna = await people.sign_in(ANNA, PHONE)
    await open_dashboard(anna)
    # then they see Acme's figures, the same as staff do, and no choice of customer
    await expect(anna.get_by_test_id("figures-of")).to_contain_text("Acme")
    await expect(anna.get_by_label("Customer")).to_have_count(0)
    await expect(anna.get_by_test_id("chart-burn-EUR").locator("canvas")).to_be_visible()
    assert await figures(anna) == staff_figures
    await expect(anna.get_by_text("Globex")).to_have_count(0)
    await screenshot(anna, "dashboard-lead-contact-phone")

    # when a member of Acme opens it: what waits for them, and no figures
    max_ = await people.sign_in(MAX, DESKTOP)
    await open_dashboard(max_)
    await expect(max_.get_by_role("heading", name="What needs my action")).to_be_visible()
    await expect(max_.locator(".dashboard-figures[data-ready]")).to_have_count(1)
    await expect(max_.get_by_role("heading", name="Figures")).to_have_count(0)
    await expect(max_.get_by_test_id("budget-figures")).to_have_count(0)
