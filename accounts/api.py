"""API tokens: obtain one with username and password (counted against guessing), revoke your own."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import lockout, services
from accounts.forms import lockout_message


class TokenObtainView(ObtainAuthToken):
    """POST username and password, get a token. Failures count with the browser login's, per client
    address and account; a locked-out client gets 429 with Retry-After, even with the right password."""

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except ValidationError:
            # django-axes marks the request DRF passed to authenticate(): this one, not the HttpRequest
            # its middleware sees, so the lockout is answered here.
            if lockout.locked_out(request):
                raise Throttled(wait=settings.LOGIN_COOLOFF_MINUTES * 60, detail=lockout_message()) from None
            raise


class TokenRevokeView(APIView):
    """DELETE the token this request is authenticated with (log out an integration)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        services.user_tokens_revoke(actor=request.user, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
