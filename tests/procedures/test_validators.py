"""Identity numbers: the tax code's check digit is verified (python-stdnum)."""

import pytest
from django.core.exceptions import ValidationError

from procedures.core.validators import validate_tax_code


@pytest.mark.parametrize("value", ["0100109106", "0100109106-001", "0100109106001", " 0100233488 "])
def test_real_tax_codes_pass(value):
    validate_tax_code(value)


def test_a_wrong_check_digit_is_refused_with_its_own_message():
    """0100109107: the tenth digit of 0100109106 mistyped."""
    with pytest.raises(ValidationError) as info:
        validate_tax_code("0100109107")
    assert info.value.code == "invalid_tax_code_checksum"
    assert "check digit" in info.value.messages[0]


@pytest.mark.parametrize("value", ["12345", "01001091061", "01001091ab", ""])
def test_wrong_length_or_letters_are_refused(value):
    with pytest.raises(ValidationError) as info:
        validate_tax_code(value)
    assert info.value.code == "invalid_tax_code"
