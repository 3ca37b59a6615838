from django.urls import path

from villages import views

app_name = "villages"

urlpatterns = [
    path("", views.registry, name="registry"),
    path("regencies/<str:code>/", views.regency_detail, name="regency"),
    path("districts/<str:code>/", views.district_detail, name="district"),
]
