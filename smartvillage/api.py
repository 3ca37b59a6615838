"""Project-wide REST API building blocks."""

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

from django.core.exceptions import ImproperlyConfigured
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, filters, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

# SQL's OFFSET is a BIGINT: a page number beyond it names no rows (and would be a database error).
MAX_OFFSET = 2**63 - 1
MAX_DIGITS = len(str(MAX_OFFSET))  # a longer page number is past any end (and too long for int())


class Pagination(PageNumberPagination):
    """Pages by number (`page`, `page_size`) without counting every matching row on every page.

    DRF's page-number pagination runs a `COUNT(*)` of the whole result for each page, to give `count`
    and to know whether a next page exists; at national scale (84,000 villages) that count costs
    more than the page itself. This one reads `page_size + 1` rows: the extra row tells whether there
    is a next page. `count` is given where it costs nothing, on the last page (the rows before it
    plus its own), and on any page on request (`count=true`, one `COUNT(*)`); otherwise it is null.
    A page past the end is a 404, as before; `page=last` still works (it counts, to find the page).
    """

    page_size = 50
    page_size_query_param = "page_size"
    page_size_query_description = "Rows per page, at most 500 (a larger value gives 500); default 50."
    max_page_size = 500
    count_query_param = "count"
    count_description = (
        "Count every matching row on every page (one more query); without it `count` is given on the last page only."
    )
    count_field = serializers.BooleanField()

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size = self.get_page_size(request)
        count_requested = self._count_requested(request)
        self.count = None
        number = request.query_params.get(self.page_query_param) or 1
        if number in self.last_page_strings:
            self.count = queryset.count()
            number = max(1, math.ceil(self.count / size))
        number = self._valid_page_number(number)
        offset = (number - 1) * size
        if offset + size + 1 > MAX_OFFSET:
            raise exceptions.NotFound(self.invalid_page_message)
        rows = list(queryset[offset : offset + size + 1])
        self.number, self.has_next = number, len(rows) > size
        del rows[size:]
        if not rows and number > 1:
            raise exceptions.NotFound(self.invalid_page_message)
        if not self.has_next:
            self.count = offset + len(rows)
        elif count_requested and self.count is None:
            self.count = queryset.count()
        return rows

    def _count_requested(self, request) -> bool:
        value = request.query_params.get(self.count_query_param)
        if not value:
            return False
        try:
            return self.count_field.to_internal_value(value)
        except exceptions.ValidationError as exc:
            raise exceptions.ValidationError({self.count_query_param: exc.detail}) from exc

    def _valid_page_number(self, number) -> int:
        # As Django's Paginator: an integer from 1, in the digits 0-9 (int() would read "٢" as 2);
        # anything else is an unknown page.
        if isinstance(number, str) and not (number.isascii() and number.isdigit() and len(number) <= MAX_DIGITS):
            raise exceptions.NotFound(self.invalid_page_message)
        number = int(number)
        if number < 1:
            raise exceptions.NotFound(self.invalid_page_message)
        return number

    def get_paginated_response(self, data):
        return Response(
            {"count": self.count, "next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )

    def get_next_link(self):
        if not self.has_next:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.page_query_param, self.number + 1)

    def get_previous_link(self):
        if self.number == 1:
            return None
        url = self.request.build_absolute_uri()
        if self.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.number - 1)

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"] = {
            "type": "integer",
            "nullable": True,
            "example": 123,
            "description": "Rows matching the query, over all pages: given on the last page and with `count=true`,"
            " null otherwise.",
        }
        return response

    def get_schema_operation_parameters(self, view):
        count = {
            "name": self.count_query_param,
            "required": False,
            "in": "query",
            "description": self.count_description,
            "schema": {"type": "boolean"},
        }
        return [*super().get_schema_operation_parameters(view), count]


