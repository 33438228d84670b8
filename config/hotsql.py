"""Plain SQL for the few statements every relayed message runs.

Django's ORM spends about 0.3 ms of CPU compiling each query (`SQLCompiler.as_sql`), which on
the webhook and delivery paths (a dozen statements per message) was a third of the CPU of a
relayed message (bench/README.md). These helpers send hand-written SQL through Django's own
connection, so the statements join the surrounding transaction, run the execute wrappers and
keep `on_commit`. Instances are built with the ORM's own column list and converters, so a
migration that adds a column needs no change here. The statements are portable between
PostgreSQL and SQLite 3.35+ (RETURNING, ON CONFLICT DO NOTHING) so both run one code path.

Everything else keeps the ORM: use this only where a benchmark shows the statement is hot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Layout:
    table: str
    columns: tuple[str, ...]
    attnames: tuple[str, ...]
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]


@cache
def _layout(model: type[Model]) -> _Layout:
    fields = model._meta.concrete_fields
    converters = []
    for position, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        found = tuple(connection.ops.get_db_converters(column)) + tuple(
            column.get_db_converters(connection)
        )
        if found:
            converters.append((position, found, column))
    return _Layout(
        table=model._meta.db_table,
        columns=tuple(str(field.column) for field in fields),
        attnames=tuple(field.attname for field in fields),
        converters=tuple(converters),
    )


def columns(model: type[Model], alias: str) -> str:
    """The model's columns, in the order `build` reads them: `alias."col", ...`."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(column)}" for column in _layout(model).columns)


def split(row: Sequence[Any], *models: type[Model]) -> list[Any]:
    """One instance per model from a row that selected `columns()` of each in this order;
    None for a model whose primary key is NULL (nothing matched its LEFT JOIN)."""
    found, start = [], 0
    for model in models:
        layout = _layout(model)
        pk_at = layout.attnames.index(model._meta.pk.attname)
        found.append(None if row[start + pk_at] is None else build(model, row, start))
        start += len(layout.columns)
    return found


def build(model: type[M], row: Sequence[Any], start: int = 0) -> M:
    """An instance from `row[start:start + width(model)]`, as the ORM would load it."""
    layout = _layout(model)
    values = list(row[start : start + len(layout.columns)])
    for position, converters, column in layout.converters:
        value = values[position]
        for converter in converters:
            value = converter(value, column, connection)
        values[position] = value
    return model.from_db(connection.alias, list(layout.attnames), values)


def fetch_one(sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return tuple(row) if row is not None else None


def fetch_all(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]


def execute(sql: str, params: Sequence[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def when(value: dt.datetime | None) -> Any:
    """A datetime as a statement parameter, stored exactly as the ORM stores it."""
    return connection.ops.adapt_datetimefield_value(value)


def insert_parts(obj: Model, computed: dict[str, str] | None = None) -> tuple[str, str, list[Any]]:
    """`INSERT INTO table (<columns>) VALUES (<values>)` for a new instance, as three parts:
    the column list, the value list and its parameters. Defaults and auto_now_add are applied
    as `save()` would. `computed` gives SQL for some columns instead of the instance's value
    (a column of a CTE in the same statement)."""
    meta = obj._meta
    computed = computed or {}
    quote = connection.ops.quote_name
    names, values, params = [], [], []
    for field in meta.concrete_fields:
        if field is meta.auto_field:
            continue
        column = str(field.column)
        names.append(quote(column))
        if column in computed:
            values.append(computed[column])
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
    return ", ".join(names), ", ".join(values), params


def stored(obj: Model, pk: Any) -> None:
    """Mark an instance as saved with this primary key (after a plain-SQL INSERT)."""
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias


def insert(obj: Model, *, ignore_conflicts: bool = False) -> bool:
    """INSERT one new instance (defaults and auto_now_add applied as `save()` would) and set
    its primary key. With `ignore_conflicts`, a row that clashes with a unique constraint is
    skipped instead of raising (no savepoint needed): returns False and leaves pk unset."""
    meta = obj._meta
    names, values, params = insert_parts(obj)
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({values})"  # noqa: S608
        f"{' ON CONFLICT DO NOTHING' if ignore_conflicts else ''} "
        f"RETURNING {quote(str(meta.pk.column))}"
    )
    row = fetch_one(sql, params)
    if row is None:
        return False
    stored(obj, row[0])
    return True
