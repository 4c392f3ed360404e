"""Checks of Russian registry identifiers."""

from django.core.exceptions import ValidationError

_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_A = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_B = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _check_digit(digits: list[int], weights: tuple[int, ...]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_is_valid(inn: str) -> bool:
    """The INN checksum of a legal entity (10 digits) or a person (12 digits)."""
    # ASCII only: str.isdigit() also takes "²" (int() then fails) and other scripts' digits.
    if not (inn.isascii() and inn.isdigit()) or len(inn) not in (10, 12):
        return False
    d = [int(c) for c in inn]
    if len(d) == 10:
        return _check_digit(d, _INN10) == d[9]
    return _check_digit(d, _INN12_A) == d[10] and _check_digit(d, _INN12_B) == d[11]


def validate_inn(value: str) -> None:
    if value and not inn_is_valid(value):
        raise ValidationError(
            "ИНН «%(value)s» неверен: нужно 10 или 12 цифр с верной контрольной суммой.",
            params={"value": value},
            code="invalid_inn",
        )


def validate_oktmo(value: str) -> None:
    if not (value.isascii() and value.isdigit() and len(value) in (8, 11)):
        raise ValidationError(
            "Код ОКТМО «%(value)s» должен состоять из 8 или 11 цифр.",
            params={"value": value},
            code="invalid_oktmo",
        )
