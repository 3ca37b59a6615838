"""The permission matrix: every route of the URL resolver, every role, the status the access policy gives.

Routes are found by walking the URL resolver, so a new page or endpoint fails
`test_every_route_of_the_resolver_is_in_the_table` until it is given a row in TABLE below. Expected
statuses come from accounts/access.py (roles -> capabilities, regency scope) as the views apply it:

- anonymous: a page redirects to /login/, the API answers 401;
- a role without the route's capability: 403;
- a regency officer and an object of another regency: 404 (where the view looks the object up before
  checking the capability, which some writes do the other way round: 403);
- a permitted role: 200/201/204 for the API, 200 or the redirect after a successful form for pages.

Write bodies are valid, so a refused write must leave the database as it was and a permitted one must change it.
Cases where the portal contradicts the policy are listed in CONTRADICTIONS and marked xfail(strict=True).

The second half checks the regency scope on everything that lists, exports, searches or aggregates:
officer A sees nothing of regency B, and province staff, asking the same, do (so the check means
something). The world (tests/smartvillage/conftest.py) is built once for the module.
"""

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlencode

import openpyxl
import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import get_resolver, resolve, reverse
from django.utils import translation
from rest_framework.test import APIClient

from accounts.models import User
from grants.models import Allocation, Grant
from grants.services import GRANT_UNIT_AMOUNT, transfer_window
from rollout.models import ProgressReport, ReportStatus, VillageStatus
from smartvillage.templatetags.rupiah import rupiah
from tests.conftest import PASSWORD
from tests.smartvillage.conftest import SECRET_B, World
from tests.smartvillage.test_url_access import walk
from villages.services import region_list_upload, registry_units

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "auditor", "officer_a", "province_staff", "province_admin")


@pytest.fixture
def world(matrix_world: World) -> World:
    """The module's world (tests/smartvillage/conftest.py), built once."""
    return matrix_world


# --- the table ------------------------------------------------------------------------------------

# Columns of an expectation: the five roles, plus officer A on an object of regency B.
COLUMNS = ("anonymous", "auditor", "officer_a", "officer_a@B", "province_staff", "province_admin")
# Anonymous on a route of the portal: a redirect to /login/ for a page, 401 for the API.
ANON = None

#                anonymous auditor officer_a officer_a@B staff admin
READ = (ANON, 200, 200, 404, 200, 200)
READ_ANY = (ANON, 200, 200, 200, 200, 200)  # lists filtered by scope: another regency reads as empty
POST_ONLY = (ANON, 405, 405, 405, 405, 405)  # GET on a page or API route that only takes writes
# API
MANAGE = (ANON, 403, 403, 403, 403, 200)  # Capability.MANAGE_ALLOCATIONS
CREATE = (ANON, 403, 403, 403, 403, 201)
MOVE = (ANON, 403, 403, 403, 200, 200)  # Capability.MOVE_GRANTS (checked before the grant is looked up)
# GrantViewSet fails closed: a method without an action needs MOVE_GRANTS, so readers get 403, not 405.
MOVE_GET = (ANON, 403, 403, 403, 405, 405)
VERIFY = (ANON, 403, 403, 403, 200, 200)  # Capability.VERIFY_REPORTS
SUBMIT = (ANON, 403, 201, 404, 403, 403)  # Capability.SUBMIT_REPORTS, own regency's village
SUBMIT_BULK = (ANON, 403, 201, 400, 403, 403)  # the district is in the body: refused per row (400)
REVOKE = (ANON, 204, 204, 204, 204, 204)
# Pages
PAGE_MANAGE = (ANON, 403, 403, 403, 403, 302)
PAGE_MOVE = (ANON, 403, 403, 403, 302, 302)
PAGE_BATCH = (ANON, 403, 403, 404, 302, 302)  # the regency scope is checked before the capability
PAGE_VERIFY = (ANON, 403, 403, 403, 302, 302)
PAGE_REPORT_FORM = (ANON, 403, 200, 404, 403, 403)
PAGE_REPORT_SENT = (ANON, 403, 302, 404, 403, 403)
FIELD_PAGE = (ANON, 403, 200, 200, 403, 403)  # what an officer's device keeps (Capability.SUBMIT_REPORTS)
# Accounts: user management (Capability.MANAGE_USERS)
ADMIN_ONLY = (ANON, 403, 403, 403, 403, 200)
ADMIN_ONLY_SAVED = (ANON, 403, 403, 403, 403, 302)
AUDIT = (ANON, 200, 403, 403, 403, 200)  # Capability.VIEW_AUDIT
# Treasury: import statements, resolve items, record returns (Capability.RECONCILE)
RECONCILE = (ANON, 403, 403, 403, 201, 201)
PAGE_RECONCILE = (ANON, 403, 403, 403, 302, 302)  # the capability is checked before the item is looked up
PAGE_PREVIEW = (ANON, 403, 403, 403, 200, 200)  # the upload's preview: a page, nothing imported yet


def _same(status: int) -> tuple[int, ...]:
    """Public routes: the same answer whoever asks."""
    return (status,) * len(COLUMNS)


Kwargs = Callable[[World], dict]


@dataclass(frozen=True)
class Variant:
    name: str
    side: str | None  # "A"/"B": the regency of the object the URL names; None: no regional object
    kwargs: Kwargs
    query: Kwargs | None = None
    body: Kwargs | None = None  # the body of every write


@dataclass(frozen=True)
class Route:
    name: str
    api: bool
    variants: tuple[Variant, ...]
    expect: dict[str, tuple]  # method -> status per COLUMNS
    # Lists, exports, searches or aggregates: checked for regency B's rows in an officer's view below.
    lists: bool = False


def _none(world: World) -> dict:
    return {}


def plain(kwargs: Kwargs = _none, *, query: Kwargs | None = None, body: Kwargs | None = None) -> tuple[Variant]:
    return (Variant("-", None, kwargs, query, body),)


