"""The portal's URLs plus views that fail or set their own cache policy, for the error-answer tests."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.cache import cache_control
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from portal.urls import handler400, handler403, handler404, handler500  # noqa: F401 (Django reads them here)
from portal.urls import urlpatterns as portal_urlpatterns


def page_fails(request):
    raise RuntimeError("a bug in a page")


@api_view(["GET"])
@permission_classes([AllowAny])
def api_fails(request):
    raise RuntimeError("a bug in the API")


@login_required
@cache_control(public=True, max_age=60)
def own_cache_policy(request):
    return HttpResponse("public on purpose")


urlpatterns = [
    path("fails/", page_fails),
    path("api/v1/fails/", api_fails),
    path("own-cache-policy/", own_cache_policy),
    *portal_urlpatterns,
]
