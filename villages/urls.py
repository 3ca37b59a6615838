from django.urls import path

from villages import views

app_name = "villages"

urlpatterns = [
    path("", views.registry, name="registry"),
    path("regencies/<str:code>/", views.regency_detail, name="regency"),
    path("districts/<str:code>/", views.district_detail, name="district"),
    path("lists/", views.region_lists, name="region-lists"),
    path("lists/<int:pk>/", views.region_list, name="region-list"),
    path("lists/<int:pk>/apply/", views.region_list_apply, name="region-list-apply"),
]
