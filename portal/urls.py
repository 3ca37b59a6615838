"""The portal's URLs: every app's pages and API, wired here at the top layer (the root URLconf)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from accounts.api import TokenObtainView, TokenRevokeView
from accounts.views import LoginView
from grants.api import AllocationViewSet, GrantViewSet
from portal import exports, pwa, views
from rollout.api import AdoptionHistoryView, AdoptionView, PaidNotLiveView, ReportViewSet, RolloutViewSet
from smartvillage import health
from treasury.api import OutcomeListView, StatementView
from villages.api import DistrictViewSet, RegencyViewSet, VillageViewSet

# The pages that read across apps: the dashboard (namespace `dashboard`) and the audit trail.
dashboard_patterns = [
    path("", views.home, name="home"),
    path("regencies/<str:code>/", views.regency, name="regency"),
    path("districts/<str:code>/", views.district, name="district"),
    path("villages/<str:code>/", views.village, name="village"),
    path("lists/<str:name>/", views.whole_list, name="list"),
    path("export/<str:table>/", exports.export, name="export"),
]
portal_patterns = [
    path("audit/", views.audit, name="audit"),
    path("audit/export/", views.audit_export, name="audit-export"),
]

# No `.json` suffix routes: clients ask for JSON with the Accept header (one URL per resource).
router = DefaultRouter()
router.include_format_suffixes = False
router.register("regencies", RegencyViewSet, basename="regency")
router.register("districts", DistrictViewSet, basename="district")
router.register("villages", VillageViewSet, basename="village")
router.register("allocations", AllocationViewSet, basename="allocation")
router.register("grants", GrantViewSet, basename="grant")
router.register("rollout", RolloutViewSet, basename="rollout")
router.register("reports", ReportViewSet, basename="report")

urlpatterns = [
    path("", views.home, name="home"),
    # Pages without base.html's icon link (admin, API docs) make browsers ask for /favicon.ico. Resolved per
    # request: the hashed static name is known only once collectstatic has run.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.ico")), name="favicon"),
    # Public on purpose: the transparency pages and open data (no login, published figures only), and the
    # health check for load balancers (the portal's and its read replica's state).
    path("publik/", include("public.urls")),
    path("healthz", health.healthz, name="healthz"),
    # The installable web app: its manifest and its service worker, which must be served from the root to
    # control every page (README "Field capture (offline)"). Public: no one's data.
    path("manifest.webmanifest", pwa.manifest, name="pwa-manifest"),
    path("sw.js", pwa.service_worker, name="service-worker"),
    path("dashboard/", include((dashboard_patterns, "dashboard"))),
    path("", include((portal_patterns, "portal"))),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("registry/", include("villages.urls")),
    path("grants/", include("grants.urls")),
    path("rollout/", include("rollout.urls")),
    path("treasury/", include("treasury.urls")),
    path("", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/auth/token/", TokenObtainView.as_view(), name="api-token"),
    path("api/v1/auth/token/revoke/", TokenRevokeView.as_view(), name="api-token-revoke"),
    path("api/v1/adoption/", AdoptionView.as_view(), name="adoption"),
    path("api/v1/adoption/history/", AdoptionHistoryView.as_view(), name="adoption-history"),
    path("api/v1/paid-not-live/", PaidNotLiveView.as_view(), name="paid-not-live"),
    # The reconciliation of an allocation (treasury), beside the allocation's own routes.
    path("api/v1/allocations/<int:pk>/statements/", StatementView.as_view(), name="allocation-statements"),
    path("api/v1/allocations/<int:pk>/outcomes/", OutcomeListView.as_view(), name="allocation-outcomes"),
    path("api/v1/", include(router.urls)),
    # Public on purpose: the API's contract (paths, fields, error shapes) is no secret, and integrators
    # read it before they have an account. Read-only, built from code: no row of the database.
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=[AllowAny]),
        name="api-docs",
    ),
]

# JSON under /api/, pages in the portal's layout elsewhere (smartvillage/errors.py).
handler400 = "smartvillage.errors.bad_request"
handler403 = "smartvillage.errors.permission_denied"
handler404 = "smartvillage.errors.not_found"
handler500 = "smartvillage.errors.server_error"
