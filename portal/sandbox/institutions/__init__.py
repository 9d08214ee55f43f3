"""Demo institution systems behind the sandbox GovESB: RITA, TRA and BRELA (dev and test only).

Each receives the portal's signed hand-off through the bus, opens an application under its own
reference, welcomes the citizen through a one-time launch link to its own pages (the details
verified through Mlango already filled in), and pushes every status change back through the
bus. Their state lives in memory.
"""

from portal.sandbox.institutions.app import (
    create_institution_app,
    institution_banner,
    institution_serve,
)
from portal.sandbox.institutions.config import (
    DEMO_INSTITUTIONS,
    Choice,
    DemoInstitution,
    FormField,
    InstitutionConfig,
    InstitutionService,
    Words,
    demo_institution,
    demo_institutions,
)

__all__ = [
    "DEMO_INSTITUTIONS",
    "Choice",
    "DemoInstitution",
    "FormField",
    "InstitutionConfig",
    "InstitutionService",
    "Words",
    "create_institution_app",
    "demo_institution",
    "demo_institutions",
    "institution_banner",
    "institution_serve",
]
