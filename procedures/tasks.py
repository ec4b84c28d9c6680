"""Celery autodiscovery imports `procedures.tasks`; each feature keeps its tasks in its
package. Task names are explicit ("procedures.deliver", ...) so messages already
queued survive a move of the code.

Tasks take ids, check the database first, and are safe to run twice.
"""

from procedures.core.tasks import *  # noqa: F401,F403
from procedures.notifications.tasks import *  # noqa: F401,F403
from procedures.reports.tasks import *  # noqa: F401,F403
