"""The staff dashboard: queue counts per role, one aggregate query, the partial index.

The clock stands at Friday 5 June 2026, 16:00 (office hours 07:00-11:30, 13:30-17:00):
"within 1 working day" therefore reaches Monday 8 June, 16:00.
"""

import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from procedures.core.constants import Outcome
from procedures.dossiers import services as svc
from procedures.dossiers.queues import (
    COMMON_QUEUES,
    Queue,
    due_soon_limit,
    queue_counts,
    queue_dossiers,
    queue_most_urgent,
    queue_role_counts,
)

from .conftest import at

pytestmark = pytest.mark.django_db

NOW = at(2026, 6, 5, 16, 0)


@pytest.fixture
def dossiers(register, staff, units):
    """One dossier per situation; accepted dossiers are due 5 working days later."""
    intake, head = staff["intake"], staff["unit_head"]

    def processing(accepted_at, unit, officer=None):
        d = register(now=accepted_at)
        d = svc.dossier_accept(dossier=d, actor=intake, now=accepted_at)
        return svc.dossier_assign(
            dossier=d, actor=intake, unit=units[unit], officer=officer, now=accepted_at
        )

    out = {"awaiting_intake": register(now=at(2026, 6, 5, 8, 0))}
    # due Monday 8 June 10:00: within 1 working day of Friday 16:00
    out["due_soon"] = processing(at(2026, 6, 1, 10, 0), "QLTM", staff["specialist"])
    # due Tuesday 9 June 10:00: not yet
    out["later"] = processing(at(2026, 6, 2, 10, 0), "QLTM")
    # due Monday 1 June 10:00: overdue
    out["overdue"] = processing(at(2026, 5, 25, 10, 0), "QLCN", staff["other_specialist"])
    d = processing(at(2026, 5, 25, 10, 0), "QLTM", staff["specialist"])
    out["supplement"] = svc.dossier_request_supplement(
        dossier=d, actor=intake, reason="Thiếu bản sao", now=at(2026, 5, 26, 9, 0)
    )
    d = processing(at(2026, 6, 1, 10, 0), "QLCN")
    out["payment"] = svc.dossier_request_payment(
        dossier=d, actor=intake, note="Nộp phí", now=at(2026, 6, 1, 11, 0)
    )
    # finished long ago, its due passed: not in any queue
    d = processing(at(2026, 5, 18, 10, 0), "QLTM", staff["specialist"])
    out["finished"] = svc.dossier_resolve(
        dossier=d, actor=head, outcome=Outcome.GRANTED, now=at(2026, 5, 20, 10, 0)
    )
    return out


def as_dict(counts):
    return {c.queue: c.count for c in counts}


