"""Project-wide REST API building blocks."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, filters, serializers
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class SearchFilter(filters.SearchFilter):
    """DRF's search filter, with a refused term (one with a NUL character) reported under `search`.

    DRF raises it as a bare list of messages, the one 400 body that would name no input.
    """

    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except exceptions.ValidationError as exc:
            raise exceptions.ValidationError({self.search_param: exc.detail}) from exc


def lookup_any_segment(parameter: OpenApiParameter):
    """Class decorator of a viewset: its detail routes take any one path segment as the id or code,
    and the schema documents that path parameter as `parameter` (its real type and format).

    A malformed id or code then reaches the view and gets the API's JSON 404; a narrower route
    regex would leave it to Django's URL resolver and its HTML "Not Found" page.
    """

    def decorate(viewset):
        viewset.lookup_value_regex = "[^/]+"
        names = [name for name in ("retrieve", "update", "partial_update", "destroy") if hasattr(viewset, name)]
        names += [action.__name__ for action in viewset.get_extra_actions() if action.detail]
        return extend_schema_view(**{name: extend_schema(parameters=[parameter]) for name in names})(viewset)

    return decorate


def validated(serializer_class: type[serializers.Serializer], data) -> dict:
    """The validated input of `data` (a request body or query); a ValidationError (400) otherwise."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
