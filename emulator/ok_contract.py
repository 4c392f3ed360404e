"""OK's documented API as the emulator reads it: ``ok_contract.json`` (written from OK's
documentation, its sources named in the file): parameters, errors, admin-only methods.

The emulator refuses what the contract refuses: an unknown application key (101), a signature
not made with the session secret (104), an unknown session (102), an unknown method (3), a
missing or ill-typed parameter (100), statistics of a group the session does not administer
(10). Error messages start with the error's name, as OK's do (``"PARAM : uids is missing"``).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from emulator.vk_contract import ParamError, check_value

CONTRACT = Path(__file__).resolve().parent / "ok_contract.json"


@cache
def contract() -> dict[str, Any]:
    return json.loads(CONTRACT.read_text(encoding="utf-8"))


def error_message(code: int, text: str = "") -> str:
    """OK's ``error_msg``: the error's name, then what went wrong."""
    name = contract()["errors"].get(str(code), "UNKNOWN")
    return f"{name} : {text}" if text else name


def method(name: str) -> dict[str, Any] | None:
    return contract()["methods"].get(name)


def check_params(name: str, params: dict[str, Any]) -> None:
    """Raise ParamError for the first parameter OK would refuse (field names in any case)."""
    declared = contract()["methods"][name]["parameters"]
    for param, spec in declared.items():
        if spec.get("required") and not params.get(param):
            raise ParamError(f"Missing required parameter {param}")
    for param, value in params.items():
        if param in declared:
            if param == "fields":
                value = str(value).lower()
            check_value(param, value, declared[param], unknown_fields=False)
