import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM
# calls from such a thread unless told that this is safe (it is, in tests).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "https://motcua.example.gov.vn"


@pytest.fixture
def staff(db):
    """A one-stop desk officer: acts on the recommendations of every unit (assigns,
    drafts, closes). Unit-bound staff are made in the tests of the unit rule."""
    from procedures.catalogue.staff import roles_ensure_groups
    from procedures.core.constants import Role
    from tests.dialogues_factories import STAFF_PERMS, UserFactory

    user = UserFactory(username="chuyenvien", perms=STAFF_PERMS)
    user.groups.add(roles_ensure_groups()[Role.INTAKE])
    return user


@pytest.fixture
def approver(db):
    from procedures.catalogue.staff import roles_ensure_groups
    from procedures.core.constants import Role
    from tests.dialogues_factories import APPROVER_PERMS, UserFactory

    user = UserFactory(username="giamdoc", perms=APPROVER_PERMS)
    user.groups.add(roles_ensure_groups()[Role.DIRECTOR])  # approves for every unit
    return user


@pytest.fixture(autouse=True)
def _celery_eager():
    """Tasks enqueued on commit run in-process, so tests see their real outcome."""
    from config.celery_app import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous
