"""The front end in Chromium against the real API, database and marts: sign in, create a goal and see its
progress, a past month's dashboard equal to the marts, the category filter, the export, and the small screen.

Every figure is read from the page's data-* hooks (the raw values the page got) and compared with the marts
queried here, so a figure the page shows wrongly, drops or mixes up fails.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from psycopg.rows import dict_row

from tests.api import dataset
from tests.e2e.conftest import IMAGES, Site

MARCH = (date(2025, 3, 1), date(2025, 3, 31))
WORK = str(dataset.WORK)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def rows(site: Site, query: str, *params: Any) -> list[dict[str, Any]]:
    with psycopg.connect(site.database_url) as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def daily_marts(site: Site, start: date, end: date, category: str | None = None) -> dict[str, dict[str, int]]:
    """The NY user's daily mart rows of a range (all tasks, or one category's), by ISO date."""
    if category is None:
        found = rows(
            site,
            "select date, total_scheduled_minutes as scheduled, focus_minutes as focus, focus_available_minutes"
            " as available, completed_tasks_count as completed from analytics.analytics_daily_metrics"
            " where user_id = %s and date between %s and %s",
            dataset.NY, start, end,
        )  # fmt: skip
    else:
        found = rows(
            site,
            "select date, scheduled_minutes as scheduled, focus_minutes as focus, 0 as available,"
            " completed_tasks_count as completed from analytics.daily_category_metrics"
            " where user_id = %s and category_id = %s and date between %s and %s",
            dataset.NY, category, start, end,
        )  # fmt: skip
    return {str(row.pop("date")): row for row in found}


def data(locator: Any, name: str) -> str:
    value = locator.get_attribute(f"data-{name}")
    assert value is not None, f"no data-{name}"
    return str(value)


def number(page: Page, test_id: str) -> float | None:
    value = data(page.get_by_test_id(test_id), "value")
    return None if value == "" else float(value)


def assert_dashboard_equals_marts(page: Page, marts: dict[str, dict[str, int]], start: date, end: date) -> None:
    """Widget, doughnut table and trend table of the page against the marts' daily rows of start..end."""
    total = sum(row["scheduled"] for row in marts.values())
    assert total > 0, "a period with figures, or the comparison proves little"
    assert number(page, "quick-stats-total-minutes") == total
    assert number(page, "quick-stats-completed") == sum(row["completed"] for row in marts.values())
    assert number(page, "quick-stats-focus-minutes") == sum(row["focus"] for row in marts.values())
    doughnut = page.get_by_test_id("category-row")
    assert sum(int(data(doughnut.nth(i), "value")) for i in range(doughnut.count())) == total
    trend = page.get_by_test_id("trend-row")
    days = (end - start).days + 1
    assert trend.count() == days
    zero = {"scheduled": 0, "focus": 0, "completed": 0}
    for i in range(days):
        row = trend.nth(i)
        day = data(row, "date")
        expected = marts.get(day, zero)
        shown = {key: int(data(row, key)) for key in ("scheduled", "focus", "completed")}
        assert shown == {key: expected[key] for key in shown}, day
    assert [data(trend.nth(i), "date") for i in (0, days - 1)] == [str(start), str(end)]


def test_sign_in_create_a_goal_and_see_its_progress(site: Site, page: Page) -> None:
    token = site.token(dataset.NY)
    page.goto(f"{site.base_url}/goals#token={token}")
    # The token moved from the address bar into sessionStorage.
    expect(page.get_by_role("heading", name="New goal")).to_be_visible()
    assert "token" not in page.url
    assert page.evaluate("sessionStorage.getItem('pulse.token')") == token

    # Inline validation: a percentage goal needs a category and at most 100.
    page.get_by_label("Name", exact=True).fill("E2E monthly minutes")
    page.get_by_label("Target type").select_option("percentage")
    page.get_by_label("Target value").fill("150")
    page.get_by_role("button", name="Create goal").click()
    expect(page.get_by_text("A percentage is at most 100.")).to_be_visible()
    expect(page.get_by_text("A percentage goal needs a category.")).to_be_visible()

    page.get_by_label("Target type").select_option("minutes")
    page.get_by_label("Target value").fill("90")
    page.get_by_label("Period").select_option("monthly")
    page.get_by_label("Category").select_option("")
    page.get_by_role("button", name="Create goal").click()
    item = page.get_by_test_id("goal-list-item").filter(has_text="E2E monthly minutes")
    expect(item).to_have_count(1)
    goal_id = data(item, "goal-id")
    (stored,) = rows(
        site, "select target_type, target_value, time_period, category_id from app.goals where goal_id = %s", goal_id
    )
    assert stored == {"target_type": "minutes", "target_value": 90, "time_period": "monthly", "category_id": None}

    # Its progress this month: the scheduled minutes of the month's days in the marts.
    today = dataset.ny_local_today()
    achieved = sum(row["scheduled"] for row in daily_marts(site, today.replace(day=1), today).values())
    card = page.locator(f'[data-testid="goal-card"][data-goal-id="{goal_id}"]')
    expect(card).to_have_count(1)
    assert int(data(card, "achieved")) == achieved
    assert math.isclose(float(data(card, "percent-complete")), min(round(100 * achieved / 90, 2), 999.99))
    assert data(card, "status") in {"achieved", "on_track", "at_risk", "behind"}
    expect(page.get_by_text("created")).to_be_visible()  # the toast
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=IMAGES / "goals.png", full_page=True)

    # Delete, with confirmation.
    page.get_by_role("button", name="Delete E2E monthly minutes").click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(page.get_by_test_id("goal-list-item").filter(has_text="E2E monthly minutes")).to_have_count(0)
    assert rows(site, "select 1 from app.goals where goal_id = %s", goal_id) == []