class SearchFilter(filters.SearchFilter):
    """DRF's search filter, with a refused term (one with a NUL character) reported under `search`.

    DRF raises it as a bare list of messages, the one 400 body that would name no input.
    """

    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except exceptions.ValidationError as exc:
            raise exceptions.ValidationError({self.search_param: exc.detail}) from exc


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, skipped for a query that names no filter.

    A filter set validates its query through a form class it builds on every request, which cost a
    100-row page about as much as its own SELECT. An absent filter filters nothing, so a query of
    the page's and the search's parameters only (or none) leaves the queryset as it is; any other
    parameter goes through the filter set as before (and a bad value is still a 400).
    """

    not_filters = frozenset(
        {
            Pagination.page_query_param,
            Pagination.page_size_query_param,
            Pagination.count_query_param,
            SearchFilter.search_param,
        }
    )

    def filter_queryset(self, request, queryset, view):
        if request.query_params.keys() <= self.not_filters:
            return queryset
        return super().filter_queryset(request, queryset, view)


# Fields whose value, as the database gives it (text, integers, booleans, ids), is already its JSON
# representation: a `.values()` row passes it through; any other field type is converted by the field.
PLAIN_FIELDS = frozenset(
    {
        serializers.BooleanField,
        serializers.CharField,
        serializers.ChoiceField,
        serializers.IntegerField,
        serializers.PrimaryKeyRelatedField,
        serializers.URLField,
    }
)

# A method field, a nested serializer or a to-many relation is not one column of a `.values()` row.
NOT_FROM_VALUES = (serializers.BaseSerializer, serializers.SerializerMethodField, serializers.ManyRelatedField)


class ValuesShape(NamedTuple):
    """How a serializer's output is read from `.values_list()` rows."""

    paths: tuple[str, ...]  # the `.values_list()` path of each output field
    names: tuple[str, ...]  # the output field names, in the serializer's order
    converted: tuple[tuple[int, str, Callable], ...]  # (index, name, to_representation) of the fields not plain
    defaults: tuple[tuple[int, str, object], ...]  # (index, name, default) of the fields declaring a default


def _declared_default(field: serializers.Field) -> object:
    """The field's declared `default`, or None where it declares none (or declares None)."""
    return None if field.default is serializers.empty or callable(field.default) else field.default


@functools.cache
def values_shape(serializer_class: type[serializers.Serializer]) -> ValuesShape:
    """The `ValuesShape` of `serializer_class`: each field's path follows its source (`district.name` ->
    `district__name`). Only plain attribute fields can be read from `.values()`: a method field or a
    nested serializer is a configuration error."""
    paths, names, converted, defaults = [], [], [], []
    for name, field in serializer_class().fields.items():
        if field.write_only:
            continue
        if isinstance(field, NOT_FROM_VALUES) or field.source == "*":
            raise ImproperlyConfigured(f"{serializer_class.__name__}.{name} cannot be read from .values() rows.")
        if type(field) not in PLAIN_FIELDS:
            converted.append((len(names), name, field.to_representation))
        if (default := _declared_default(field)) is not None:
            defaults.append((len(names), name, default))
        paths.append("__".join(field.source_attrs))
        names.append(name)
    return ValuesShape(tuple(paths), tuple(names), tuple(converted), tuple(defaults))


@functools.cache
def _defaults(serializer_class: type[serializers.Serializer]) -> tuple[tuple[str, object], ...]:
    return tuple(
        (name, default)
        for name, field in serializer_class().fields.items()
        if not field.write_only and (default := _declared_default(field)) is not None
    )


class MissingAsDefaultMixin:
    """A serializer whose fields read through a missing related row (a null foreign key, no status row)
    give the field's declared `default` rather than None (DRF's attribute lookup stops at the missing
    row with None). The default is declared once, on the field: `ValuesListMixin` reads it from there."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for name, default in _defaults(type(self)):
            if data.get(name, default) is None:
                data[name] = default
        return data


class ValuesListMixin:
    """The list action of a viewset served from `.values()` rows instead of model instances.

    A 100-row page spent more time building model instances (and their `select_related` parents)
    and running the serializer field by field than the database spent on the page. The rows are
    read with `.values_list()` on the output serializer's own field sources, so the query selects
    and joins only what the page shows, and each value that is not plain goes through its field's
    `to_representation` (dates and times come out exactly as the serializer gives them). A value
    read through a missing related row (a null foreign key, no status row) is null, or the field's
    declared default, as the serializers give it (`MissingAsDefaultMixin`). The serializer still
    documents the rows and serves the detail routes; tests compare both outputs row by row.
    """

    def list_rows(self, rows) -> list[dict]:
        shape = values_shape(self.get_serializer_class())
        data = []
        for row in rows:
            item = dict(zip(shape.names, row, strict=False))  # one name per column, by construction
            for index, name, convert in shape.converted:
                value = row[index]
                if value is not None:
                    item[name] = convert(value)
            for index, name, default in shape.defaults:
                if row[index] is None:
                    item[name] = default
            data.append(item)
        return data

    def list(self, request, *args, **kwargs):
        shape = values_shape(self.get_serializer_class())
        queryset = self.filter_queryset(self.get_queryset()).values_list(*shape.paths)
        page = self.paginate_queryset(queryset)
        if page is None:
            return Response(self.list_rows(queryset))
        return self.get_paginated_response(self.list_rows(page))


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