def per_regency(
    kwargs: Callable[[World, str], dict],
    *,
    query: Callable[[World, str], dict] | None = None,
    body: Callable[[World, str], dict] | None = None,
    prefix: str = "",
) -> tuple[Variant, Variant]:
    """An object of regency A and one of regency B."""

    def bind(builder, side):
        return None if builder is None else (lambda world: builder(world, side))

    return tuple(
        Variant(f"{prefix}{side}", side, bind(kwargs, side), bind(query, side), bind(body, side)) for side in "AB"
    )


def page(name: str, variants: tuple[Variant, ...], *, lists: bool = False, **expect) -> Route:
    return Route(name, False, variants, expect, lists=lists)


def api(name: str, variants: tuple[Variant, ...], *, lists: bool = False, **expect) -> Route:
    return Route(name, True, variants, expect, lists=lists)


def public(name: str, variants: tuple[Variant, ...], **expect) -> Route:
    return Route(name, False, variants, {method: _same(status) for method, status in expect.items()})


def _transfer_date() -> str:
    """The latest transfer date the world's 2026 allocation accepts: today, until its late first quarter ends."""
    return transfer_window(fiscal_year=2026)[1].isoformat()


NEW_PASSWORD = "Sandi-Baru-Uji-2024"
PASSWORD_CHANGE = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
# Bodies: valid, so the status shows the permission (a permitted role succeeds; nobody else writes).
REPORT_FIELDS = {"pillar1": "live", "pillar2": "in_progress", "pillar3": "not_started", "signal": "4g"}
REPORT_FORM = {**REPORT_FIELDS, "signal_sufficient": "on"}
REPORT_JSON = {**REPORT_FIELDS, "signal_sufficient": True}

# Grant page actions: the grant state each acts on, and its form (prefixed by the action).
GRANT_ACTIONS = {
    "approve": ("planned", {"confirm": "on"}),
    "disburse": ("approved", {"reference": "SP2D-HALAMAN/2026", "transfer_date": "accepted", "confirm": "on"}),
    "account": ("disbursed", {"spent_amount": "6.000.000", "confirm": "on"}),
    "return": ("disbursed", {"amount": "1.000", "reference": "STS-HALAMAN/2026", "confirm": "on"}),
    "close": ("accounted", {"confirm": "on"}),
    "cancel": ("planned", {"confirm": "on"}),
}
# Grant API actions: route name -> (grant state it acts on, body).
GRANT_API_ACTIONS = {
    "grant-approve": ("planned", {}),
    "grant-disburse": ("approved", {"reference": "SP2D-API/2026", "transfer_date": "accepted"}),
    "grant-account": ("disbursed", {"spent_amount": GRANT_UNIT_AMOUNT}),
    "grant-return-": ("disbursed", {"amount": 1000, "reference": "STS-API/2026"}),
    "grant-close": ("accounted", {}),
    "grant-cancel": ("planned", {}),
}
NEW_ACCOUNT = {
    "username": "petugas.baru",
    "role": "regency_officer",
    "regency": "18.01",
    "is_active": "on",
    "password": "Sandi-Desa-Cerdas-2026",
    "password2": "Sandi-Desa-Cerdas-2026",
}
CHANGED_ACCOUNT = {
    "username": "petugas.b",
    "first_name": "Budi",
    "role": "regency_officer",
    "regency": "18.71",
    "is_active": "on",
}
# A statement with one line naming no SP2D: an import of it writes a statement, a line and its outcome.
STATEMENT_CSV = b"tanggal,keterangan,referensi_bank,debet,kredit\n2026-01-05,BIAYA ADM REKENING,ADM1,5000,\n"
EXPORT_TABLES = ("regencies", "districts", "villages", "lagging", "paid-not-live", "reports")
DASHBOARD_LISTS = ("lagging", "paid-not-live", "awaiting", "my-reports")  # the overview lists' whole-list pages


def _dated(body: dict, prefix: str = "") -> dict:
    return {f"{prefix}{key}": (_transfer_date() if value == "accepted" else value) for key, value in body.items()}


def _grant_action_variants() -> tuple[Variant, ...]:
    variants = []
    for action, (state, form) in GRANT_ACTIONS.items():
        variants += per_regency(
            lambda world, side, action=action, state=state: {"grant_id": world.grants[side][state], "action": action},
            body=lambda world, side, action=action, form=form: _dated(form, f"{action}-"),
            prefix=f"{action}:",
        )
    return tuple(variants)


def _decide_variants() -> tuple[Variant, ...]:
    variants = []
    for decision in ("verify", "reject"):
        variants += per_regency(
            lambda world, side, decision=decision: {
                "pk": world.reports[side][ReportStatus.AWAITING],
                "decision": decision,
            },
            body=lambda world, side: {"reason": "Foto bukti buram"},
            prefix=f"{decision}:",
        )
    return tuple(variants)


def _bulk_form(world: World, side: str) -> dict:
    return {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "0",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "form-0-village": world.villages[side],
        "form-0-include": "on",
        **{f"form-0-{key}": value for key, value in REPORT_FORM.items()},
    }


def _allocation(world: World, side: str | None = None) -> dict:
    return {"pk": world.allocation}


def _newer_list(world: World) -> bytes:
    """A newer list of the world's province: its registry as it is, and one new village in district A."""
    units = registry_units(provinces={world.regencies["A"][:2]})
    rows = [(unit.code, unit.name, unit.level, unit.parent_code) for unit in units]
    rows.append((_new_village(world), "Desa Baru Uji", "village", world.districts["A"]))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([("code", "name", "level", "parent_code"), *rows])
    return buffer.getvalue().encode()


def _new_village(world: World) -> str:
    return f"{world.districts['A']}.2998"


