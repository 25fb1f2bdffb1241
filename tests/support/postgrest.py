"""A small PostgREST-compatible server for tests, in front of the real test database.

No PostgREST binary can be installed here, so this module serves the subset of
the PostgREST API (v12 semantics) that the ``supabase`` Python client uses, at
``<url>/rest/v1``. It behaves like a Supabase project's gateway + PostgREST:

- the gateway part: an ``apikey`` header (or query parameter) must be one of
  the project's keys (the legacy anon / service_role JWTs or the new
  ``sb_publishable_`` / ``sb_secret_`` keys), else 401;
- the PostgREST part: the ``Authorization: Bearer`` JWT is verified (HS256
  with the test secret, or ES256 with the server's signing key published at
  ``/auth/v1/.well-known/jwks.json``); each request runs in one transaction on
  a connection logged in as ``authenticator``, with ``role`` set from the
  ``role`` claim and ``request.jwt.claims`` (plus the legacy
  ``request.jwt.claim.*``) set, exactly as PostgREST does, so RLS applies;
- SQL is built with psycopg parameters; identifiers go through
  ``psycopg.sql.Identifier`` after being checked against the catalog (the
  "schema cache");
- errors are PostgREST's JSON ``{code, details, hint, message}`` with its
  SQLSTATE-to-HTTP status mapping.

Every request is recorded (method, path, query, headers, body) in
``PostgrestServer.requests`` so tests can assert the client's traffic.

Supported: GET/HEAD select (``select`` with ``*``, columns, ``alias:column``,
``column::type``, embedded resources over foreign keys — many-to-one and
one-to-many, nested, with ``alias:``, ``!hint``, ``!inner`` and
``<embed>.column=...`` / ``<embed>.order`` / ``<embed>.limit``), filters ``eq
neq gt gte lt lte like ilike match imatch is in cs cd ov sl sr nxl nxr adj fts
plfts phfts wfts`` with ``not.``, ``or``/``and`` trees, ``order``, ``limit``,
``offset``, ``Range``; POST insert (object or array, ``columns``, ``Prefer:
return=minimal|headers-only|representation``, ``missing=default``, upsert with
``resolution=merge-duplicates|ignore-duplicates`` and ``on_conflict``); PATCH
and DELETE with filters (a filter is required, as with pg-safeupdate on
Supabase) and ``handling=strict`` + ``max-affected``; ``select`` on writes;
``/rpc/<fn>`` by POST (JSON arguments) or GET (query arguments), with filters
on set results; ``Prefer: count=exact`` and ``tx=rollback``; ``Accept:
application/vnd.pgrst.object+json``; ``Accept-Profile`` / ``Content-Profile``
for the exposed schemas; ``db-max-rows``. Not supported (answered with a 400
naming the feature): many-to-many embedding, aggregates, spreads, JSON paths,
CSV, explain. ``simulate_outage()`` makes every request get PostgREST's 503
while the database is unreachable.
"""

from __future__ import annotations

import json
import queue
import re
import secrets
import socket
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jwt
import psycopg
import uvicorn
from psycopg import sql
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.jwt import (
    TEST_JWT_SECRET,
    SigningKey,
    api_key_claims,
    generate_signing_key,
    sign_hs256,
    user_claims,
)

CONFIG_TOML = Path(__file__).resolve().parents[2] / "supabase" / "config.toml"
JSON_CT = "application/json; charset=utf-8"
OBJECT_CT = "application/vnd.pgrst.object+json"
CAST_TYPE = re.compile(r"^[a-z_][a-z0-9_ ]*(\[\])?$")

# Operators that compare a column with one value cast to the column's type.
COMPARISON = {
    "eq": "=",
    "neq": "<>",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "cs": "@>",
    "cd": "<@",
    "ov": "&&",
    "sl": "<<",
    "sr": ">>",
    "nxr": "&<",
    "nxl": "&>",
    "adj": "-|-",
}
# Pattern operators: the value stays text; PostgREST turns * into %.
PATTERN = {"like": "like", "ilike": "ilike", "match": "~", "imatch": "~*"}
FTS = {
    "fts": "to_tsquery",
    "plfts": "plainto_tsquery",
    "phfts": "phraseto_tsquery",
    "wfts": "websearch_to_tsquery",
}
IS_VALUES = {"null": "null", "not_null": "not null", "true": "true", "false": "false", "unknown": "unknown"}
RESERVED_PARAMS = {"select", "order", "limit", "offset", "columns", "on_conflict", "apikey"}


class ApiError(Exception):
    """An error answered as PostgREST's JSON error body."""

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        details: str | None = None,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.hint = hint
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "details": self.details, "hint": self.hint, "message": self.message}


def bad_request(message: str, details: str | None = None, code: str = "PGRST100") -> ApiError:
    return ApiError(400, code, message, details)


def status_for_sqlstate(sqlstate: str, role: str, anon_role: str) -> int:
    """PostgREST's mapping of PostgreSQL error codes to HTTP statuses."""
    exact = {
        "23503": 409,
        "23505": 409,
        "25006": 405,
        "53400": 500,
        "42883": 404,
        "42P01": 404,
        "42P17": 500,
        "P0001": 400,
    }
    if sqlstate in exact:
        return exact[sqlstate]
    if sqlstate == "42501":
        # Insufficient privilege: 401 for the anonymous role, else 403.
        return 401 if role == anon_role else 403
    prefixes = [
        ("08", 503),
        ("09", 500),
        ("0L", 403),
        ("0P", 403),
        ("25", 500),
        ("28", 403),
        ("2D", 500),
        ("38", 500),
        ("39", 500),
        ("3B", 500),
        ("40", 500),
        ("53", 503),
        ("54", 500),
        ("55", 500),
        ("57", 500),
        ("58", 500),
        ("F0", 500),
        ("HV", 500),
        ("P0", 500),
        ("XX", 500),
    ]
    for prefix, status in prefixes:
        if sqlstate.startswith(prefix):
            return status
    if sqlstate.startswith("PT") and sqlstate[2:].isdigit():
        return int(sqlstate[2:])
    return 400


# ---------------------------------------------------------------------------
# Schema cache
# ---------------------------------------------------------------------------


@dataclass
class Column:
    name: str
    type: str
    generated: bool


@dataclass
class Relation:
    schema: str
    name: str
    columns: dict[str, Column]
    primary_key: list[str]

    @property
    def qualified(self) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(self.name))

    def column(self, name: str) -> Column:
        try:
            return self.columns[name]
        except KeyError:
            raise ApiError(400, "42703", f"column {self.name}.{name} does not exist") from None


@dataclass
class ForeignKey:
    name: str
    schema: str
    table: str
    columns: list[str]
    ref_schema: str
    ref_table: str
    ref_columns: list[str]


@dataclass
class Function:
    schema: str
    name: str
    args: list[tuple[str, str]]  # (name, type) of the input arguments
    n_defaults: int
    returns_set: bool
    returns_void: bool
    returns_composite: bool

    @property
    def required(self) -> set[str]:
        return {n for n, _ in self.args[: len(self.args) - self.n_defaults]}