def test_dashboard_of_a_past_month_equals_the_marts_filters_and_export(site: Site, page: Page) -> None:
    token = site.token(dataset.NY)
    page.goto(f"{site.base_url}/?period=monthly&start_date=2025-03-15#token={token}")
    expect(page.get_by_test_id("trend-row")).to_have_count(31)
    marts = daily_marts(site, *MARCH)
    assert_dashboard_equals_marts(page, marts, *MARCH)
    utilization = sum(r["focus"] for r in marts.values()) / sum(r["available"] for r in marts.values())
    shown = number(page, "quick-stats-focus-utilization")
    assert shown is not None and math.isclose(shown, utilization)
    # The doughnut's rows are the categories' minutes in the marts.
    by_category = rows(
        site,
        "select coalesce(category_id::text, '') as id, sum(scheduled_minutes) as minutes"
        " from analytics.daily_category_metrics where user_id = %s and date between %s and %s"
        " group by 1 having sum(scheduled_minutes) > 0",
        dataset.NY, *MARCH,
    )  # fmt: skip
    doughnut = page.get_by_test_id("category-row")
    assert {
        data(doughnut.nth(i), "category-id"): int(data(doughnut.nth(i), "value")) for i in range(doughnut.count())
    } == {row["id"]: row["minutes"] for row in by_category}
    # The month's goal cards are the snapshot mart's rows of March.
    snapshots = rows(
        site,
        "select s.goal_id::text, s.achieved_value, s.percent_complete, s.status"
        " from analytics.goal_progress_snapshots s join app.goals g using (goal_id)"
        " where g.user_id = %s and s.time_period = 'monthly' and s.period_start = %s",
        dataset.NY, MARCH[0],
    )  # fmt: skip
    cards = page.get_by_test_id("goal-card")
    assert cards.count() == len(snapshots) > 0
    shown_cards = {
        data(cards.nth(i), "goal-id"): (
            int(data(cards.nth(i), "achieved")),
            Decimal(data(cards.nth(i), "percent-complete")),
            data(cards.nth(i), "status"),
        )
        for i in range(cards.count())
    }
    assert shown_cards == {r["goal_id"]: (r["achieved_value"], r["percent_complete"], r["status"]) for r in snapshots}
    page.screenshot(path=IMAGES / "dashboard.png", full_page=True)

    # The category filter restricts every figure, and lives in the URL.
    all_total = number(page, "quick-stats-total-minutes")
    page.get_by_label("Category").select_option(WORK)
    expect(page).to_have_url(f"{site.base_url}/?period=monthly&start_date=2025-03-15&category_id={WORK}")
    work = daily_marts(site, *MARCH, category=WORK)
    expect(page.get_by_test_id("quick-stats-total-minutes")).to_have_attribute(
        "data-value", str(sum(r["scheduled"] for r in work.values()))
    )
    assert_dashboard_equals_marts(page, work, *MARCH)
    doughnut = page.get_by_test_id("category-row")
    assert [data(doughnut.nth(i), "category-id") for i in range(doughnut.count())] == [WORK]
    # Back goes to the unfiltered view.
    page.go_back()
    expect(page.get_by_test_id("quick-stats-total-minutes")).to_have_attribute("data-value", str(int(all_total or 0)))

    # The export downloads the month's CSV, byte for byte the API's.
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    download = download_info.value
    assert download.suggested_filename == "pulse-2025-03-01-2025-03-31.csv"
    path = download.path()
    api_csv = httpx.get(
        f"{site.base_url}/api/v1/analytics/export",
        params={"format": "csv", "start_date": "2025-03-01", "end_date": "2025-03-31"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api_csv.status_code == 200 and path.read_bytes() == api_csv.content
    assert len(api_csv.text.splitlines()) == 32
    expect(page.get_by_text("Downloaded pulse-2025-03-01-2025-03-31.csv")).to_be_visible()

    # Next goes to April.
    page.get_by_role("button", name="Next →").click()
    expect(page).to_have_url(f"{site.base_url}/?period=monthly&start_date=2025-04-01")
    expect(page.get_by_test_id("trend-row")).to_have_count(30)


def test_a_small_screen_has_no_sideways_scroll(site: Site, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{site.base_url}/?period=weekly&start_date=2025-03-03#token={site.token(dataset.NY)}")
        expect(page.get_by_test_id("trend-row")).to_have_count(7)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path=IMAGES / "dashboard-375.png", full_page=True)
        page.goto(f"{site.base_url}/goals")
        expect(page.get_by_role("button", name="Create goal")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        context.close()


def test_a_refused_token_brings_back_the_sign_in_box(site: Site, page: Page) -> None:
    page.goto(f"{site.base_url}/#token=not-a-token")
    expect(page.get_by_role("alert")).to_contain_text("Your token was refused")
    page.get_by_label("Access token").fill(site.token(dataset.NY))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("quick-stats-total-minutes")).to_be_visible()