def _region_upload(world: World) -> dict:
    """An uploaded newer list under review, planned (one row: the new village, line 2)."""
    admin = User.objects.get(pk=world.users["province_admin"])
    upload = region_list_upload(actor=admin, file_name="baru.csv", data=_newer_list(world))
    return {"pk": upload.pk}


TABLE: dict[str, Route] = {
    route.name: route
    for route in [
        # --- public: logging in, choosing a language, the API's description ---
        # Anonymous: the form (an empty one comes back with its errors); logged in: sent home.
        page(
            "login", plain(body=lambda w: {}), get=(200, 302, 302, 302, 302, 302), post=(200, 302, 302, 302, 302, 302)
        ),
        public("logout", plain(), get=405, post=302),
        public("set_language", plain(body=lambda w: {"language": "id"}), get=302, post=302),
        public("api-token", plain(body=lambda w: {}), get=405, post=400),
        public("api-schema", plain(), get=200),
        public("api-docs", plain(), get=200),
        public("favicon", plain(), get=302),
        api("api-root", plain(), get=READ_ANY),
        # --- public on purpose: the transparency pages and open data (no login, published figures only,
        # GET and HEAD only; what they publish: tests/public), and the load balancers' health check ---
        public("public:home", plain(), get=200, post=405),
        public("public:regency", plain(lambda w: {"code": w.regencies["B"]}), get=200, post=405),
        public("public:district", plain(lambda w: {"code": w.districts["B"]}), get=200, post=405),
        public("public:village", plain(lambda w: {"code": w.villages["B"]}), get=200, post=405),
        public(
            "public:csv",
            tuple(
                Variant(name, None, lambda w, name=name: {"name": name})
                for name in ("provinsi", "kabupaten", "kecamatan", "desa")
            ),
            get=200,
            post=405,
        ),
        public("public:datapackage", plain(), get=200, post=405),
        public("public:catalogue", plain(), get=200, post=405),
        public("healthz", plain(), get=200, post=405),
        # The installable web app: its manifest and service worker hold no one's data (portal/pwa.py).
        public("pwa-manifest", plain(), get=200, post=405),
        public("service-worker", plain(), get=200, post=405),
        api("api-token-revoke", plain(), get=POST_ONLY, delete=REVOKE),
        # --- dashboard ---
        page("home", plain(), get=READ_ANY, lists=True),
        page("dashboard:home", plain(), get=READ_ANY, lists=True),
        page("dashboard:regency", per_regency(lambda w, s: {"code": w.regencies[s]}), get=READ),
        page("dashboard:district", per_regency(lambda w, s: {"code": w.districts[s]}), get=READ),
        page("dashboard:village", per_regency(lambda w, s: {"code": w.villages[s]}), get=READ),
        page(
            "dashboard:export",
            tuple(Variant(table, None, lambda w, table=table: {"table": table}) for table in EXPORT_TABLES),
            get=READ_ANY,
            lists=True,
        ),
        page(
            "dashboard:list",
            tuple(Variant(name, None, lambda w, name=name: {"name": name}) for name in DASHBOARD_LISTS),
            get=READ_ANY,
            lists=True,
        ),
        # --- registry pages ---
        page("villages:registry", plain(), get=READ_ANY, lists=True),
        page("villages:regency", per_regency(lambda w, s: {"code": w.regencies[s]}), get=READ),
        page("villages:district", per_regency(lambda w, s: {"code": w.districts[s]}), get=READ),
        # Loading a newer region list (Capability.MANAGE_REGIONS): upload, decide a row, apply.
        page(
            "villages:region-lists",
            plain(body=lambda w: {"file": SimpleUploadedFile("baru.csv", _newer_list(w), content_type="text/csv")}),
            get=ADMIN_ONLY,
            post=ADMIN_ONLY_SAVED,
        ),
        page(
            "villages:region-list",
            plain(_region_upload, body=lambda w: {"line": 2, "change": "new", "new_code": _new_village(w)}),
            get=ADMIN_ONLY,
            post=ADMIN_ONLY_SAVED,
        ),
        page(
            "villages:region-list-apply",
            plain(
                _region_upload,
                body=lambda w: {"decree": "Kepmendagri uji/2026", "valid_from": "2026-01-01", "confirm": "on"},
            ),
            get=POST_ONLY,
            post=ADMIN_ONLY_SAVED,
        ),
        # --- grant pages ---
        page("grants:allocation-list", plain(), get=READ_ANY, lists=True),
        page("grants:allocation", plain(_allocation), get=READ_ANY, lists=True),
        page(
            "grants:allocation-action",
            plain(lambda w: {"pk": w.draft_allocation}, body=lambda w: {"action": "activate", "confirm": "on"}),
            get=POST_ONLY,
            post=PAGE_MANAGE,
        ),
        page(
            "grants:regency",
            per_regency(
                lambda w, s: {"pk": w.allocation, "code": w.regencies[s]},
                body=lambda w, s: {"action": "approve", "confirm": "on"},
            ),
            get=READ,
            post=PAGE_BATCH,
        ),
        page("grants:grant-list", plain(_allocation), get=READ_ANY, lists=True),
        page("grants:ledger-export", plain(_allocation), get=READ_ANY, lists=True),
        page("grants:grant-export", plain(_allocation), get=READ_ANY, lists=True),
        page("grants:grant", per_regency(lambda w, s: {"grant_id": w.grants[s]["planned"]}), get=READ),
        page("grants:grant-action", _grant_action_variants(), get=POST_ONLY, post=PAGE_MOVE),
        # --- treasury: the reconciliation pages ---
        page("treasury:reconciliation", plain(_allocation), get=READ_ANY, lists=True),
        page("treasury:export", plain(_allocation, query=lambda w: {"file": "csv"}), get=READ_ANY, lists=True),
        page(
            "treasury:upload",
            plain(_allocation, body=lambda w: {"file": SimpleUploadedFile("rk-halaman.csv", STATEMENT_CSV)}),
            get=POST_ONLY,
            post=PAGE_PREVIEW,
        ),
        page(
            "treasury:confirm",
            plain(_allocation, body=lambda w: {"sha256": w.upload_sha256}),
            get=POST_ONLY,
            post=PAGE_RECONCILE,
        ),
        page("treasury:outcome", per_regency(lambda w, s: {"outcome_id": w.outcomes[s]["amount_mismatch"]}), get=READ),
        page(
            "treasury:outcome-resolve",
            per_regency(
                lambda w, s: {"outcome_id": w.outcomes[s]["amount_mismatch"]},
                body=lambda w, s: {"action": "explained", "reason": "Potongan biaya transfer"},
            ),
            get=POST_ONLY,
            post=PAGE_RECONCILE,
        ),
        page(
            "treasury:outcome-return",
            per_regency(lambda w, s: {"outcome_id": w.outcomes[s]["returned"]}, body=lambda w, s: {"confirm": "on"}),
            get=POST_ONLY,
            post=PAGE_RECONCILE,
        ),
        # --- rollout pages ---
        page("rollout:reports", plain(), get=READ_ANY, lists=True),
        page("rollout:report-decide", _decide_variants(), get=POST_ONLY, post=PAGE_VERIFY),
        # A report's photo: to whoever may read the village (an officer of another regency: 404).
        page(
            "rollout:report-photo",
            per_regency(lambda w, s: {"pk": w.reports[s][ReportStatus.AWAITING], "position": 1}),
            get=READ,
            post=POST_ONLY,
        ),
        page(
            "rollout:report-new",
            per_regency(lambda w, s: {"code": w.villages[s]}, body=lambda w, s: REPORT_FORM),
            get=PAGE_REPORT_FORM,
            post=PAGE_REPORT_SENT,
        ),
        page(
            "rollout:district-bulk",
            per_regency(lambda w, s: {"code": w.districts[s]}, body=_bulk_form),
            get=PAGE_REPORT_FORM,
            post=PAGE_REPORT_SENT,
        ),
        page("rollout:offline-form", plain(), get=FIELD_PAGE, post=POST_ONLY),
        page("rollout:offline-villages", plain(), get=FIELD_PAGE, post=POST_ONLY, lists=True),
        page("rollout:queue", plain(), get=FIELD_PAGE, post=POST_ONLY),
        # --- API: registry ---
        api("regency-list", plain(), get=READ_ANY, lists=True),
        api("regency-detail", per_regency(lambda w, s: {"code": w.regencies[s]}), get=READ),
        api("district-list", plain(), get=READ_ANY, lists=True),
        api("district-detail", per_regency(lambda w, s: {"code": w.districts[s]}), get=READ),
        api("village-list", plain(), get=READ_ANY, lists=True),
        api("village-detail", per_regency(lambda w, s: {"code": w.villages[s]}), get=READ),
        # A unit's versions over time (issue 14): read like the unit itself.
        api("regency-history", per_regency(lambda w, s: {"code": w.regencies[s]}), get=READ),
        api("district-history", per_regency(lambda w, s: {"code": w.districts[s]}), get=READ),
        api("village-history", per_regency(lambda w, s: {"code": w.villages[s]}), get=READ),
        # --- API: allocations and grants ---
        api(
            "allocation-list",
            plain(body=lambda w: {"province": "18", "fiscal_year": 2027, "legal_basis": "Pergub Lampung 2027"}),
            get=READ_ANY,
            post=CREATE,
            lists=True,
        ),
        api(
            "allocation-detail",
            plain(_allocation, body=lambda w: {"legal_basis": "Keputusan Gubernur (perubahan)"}),
            get=READ_ANY,
            patch=MANAGE,
        ),
        api("allocation-ledger", plain(_allocation), get=READ_ANY, lists=True),
        api(
            "allocation-plan",
            plain(lambda w: {"pk": w.draft_allocation}, body=lambda w: {}),
            get=POST_ONLY,
            post=MANAGE,
        ),
        api("allocation-activate", plain(lambda w: {"pk": w.draft_allocation}), get=POST_ONLY, post=MANAGE),
        api("allocation-close", plain(_allocation), get=POST_ONLY, post=MANAGE),
        api(
            "allocation-batch-approve",
            per_regency(_allocation, body=lambda w, s: {"regency": w.regencies[s]}),
            get=POST_ONLY,
            post=MOVE,
        ),
        api(
            "allocation-batch-disburse",
            per_regency(
                _allocation,
                body=lambda w, s: {
                    "regency": w.regencies[s],
                    "reference": f"SP2D-BATCH-{s}",
                    "transfer_date": _transfer_date(),
                },
            ),
            get=POST_ONLY,
            post=MOVE,
        ),
        api(
            "allocation-batch-cancel",
            per_regency(_allocation, body=lambda w, s: {"regency": w.regencies[s]}),
            get=POST_ONLY,
            post=MOVE,
        ),
        api("grant-list", plain(), get=READ_ANY, lists=True),
        api("grant-detail", per_regency(lambda w, s: {"pk": w.grants[s]["planned"]}), get=READ),
        *(
            api(
                name,
                per_regency(
                    lambda w, s, state=state: {"pk": w.grants[s][state]},
                    body=lambda w, s, body=body: _dated(body),
                ),
                get=MOVE_GET,
                post=MOVE,
            )
            for name, (state, body) in GRANT_API_ACTIONS.items()
        ),
        # --- API: rollout ---
        api("rollout-list", plain(), get=READ_ANY, lists=True),
        api(
            "rollout-detail",
            per_regency(lambda w, s: {"code": w.villages[s]}, body=lambda w, s: REPORT_JSON),
            get=READ,
            patch=VERIFY,
        ),
        api(
            "rollout-reports",
            per_regency(lambda w, s: {"code": w.villages[s]}, body=lambda w, s: REPORT_JSON),
            get=POST_ONLY,
            post=SUBMIT,
        ),
        api("report-list", plain(), get=READ_ANY, lists=True),
        api("report-detail", per_regency(lambda w, s: {"pk": w.reports[s][ReportStatus.AWAITING]}), get=READ),
        api(
            "report-verify",
            per_regency(lambda w, s: {"pk": w.reports[s][ReportStatus.AWAITING]}, body=lambda w, s: {}),
            get=POST_ONLY,
            post=VERIFY,
        ),
        api(
            "report-reject",
            per_regency(
                lambda w, s: {"pk": w.reports[s][ReportStatus.AWAITING]}, body=lambda w, s: {"reason": "Tidak lengkap"}
            ),
            get=POST_ONLY,
            post=VERIFY,
        ),
        api(
            "report-bulk",
            per_regency(
                lambda w, s: {},
                body=lambda w, s: {
                    "district": w.districts[s],
                    "reports": [{"village": w.villages[s], **REPORT_JSON}],
                },
            ),
            get=POST_ONLY,
            post=SUBMIT_BULK,
        ),
        api("adoption", plain(query=lambda w: {"level": "regency"}), get=READ_ANY, lists=True),
        api(
            "adoption-history",
            per_regency(lambda w, s: {}, query=lambda w, s: {"code": w.regencies[s]}),
            get=READ_ANY,
            lists=True,
        ),
        api("paid-not-live", plain(), get=READ_ANY, lists=True),
        # --- API: the reconciliation of an allocation (treasury) ---
        api(
            "allocation-statements",
            plain(_allocation, body=lambda w: {"file": SimpleUploadedFile("rk-api.csv", STATEMENT_CSV)}),
            get=READ_ANY,
            post=RECONCILE,
            lists=True,
        ),
        api("allocation-outcomes", plain(_allocation), get=READ_ANY, lists=True),
        # --- accounts: the own password (everyone signed in), user management (province admins) ---
        page(
            "accounts:password-change",
            plain(body=lambda w: PASSWORD_CHANGE),
            get=READ_ANY,
            post=(ANON, 302, 302, 302, 302, 302),
        ),
        page("accounts:users", plain(), get=ADMIN_ONLY),
        page("accounts:user-new", plain(body=lambda w: NEW_ACCOUNT), get=ADMIN_ONLY, post=ADMIN_ONLY_SAVED),
        page(
            "accounts:user",
            plain(lambda w: {"pk": w.users["officer_b"]}, body=lambda w: CHANGED_ACCOUNT),
            get=ADMIN_ONLY,
            post=ADMIN_ONLY_SAVED,
        ),
        page(
            "accounts:user-revoke-tokens",
            plain(lambda w: {"pk": w.users["officer_b"]}),
            get=POST_ONLY,
            post=ADMIN_ONLY_SAVED,
        ),
        # --- portal: the audit trail (auditors and admins) ---
        page("portal:audit", plain(), get=AUDIT),
        page("portal:audit-export", plain(query=lambda w: {"format": "csv"}), get=AUDIT),
    ]
}


