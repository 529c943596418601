"""No class attribute written per request (aftersales.runtime): a related manager and a hot
path's root serializer are made without the framework's class-level counters, and behave as
the framework's own."""

import pytest
from django.db import connection
from django.db.models.manager import BaseManager
from rest_framework.fields import Field

from tickets.models import Customer, Ticket
from tickets.serializers import TicketCreateIn, TicketOut

pytestmark = pytest.mark.django_db


def test_a_related_manager_is_numbered_without_writing_the_manager_class(shop):
    counter_before = BaseManager.__dict__["creation_counter"]
    first = shop.customers
    second = Ticket(pk=1).events
    assert BaseManager.__dict__["creation_counter"] == counter_before
    # Numbered as Django numbers managers: after every manager made before them.
    assert Customer._meta.default_manager.creation_counter < first.creation_counter
    assert first.creation_counter < second.creation_counter


def test_a_root_serializer_is_made_without_writing_the_field_class(ticket):
    # Each class's first root instance is made by DRF itself, and its first use builds the
    # class's shared fields.
    assert TicketOut(ticket).data
    assert not TicketCreateIn(data={}).is_valid()
    counter_before = Field.__dict__["_creation_counter"]
    answer = TicketOut(ticket).data
    checked = TicketCreateIn(data={"dispute_type": "no such type"}, context={"shop": None})
    assert not checked.is_valid()
    assert Field.__dict__["_creation_counter"] == counter_before
    assert answer["number"] == ticket.number
    assert set(checked.errors) >= {"dispute_type", "customer", "order"}
    assert checked.context == {"shop": None}


def test_a_root_serializer_has_the_attributes_drf_would_give_it(ticket):
    TicketCreateIn(data={})
    made = TicketCreateIn(data={"a": 1}, partial=True, context={"k": "v"})
    by_drf = TicketCreateIn(data={"a": 1}, partial=True, context={"k": "v"}, label="x")
    own = {"_creation_counter", "_kwargs", "label"}
    assert {n: v for n, v in vars(made).items() if n not in own} == {
        n: v for n, v in vars(by_drf).items() if n not in own
    }
    assert made._kwargs == {"data": {"a": 1}, "partial": True, "context": {"k": "v"}}
    # Nothing mutable is shared between two instances.
    other = TicketCreateIn(data={})
    assert other.style is not made.style and other.error_messages is not made.error_messages
    assert other.partial is False and other.context == {}
    # Field options still go through DRF (a nested use, say).
    assert TicketOut(ticket, read_only=True).read_only is True


def test_a_join_is_compiled_without_making_a_model_field():
    from django.db import models

    counter_before = models.Field.__dict__["creation_counter"]
    sql = str(Ticket.objects.filter(customer__name="张三", order__order_no="T1").query)
    assert models.Field.__dict__["creation_counter"] == counter_before
    # The foreign keys' column types still match their targets': joined without a cast.
    assert "JOIN" in sql and "::" not in sql
    assert models.BigAutoField().rel_db_type(connection) == models.BigIntegerField().db_type(
        connection
    )


def test_numpy_runs_its_blas_on_one_thread_unless_the_environment_asks():
    """Set by the settings, before the photo checks import numpy: no idle pool of a thread per
    core in every web and worker process."""
    import os

    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
