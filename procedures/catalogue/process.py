"""Internal processes (quy trình nội bộ): each procedure's time split among steps.

Decree 61/2018 art. 15-20: the approved internal process divides the processing time
among intake, appraisal, the unit head, the director's signature and the return; the
control slip (form 05) measures each step against its share. The shares must add up
to the procedure's time, or a unit could be "on time" while the dossier is late.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from procedures.calendar import working_time as calendar
from procedures.catalogue import cache as catalogue_cache
from procedures.core.constants import StepRole, TimeUnit
from procedures.core.errors import DomainError
from procedures.models import Procedure, ProcessStep, Unit

QUARTER = Decimal("0.25")


@dataclass(frozen=True)
class StepSpec:
    name: str
    role: str
    hours: Decimal
    unit: Unit | None = None


def process_total_hours(*, procedure: Procedure) -> Decimal | None:
    """The working hours the steps must add up to; None when no sum applies.

    Calendar-day procedures run over weekends and holidays, so their time has no exact
    working-hour equivalent: their steps are checked only for being positive.
    """
    if procedure.processing_amount is None:
        return None
    day_hours = Decimal(calendar.working_day_seconds()) / 3600
    if procedure.processing_unit == TimeUnit.WORKING_DAYS:
        return procedure.processing_amount * day_hours
    if procedure.processing_unit == TimeUnit.WORKING_HOURS:
        return procedure.processing_amount
    return None


def process_validate(*, procedure: Procedure, hours: list[Decimal]) -> None:
    if any(h is None or h <= 0 for h in hours):
        raise DomainError(
            _("Every step needs a positive number of working hours."), field="allotted_hours"
        )
    total = process_total_hours(procedure=procedure)
    summed = sum(hours, Decimal(0))
    amount = procedure.processing_amount  # set whenever a total applies
    if hours and total is not None and amount is not None and summed != total:
        raise DomainError(
            _(
                "The steps add up to %(sum)s working hours, but the procedure allows "
                "%(total)s (%(amount)s %(unit)s)."
            )
            % {
                "sum": f"{summed.normalize():f}",
                "total": f"{total.normalize():f}",
                "amount": f"{amount.normalize():f}",
                "unit": procedure.get_processing_unit_display(),
            },
            field="allotted_hours",
            code="process_sum",
        )


@transaction.atomic
def process_replace(*, procedure: Procedure, steps: list[StepSpec]) -> list[ProcessStep]:
    """Replace the procedure's internal process; running dossiers keep their copy."""
    process_validate(procedure=procedure, hours=[s.hours for s in steps])
    ProcessStep.objects.filter(procedure=procedure).delete()
    catalogue_cache.bump_on_commit()  # bulk_create sends no post_save
    return ProcessStep.objects.bulk_create(
        ProcessStep(
            procedure=procedure,
            order=i,
            name=s.name,
            role=s.role,
            unit=s.unit,
            allotted_hours=s.hours,
        )
        for i, s in enumerate(steps, start=1)
    )


def process_default_steps(*, procedure: Procedure, desk: Unit | None) -> list[StepSpec]:
    """The usual five-step split: a sixteenth each for intake, unit head, director and
    return (in quarter hours), the rest for the specialist's appraisal."""
    total = process_total_hours(procedure=procedure)
    if total is None:
        return []
    share = max(QUARTER, (total / 16 / QUARTER).to_integral_value(ROUND_DOWN) * QUARTER)
    appraisal = total - 4 * share
    if appraisal <= 0:
        return [StepSpec(_("Receive, appraise and decide"), StepRole.SPECIALIST, total)]
    return [
        StepSpec(_("Receive and transfer the dossier"), StepRole.INTAKE, share, desk),
        StepSpec(
            _("Appraise the dossier"), StepRole.SPECIALIST, appraisal, procedure.implementing_unit
        ),
        StepSpec(_("Unit head review"), StepRole.UNIT_HEAD, share, procedure.implementing_unit),
        StepSpec(_("Director's signature"), StepRole.DIRECTOR, share),
        StepSpec(_("Return the result"), StepRole.INTAKE, share, desk),
    ]


def process_seed_defaults(*, desk: Unit | None) -> int:
    """Give every procedure with a published time and no process the default split."""
    done = 0
    for procedure in Procedure.objects.filter(
        processing_amount__isnull=False, process_steps__isnull=True
    ):
        steps = process_default_steps(procedure=procedure, desk=desk)
        if steps:
            process_replace(procedure=procedure, steps=steps)
            done += 1
    return done