# --- the resolver ---------------------------------------------------------------------------------


def _resolved() -> dict[str, set[frozenset[str]]]:
    """Every named route but the admin site's (tested in tests/villages/test_admin.py), with its parameters."""
    routes: dict[str, set[frozenset[str]]] = {}
    for name, params in walk(get_resolver().url_patterns):
        if not name.startswith("admin:"):
            routes.setdefault(name, set()).add(frozenset(params))
    return routes


RESOLVED = _resolved()


class Case(NamedTuple):
    route: str
    variant: str
    role: str
    method: str


def _cases() -> list[Case]:
    cases = []
    for route in TABLE.values():
        for variant in route.variants:
            for method in route.expect:
                cases += [Case(route.name, variant.name, role, method) for role in ROLES]
    return cases


# Where the portal contradicts the policy: Case -> what happens instead. Marked xfail(strict=True),
# so a fix makes the case pass and its marker must go. (None today.)
CONTRADICTIONS: dict[Case, str] = {}


def _param(case: Case):
    marks = [pytest.mark.xfail(strict=True, reason=CONTRADICTIONS[case])] if case in CONTRADICTIONS else []
    return pytest.param(case, id=f"{case.method.upper()} {case.route}[{case.variant}] {case.role}", marks=marks)


def _variant(route: Route, name: str) -> Variant:
    return next(variant for variant in route.variants if variant.name == name)


