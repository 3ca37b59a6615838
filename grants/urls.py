from django.urls import path

from grants import views

app_name = "grants"

urlpatterns = [
    path("", views.allocation_list, name="allocation-list"),
    path("<int:pk>/", views.allocation_detail, name="allocation"),
    path("<int:pk>/action/", views.allocation_action, name="allocation-action"),
    path("<int:pk>/regencies/<str:code>/", views.regency_detail, name="regency"),
    path("<int:pk>/grants/", views.grant_list, name="grant-list"),
    path("<int:pk>/ledger/export/", views.ledger_export, name="ledger-export"),
    path("<int:pk>/grants/export/", views.grant_export, name="grant-export"),
    path("grant/<int:grant_id>/", views.grant_detail, name="grant"),
    path("grant/<int:grant_id>/<str:action>/", views.grant_action, name="grant-action"),
]
