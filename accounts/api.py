"""API tokens: obtain one with username and password (throttled against guessing), revoke your own."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import services


class TokenObtainView(ObtainAuthToken):
    """POST username and password, get a token. Rate-limited per client address."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"


class TokenRevokeView(APIView):
    """DELETE the token this request is authenticated with (log out an integration)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        services.user_tokens_revoke(actor=request.user, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
