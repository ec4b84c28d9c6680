"""System checks refuse settings that would silently change a legal figure."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from procedures.core.checks import check_supplement_policy


@pytest.mark.parametrize("value", ["restart", "pause"])
def test_known_supplement_policies_pass(settings, value):
    settings.SUPPLEMENT_POLICY = value
    assert check_supplement_policy(None) == []


def test_a_typo_in_the_supplement_policy_fails_the_checks(settings):
    settings.SUPPLEMENT_POLICY = "restrat"
    errors = check_supplement_policy(None)
    assert [e.id for e in errors] == ["procedures.E001"]
    assert "'restrat'" in errors[0].msg
    with pytest.raises(SystemCheckError, match="procedures.E001"):
        call_command("check")