def expected_status(route: Route, variant: Variant, role: str, method: str) -> int:
    column = "officer_a@B" if role == "officer_a" and variant.side == "B" else role
    status = route.expect[method][COLUMNS.index(column)]
    if status is ANON:
        return 401 if route.api else 302
    return status


def _client(world: World, role: str) -> APIClient:
    client = APIClient()
    client.raise_request_exception = False  # a 500 is an answer to compare, not an error of the test
    if role != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def _url(world: World, route: Route, variant: Variant) -> str:
    kwargs = variant.kwargs(world)
    url = reverse(route.name, kwargs=kwargs or None)
    if variant.query is not None:
        url = f"{url}?{urlencode(variant.query(world), doseq=True)}"
    return url


def _send(client: APIClient, route: Route, method: str, url: str, body: dict | None):
    if method == "get":
        return client.get(url)
    if route.api:
        # A statement upload is the API's one multipart body (a file); every other body is JSON.
        multipart = body is not None and any(isinstance(value, SimpleUploadedFile) for value in body.values())
        return getattr(client, method)(url, body, format="multipart" if multipart else "json")
    return getattr(client, method)(url, body or {})


WATCHED_APPS = ("accounts", "villages", "grants", "rollout", "treasury", "authtoken")


def _watched_tables() -> list[str]:
    return sorted(
        {
            model._meta.db_table
            for model in apps.get_models()
            if model._meta.app_label in WATCHED_APPS and not model._meta.proxy
        }
    )


