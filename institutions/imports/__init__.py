"""Registry import from .xlsx: a guarded reader and the plan of what an import would change.

``reader`` turns bytes into rows (refusing hostile files), ``vocabulary`` understands the words
people put in the sheet, ``plan`` decides row by row what would happen. Nothing in this package
writes: ``institutions.services.registry_import`` applies a plan all-or-nothing.
"""

from institutions.imports.plan import (
    ImportPlan,
    PlanAction,
    RegistryIndex,
    RowPlan,
    plan_as_text,
    plan_registry_import,
)
from institutions.imports.reader import RegistrySheet, SheetRow, read_registry_sheet
from institutions.imports.vocabulary import (
    Column,
    header_column,
    parse_institution_type,
    parse_link_token,
)

__all__ = [
    "Column",
    "ImportPlan",
    "PlanAction",
    "RegistryIndex",
    "RegistrySheet",
    "RowPlan",
    "SheetRow",
    "header_column",
    "parse_institution_type",
    "parse_link_token",
    "plan_as_text",
    "plan_registry_import",
    "read_registry_sheet",
]
