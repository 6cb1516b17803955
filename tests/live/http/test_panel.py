"""The control panel page: the dashboard is there for the roles that may read
the show's numbers (auth.REVIEW, as the review and its CSV), and not at all,
not even as an empty box, for the others."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from live.core.auth import REVIEW, STAFF_ROLES
from tests.conftest import new_show
from tests.test_api import login


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_the_dashboard_is_on_the_panel_of_the_roles_that_read_the_numbers(client: TestClient, role: str) -> None:
    sid = new_show(client)["id"]
    login(client, sid, role)
    r = client.get(f"/shows/{sid}/control", params={"lang": "zh"})
    assert r.status_code == 200
    shown = role in REVIEW
    assert ('id="dashboard"' in r.text) is shown
    assert ("/static/dashboard.js" in r.text) is shown
    assert ('data-stat="gmv"' in r.text) is shown
    assert ("<dt>累计成交额</dt>" in r.text) is shown  # (every string is in the page's JSON either way)


def test_the_dashboard_script_is_served(client: TestClient) -> None:
    r = client.get("/static/dashboard.js")
    assert r.status_code == 200 and "LiveDashboard" in r.text
