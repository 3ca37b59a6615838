from django.urls import path

from rollout import views

app_name = "rollout"

urlpatterns = [
    path("reports/", views.report_list, name="reports"),
    path("reports/<int:pk>/<str:decision>/", views.report_decide, name="report-decide"),
    path("reports/<int:pk>/photos/<int:position>/", views.report_photo, name="report-photo"),
    path("villages/<str:code>/report/", views.report_new, name="report-new"),
    path("districts/<str:code>/bulk/", views.district_bulk, name="district-bulk"),
    # Field capture: what the device keeps to report with no connection (README "Field capture (offline)").
    path("offline/report-form/", views.offline_form, name="offline-form"),
    path("offline/villages.json", views.offline_villages, name="offline-villages"),
    path("queue/", views.queue, name="queue"),
]
