"""The applicant's evaluation of a dossier (Circular 01/2018; docs/legal-rules.md:
"Satisfaction")."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from procedures.core.constants import Action, DossierStatus, Satisfaction
from procedures.core.errors import DomainError
from procedures.models import Dossier, DossierEvent, Rating

RATABLE_STATUSES = (DossierStatus.FINISHED, DossierStatus.RETURNED)
CRITERIA = ("timeliness", "attitude", "visits", "information")


def rating_submit(
    *,
    dossier: Dossier,
    overall: str,
    timeliness: int | None = None,
    attitude: int | None = None,
    visits: int | None = None,
    information: int | None = None,
    comment: str = "",
    now: datetime | None = None,
) -> Rating:
    """Record the applicant's rating, once, after the result is ready (status 9 or 10).

    The caller has verified the look-up PIN: the only way to a dossier's rating form is
    the look-up page, which grants the browser session access after a correct PIN.
    """
    now = now or timezone.now()
    if overall not in Satisfaction.values:
        raise DomainError(
            _("Choose how satisfied you are overall."), field="overall", code="required"
        )
    scores = {
        "timeliness": timeliness,
        "attitude": attitude,
        "visits": visits,
        "information": information,
    }
    for name, value in scores.items():
        if value is not None and value not in (0, 1, 2):
            raise DomainError(_("A score is 0, 1 or 2."), field=name, code="invalid_score")
    try:
        with transaction.atomic():
            # The lock orders two submissions of the same form; the one-to-one key is
            # the last line of defence.
            d = Dossier.objects.select_for_update().get(pk=dossier.pk)
            if d.status not in RATABLE_STATUSES:
                raise DomainError(
                    _("The service can be rated once the result is ready."),
                    code="not_ratable",
                )
            if Rating.objects.filter(dossier=d).exists():
                raise DomainError(
                    _("This dossier has already been rated. Thank you."), code="already_rated"
                )
            rating = Rating.objects.create(
                dossier=d, overall=overall, comment=comment.strip(), created_at=now, **scores
            )
            # Evidence for the register; the rating changes nothing in the dossier's state.
            DossierEvent.objects.create(
                dossier=d,
                action=Action.RATE,
                actor=None,
                by_applicant=True,
                at=now,
                from_status=d.status,
                to_status=d.status,
                data={"overall": overall, **{k: v for k, v in scores.items() if v is not None}},
            )
    except IntegrityError as exc:
        raise DomainError(
            _("This dossier has already been rated. Thank you."), code="already_rated"
        ) from exc
    return rating
