"""The portal reads across apps: its tests build grants and reports with the grants' and the rollout's fixtures."""

from tests.rollout.conftest import ro_allocation, ro_grant, ro_officer_of, ro_report_input, ro_submitted  # noqa: F401
