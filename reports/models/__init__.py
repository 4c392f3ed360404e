"""Reports: the review workflow (workflow.py) and published rankings.

Each part keeps its models in its own module; this package re-exports them for Django.
"""

from reports.models.quality import (  # noqa: F401
    PublishedQualityRanking,
    QualityMethodology,
)
from reports.models.rankings import (  # noqa: F401
    ExportJob,
    ExportKind,
    ExportState,
    PublishedRanking,
    PublishedRankingVersion,
)
from reports.models.workflow import (  # noqa: F401
    EDITABLE_STATES,
    ReminderKind,
    ReminderLog,
    Report,
    ReportAction,
    ReportComment,
    ReportState,
)