def _written_state() -> tuple:
    """The row count of every table of the portal (one query) and every state field: what a refused write
    must leave as it was, and a permitted one change."""
    # Table names come from the models, never from input.
    counts = ", ".join(
        f"(SELECT COUNT(*) FROM {connection.ops.quote_name(table)})"  # noqa: S608
        for table in _watched_tables()
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")
        row_counts = cursor.fetchone()
    return (
        row_counts,
        list(Allocation.objects.order_by("pk").values_list("pk", "status", "legal_basis", "total_amount")),
        list(Grant.objects.order_by("pk").values_list("pk", "status", "returned_amount", "spent_amount")),
        list(ProgressReport.objects.order_by("pk").values_list("pk", "status")),
        list(VillageStatus.objects.order_by("pk").values_list("pk", "pillar1", "pillar2", "pillar3", "blocker")),
    )


def _shown(response) -> str:
    return f"{response.status_code} {response.get('Location', '')} {response.content[:300]!r}"


CASES = _cases()


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_it_answers_each_role_as_the_policy_says(world, case):
    route = TABLE[case.route]
    variant = _variant(route, case.variant)
    status = expected_status(route, variant, case.role, case.method)
    client = _client(world, case.role)
    url = _url(world, route, variant)
    body = variant.body(world) if variant.body is not None and case.method != "get" else None
    guarded = route.expect[case.method][0] is ANON  # not a public route
    to_login = guarded and case.role == "anonymous" and not route.api
    write = guarded and case.method != "get"
    before = _written_state() if write else None

    response = _send(client, route, case.method, url, body)

    assert response.status_code == status, f"{case.method.upper()} {url} as {case.role}: {_shown(response)}"
    if route.api and status in (401, 403):
        assert response.json()["detail"], _shown(response)  # the API says why, in JSON
    if to_login:
        assert response["Location"].startswith("/login/"), _shown(response)
    elif response.status_code == 302 and guarded:
        assert not response["Location"].startswith("/login/"), _shown(response)
    if write and (status >= 400 or to_login):
        assert _written_state() == before, f"a refused {case.method.upper()} {url} changed data"
    elif write:
        # The bodies are valid: a permitted write does what it says (a redirect may also carry an error).
        assert _written_state() != before, f"a permitted {case.method.upper()} {url} changed nothing"


def test_every_route_of_the_resolver_is_in_the_table():
    assert set(RESOLVED) - set(TABLE) == set(), "give each new route a row in TABLE"


def test_every_operation_of_the_api_schema_is_in_the_table():
    # A route's row names the methods it answers: a method added to a documented route needs its column too.
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    documented = {
        (resolve(re.sub(r"\{[^}]+\}", "1", path)).view_name, method)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }

    in_table = {(route.name, method) for route in TABLE.values() for method in route.expect}
    assert documented - in_table == set(), "give each documented method of the API a column in its TABLE row"
    assert {name for name, _method in documented} >= {"grant-detail", "report-verify", "adoption", "api-token"}


def test_every_route_of_the_table_is_in_the_resolver():
    assert set(TABLE) - set(RESOLVED) == set(), "a route was renamed or removed: update its row in TABLE"


def test_the_table_builds_every_route_with_the_parameters_it_takes(world):
    for name, shapes in RESOLVED.items():
        (params,) = shapes  # one route per name
        for variant in TABLE[name].variants:
            assert set(variant.kwargs(world)) == params, (name, variant.name)


def test_the_api_has_no_format_suffix_routes():
    # /api/v1/grants/7/approve.json called our handlers with a `format` they do not take: a 500.
    assert [name for name, shapes in RESOLVED.items() if any("format" in shape for shape in shapes)] == []


def test_every_route_says_what_a_get_gets():
    # A write-only route still answers GET (405, or 403/401 before that): a row without it is unfinished.
    assert [name for name, route in TABLE.items() if "get" not in route.expect] == []


# --- officer A sees nothing of regency B ----------------------------------------------------------


class Leak(NamedTuple):
    route: str
    kwargs: Kwargs = _none
    query: dict = {}
    # False where even province staff see no row of B: the URL names regency A, or the figure is province-wide.
    control: bool = True
    officer: int = 200  # officer A's status
    what: str = ""  # the object the URL names, for the test id


def _a(key: str) -> Kwargs:
    """URL kwargs naming an object of regency A."""
    return {
        "regency": lambda w: {"code": w.regencies["A"]},
        "district": lambda w: {"code": w.districts["A"]},
        "village": lambda w: {"code": w.villages["A"]},
        "grant": lambda w: {"grant_id": w.grants["A"]["planned"]},
        "allocation-regency": lambda w: {"pk": w.allocation, "code": w.regencies["A"]},
    }[key]


def _table(name: str) -> Kwargs:
    return lambda world: {"table": name}


def _list(name: str) -> Kwargs:
    return lambda world: {"name": name}


LEAKS = [
    # --- dashboard pages and exports ---
    Leak("home"),
    Leak("dashboard:home"),
    Leak("dashboard:home", query={"regency": "18.71"}),
    *(Leak("dashboard:export", _table(t), {"file": f}, what=t) for t in EXPORT_TABLES for f in ("csv", "xlsx")),
    *(
        Leak("dashboard:export", _table(t), {"regency": "18.71"}, officer=404, what=t)
        for t in ("districts", "villages", "lagging", "paid-not-live", "reports")
    ),
    *(Leak("dashboard:export", _table(t), {"district": "18.71.01"}, what=t) for t in ("villages", "lagging")),
    *(Leak("dashboard:export", _table("reports"), {"status": s}, what="reports") for s in ReportStatus.values),
    # "my-reports" lists the reader's own reports: province staff have none of B either.
    *(Leak("dashboard:list", _list(n), control=n != "my-reports", what=n) for n in DASHBOARD_LISTS),
    *(Leak("dashboard:list", _list(n), {"province": "18"}, control=n != "my-reports", what=n) for n in DASHBOARD_LISTS),
    *(
        Leak("dashboard:list", _list(n), {"regency": "18.71"}, control=n != "my-reports", officer=404, what=n)
        for n in DASHBOARD_LISTS
    ),
    # --- registry pages and search ---
    Leak("villages:registry"),
    Leak("villages:registry", query={"q": "RAHASIA"}),
    Leak("villages:registry", query={"q": "18.71"}),
    Leak("villages:registry", query={"q": "Kelurahan"}),
    # --- grant pages and exports ---
    # Allocations are province-wide: no regency on the list (their committed amount: see the tests below).
    Leak("grants:allocation-list", control=False),
    Leak("grants:allocation", _allocation),
    Leak("grants:grant-list", _allocation),
    Leak("grants:grant-list", _allocation, {"regency": "18.71"}),
    Leak("grants:grant-list", _allocation, {"district": "18.71.01"}),
    Leak("grants:grant-list", _allocation, {"status": ["disbursed", "accounted"]}),
    *(
        Leak("grants:ledger-export", _allocation, {"level": level, "file": f})
        for level in ("regency", "district")
        for f in ("csv", "xlsx")
    ),
    Leak("grants:ledger-export", _allocation, {"level": "district", "regency": "18.71"}),
    Leak("grants:ledger-export", _allocation, {"level": "province"}, control=False),  # totals: see the test below
    Leak("grants:grant-export", _allocation, {"file": "csv"}),
    Leak("grants:grant-export", _allocation, {"file": "xlsx"}),
    Leak("grants:grant-export", _allocation, {"regency": "18.71", "file": "xlsx"}),
    # --- rollout pages ---
    *(Leak("rollout:reports", query={"status": s}) for s in ReportStatus.values),
    # --- pages about regency A: nothing of B in their lists, menus or maps (staff see no B there either) ---
    Leak("dashboard:regency", _a("regency"), control=False, what="A"),
    Leak("dashboard:district", _a("district"), control=False, what="A"),
    Leak("dashboard:village", _a("village"), control=False, what="A"),
    Leak("villages:regency", _a("regency"), control=False, what="A"),
    Leak("villages:district", _a("district"), {"q": "RAHASIA"}, control=False, what="A"),
    Leak("grants:regency", _a("allocation-regency"), control=False, what="A"),
    Leak("grants:grant", _a("grant"), control=False, what="A"),
    Leak("rollout:report-new", _a("village"), control=False, what="A"),
    Leak("rollout:district-bulk", _a("district"), control=False, what="A"),
    # The officer's device: the regency's villages, the village-less form (staff may not open them: 403).
    Leak("rollout:offline-villages", control=False),
    Leak("rollout:offline-form", control=False),
    # --- API lists, with and without filters and searches naming B ---
    *(
        Leak(name, query=query)
        for name, queries in {
            "regency-list": [{}, {"search": "RAHASIA"}, {"search": "18.71"}, {"kind": "kota"}],
            "district-list": [{}, {"regency": "18.71"}, {"search": "RAHASIA"}, {"search": "18.71"}],
            "village-list": [
                {},
                {"regency": "18.71"},
                {"district": "18.71.01"},
                {"kind": "kelurahan"},
                {"search": "RAHASIA"},
                {"search": "18.71"},
            ],
            "grant-list": [
                {},
                {"regency": "18.71"},
                {"district": "18.71.01"},
                {"status": "disbursed"},
                {"search": "RAHASIA"},
                {"search": "18.71"},
            ],
            "rollout-list": [
                {},
                {"regency": "18.71"},
                {"district": "18.71.01"},
                {"adopted": "true"},
                {"blocker": "no_signal"},
                {"search": "RAHASIA"},
                {"search": "18.71"},
            ],
            "report-list": [
                {},
                {"regency": "18.71"},
                {"district": "18.71.01"},
                {"village": "18.71.01.1001"},
                {"status": "verified"},
                {"status": "rejected"},
            ],
            "paid-not-live": [{}, {"regency": "18.71"}],
            "adoption": [
                {"level": "regency"},
                {"level": "regency", "parent": "18"},
                {"level": "district"},
                {"level": "district", "parent": "18.71"},
            ],
            "adoption-history": [{"code": "18.71"}, {"code": "18.71.01"}],
        }.items()
        for query in queries
    ),
    Leak("allocation-list", control=False),  # as grants:allocation-list
    Leak("adoption", query={"level": "province"}, control=False),  # see the aggregate tests below
    Leak("adoption-history", query={"code": "18"}, control=False),
    *(
        Leak("allocation-ledger", _allocation, query)
        for query in ({}, {"level": "district"}, {"level": "district", "regency": "18.71"})
    ),
    Leak("allocation-ledger", _allocation, {"level": "province"}, control=False),
    *(
        Leak("allocation-outcomes", _allocation, query)
        for query in ({}, {"open": "true"}, {"kind": "returned"}, {"kind": "amount_mismatch"})
    ),
    Leak("treasury:reconciliation", _allocation),
    Leak("treasury:reconciliation", _allocation, {"page": "2"}),
    Leak("treasury:export", _allocation, {"file": "csv"}),
    Leak("treasury:export", _allocation, {"file": "xlsx"}),
    # Statements are the province account's files: an officer sees which file covers which period only.
    Leak("allocation-statements", _allocation, control=False),
]


def _leak_id(leak: Leak) -> str:
    query = urlencode(leak.query, doseq=True)
    return f"{leak.route}{f'[{leak.what}]' if leak.what else ''}{f'?{query}' if query else ''}"


def _text(response) -> str:
    """The body as text: HTML, JSON and CSV as they are, XLSX cell by cell."""
    if "spreadsheetml" in response.get("Content-Type", ""):
        workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        return "\n".join(
            "\t".join("" if cell is None else str(cell) for cell in row)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    return response.content.decode("utf-8-sig")


def _b_markers(world: World, query: dict) -> list[str]:
    """What betrays a row of regency B: its names (all contain RAHASIA-B) and codes, except a code the
    request itself names (a page shows its filter back to the user)."""
    asked = [str(value) for values in query.values() for value in (values if isinstance(values, list) else [values])]
    return [SECRET_B, *(code for code in world.b_codes if not any(code in value for value in asked))]


def _leak_url(world: World, leak: Leak) -> str:
    url = reverse(leak.route, kwargs=leak.kwargs(world) or None)
    return f"{url}?{urlencode(leak.query, doseq=True)}" if leak.query else url


@pytest.mark.parametrize("leak", LEAKS, ids=_leak_id)
def test_officer_a_sees_nothing_of_regency_b(world, leak):
    url = _leak_url(world, leak)
    markers = _b_markers(world, leak.query)

    response = _client(world, "officer_a").get(url)

    assert response.status_code == leak.officer, _shown(response)
    text = _text(response)
    assert [marker for marker in markers if marker in text] == []
    if leak.control:
        control = _client(world, "province_staff").get(url)
        assert control.status_code == 200, _shown(control)
        assert [marker for marker in markers if marker in _text(control)], "the control shows no row of B"


def test_every_listing_route_is_checked_for_leaks():
    listing = {name for name, route in TABLE.items() if route.lists and name in RESOLVED}

    assert listing - {leak.route for leak in LEAKS} == set()


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(_text(response))))


