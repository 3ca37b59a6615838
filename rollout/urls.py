from django.urls import path

from rollout import dashboard, views

app_name = "rollout"

urlpatterns = [
    path("reports/", views.report_list, name="reports"),
    path("reports/<int:pk>/<str:decision>/", views.report_decide, name="report-decide"),
    path("villages/<str:code>/report/", views.report_new, name="report-new"),
    path("districts/<str:code>/bulk/", views.district_bulk, name="district-bulk"),
]

dashboard_patterns = (
    [
        path("", dashboard.home, name="home"),
        path("regencies/<str:code>/", dashboard.regency, name="regency"),
        path("districts/<str:code>/", dashboard.district, name="district"),
        path("villages/<str:code>/", dashboard.village, name="village"),
        path("lists/<str:name>/", dashboard.whole_list, name="list"),
        path("export/<str:table>/", dashboard.export, name="export"),
    ],
    "dashboard",
)