class SchemaCache:
    def __init__(self, schemas: Sequence[str]) -> None:
        self.schemas = list(schemas)
        self.relations: dict[tuple[str, str], Relation] = {}
        self.functions: dict[tuple[str, str], list[Function]] = {}
        self.foreign_keys: list[ForeignKey] = []
        self.role_settings: dict[str, list[tuple[str, str]]] = {}
        self.lock = threading.Lock()

    def load(self, conn: psycopg.Connection[Any]) -> None:
        relations: dict[tuple[str, str], Relation] = {}
        for schema, table, column, typ, generated in conn.execute(
            """
            select n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attgenerated <> ''
            from pg_class c
            join pg_namespace n on n.oid = c.relnamespace
            join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
            where c.relkind in ('r', 'p', 'v', 'm', 'f') and n.nspname = any(%s)
            order by n.nspname, c.relname, a.attnum
            """,
            (self.schemas,),
        ):
            rel = relations.setdefault((schema, table), Relation(schema, table, {}, []))
            rel.columns[column] = Column(column, typ, bool(generated))
        for schema, table, column in conn.execute(
            """
            select n.nspname, c.relname, a.attname
            from pg_index i
            join pg_class c on c.oid = i.indrelid
            join pg_namespace n on n.oid = c.relnamespace
            join lateral unnest(i.indkey) with ordinality k(attnum, ord) on true
            join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum
            where i.indisprimary and n.nspname = any(%s)
            order by n.nspname, c.relname, k.ord
            """,
            (self.schemas,),
        ):
            if (schema, table) in relations:
                relations[(schema, table)].primary_key.append(column)
        foreign_keys = [
            ForeignKey(name, schema, table, list(cols), ref_schema, ref_table, list(ref_cols))
            for name, schema, table, cols, ref_schema, ref_table, ref_cols in conn.execute(
                """
                select con.conname, n.nspname, c.relname,
                       array(select a.attname from unnest(con.conkey) with ordinality k(n, o)
                             join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.n order by k.o),
                       rn.nspname, rc.relname,
                       array(select a.attname from unnest(con.confkey) with ordinality k(n, o)
                             join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.n order by k.o)
                from pg_constraint con
                join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
                join pg_class rc on rc.oid = con.confrelid join pg_namespace rn on rn.oid = rc.relnamespace
                where con.contype = 'f' and n.nspname = any(%s)
                """,
                (self.schemas,),
            )
        ]
        functions: dict[tuple[str, str], list[Function]] = {}
        for (
            schema,
            name,
            arg_names,
            arg_modes,
            arg_types,
            n_defaults,
            retset,
            rettype,
            typtype,
        ) in conn.execute(
            """
            select n.nspname, p.proname, p.proargnames, p.proargmodes::text[],
                   array(select format_type(t, null) from unnest(p.proargtypes) t),
                   p.pronargdefaults, p.proretset, p.prorettype::regtype::text, t.typtype
            from pg_proc p
            join pg_namespace n on n.oid = p.pronamespace
            join pg_type t on t.oid = p.prorettype
            where n.nspname = any(%s) and p.prokind = 'f'
            """,
            (self.schemas,),
        ):
            # proargnames covers all arguments (incl. OUT); keep the inputs.
            names = list(arg_names or [])
            modes = list(arg_modes or [])
            if modes:
                input_names = [n for n, m in zip(names, modes, strict=False) if m in ("i", "b", "v")]
            else:
                input_names = names[: len(arg_types)]
            if len(input_names) != len(arg_types) or any(not n for n in input_names):
                continue  # unnamed arguments cannot be called through PostgREST
            functions.setdefault((schema, name), []).append(
                Function(
                    schema,
                    name,
                    list(zip(input_names, arg_types, strict=True)),
                    n_defaults,
                    retset,
                    rettype == "void",
                    typtype == "c" or rettype == "record",
                )
            )
        role_settings: dict[str, list[tuple[str, str]]] = {}
        for role, settings in conn.execute(
            """
            select r.rolname, s.setconfig from pg_db_role_setting s
            join pg_roles r on r.oid = s.setrole
            where s.setdatabase in (0, (select oid from pg_database where datname = current_database()))
            """
        ):
            for item in settings or []:
                key, _, value = item.partition("=")
                role_settings.setdefault(role, []).append((key, value))
        with self.lock:
            self.relations, self.functions, self.role_settings = relations, functions, role_settings
            self.foreign_keys = foreign_keys


# ---------------------------------------------------------------------------
# Query-string grammar
# ---------------------------------------------------------------------------


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside parentheses and double quotes."""
    parts: list[str] = []
    depth = 0
    quoted = False
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and quoted and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == sep and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    if quoted or depth != 0:
        raise bad_request(f'"failed to parse" ({text})', "unbalanced quotes or parentheses")
    parts.append("".join(current))
    return parts


def unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


LOGIC_KEYS = {"or", "and", "not.or", "not.and"}


@dataclass
class Target:
    """What names in a query refer to: a table (checked against the schema cache) or, with no
    relation, the columns of an RPC result. ``alias`` is the name the table has in the SQL."""

    relation: Relation | None
    alias: str | None = None

    def ref(self, name: str) -> sql.Identifier:
        if self.alias:
            return sql.Identifier(self.alias, name)
        if self.relation is not None:
            # Qualified, so an UPDATE ... FROM (payload) stays unambiguous.
            return sql.Identifier(self.relation.schema, self.relation.name, name)
        return sql.Identifier(name)

    def star(self) -> sql.Composable:
        if self.alias:
            return sql.SQL("{}.*").format(sql.Identifier(self.alias))
        if self.relation is not None:
            return sql.SQL("{}.*").format(self.relation.qualified)
        return sql.SQL("*")

    def column(self, name: str) -> tuple[sql.Composable, str | None]:
        name = unquote(name)
        if "->" in name:
            raise bad_request(f"JSON paths ({name}) are not supported by the test server")
        if self.relation is None:
            if not name:
                raise bad_request("empty column name")
            return self.ref(name), None
        col = self.relation.column(name)
        return self.ref(col.name), col.type


class Params:
    """Named placeholders, so SQL fragments can be built in any order (and reused)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._aliases = 0

    def add(self, value: Any, cast: str | None = None) -> sql.Composable:
        name = f"p{len(self.values)}"
        self.values[name] = value
        if cast:
            return sql.SQL("{}::{}").format(sql.Placeholder(name), sql.SQL(cast))
        return sql.Placeholder(name)

    def alias(self) -> str:
        self._aliases += 1
        return f"_e{self._aliases}"


def split_params(
    pairs: Iterable[tuple[str, str]],
) -> tuple[list[tuple[str, str]], dict[str, list[tuple[str, str]]]]:
    """This level's parameters, and those of embedded resources (``child.col=eq.1``) by prefix."""
    own: list[tuple[str, str]] = []
    nested: dict[str, list[tuple[str, str]]] = {}
    for key, value in pairs:
        if key.startswith('"') or key in LOGIC_KEYS or "." not in key:
            own.append((key, value))
        else:
            prefix, rest = key.split(".", 1)
            nested.setdefault(prefix, []).append((rest, value))
    return own, nested