def test_officer_a_gets_province_totals_of_regency_a_only(world):
    """A province-level aggregate carries no B code or name, so it is compared with regency A's own row."""
    url = reverse("allocation-ledger", kwargs={"pk": world.allocation})
    officer = _client(world, "officer_a").get(url, {"level": "province"}).json()
    staff = _client(world, "province_staff").get(url, {"level": "regency"}).json()
    row_a = next(row for row in staff["rows"] if row["code"] == "18.01")
    province_row_b = next(row for row in staff["rows"] if row["code"] == "18.71")

    assert officer["rows"] == [{**row_a, "code": "18", "name": "Lampung"}]
    assert officer["totals"] == {**row_a, "code": "18", "name": "Lampung"}
    assert province_row_b["disbursed"] > 0  # B's money exists, and the officer's totals leave it out


def test_officer_a_gets_the_province_ledger_export_of_regency_a_only(world):
    url = reverse("grants:ledger-export", kwargs={"pk": world.allocation})
    (_header, officer_row) = _csv_rows(_client(world, "officer_a").get(url, {"level": "province"}))
    staff_rows = _csv_rows(_client(world, "province_staff").get(url, {"level": "regency"}))
    row_a = next(row for row in staff_rows if row[0] == "18.01")

    assert officer_row[2:] == row_a[2:]


