"""Per-request class attribute writes the framework would make, made without them.

CPython keeps, per class, a version tag that its attribute caches and specialised bytecode check
(3.11: `_PyType_Lookup`'s method cache, the adaptive interpreter's LOAD_ATTR/LOAD_METHOD). Any
write of a class attribute gives the class and every subclass in use a new tag, so each
attribute read on them afterwards starts again from a walk of their MROs. Three writes of that
kind ran on every request:

- Django numbers every manager it makes in a class attribute (`BaseManager.creation_counter
  += 1`, which orders a model's managers), and a related manager is made on every
  `ticket.events`-style access: five a create-ticket, dozens a page.
- Django numbers every model field too (`Field.creation_counter += 1`), and its PostgreSQL
  backend makes a field for every join it compiles: a foreign key's column type is that of a
  new IntegerField/BigIntegerField (`AutoField.rel_db_type`), compared with the other side's
  to decide on a cast (`prepare_join_on_clause`). Each write retags every model field class.
- DRF does the same for every field and serializer (`Field._creation_counter += 1`, which
  orders a serializer class's declared fields); each write retags Field and its ~140
  subclasses in use (aftersales.api.SharedFieldsMixin makes a hot path's root serializers
  without it).

Measured with bench/create_instructions.py: 3.1 % of a create-ticket's instructions (managers
1.0 %, serializers 2.1 %); the joins' fields (with the queue's own expressions' output fields
made once, tickets.models/selectors) 1.2 % of the queue page's and 1.7 % of the list API's.
Tags are also finite: Python 3.11 hands out 2**32 of them per process and then stops caching
heap-type attributes for good (CPython issues 113462, 156339), which at ~300 retags a request a
busy worker reaches in days."""

import itertools

from django.db.models import fields, manager


def manager_numbers_without_class_writes() -> None:
    """Number managers as Django does (in the order they are made, after every manager made so
    far), from a counter of this module's instead of BaseManager's class attribute."""
    numbers = itertools.count(manager.BaseManager.creation_counter)

    def _set_creation_counter(self):
        self.creation_counter = next(numbers)

    manager.BaseManager._set_creation_counter = _set_creation_counter


def join_column_types_without_new_fields() -> None:
    """AutoField.rel_db_type and its Big/Small siblings as Django writes them (the column type of
    a foreign key to such a key: that of an Integer/BigInteger/SmallIntegerField), from one
    field made here instead of a new one per call."""
    for auto_field, integer_field in (
        (fields.AutoField, fields.IntegerField),
        (fields.BigAutoField, fields.BigIntegerField),
        (fields.SmallAutoField, fields.SmallIntegerField),
    ):
        column = integer_field()

        def rel_db_type(self, connection, column=column):
            return column.db_type(connection=connection)

        auto_field.rel_db_type = rel_db_type
