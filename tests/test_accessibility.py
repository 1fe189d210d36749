"""The main pages, as a visitor, a member and staff see them: axe-core (injected into Debian's chromium)
finds no serious or critical violation, and the Nu HTML checker (vnu.jar) no error.

Both tools come pinned from the npm registry into .cache/npm (scripts/test installs them)."""
import json
import os
import subprocess
from pathlib import Path

import pytest
from django.test import Client

from ask.qa.services import answer_create, question_create
from tests.ask.qa.test_qa_browser import log_in
from tests.ask.qa.test_qa_screens_browser import WIDE_POST
from tests.factories import UserFactory
from tests.support import ROOT

NPM = ROOT / ".cache" / "npm" / "node_modules"
SCREENSHOTS = os.environ.get("ASK_SCREENSHOTS")
AXE = NPM / "axe-core" / "axe.min.js"
VNU = NPM / "vnu-jar" / "build" / "dist" / "vnu.jar"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site():
    for tool in (AXE, VNU):
        assert tool.exists(), f"{tool} is missing: scripts/test installs it (ensure_npm_tools)"
    asker = UserFactory(email="asker@example.com", display_name="Asker")
    UserFactory(email="staff@example.com", display_name="Staff", is_staff=True)
    question = question_create(author=asker, title="A wide traceback", text=WIDE_POST, tag_names=["python"])
    answer_create(author=UserFactory(display_name="Helper"), question=question, text=WIDE_POST, question_url="/")
    from tests.ask.jobs.factories import JobRunFactory

    run = JobRunFactory(job="calc_stats", status="failed", error="RuntimeError: boom\nTraceback …")
    return {"question": question, "asker": asker, "order": _cooking_order(asker), "run": run}


def _cooking_order(customer):
    """An order of the customer's, being cooked at a restaurant where the customer also works."""
    from datetime import timedelta

    from django.utils import timezone

    from orders.models import Order
    from orders.processing import orders_process_pass
    from orders.services import order_place
    from tests.orders.conftest import DUE_NOW
    from tests.orders.factories import DishFactory, RestaurantFactory

    kitchen = RestaurantFactory(name="Pasta Place", slug="pasta", integration="pushed")
    kitchen.staff.add(customer)
    order = order_place(customer=customer, cart={DishFactory(restaurant=kitchen).pk: 2},
                        eta=timezone.now() + timedelta(minutes=45), address="7 Lovely Lane")
    Order.objects.filter(pk=order.pk).update(eta=timezone.now() + DUE_NOW, next_check_at=timezone.now())
    orders_process_pass(batch_size=10)
    return order


def _pages(site) -> dict[str, list[str]]:
    q = site["question"]
    return {
        "visitor": ["/", "/hot/", "/tag/python/", f"/q/{q.pk}/", f"/q/{q.pk}/history/", "/search/?q=traceback",
                    f"/u/{site['asker'].pk}/", "/accounts/login/", "/accounts/signup/", "/orders/"],
        "asker@example.com": ["/", f"/q/{q.pk}/", "/ask/", f"/q/{q.pk}/edit/", "/settings/", "/digest/",
                              "/orders/cart/", "/orders/mine/", f"/orders/{site['order'].pk}/", "/orders/staff/pasta/"],
        "staff@example.com": ["/moderation/", "/stats/", "/jobs/", "/jobs/calc_stats/",
                              f"/jobs/runs/{site['run'].pk}/"],
    }


def _serious(violations: list[dict]) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in violations if v["impact"] in ("serious", "critical") or v["id"] == "heading-order"]


@pytest.fixture
def page(browser):
    """A page whose Content-Security-Policy lets the injected axe-core run (the site's own allows no
    inline script)."""
    context = browser.new_context(bypass_csp=True)
    yield context.new_page()
    context.close()


def test_axe_finds_no_serious_or_critical_violation_on_the_main_pages(live_server, page, site):
    found = {}
    for who, paths in _pages(site).items():
        if who != "visitor":
            page.context.clear_cookies()
            log_in(page, live_server.url, who)
        for path in paths:
            for width in (390, 1280):
                page.set_viewport_size({"width": width, "height": 800})
                page.goto(live_server.url + path)
                if SCREENSHOTS:  # to look at: ASK_SCREENSHOTS=/tmp/shots
                    name = path.strip("/").replace("/", "-") or "home"
                    page.screenshot(path=f"{SCREENSHOTS}/a11y-{name}-{width}.png", full_page=True)
                page.add_script_tag(path=str(AXE))
                result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
                if problems := _serious(result["violations"]):
                    found[f"{who} {path} at {width}px"] = problems
    assert not found, json.dumps(found, indent=1, ensure_ascii=False)


def test_the_nu_html_checker_finds_no_error_on_the_main_pages(site, tmp_path):
    files = []
    for who, paths in _pages(site).items():
        client = Client()
        if who != "visitor":
            client.force_login(type(site["asker"]).objects.get(email=who))
        for n, path in enumerate(paths):
            response = client.get(path)
            assert response.status_code == 200, (who, path)
            files.append(tmp_path / f"{who.split('@')[0]}-{n}.html")
            files[-1].write_bytes(response.content)
            files[-1].with_suffix(".path").write_text(path)
    checked = subprocess.run(["java", "-jar", str(VNU), "--format", "json", "--exit-zero-always",
                              *map(str, files)], capture_output=True, text=True, timeout=180)
    messages = json.loads(checked.stderr or checked.stdout)["messages"]
    path_of = {file.name: file.with_suffix(".path").read_text() for file in files}
    errors = [f"{path_of[Path(m['url']).name]} line {m.get('lastLine')}: {m['message']}"
              for m in messages if m["type"] == "error"]
    assert not errors, "\n".join(errors)