def test_officer_a_gets_no_province_wide_adoption_figure(world):
    client = _client(world, "officer_a")

    assert client.get(reverse("adoption"), {"level": "province"}).json() == []
    assert client.get(reverse("adoption-history"), {"code": "18"}).json() == []
    assert [row["code"] for row in client.get(reverse("adoption"), {"level": "regency"}).json()] == ["18.01"]


def test_officer_a_gets_the_allocation_summary_of_regency_a_only(world):
    url = reverse("grants:allocation", kwargs={"pk": world.allocation})
    summary = _client(world, "officer_a").get(url).context["summary"]
    staff = _client(world, "province_staff").get(reverse("allocation-ledger", kwargs={"pk": world.allocation})).json()
    row_a = next(row for row in staff["rows"] if row["code"] == "18.01")

    assert (summary.totals.units, summary.totals.committed, summary.totals.disbursed) == (
        row_a["units"],
        row_a["planned"],
        row_a["disbursed"],
    )


def test_officer_a_home_is_the_own_regency(world):
    context = _client(world, "officer_a").get(reverse("home")).context

    assert context["regency_code"] == "18.01"
    assert [district["code"] for district in context["districts"]] == ["18.01.02", "18.01.01"]  # by name
    assert {village.regency.code for village in context["worklist"]} == {"18.01"}


# Allocation.committed_amount is the sum over the whole province: minus the own regency's share it
# would give an officer regency B's. Officers are shown their own regency's share instead.
def _planned(world: World, regency: str) -> int:
    staff = _client(world, "province_staff").get(reverse("allocation-ledger", kwargs={"pk": world.allocation})).json()
    return next(row["planned"] for row in staff["rows"] if row["code"] == regency)


def test_officer_a_gets_no_committed_amount_of_regency_b_from_the_api(world):
    officer = _client(world, "officer_a")
    detail = officer.get(reverse("allocation-detail", kwargs={"pk": world.allocation})).json()
    listed = officer.get(reverse("allocation-list")).json()["results"]
    staff = _client(world, "province_staff").get(reverse("allocation-detail", kwargs={"pk": world.allocation})).json()

    assert detail["committed_amount"] == _planned(world, "18.01")
    assert {row["id"]: row["committed_amount"] for row in listed}[world.allocation] == _planned(world, "18.01")
    assert staff["committed_amount"] == Allocation.objects.get(pk=world.allocation).committed_amount


def test_officer_a_gets_no_committed_amount_of_regency_b_on_the_allocation_list(world):
    committed = Allocation.objects.get(pk=world.allocation).committed_amount
    assert committed == _planned(world, "18.01") + _planned(world, "18.71")
    with translation.override("id"):
        shown = rupiah(committed)

    page = _client(world, "officer_a").get(reverse("grants:allocation-list"))

    assert shown not in page.content.decode()
