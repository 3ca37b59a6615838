"""The staging tables hold their rules in the database: a file once per allocation, a line once."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from treasury.models import Statement, StatementLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def statement(allocation, staff):
    return Statement.objects.create(
        allocation=allocation,
        file_name="rk.csv",
        format="csv",
        sha256="a" * 64,
        debit_total=6_000_000,
        credit_total=0,
        imported_by=staff,
    )


def test_the_same_file_is_staged_once_per_allocation(statement, staff):
    with pytest.raises(IntegrityError), transaction.atomic():
        Statement.objects.create(
            allocation=statement.allocation,
            file_name="rk-lagi.csv",
            format="csv",
            sha256=statement.sha256,
            debit_total=0,
            credit_total=0,
            imported_by=staff,
        )


def test_a_line_is_staged_once_by_its_identity_and_is_a_debit_or_a_credit(statement):
    fields = {
        "allocation": statement.allocation,
        "statement": statement,
        "line_number": 2,
        "date": datetime.date(2024, 1, 5),
        "description": "TRF",
        "bank_reference": "BL001",
        "bank_reference_key": "bl001",
        "debit": 6_000_000,
    }
    StatementLine.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        StatementLine.objects.create(**{**fields, "line_number": 9})
    StatementLine.objects.create(**{**fields, "occurrence": 2})
    with pytest.raises(IntegrityError), transaction.atomic():
        StatementLine.objects.create(**{**fields, "bank_reference_key": "bl002", "credit": 1})
