"""Internal processes: the steps share out the procedure's time exactly."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from procedures.catalogue.process import (
    StepSpec,
    process_default_steps,
    process_replace,
    process_total_hours,
)
from procedures.core.constants import StepRole, TimeUnit
from procedures.core.errors import DomainError
from procedures.models import Procedure, ProcessStep

pytestmark = pytest.mark.django_db


def test_total_is_the_time_in_working_hours(procedure):
    assert process_total_hours(procedure=procedure) == Decimal("40")  # 5 working days
    procedure.processing_unit = TimeUnit.WORKING_HOURS
    assert process_total_hours(procedure=procedure) == Decimal("5")
    procedure.processing_unit = TimeUnit.CALENDAR_DAYS
    assert process_total_hours(procedure=procedure) is None


def test_steps_that_do_not_add_up_are_refused_and_nothing_changes(procedure):
    before = list(procedure.process_steps.values_list("allotted_hours", flat=True))
    with pytest.raises(DomainError) as err:
        process_replace(
            procedure=procedure,
            steps=[
                StepSpec("Tiếp nhận", StepRole.INTAKE, Decimal("4")),
                StepSpec("Thẩm định", StepRole.SPECIALIST, Decimal("30")),
            ],
        )
    assert err.value.code == "process_sum"
    assert "34" in err.value.message and "40" in err.value.message
    assert list(procedure.process_steps.values_list("allotted_hours", flat=True)) == before


def test_default_split_adds_up_in_quarter_hours(procedure, units):
    steps = process_default_steps(procedure=procedure, desk=units["VP"])
    assert [s.role for s in steps] == ["intake", "specialist", "unit_head", "director", "intake"]
    assert [s.hours for s in steps] == [
        Decimal("2.5"),
        Decimal("30"),
        Decimal("2.5"),
        Decimal("2.5"),
        Decimal("2.5"),
    ]
    assert sum(s.hours for s in steps) == Decimal("40")
    process_replace(procedure=procedure, steps=steps)
    assert procedure.process_steps.count() == 5


def test_seed_gives_every_timed_procedure_a_process_once(capsys):
    call_command("seed_catalogue")
    call_command("seed_catalogue")
    timed = Procedure.objects.filter(processing_amount__isnull=False)
    with_process = timed.filter(process_steps__isnull=False).distinct()
    calendar_days = timed.filter(processing_unit=TimeUnit.CALENDAR_DAYS).count()
    assert with_process.count() == timed.count() - calendar_days > 0
    for p in with_process:
        total = process_total_hours(procedure=p)
        assert sum(s.allotted_hours for s in p.process_steps.all()) == total
    assert ProcessStep.objects.count() == 5 * with_process.count()


def test_admin_inline_refuses_steps_that_do_not_add_up(admin_client, procedure):
    url = reverse("admin:procedures_procedure_change", args=[procedure.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    # Submit the page as it is, but with the second step's hours changed.
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        data[name] = value
    prefix_map = {fs.formset.prefix: fs.formset for fs in page.context["inline_admin_formsets"]}
    for prefix, formset in prefix_map.items():
        data[f"{prefix}-TOTAL_FORMS"] = len(formset.forms)
        data[f"{prefix}-INITIAL_FORMS"] = formset.initial_form_count()
        data[f"{prefix}-MIN_NUM_FORMS"] = 0
        data[f"{prefix}-MAX_NUM_FORMS"] = 1000
        for i, f in enumerate(formset.forms):
            for name in f.fields:
                value = f.initial.get(name)
                if hasattr(value, "pk"):
                    value = value.pk
                if value is not None:
                    data[f"{prefix}-{i}-{name}"] = value
            data[f"{prefix}-{i}-id"] = f.instance.pk
            if formset.model is ProcessStep:
                data[f"{prefix}-{i}-procedure"] = procedure.pk
    steps_prefix = next(p for p, fs in prefix_map.items() if fs.model is ProcessStep)
    data[f"{steps_prefix}-1-allotted_hours"] = "20"
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "add up to 32 working hours" in response.content.decode()
    assert ProcessStep.objects.get(procedure=procedure, order=2).allotted_hours == Decimal("28")