EXPECTED = {
    "intake": {
        "awaiting_intake": 1,
        "mine": 0,
        "due_soon": 1,
        "overdue": 1,
        "awaiting_supplement": 1,
        "awaiting_payment": 1,
        "transfer_waiting": 0,
        "transfer_late": 0,
    },
    "director": {
        "awaiting_intake": 1,
        "mine": 0,
        "due_soon": 1,
        "overdue": 1,
        "awaiting_supplement": 1,
        "awaiting_payment": 1,
        "transfer_waiting": 0,
        "transfer_late": 0,
    },
    # QLTM's dossiers (due_soon, later, supplement) plus those assigned to them
    "specialist": {
        "awaiting_intake": 0,
        "mine": 2,
        "due_soon": 1,
        "overdue": 0,
        "awaiting_supplement": 1,
        "awaiting_payment": 0,
        "transfer_waiting": 0,
        "transfer_late": 0,
    },
    "unit_head": {
        "awaiting_intake": 0,
        "mine": 0,
        "due_soon": 1,
        "overdue": 0,
        "awaiting_supplement": 1,
        "awaiting_payment": 0,
        "transfer_waiting": 0,
        "transfer_late": 0,
    },
    # QLCN's dossiers (overdue, payment)
    "other_specialist": {
        "awaiting_intake": 0,
        "mine": 1,
        "due_soon": 0,
        "overdue": 1,
        "awaiting_supplement": 0,
        "awaiting_payment": 1,
        "transfer_waiting": 0,
        "transfer_late": 0,
    },
    "other_head": {
        "awaiting_intake": 0,
        "mine": 0,
        "due_soon": 0,
        "overdue": 1,
        "awaiting_supplement": 0,
        "awaiting_payment": 1,
        "transfer_waiting": 0,
        "transfer_late": 0,
    },
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_queue_counts_per_role(dossiers, staff, role):
    assert as_dict(queue_counts(user=staff[role], now=NOW)) == EXPECTED[role]


def test_queue_counts_are_one_query(dossiers, staff, django_assert_num_queries):
    user = staff["specialist"]
    queue_counts(user=user, now=NOW)  # loads the user's roles and unit once
    with django_assert_num_queries(1):
        queue_counts(user=user, now=NOW)


@pytest.mark.parametrize("queue", COMMON_QUEUES)
def test_each_queue_lists_exactly_what_it_counts(dossiers, staff, queue):
    user = staff["intake"]
    listed = set(queue_dossiers(queue=queue, user=user, now=NOW).values_list("code", flat=True))
    assert len(listed) == as_dict(queue_counts(user=user, now=NOW))[queue]
    expected = {
        Queue.AWAITING_INTAKE: {"awaiting_intake"},
        Queue.MINE: set(),
        Queue.DUE_SOON: {"due_soon"},
        Queue.OVERDUE: {"overdue"},
        Queue.AWAITING_SUPPLEMENT: {"supplement"},
        Queue.AWAITING_PAYMENT: {"payment"},
        Queue.TRANSFER_WAITING: set(),  # every accepted dossier here was transferred
        Queue.TRANSFER_LATE: set(),
    }[queue]
    assert listed == {dossiers[k].code for k in expected}


ROLE_EXPECTED = {
    # "later" was transferred to QLTM without an officer; "supplement" has one
    "unit_head": {"unit_unassigned": ["later"]},
    # QLCN's unassigned one waits for the applicant's payment: not the head's work now
    "other_head": {"unit_unassigned": []},
    "intake": {"ready_to_return": ["finished"]},
    "specialist": {},
    "director": {},
}


@pytest.mark.parametrize("role", list(ROLE_EXPECTED))
def test_role_queues_count_and_list_the_same_dossiers(dossiers, staff, role):
    user = staff[role]
    counts = as_dict(queue_role_counts(user=user, now=NOW))
    assert counts == {q: len(keys) for q, keys in ROLE_EXPECTED[role].items()}
    for queue, keys in ROLE_EXPECTED[role].items():
        listed = set(queue_dossiers(queue=queue, user=user, now=NOW).values_list("code", flat=True))
        assert listed == {dossiers[k].code for k in keys}


def test_a_transfer_shows_on_the_unit_heads_dashboard(client, register, staff, units):
    """Before: after the desk's transfer the receiving head saw 0 in every card."""
    accepted = at(2026, 6, 5, 9, 0)
    d = svc.dossier_accept(dossier=register(now=accepted), actor=staff["intake"], now=accepted)
    svc.dossier_assign(dossier=d, actor=staff["intake"], unit=units["QLCN"], now=accepted)
    client.force_login(staff["other_head"])
    with time_machine.travel(NOW, tick=False):
        html = client.get(reverse("admin:procedures_dashboard")).content.decode()
        listed = client.get(
            reverse("admin:procedures_dossier_changelist") + "?queue=unit_unassigned"
        ).content.decode()
    counts = dict(re.findall(r'data-queue="([a-z_]+)"><span class="count">(\d+)</span>', html))
    assert counts["unit_unassigned"] == "1"
    assert "ready_to_return" not in counts  # the desk's work, not the head's
    assert d.code in listed


def test_the_desk_sees_results_ready_to_return(client, dossiers, staff):
    client.force_login(staff["intake"])
    with time_machine.travel(NOW, tick=False):
        html = client.get(reverse("admin:procedures_dashboard")).content.decode()
        listed = client.get(
            reverse("admin:procedures_dossier_changelist") + "?queue=ready_to_return"
        ).content.decode()
    counts = dict(re.findall(r'data-queue="([a-z_]+)"><span class="count">(\d+)</span>', html))
    assert counts["ready_to_return"] == "1"
    assert set(re.findall(r"H56\.16-\d{6}-\d{4}", listed)) == {dossiers["finished"].code}


def test_most_urgent_is_earliest_due_first(dossiers, staff):
    urgent = queue_most_urgent(user=staff["director"], now=NOW)
    assert [d.code for d in urgent] == [dossiers["overdue"].code, dossiers["due_soon"].code]


def test_due_soon_skips_the_weekend_and_tet():
    # 1 h left on Friday, then 7 h on Monday: 07:00-11:30 and 13:30-16:00
    assert due_soon_limit(now=at(2026, 6, 5, 16, 0)) == at(2026, 6, 8, 16, 0)
    # Lunar New Year 2026: off from Saturday 14 to Sunday 22 February
    assert due_soon_limit(now=at(2026, 2, 13, 16, 0)) == at(2026, 2, 23, 16, 0)
    # after closing: the whole next working day
    assert due_soon_limit(now=at(2026, 6, 2, 18, 0)) == at(2026, 6, 3, 17, 0)


def test_dashboard_page(client, dossiers, staff, django_assert_num_queries):
    url = reverse("admin:procedures_dashboard")
    assert url == "/admin/procedures/dossier/dashboard/"
    client.force_login(staff["intake"])
    with time_machine.travel(NOW, tick=False):
        # session, user, groups, permissions x2, the counts, the results ready to
        # return, the urgent list, the profile
        due_soon_limit(now=NOW)  # the working-time calendar is cached per process
        with django_assert_num_queries(9):
            response = client.get(url)
    html = response.content.decode()
    counts = dict(re.findall(r'data-queue="([a-z_]+)"><span class="count">(\d+)</span>', html))
    assert {k: int(v) for k, v in counts.items()} == {**EXPECTED["intake"], "ready_to_return": 1}
    assert dossiers["overdue"].code in html and dossiers["due_soon"].code in html
    assert dossiers["later"].code not in html
    assert f'href="{reverse("admin:procedures_dossier_changelist")}?queue=overdue"' in html
    assert reverse("admin:procedures_dossier_add") in html  # the desk registers


def test_dashboard_query_count_does_not_grow(
    client, dossiers, register, staff, django_assert_num_queries
):
    for i in range(10):
        register(now=at(2026, 6, 4, 8, i))
    client.force_login(staff["specialist"])
    with time_machine.travel(NOW, tick=False):
        due_soon_limit(now=NOW)
        # as for the desk, plus the unit's name in the heading
        with django_assert_num_queries(9):
            response = client.get(reverse("admin:procedures_dashboard"))
    assert "Phòng Quản lý Thương mại" in response.content.decode()
    assert reverse("admin:procedures_dossier_add") not in response.content.decode()


def test_queue_link_opens_the_filtered_list(client, dossiers, staff):
    client.force_login(staff["other_head"])
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("admin:procedures_dossier_changelist") + "?queue=overdue")
    codes = set(re.findall(r"H56\.16-\d{6}-\d{4}", response.content.decode()))
    assert codes == {dossiers["overdue"].code}


