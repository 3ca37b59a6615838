"""`Idempotency-Key` support for API writes: a repeated request returns the original result.

The key row is inserted in the same transaction as the write it guards. A
concurrent repeat blocks on the key's unique index until the first commits,
then finds the stored response; if the first rolls back (an error), the
repeat runs afresh and meets the same rules.
"""

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import IdempotencyKey
from smartvillage.errors import ApplicationError
from smartvillage.input import input_refusal

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255

# The header as the OpenAPI schema documents it on every idempotent write.
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    description="Repeat-safe key: a repeated request with the same key returns the first result.",
)


class IdempotencyKeyReused(ApplicationError):
    http_status = status.HTTP_422_UNPROCESSABLE_ENTITY


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent(request: Request, operation: Callable[[], Response]) -> Response:
    """Run `operation` once per (user, Idempotency-Key); replay its response on repeats."""
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return operation()
    if len(key) > MAX_KEY_LENGTH:
        raise ApplicationError("Invalid Idempotency-Key.", fields={HEADER: [f"At most {MAX_KEY_LENGTH} characters."]})
    if problem := input_refusal(key):  # a header is input too: a NUL in the key failed its INSERT (500)
        raise ApplicationError("Invalid Idempotency-Key.", fields={HEADER: [problem]})
    fingerprint = _fingerprint(request)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(user=request.user, key=key, fingerprint=fingerprint)
        except IntegrityError:
            record = IdempotencyKey.objects.get(user=request.user, key=key)
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyReused(
                    "This Idempotency-Key was used for a different request.",
                    fields={HEADER: ["Use a new key for a new request."]},
                ) from None
            return Response(
                record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"}
            )
        response = operation()
        record.response_status = response.status_code
        record.response_body = response.data
        record.save(update_fields=["response_status", "response_body"])
    return response
