"""`/publik/`: the public transparency pages and open data (namespace `public`), GET and HEAD only."""

from django.urls import path

from public import views

app_name = "public"
urlpatterns = [
    path("", views.province, name="home"),
    path("kabupaten/<str:code>/", views.regency, name="regency"),
    path("kecamatan/<str:code>/", views.district, name="district"),
    path("desa/<str:code>/", views.village, name="village"),
    path("data/datapackage.json", views.datapackage, name="datapackage"),
    path("data/catalog.jsonld", views.catalogue, name="catalogue"),
    path("data/<str:name>.csv", views.table_csv, name="csv"),
]