def test_admin_index_links_the_dashboard(client, staff):
    client.force_login(staff["unit_head"])
    html = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:procedures_dashboard") in html
    client.force_login(staff["catalogue_admin"])
    html = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:procedures_dashboard") not in html


def test_counts_read_the_open_dossier_index_on_postgresql(require_postgres, dossiers, staff):
    queue_counts(user=staff["director"], now=NOW)  # loads the director's roles
    with CaptureQueriesContext(connection) as ctx:
        queue_counts(user=staff["director"], now=NOW)
    (query,) = ctx.captured_queries
    with connection.cursor() as cursor:
        # The test table is tiny, so forbid the sequential scan to see which index
        # the planner can use: the partial index matches the WHERE exactly.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + query["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # Either partial index on open dossiers will do; never a scan of the whole table.
    assert "dossier_open_queue_idx" in plan or "dossier_open_due_idx" in plan, plan
    assert "Seq Scan" not in plan, plan


@pytest.mark.parametrize(
    ("role", "expected", "absent"),
    [
        (
            "director",
            [
                "/admin/procedures/dossier/dashboard/",
                "/admin/procedures/reportsnapshot/report/",
                "/admin/procedures/delivery/inbox/",
                "/doi-thoai/can-bo/kien-nghi/",
            ],
            [],
        ),
        (
            "intake",
            ["/admin/procedures/dossier/dashboard/", "/admin/procedures/delivery/inbox/"],
            ["/admin/procedures/reportsnapshot/report/"],
        ),
        (
            "catalogue_admin",
            [],
            ["/admin/procedures/dossier/dashboard/", "/admin/procedures/delivery/inbox/"],
        ),
    ],
)
def test_admin_index_links_each_role_to_its_work(client, staff, role, expected, absent):
    client.force_login(staff[role])
    page = client.get("/admin/").content.decode()
    for url in expected:
        assert f'href="{url}' in page, url
    for url in absent:
        assert f'href="{url}' not in page, url