def level_param(pairs: Iterable[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in pairs if k == name), None)


def filter_sql(target: Target, column: str, expression: str, params: Params) -> sql.Composable:
    """``column=[not.]op.value`` to SQL."""
    negate = False
    if expression.startswith("not."):
        negate, expression = True, expression[4:]
    op, dot, value = expression.partition(".")
    if not dot:
        raise bad_request(f'"failed to parse filter ({expression})" (line 1, column 1)')
    col, typ = target.column(column)
    cond: sql.Composable
    if op in COMPARISON:
        cond = sql.SQL("{} {} {}").format(col, sql.SQL(COMPARISON[op]), params.add(value, typ))
    elif op in PATTERN:
        pattern = value.replace("*", "%") if op in ("like", "ilike") else value
        cond = sql.SQL("{} {} {}").format(col, sql.SQL(PATTERN[op]), params.add(pattern, "text"))
    elif op == "is":
        if value.lower() not in IS_VALUES:
            raise bad_request(
                f'"failed to parse filter (is.{value})" (line 1, column 4)',
                "is accepts null, not_null, true, false or unknown",
            )
        cond = sql.SQL("{} is {}").format(col, sql.SQL(IS_VALUES[value.lower()]))
    elif op == "in":
        if not (value.startswith("(") and value.endswith(")")):
            raise bad_request(
                f'"failed to parse filter (in.{value})" (line 1, column 4)', "in expects a parenthesised list"
            )
        items = [unquote(v) for v in split_top(value[1:-1])] if value[1:-1] else []
        if not items:
            cond = sql.SQL("false")
        else:
            cond = sql.SQL("{} in ({})").format(col, sql.SQL(", ").join(params.add(v, typ) for v in items))
    else:
        m = re.fullmatch(r"(fts|plfts|phfts|wfts)(?:\((\w+)\))?", op)
        if not m:
            raise bad_request(
                f'"failed to parse filter ({op}.{value})" (line 1, column 1)',
                f"unknown or unsupported operator {op!r}",
            )
        func = sql.SQL(FTS[m[1]])
        query = (
            sql.SQL("{}({}, {})").format(func, params.add(m[2], "regconfig"), params.add(value, "text"))
            if m[2]
            else sql.SQL("{}({})").format(func, params.add(value, "text"))
        )
        doc = col if typ == "tsvector" else sql.SQL("to_tsvector({})").format(col)
        cond = sql.SQL("{} @@ {}").format(doc, query)
    return sql.SQL("not ({})").format(cond) if negate else cond


def logic_sql(target: Target, key: str, value: str, params: Params) -> sql.Composable:
    """``or=(a.eq.1,and(b.gt.2,c.is.null))`` and friends to SQL."""
    negate = key.startswith("not.")
    op = key[4:] if negate else key
    if not (value.startswith("(") and value.endswith(")")):
        raise bad_request(f'"failed to parse logic tree ({value})" (line 1, column 1)')
    parts: list[sql.Composable] = []
    for item in split_top(value[1:-1]):
        m = re.fullmatch(r"(not\.)?(and|or)(\(.*\))", item, re.S)
        if m:
            parts.append(logic_sql(target, (m[1] or "") + m[2], m[3], params))
            continue
        column, dot, rest = item.partition(".")
        if not dot:
            raise bad_request(f'"failed to parse logic tree ({value})" (line 1, column 1)')
        # Values inside a tree may be double-quoted to protect commas and parentheses.
        opname, _, raw = rest.partition(".")
        if opname == "not":
            inner_op, _, raw = raw.partition(".")
            rest = f"not.{inner_op}.{unquote(raw) if inner_op != 'in' else raw}"
        else:
            rest = f"{opname}.{unquote(raw) if opname != 'in' else raw}"
        parts.append(filter_sql(target, column, rest, params))
    joined = sql.SQL(f" {op} ").join(sql.SQL("({})").format(p) for p in parts)
    return sql.SQL("not ({})").format(joined) if negate else sql.SQL("({})").format(joined)


def conditions(
    target: Target, pairs: Iterable[tuple[str, str]], params: Params, skip: Iterable[str] = ()
) -> list[sql.Composable]:
    """The WHERE conditions of one level's filters."""
    skipped = set(skip) | RESERVED_PARAMS
    conds: list[sql.Composable] = []
    for key, value in pairs:
        if key in skipped:
            continue
        if key in LOGIC_KEYS:
            conds.append(logic_sql(target, key, value, params))
        else:
            conds.append(filter_sql(target, key, value, params))
    return conds


def where_clause(conds: Sequence[sql.Composable]) -> sql.Composable:
    if not conds:
        return sql.SQL("")
    return sql.SQL(" where ") + sql.SQL(" and ").join(sql.SQL("({})").format(c) for c in conds)


def order_sql(target: Target, order: str) -> sql.Composable:
    terms: list[sql.Composable] = []
    for item in split_top(order):
        parts = item.split(".")
        col, _ = target.column(parts[0])
        term: list[sql.Composable] = [col]
        for mod in parts[1:]:
            if mod in ("asc", "desc"):
                term.append(sql.SQL(mod))
            elif mod in ("nullsfirst", "nullslast"):
                term.append(sql.SQL("nulls first" if mod == "nullsfirst" else "nulls last"))
            else:
                raise bad_request(f'"failed to parse order ({order})" (line 1, column 1)')
        terms.append(sql.SQL(" ").join(term))
    return sql.SQL(" order by ") + sql.SQL(", ").join(terms)


EMBED = re.compile(
    r"^(?:(?P<alias>[A-Za-z_][\w]*):)?(?P<name>[A-Za-z_][\w]*)"
    r"(?:!(?P<hint>[A-Za-z_][\w]*))?(?:!(?P<join>inner|left))?\((?P<select>.*)\)$",
    re.S,
)


def parse_prefer(headers: dict[str, str]) -> dict[str, str]:
    prefs: dict[str, str] = {}
    for part in headers.get("prefer", "").split(","):
        key, _, value = part.strip().partition("=")
        if key:
            prefs[key] = value
    return prefs


def to_int(name: str, value: str) -> int:
    if not value.isdigit():
        raise bad_request(f'"failed to parse {name} ({value})"', f"{name} must be a non-negative integer")
    return int(value)


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: str
    params: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.params if k == name), None)


