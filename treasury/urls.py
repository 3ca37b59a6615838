from django.urls import path

from treasury import views

app_name = "treasury"

urlpatterns = [
    path("allocations/<int:pk>/", views.reconciliation, name="reconciliation"),
    path("allocations/<int:pk>/upload/", views.upload, name="upload"),
    path("allocations/<int:pk>/confirm/", views.confirm, name="confirm"),
    path("allocations/<int:pk>/export/", views.export, name="export"),
    path("items/<int:outcome_id>/", views.outcome, name="outcome"),
    path("items/<int:outcome_id>/resolve/", views.outcome_resolve, name="outcome-resolve"),
    path("items/<int:outcome_id>/return/", views.outcome_return, name="outcome-return"),
]