@dataclass
class Outcome:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class ConnectionPool:
    """A few reusable connections logged in as ``authenticator`` (like PostgREST's pool)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.idle: queue.SimpleQueue[psycopg.Connection[Any]] = queue.SimpleQueue()
        self.all: list[psycopg.Connection[Any]] = []
        self.lock = threading.Lock()

    def get(self) -> psycopg.Connection[Any]:
        try:
            while True:
                conn = self.idle.get_nowait()
                if not conn.closed:
                    return conn
        except queue.Empty:
            conn = psycopg.connect(self.dsn, autocommit=False)
            with self.lock:
                self.all.append(conn)
            return conn

    def put(self, conn: psycopg.Connection[Any]) -> None:
        if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.close()
            return
        self.idle.put(conn)

    def close(self) -> None:
        with self.lock:
            for conn in self.all:
                conn.close()
            self.all.clear()


class PostgrestServer:
    """Serve ``/rest/v1`` (and the JWKS) on 127.0.0.1:<free port> from a background thread."""

    def __init__(
        self,
        authenticator_dsn: str,
        *,
        jwt_secret: str = TEST_JWT_SECRET,
        schemas: Sequence[str] = ("public",),
        anon_role: str = "anon",
        extra_search_path: Sequence[str] = ("public", "extensions"),
        max_rows: int | None = 1000,
    ) -> None:
        self.jwt_secret = jwt_secret
        self.max_rows = max_rows
        self.schemas = list(schemas)
        self.anon_role = anon_role
        self.extra_search_path = list(extra_search_path)
        self.pool = ConnectionPool(authenticator_dsn)
        self.cache = SchemaCache(self.schemas)
        self.requests: list[RecordedRequest] = []
        # Asymmetric signing keys published in the JWKS; the first signs make_user_token(algorithm="ES256").
        self.signing_keys: list[SigningKey] = [generate_signing_key("ES256")]
        self.anon_key = sign_hs256(api_key_claims("anon"), jwt_secret)
        self.service_key = sign_hs256(api_key_claims("service_role"), jwt_secret)
        self.publishable_key = "sb_publishable_" + secrets.token_urlsafe(18)
        self.secret_key = "sb_secret_" + secrets.token_urlsafe(18)
        self.url = ""
        self.outage = False
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = Starlette(
            routes=[
                Route("/auth/v1/.well-known/jwks.json", self._jwks, methods=["GET"]),
                Route(
                    "/rest/v1/rpc/{function}",
                    self._endpoint,
                    methods=["GET", "HEAD", "POST"],
                ),
                Route(
                    "/rest/v1/{relation}",
                    self._endpoint,
                    methods=["GET", "HEAD", "POST", "PATCH", "DELETE"],
                ),
            ]
        )

    # -- tokens ---------------------------------------------------------------

    @property
    def signing_key(self) -> SigningKey:
        return self.signing_keys[0]

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk for key in self.signing_keys]}

    def add_signing_key(self, algorithm: str = "ES256") -> SigningKey:
        """Publish one more key (key rotation); tokens it signs are accepted from now on."""
        key = generate_signing_key(algorithm)
        self.signing_keys.append(key)
        return key

    @property
    def rest_url(self) -> str:
        return f"{self.url}/rest/v1"

    @property
    def issuer(self) -> str:
        return f"{self.url}/auth/v1"

    def make_user_token(
        self,
        user_id: Any,
        email: str | None = None,
        role: str = "authenticated",
        *,
        algorithm: str = "HS256",
        **claims: Any,
    ) -> str:
        """An access token like Supabase Auth issues; HS256 with the secret or ES256 with the JWKS key."""
        payload = user_claims(user_id, email, role, issuer=self.issuer, **claims)
        if algorithm == "HS256":
            return sign_hs256(payload, self.jwt_secret)
        if algorithm == "ES256":
            return self.signing_key.sign(payload)
        raise ValueError("algorithm must be HS256 or ES256")

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        conn = self.pool.get()
        try:
            self.cache.load(conn)
            conn.rollback()
        finally:
            self.pool.put(conn)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False)
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="postgrest-test-server"
        )
        thread.start()
        # uvicorn flips `started` once it listens; poll until then (or until it dies).
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the PostgREST test server did not start")
            time.sleep(0.01)
        self._server, self._thread, self.url = server, thread, f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.pool.close()

    @contextmanager
    def simulate_outage(self) -> Iterator[None]:
        """Answer every REST request with PostgREST's 503 while the block runs (requests still recorded)."""
        self.outage = True
        try:
            yield
        finally:
            self.outage = False

    def reload_schema(self) -> None:
        conn = self.pool.get()
        try:
            self.cache.load(conn)
            conn.rollback()
        finally:
            self.pool.put(conn)

    # -- HTTP -----------------------------------------------------------------

    async def _jwks(self, request: Request) -> Response:
        # Recorded too, so a test can check that a handler caches the JWKS.
        self.requests.append(
            RecordedRequest(
                request.method,
                request.url.path,
                request.url.query,
                [],
                {k.lower(): v for k, v in request.headers.items()},
                b"",
            )
        )
        return JSONResponse(self.jwks, headers={"Cache-Control": "public, max-age=600"})

    async def _endpoint(self, request: Request) -> Response:
        body = await request.body()
        record = RecordedRequest(
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            params=parse_qsl(request.url.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )
        self.requests.append(record)
        if self.outage:
            # What PostgREST answers while it cannot reach the database.
            return JSONResponse(
                {
                    "code": "PGRST001",
                    "details": "connection refused",
                    "hint": None,
                    "message": "Database client error. Retrying the connection.",
                },
                status_code=503,
                headers={"Retry-After": "0"},
            )
        try:
            outcome = await run_in_threadpool(self._handle, record, request.path_params)
        except ApiError as exc:
            return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)
        return Response(
            outcome.body if request.method != "HEAD" else b"",
            status_code=outcome.status,
            headers=outcome.headers,
        )

    # -- request handling -------------------------------------------------------

    def _authenticate(self, req: RecordedRequest) -> tuple[str, dict[str, Any]]:
        apikey = req.headers.get("apikey") or req.param("apikey")
        if not apikey:
            raise ApiError(
                401,
                None,
                "No API key found in request",
                hint="No `apikey` request header or url param was found.",
            )
        if apikey not in (self.anon_key, self.service_key, self.publishable_key, self.secret_key):
            raise ApiError(
                401,
                None,
                "Invalid API key",
                hint="Double check your Supabase `anon` or `service_role` API key.",
            )
        authorization = req.headers.get("authorization")
        if not authorization:
            # The new opaque keys stand for the anon / service_role JWTs at the gateway.
            if apikey in (self.secret_key, self.service_key):
                return "service_role", {"role": "service_role"}
            return self.anon_role, {"role": self.anon_role}
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise self._jwt_error("PGRST301", "Authorization header is not a Bearer token")
        token = token.strip()
        if token == self.publishable_key:
            return self.anon_role, {"role": self.anon_role}
        if token == self.secret_key:
            return "service_role", {"role": "service_role"}
        claims = self._verify(token)
        role = claims.get("role") or self.anon_role
        if not isinstance(role, str):
            raise self._jwt_error("PGRST301", "the role claim must be a string")
        return role, claims

    def authenticate(self, headers: dict[str, str]) -> tuple[str, dict[str, Any]]:
        """The role and claims the gateway gives a request with these headers (lower-case names);
        raises ApiError (401) like PostgREST. Used by the other fake Supabase APIs."""
        return self._authenticate(RecordedRequest("GET", "", "", [], headers, b""))

    def _jwt_error(self, code: str, message: str) -> ApiError:
        description = message.replace('"', "'")
        return ApiError(
            401,
            code,
            message,
            headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'},
        )

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise self._jwt_error("PGRST301", f"JWSError (CompactDecodeError {exc})") from None
        alg = header.get("alg")
        try:
            if alg == "HS256":
                claims = jwt.decode(
                    token, self.jwt_secret, algorithms=["HS256"], options={"verify_aud": False, "require": []}
                )
            elif key := next(
                (k for k in self.signing_keys if k.kid == header.get("kid") and k.algorithm == alg), None
            ):
                claims = jwt.decode(
                    token,
                    key.private_key.public_key(),
                    algorithms=[key.algorithm],
                    options={"verify_aud": False, "require": []},
                )
            else:
                raise self._jwt_error("PGRST301", f"JWSError JWSInvalidSignature (alg {alg!r} not accepted)")
        except jwt.ExpiredSignatureError:
            raise self._jwt_error("PGRST303", "JWT expired") from None
        except jwt.ImmatureSignatureError:
            raise self._jwt_error("PGRST303", "JWT not yet valid") from None
        except jwt.InvalidSignatureError:
            raise self._jwt_error("PGRST301", "JWSError JWSInvalidSignature") from None
        except jwt.InvalidTokenError as exc:
            raise self._jwt_error("PGRST301", f"JWSError {exc}") from None
        if not isinstance(claims, dict):
            raise self._jwt_error("PGRST301", "JWT claims are not an object")
        return claims

    def _schema_for(self, req: RecordedRequest) -> str:
        header = "accept-profile" if req.method in ("GET", "HEAD") else "content-profile"
        schema = req.headers.get(header) or self.schemas[0]
        if schema not in self.schemas:
            raise ApiError(
                406,
                "PGRST106",
                "Invalid schema: " + schema,
                hint="Only the following schemas are exposed: " + ", ".join(self.schemas),
            )
        return schema

    def _relation(self, schema: str, name: str, embedded: bool = False) -> Relation:
        rel = self.cache.relations.get((schema, name))
        if rel is None:
            self.reload_schema()  # tables created after start (test-only schemas)
            rel = self.cache.relations.get((schema, name))
        if rel is None and embedded:
            # The other end lives in a schema the API does not expose (auth.users, ...).
            raise ApiError(
                400,
                "PGRST200",
                f"Could not find a relationship with '{schema}.{name}' in the schema cache",
                hint=f"Schema '{schema}' is not exposed through the API.",
            )
        if rel is None:
            raise ApiError(404, "PGRST205", f"Could not find the table '{schema}.{name}' in the schema cache")
        return rel

    def _functions(self, schema: str, name: str) -> list[Function]:
        funcs = self.cache.functions.get((schema, name))
        if not funcs:
            self.reload_schema()
            funcs = self.cache.functions.get((schema, name))
        return funcs or []

    def _handle(self, req: RecordedRequest, path_params: dict[str, Any]) -> Outcome:
        role, claims = self._authenticate(req)
        schema = self._schema_for(req)
        accept = req.headers.get("accept", "application/json")
        if "text/csv" in accept or "vnd.pgrst.plan" in accept:
            raise ApiError(406, "PGRST107", "None of these media types are available: " + accept)
        single = OBJECT_CT in accept
        prefs = parse_prefer(req.headers)
        if "function" in path_params:
            build = self._rpc(schema, path_params["function"], req, prefs)
        else:
            build = self._table(schema, path_params["relation"], req, prefs)
        return self._run(req, role, claims, schema, build, single, prefs)

    def _run(
        self,
        req: RecordedRequest,
        role: str,
        claims: dict[str, Any],
        schema: str,
        build: Callable[[psycopg.Connection[Any]], Outcome],
        single: bool,
        prefs: dict[str, str],
    ) -> Outcome:
        conn = self.pool.get()
        try:
            conn.read_only = req.method in ("GET", "HEAD")
            settings: list[tuple[str, str]] = [
                (
                    "search_path",
                    ", ".join(sql.Identifier(s).as_string(conn) for s in [schema, *self.extra_search_path]),
                ),
                ("role", role),
                ("request.jwt.claims", json.dumps(claims)),
                ("request.method", req.method),
                ("request.path", req.path),
                ("request.headers", json.dumps(req.headers)),
            ]
            settings += [
                (f"request.jwt.claim.{k}", v)
                for k, v in claims.items()
                if isinstance(v, str) and re.fullmatch(r"[a-z_][a-z0-9_]*", k)
            ]
            settings += self.cache.role_settings.get(role, [])
            conn.execute(
                sql.SQL("select {}").format(
                    sql.SQL(", ").join(sql.SQL("set_config(%s, %s, true)") for _ in settings)
                ),
                [x for pair in settings for x in pair],
            )
            outcome = build(conn)
            if single and outcome.status < 300 and outcome.body:
                rows = json.loads(outcome.body)
                if isinstance(rows, list):
                    if len(rows) != 1:
                        conn.rollback()
                        raise ApiError(
                            406,
                            "PGRST116",
                            "JSON object requested, multiple (or no) rows returned",
                            f"The result contains {len(rows)} rows",
                        )
                    outcome.body = json.dumps(rows[0]).encode()
                    outcome.headers["Content-Type"] = OBJECT_CT + "; charset=utf-8"
            if prefs.get("tx") == "rollback":
                conn.rollback()
            else:
                conn.commit()
            return outcome
        except psycopg.Error as exc:
            conn.rollback()
            diag = exc.diag
            sqlstate = diag.sqlstate or "XX000"
            status = status_for_sqlstate(sqlstate, role, self.anon_role)
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
            raise ApiError(
                status,
                sqlstate,
                diag.message_primary or str(exc),
                diag.message_detail,
                diag.message_hint,
                headers,
            ) from None
        except BaseException:
            if not conn.closed:
                conn.rollback()
            raise
        finally:
            self.pool.put(conn)

    # -- tables -------------------------------------------------------------------

    # -- select lists and embedded resources ----------------------------------------

    def _relationship(
        self, parent: Relation, name: str, hint: str | None
    ) -> tuple[Relation, bool, list[tuple[str, str]]]:
        """The table embedded as ``name`` under ``parent``: (child, to_one, [(child column, parent column)])."""
        found: list[tuple[ForeignKey, bool]] = []
        for fk in self.cache.foreign_keys:
            if (
                fk.schema == parent.schema
                and fk.table == parent.name
                and (
                    (fk.ref_table == name and fk.ref_schema == parent.schema)
                    or fk.name == name
                    or fk.columns == [name]
                )
            ):
                found.append((fk, True))  # many-to-one: the parent holds the key
            elif (
                fk.ref_schema == parent.schema
                and fk.ref_table == parent.name
                and ((fk.table == name and fk.schema == parent.schema) or fk.name == name)
            ):
                found.append((fk, False))  # one-to-many: the child holds the key
        if hint:
            found = [
                (fk, to_one)
                for fk, to_one in found
                if hint in (fk.name, fk.table, fk.ref_table) or fk.columns == [hint]
            ]
        if not found:
            raise ApiError(
                400,
                "PGRST200",
                f"Could not find a relationship between '{parent.name}' and '{name}' in the schema cache",
                hint="Many-to-many embedding through a junction table is not supported by the test server.",
            )
        if len(found) > 1:
            raise ApiError(
                300,
                "PGRST201",
                f"Could not embed because more than one relationship was found for "
                f"'{parent.name}' and '{name}'",
                details=", ".join(fk.name for fk, _ in found),
                hint=f"Try changing '{name}' to one of: "
                + ", ".join(f"'{name}!{fk.name}'" for fk, _ in found),
            )
        fk, to_one = found[0]
        if to_one:
            child = self._relation(fk.ref_schema, fk.ref_table, embedded=True)
            pairs = list(zip(fk.ref_columns, fk.columns, strict=True))
        else:
            child = self._relation(fk.schema, fk.table, embedded=True)
            pairs = list(zip(fk.columns, fk.ref_columns, strict=True))
        return child, to_one, pairs

    def _select_items(
        self,
        target: Target,
        select: str | None,
        nested: dict[str, list[tuple[str, str]]],
        params: Params,
    ) -> tuple[sql.Composable, list[sql.Composable]]:
        """The select list, and the EXISTS conditions that ``!inner`` embeds add to the parent's WHERE."""
        items: list[sql.Composable] = []
        inner: list[sql.Composable] = []
        used: set[str] = set()
        for raw_item in split_top(select or "*"):
            item = raw_item.strip()
            if item == "*":
                items.append(target.star())
                continue
            if re.fullmatch(r"(?:\w+:)?(?:\w+\.)?(?:count|sum|avg|min|max)\(\)(?:::\w+)?", item):
                raise bad_request(
                    f'"failed to parse select parameter ({item})"',
                    "aggregate functions are not supported by the test server",
                )
            embed = EMBED.fullmatch(item)
            if embed:
                if target.relation is None:
                    raise bad_request(
                        f"embedding ({item}) on a function result is not supported by the test server"
                    )
                expr, exists = self._embed(target, embed, nested, params, used)
                items.append(expr)
                if exists is not None:
                    inner.append(exists)
                continue
            if "(" in item or "!" in item or item.startswith("..."):
                raise bad_request(
                    f'"failed to parse select parameter ({item})"',
                    "aggregates, spreads and computed relationships are not supported by the test server",
                )
            alias, colon, rest = item.partition(":")
            if colon and not rest.startswith(":"):
                name, output = rest, alias
            else:
                name, output = item, ""
            cast = ""
            if "::" in name:
                name, cast = name.split("::", 1)
                if not CAST_TYPE.fullmatch(cast):
                    raise bad_request(f"unsupported cast ::{cast}")
            col, _ = target.column(name)
            expr_col: sql.Composable = sql.SQL("{}::{}").format(col, sql.SQL(cast)) if cast else col
            items.append(sql.SQL("{} as {}").format(expr_col, sql.Identifier(output or unquote(name))))
        unknown = set(nested) - used
        if unknown:
            name = sorted(unknown)[0]
            raise ApiError(
                400,
                "PGRST108",
                f"'{name}' is not an embedded resource in this request",
                hint=f"Verify that '{name}' is included in the 'select' query parameter.",
            )
        return sql.SQL(", ").join(items), inner

    def _embed(
        self,
        parent: Target,
        m: re.Match[str],
        nested: dict[str, list[tuple[str, str]]],
        params: Params,
        used: set[str],
    ) -> tuple[sql.Composable, sql.Composable | None]:
        assert parent.relation is not None
        name, output = m["name"], m["alias"] or m["name"]
        hint, join_type = m["hint"], m["join"]
        if hint in ("inner", "left") and join_type is None:
            hint, join_type = None, hint  # `name!inner(...)`: the regex took the join type for a hint
        child_rel, to_one, pairs = self._relationship(parent.relation, name, hint)
        # Filters, order and paging for the embedded rows: `<alias or name>.column=...`.
        prefix = output if output in nested else name
        used.add(prefix)
        own, deeper = split_params(nested.get(prefix, []))
        child = Target(child_rel, params.alias())
        select, child_inner = self._select_items(child, m["select"], deeper, params)
        join = [sql.SQL("{} = {}").format(child.ref(c), parent.ref(p)) for c, p in pairs]
        conds = join + conditions(child, own, params) + child_inner
        order = level_param(own, "order")
        tail: sql.Composable = order_sql(child, order) if order else sql.SQL("")
        limit, offset = level_param(own, "limit"), level_param(own, "offset")
        if limit is not None:
            tail += sql.SQL(" limit {}").format(params.add(to_int("limit", limit)))
        if offset is not None:
            tail += sql.SQL(" offset {}").format(params.add(to_int("offset", offset)))
        source = sql.SQL("{} {}").format(child_rel.qualified, sql.Identifier(child.alias or ""))
        rows = sql.SQL("select {} from {}{}{}").format(select, source, where_clause(conds), tail)
        if to_one:
            expr = sql.SQL("(select to_json(_j) from ({}) _j) as {}").format(rows, sql.Identifier(output))
        else:
            expr = sql.SQL("coalesce((select json_agg(_j) from ({}) _j), '[]'::json) as {}").format(
                rows, sql.Identifier(output)
            )
        exists = None
        if join_type == "inner":
            exists = sql.SQL("exists (select 1 from {}{})").format(source, where_clause(conds))
        return expr, exists

    # -- tables -------------------------------------------------------------------

    def _page(self, req: RecordedRequest) -> tuple[int | None, int]:
        limit = req.param("limit")
        offset = req.param("offset")
        lim = to_int("limit", limit) if limit is not None else None
        off = to_int("offset", offset) if offset is not None else 0
        rng = req.headers.get("range")
        if rng and lim is None:
            m = re.fullmatch(r"(?:items=)?(\d+)-(\d*)", rng.strip())
            if not m:
                raise ApiError(416, "PGRST103", "Requested range not satisfiable", f"invalid Range {rng!r}")
            off = int(m[1])
            if m[2]:
                if int(m[2]) < off:
                    raise ApiError(416, "PGRST103", "Requested range not satisfiable")
                lim = int(m[2]) - off + 1
        return lim, off

    def _table(
        self, schema: str, name: str, req: RecordedRequest, prefs: dict[str, str]
    ) -> Callable[[psycopg.Connection[Any]], Outcome]:
        rel = self._relation(schema, name)
        if req.method in ("GET", "HEAD"):
            return self._select(rel, req, prefs)
        if req.method == "POST":
            return self._insert(rel, req, prefs)
        if req.method == "PATCH":
            return self._update(rel, req, prefs)
        return self._delete(rel, req, prefs)

    def _select(
        self, rel: Relation, req: RecordedRequest, prefs: dict[str, str]
    ) -> Callable[[psycopg.Connection[Any]], Outcome]:
        params = Params()
        target = Target(rel)
        own, nested = split_params(req.params)
        columns, inner = self._select_items(target, req.param("select"), nested, params)
        where = where_clause(conditions(target, own, params) + inner)
        order = req.param("order")
        order_clause = order_sql(target, order) if order else sql.SQL("")
        lim, off = self._page(req)
        if self.max_rows is not None:
            lim = self.max_rows if lim is None else min(lim, self.max_rows)
        page: sql.Composable = sql.SQL("")
        if lim is not None:
            page += sql.SQL(" limit {}").format(params.add(lim))
        if off:
            page += sql.SQL(" offset {}").format(params.add(off))
        query = sql.SQL(
            "select coalesce(json_agg(_r), '[]')::text, count(*) from (select {} from {}{}{}{}) _r"
        ).format(columns, rel.qualified, where, order_clause, page)
        count_query = sql.SQL("select count(*) from {}{}").format(rel.qualified, where)
        want_count = prefs.get("count") in ("exact", "planned", "estimated")

        def run(conn: psycopg.Connection[Any]) -> Outcome:
            row = conn.execute(query, params.values).fetchone()
            assert row is not None
            body, n = row[0], int(row[1])
            total: int | None = None
            if want_count:
                counted = conn.execute(count_query, params.values).fetchone()
                total = int(counted[0]) if counted else 0
            status = 200
            if total is not None and n < total and (lim is not None or off):
                status = 206
            return Outcome(
                status,
                body.encode(),
                {
                    "Content-Type": JSON_CT,
                    "Content-Range": content_range(off, n, total),
                    **({"Preference-Applied": f"count={prefs['count']}"} if want_count else {}),
                },
            )

        return run

    def _payload(self, req: RecordedRequest) -> Any:
        ctype = req.headers.get("content-type", "application/json")
        if "json" not in ctype:
            raise ApiError(415, "PGRST107", f"None of these media types are available: {ctype}")
        try:
            return json.loads(req.body) if req.body else None
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise bad_request("Empty or invalid json", str(exc)[:200], code="PGRST102") from None

    def _returning(
        self, rel: Relation, req: RecordedRequest, prefs: dict[str, str], params: Params
    ) -> sql.Composable | None:
        """The select list read back from the changed rows (CTE ``_m``), or None for return=minimal."""
        if prefs.get("return") != "representation":
            return None
        _, nested = split_params(req.params)
        columns, inner = self._select_items(Target(rel, "_m"), req.param("select"), nested, params)
        if inner:
            raise bad_request("!inner embedding on a write is not supported by the test server")
        return columns

    def _mutation_outcome(
        self, created: bool, body: str, n: int, prefs: dict[str, str], representation: bool
    ) -> Outcome:
        applied = [f"{k}={prefs[k]}" for k in ("return", "count", "resolution", "missing") if k in prefs]
        headers = {"Content-Range": f"*/{n if prefs.get('count') == 'exact' else '*'}"}
        if applied:
            headers["Preference-Applied"] = ", ".join(applied)
        if representation:
            headers["Content-Type"] = JSON_CT
            headers["Content-Range"] = (f"0-{n - 1}" if n else "*") + (
                f"/{n}" if prefs.get("count") == "exact" else "/*"
            )
            return Outcome(201 if created else 200, body.encode(), headers)
        return Outcome(201 if created else 204, b"", headers)

    def _check_columns(self, rel: Relation, keys: Iterable[str]) -> None:
        for key in keys:
            if key not in rel.columns:
                raise ApiError(
                    400, "PGRST204", f"Could not find the '{key}' column of '{rel.name}' in the schema cache"
                )

    def _insert(
        self, rel: Relation, req: RecordedRequest, prefs: dict[str, str]
    ) -> Callable[[psycopg.Connection[Any]], Outcome]:
        payload = self._payload(req)
        rows = payload if isinstance(payload, list) else [payload]
        if not rows or not all(isinstance(r, dict) for r in rows):
            raise bad_request(
                "Empty or invalid json", "the body must be an object or an array of objects", code="PGRST102"
            )
        columns_param = req.param("columns")
        if columns_param:
            keys = [unquote(c.strip()) for c in split_top(columns_param)]
        else:
            keys = list(rows[0].keys())
            if any(set(r.keys()) != set(keys) for r in rows):
                raise bad_request("All object keys must match", code="PGRST102")
        self._check_columns(rel, keys)
        params = Params()
        returning = self._returning(rel, req, prefs, params)
        resolution = prefs.get("resolution")
        conflict_cols: list[str] = []
        if resolution in ("merge-duplicates", "ignore-duplicates"):
            on_conflict = req.param("on_conflict")
            conflict_cols = (
                [unquote(c.strip()) for c in split_top(on_conflict)] if on_conflict else list(rel.primary_key)
            )
            for c in conflict_cols:
                rel.column(c)
            if not conflict_cols:
                raise bad_request(f"{rel.name} has no primary key; give on_conflict")
        # With missing=default each row sets only the keys it has, so the others get their defaults.
        groups: list[tuple[list[str], list[dict[str, Any]]]] = (
            [([k for k in keys if k in r], [r]) for r in rows]
            if prefs.get("missing") == "default"
            else [(keys, rows)]
        )
        statements: list[sql.Composable] = []
        for group_keys, group_rows in groups:
            cols = sql.SQL(", ").join(sql.Identifier(k) for k in group_keys)
            stmt: sql.Composable
            if group_keys:
                # As PostgREST does: the JSON body becomes rows of the table's type.
                stmt = sql.SQL(
                    "insert into {} ({}) select {} from json_populate_recordset(null::{}, {})"
                ).format(rel.qualified, cols, cols, rel.qualified, params.add(json.dumps(group_rows), "json"))
            else:
                stmt = sql.SQL("insert into {} default values").format(rel.qualified)
            if conflict_cols:
                conflict = sql.SQL(", ").join(sql.Identifier(c) for c in conflict_cols)
                if resolution == "ignore-duplicates" or not group_keys:
                    stmt += sql.SQL(" on conflict ({}) do nothing").format(conflict)
                else:
                    stmt += sql.SQL(" on conflict ({}) do update set {}").format(
                        conflict,
                        sql.SQL(", ").join(
                            sql.SQL("{} = excluded.{}").format(sql.Identifier(k), sql.Identifier(k))
                            for k in group_keys
                        ),
                    )
            statements.extend([stmt] * (1 if group_keys else len(group_rows)))
        return self._run_mutation(statements, sql.SQL("*"), returning, params, prefs, created=True)

    def _run_mutation(
        self,
        statements: list[sql.Composable],
        returned: sql.Composable,
        returning: sql.Composable | None,
        params: Params,
        prefs: dict[str, str],
        *,
        created: bool,
    ) -> Callable[[psycopg.Connection[Any]], Outcome]:
        """Run the statements; read the changed rows back (as CTE ``_m``) only for representation."""
        max_affected = prefs.get("max-affected") if prefs.get("handling") == "strict" else None

        def run(conn: psycopg.Connection[Any]) -> Outcome:
            rows: list[Any] = []
            total = 0
            for stmt in statements:
                if returning is None:
                    # Nothing is read back, so no SELECT privilege or policy is involved.
                    total += max(conn.execute(sql.Composed([stmt]), params.values).rowcount, 0)
                    continue
                # RETURNING makes PostgreSQL apply the SELECT policies to the rows, as with PostgREST.
                query = sql.SQL(
                    "with _m as ({} returning {}) select coalesce(json_agg(_r), '[]')::text, count(*) "
                    "from (select {} from _m) _r"
                ).format(stmt, returned, returning)
                row = conn.execute(query, params.values).fetchone()
                assert row is not None
                rows.extend(json.loads(row[0]))
                total += int(row[1])
            if max_affected is not None and max_affected.isdigit() and total > int(max_affected):
                raise ApiError(
                    400,
                    "PGRST124",
                    "Query result exceeds max-affected preference constraint",
                    f"The query affects {total} rows",
                )
            body = json.dumps(rows) if returning is not None else ""
            return self._mutation_outcome(created, body, total, prefs, returning is not None)

        return run

    def _filters_required(
        self, target: Target, req: RecordedRequest, params: Params, verb: str
    ) -> sql.Composable:
        own, _ = split_params(req.params)
        conds = conditions(target, own, params)
        if not conds:
            # Supabase runs the Data API with pg-safeupdate: no unfiltered UPDATE/DELETE.
            raise ApiError(
                400,
                "21000",
                f"{verb} requires a WHERE clause",
                hint="Add a filter to the request (pg-safeupdate is enabled).",
            )
        return where_clause(conds)

    def _update(
        self, rel: Relation, req: RecordedRequest, prefs: dict[str, str]
    ) -> Callable[[psycopg.Connection[Any]], Outcome]:
        payload = self._payload(req)
        if not isinstance(payload, dict):
            raise bad_request("Empty or invalid json", "PATCH needs a JSON object", code="PGRST102")
        self._check_columns(rel, payload)
        params = Params()
        where = self._filters_required(Target(rel), req, params, "UPDATE")
        returning = self._returning(rel, req, prefs, params)
        if not payload:
            return lambda conn: self._mutation_outcome(False, "[]", 0, prefs, returning is not None)
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = _p.{}").format(sql.Identifier(k), sql.Identifier(k)) for k in payload
        )
        stmt = sql.SQL(
            "update {} set {} from (select * from json_populate_record(null::{}, {})) _p{}"
        ).format(rel.qualified, assignments, rel.qualified, params.add(json.dumps(payload), "json"), where)
        returned = sql.SQL("{}.*").format(rel.qualified)
        return self._run_mutation([stmt], returned, returning, params, prefs, created=False)

    def _delete(
        self, rel: Relation, req: RecordedRequest, prefs: dict[str, str]
    ) -> Callable[[psycopg.Connection[Any]], Outcome]:
        params = Params()
        where = self._filters_required(Target(rel), req, params, "DELETE")
        returning = self._returning(rel, req, prefs, params)
        stmt = sql.SQL("delete from {}{}").format(rel.qualified, where)
        return self._run_mutation([stmt], sql.SQL("*"), returning, params, prefs, created=False)

    # -- functions ------------------------------------------------------------------

    def _rpc(
        self, schema: str, name: str, req: RecordedRequest, prefs: dict[str, str]
    ) -> Callable[[psycopg.Connection[Any]], Outcome]:
        candidates = self._functions(schema, name)
        if req.method == "POST":
            payload = self._payload(req)
            if payload is None:
                payload = {}
            if not isinstance(payload, dict):
                raise bad_request(
                    "Empty or invalid json", "rpc arguments must be a JSON object", code="PGRST102"
                )
            args: dict[str, Any] = payload
            arg_keys: set[str] = set()
        else:
            # GET/HEAD: query parameters named like an argument are arguments, the rest filters.
            arg_names = {n for f in candidates for n, _ in f.args}
            args = {k: v for k, v in req.params if k in arg_names and k not in RESERVED_PARAMS}
            arg_keys = set(args)
        matches = [f for f in candidates if f.required <= set(args) <= {n for n, _ in f.args}]
        if not matches:
            raise ApiError(
                404,
                "PGRST202",
                f"Could not find the function {schema}.{name}({', '.join(sorted(args))}) in the schema cache",
                hint="If a new function was created in the database with this name and parameters, "
                "try reloading the schema cache.",
            )
        func = matches[0]
        params = Params()
        types = dict(func.args)
        call_args = sql.SQL(", ").join(
            sql.SQL("{} => {}").format(
                sql.Identifier(k),
                params.add(
                    json.dumps(v) if isinstance(v, dict | list) and "json" in types[k] else v, types[k]
                ),
            )
            for k, v in args.items()
        )
        call = sql.SQL("{}.{}({})").format(sql.Identifier(func.schema), sql.Identifier(func.name), call_args)
        target = Target(None, "_f")
        own, nested = split_params(req.params)
        conds = conditions(target, own, params, skip=arg_keys)
        select, _ = self._select_items(target, req.param("select"), nested, params)
        order = req.param("order")
        tail: sql.Composable = order_sql(target, order) if order else sql.SQL("")
        lim, off = self._page(req)
        if lim is not None:
            tail += sql.SQL(" limit {}").format(params.add(lim))
        if off:
            tail += sql.SQL(" offset {}").format(params.add(off))
        query: sql.Composable
        if func.returns_void:
            query = sql.SQL("select {}::text").format(call)
        elif func.returns_set and func.returns_composite:
            query = sql.SQL(
                "select coalesce(json_agg(_r), '[]')::text from (select {} from {} _f{}{}) _r"
            ).format(select, call, where_clause(conds), tail)
        elif func.returns_set:
            # A set of scalars: an array of the values.
            query = sql.SQL("select coalesce(json_agg(_f), '[]')::text from {} _f").format(call)
        elif func.returns_composite:
            query = sql.SQL("select to_json(_r)::text from (select {} from {} _f{}) _r").format(
                select, call, where_clause(conds)
            )
        else:
            if conds:
                raise bad_request("filters need a function that returns rows")
            query = sql.SQL("select to_json({})::text").format(call)

        def run(conn: psycopg.Connection[Any]) -> Outcome:
            row = conn.execute(query, params.values).fetchone()
            if func.returns_void:
                return Outcome(204, b"", {})
            body_text = row[0] if row and row[0] is not None else "null"
            return Outcome(200, body_text.encode(), {"Content-Type": JSON_CT})

        return run


def api_config(path: Path = CONFIG_TOML) -> dict[str, Any]:
    """The ``[api]`` table of supabase/config.toml as PostgrestServer keyword arguments."""
    if not path.is_file():
        return {}
    api = tomllib.loads(path.read_text(encoding="utf-8")).get("api", {})
    kwargs: dict[str, Any] = {}
    if api.get("schemas"):
        kwargs["schemas"] = list(api["schemas"])
    if "extra_search_path" in api:
        kwargs["extra_search_path"] = list(api["extra_search_path"])
    if api.get("max_rows"):
        kwargs["max_rows"] = int(api["max_rows"])
    return kwargs


def content_range(offset: int, n: int, total: int | None) -> str:
    span = f"{offset}-{offset + n - 1}" if n else "*"
    return f"{span}/{total if total is not None else '*'}"
