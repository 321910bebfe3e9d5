"""JSON Schema (draft 2020-12) of the wire format, generated from the records.

Nothing here is written per record: the schema of a record class comes from its attrs
fields, their resolved annotations and the converter's wire rules in
:mod:`awaken_eval.serde`, so a field added to a record appears in the schema without
further work. Editors use the result to complete and check fixture files; the
``description`` of each property is taken from the ``Attributes:`` section of the
record's docstring.

How the wire rules map:

* ``str``, ``bool``, ``int``, ``float`` → ``string``, ``boolean``, ``integer``,
  ``number``; an unsigned integer (:data:`~awaken_eval._types.U32` /
  :data:`~awaken_eval._types.U64`) gets ``minimum`` 0 and its ``maximum``;
* an enum → its wire values; ``tuple[X, ...]`` → an array of X; ``Mapping[str, X]`` →
  an object of X; a JSON value (``Any``) → any value; ``X | None`` also accepts
  ``null``;
* a tagged union of the converter → ``oneOf`` its members, each requiring its tag as a
  ``const``; any other union → ``anyOf``;
* a record → ``$ref`` to its entry in ``$defs`` (the root record is the schema itself),
  with ``additionalProperties: false`` (unknown keys are rejected) and ``required``
  listing the fields without a default. Key names are the field names (the converter
  renames nothing); fields the converter accepts on read but never writes are listed.

What a schema cannot say, and the converter still checks: the execution mode of a run
against its items' cells, unique fixture ids, numeric criterion weights, the length
bound of redacted summaries, and that a JSON integer is written without a fraction
(JSON Schema counts ``1.0`` as an integer; the converter does not).
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

import attrs

from awaken_eval._records.fixtures import DatasetSpec, Fixture
from awaken_eval._records.outcomes import ReplayReport
from awaken_eval._records.runs import EvalRun
from awaken_eval._records.types import Unsigned
from awaken_eval._wire.converter import (
    NEVER_WRITTEN,
    TAGGED_UNIONS,
    TAGS,
    factory_of,
    to_builtins,
)
from awaken_eval.errors import InvalidInput

__all__ = [
    "SCHEMA_DIALECT",
    "SCHEMA_KINDS",
    "json_schema",
    "json_schema_for",
]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The ``$schema`` of every generated schema."""

SCHEMA_KINDS: Mapping[str, type] = MappingProxyType(
    {"dataset": DatasetSpec, "fixture": Fixture, "report": ReplayReport, "run": EvalRun}
)
"""The documents :func:`json_schema` describes, by kind: a dataset spec, one fixture
file, one NDJSON report line and an eval run."""


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one kind of document.

    Args:
        kind: ``"fixture"``, ``"dataset"``, ``"run"`` or ``"report"`` (see
            :data:`SCHEMA_KINDS`).

    Returns:
        A fresh draft 2020-12 schema, ready for ``json.dumps``.

    Raises:
        InvalidInput: for an unknown kind (it is also a ``ValueError``).
    """
    cls = SCHEMA_KINDS.get(kind)
    if cls is None:
        choices = ", ".join(sorted(SCHEMA_KINDS))
        msg = f"unknown schema kind {kind!r}; expected one of: {choices}"
        raise InvalidInput.single("$", msg)
    return json_schema_for(cls)


def json_schema_for(cls: type) -> dict[str, Any]:
    """The JSON Schema of any record class of the wire format.

    Args:
        cls: An attrs record class, e.g. :class:`~awaken_eval.Expectation`.

    Returns:
        A fresh draft 2020-12 schema whose root describes ``cls``; the records it
        refers to are in ``$defs``, sorted by name.

    Raises:
        TypeError: when ``cls`` is not an attrs record class, or one of its fields has
            a type the wire format does not define.
    """
    if not (isinstance(cls, type) and attrs.has(cls)):
        msg = f"{cls!r} is not an attrs record class"
        raise TypeError(msg)
    builder = _Builder(cls)
    root = builder.record(cls)
    schema: dict[str, Any] = {"$schema": SCHEMA_DIALECT, **root}
    if builder.defs:
        schema["$defs"] = {name: builder.defs[name] for name in sorted(builder.defs)}
    return schema


class _Builder:
    """Walks the records reachable from one root, collecting their ``$defs``."""

    def __init__(self, root: type) -> None:
        self.root = root
        self.names: dict[type, str] = {}
        self.defs: dict[str, dict[str, Any]] = {}

    def ref(self, cls: type) -> dict[str, Any]:
        """A reference to the schema of record ``cls``, defining it on first use."""
        if cls is self.root:
            return {"$ref": "#"}
        name = self.names.get(cls)
        if name is None:
            name = cls.__name__
            if name in self.defs:  # two records of one name in different modules
                name = f"{cls.__module__.rsplit('.', 1)[-1]}.{name}"
            self.names[cls] = name
            self.defs[name] = {}  # reserved first, so a recursive record terminates
            self.defs[name] = self.record(cls)
        return {"$ref": f"#/$defs/{name}"}

    def record(self, cls: type) -> dict[str, Any]:
        """The object schema of record ``cls``."""
        hints = get_type_hints(cls, include_extras=True)
        docs = _attribute_docs(cls)
        never_written = NEVER_WRITTEN.get(cls, ())
        properties: dict[str, Any] = {}
        required: list[str] = []
        tag = TAGS.get(cls)
        if tag is not None:
            key, value = tag
            properties[key] = {"const": value}
            required.append(key)
        for field in attrs.fields(cls):
            schema = dict(self.schema(hints[field.name]))
            description = docs.get(field.name, "")
            if field.name in never_written:
                description = f"{description} Accepted on read, never written.".strip()
            if description:
                schema["description"] = description
            if field.default is attrs.NOTHING:
                required.append(field.name)
            else:
                default = _default_of(field)
                if default is not attrs.NOTHING:
                    schema["default"] = default
            properties[field.name] = schema
        result: dict[str, Any] = {"title": cls.__name__}
        summary = _summary(cls)
        if summary:
            result["description"] = summary
        result |= {"type": "object", "properties": properties}
        if required:
            result["required"] = required
        result["additionalProperties"] = False
        return result

    def schema(self, type_: Any) -> dict[str, Any]:
        """The schema of a field type."""
        if type_ is Any:
            return {}
        supertype = getattr(type_, "__supertype__", None)
        if supertype is not None:  # a NewType
            return self.schema(supertype)
        origin = get_origin(type_)
        args = get_args(type_)
        if origin is Annotated:
            return self.annotated(args)
        scalar = _SCALARS.get(type_)
        if scalar is not None:
            return {"type": scalar}
        if isinstance(type_, type) and issubclass(type_, Enum):
            return _enum(type_)
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": self.schema(args[0])}
        if origin in (dict, Mapping) and len(args) == 2 and args[0] is str:
            return {"type": "object", "additionalProperties": self.schema(args[1])}
        if origin in (Union, types.UnionType):
            return self.union(args)
        if isinstance(type_, type) and attrs.has(type_):
            return self.ref(type_)
        msg = f"the wire format defines no JSON Schema for the type {type_!r}"
        raise TypeError(msg)

    def annotated(self, args: tuple[Any, ...]) -> dict[str, Any]:
        """An ``Annotated`` type: unsigned integers get their range."""
        base, *metadata = args
        schema = self.schema(base)
        for marker in metadata:
            if isinstance(marker, Unsigned):
                schema = {**schema, "minimum": 0, "maximum": marker.maximum}
        return schema

    def union(self, args: tuple[Any, ...]) -> dict[str, Any]:
        """A union: tagged unions of the converter are ``oneOf``, others ``anyOf``."""
        present = tuple(arg for arg in args if arg is not types.NoneType)
        if Any in present:
            return {}
        members = next(
            (get_args(u) for u, _ in TAGGED_UNIONS if set(get_args(u)) == set(present)), None
        )
        if members is not None:
            schema: dict[str, Any] = {"oneOf": [self.ref(member) for member in members]}
        elif len(present) == 1:
            schema = self.schema(present[0])
        else:
            schema = {"anyOf": [self.schema(member) for member in present]}
        if len(present) == len(args):
            return schema
        return _nullable(schema)


_SCALARS: Mapping[Any, str] = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    types.NoneType: "null",
}


def _enum(cls: type[Enum]) -> dict[str, Any]:
    values = [member.value for member in cls]
    schema: dict[str, Any] = {}
    if all(isinstance(value, str) for value in values):
        schema["type"] = "string"
    schema["enum"] = values
    return schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` that also accepts ``null``, in its most readable form."""
    if not schema:
        return schema
    if "oneOf" in schema or "anyOf" in schema:
        key = "oneOf" if "oneOf" in schema else "anyOf"
        return {**schema, key: [*schema[key], {"type": "null"}]}
    if isinstance(schema.get("type"), str) and "$ref" not in schema:
        nullable = {**schema, "type": [schema["type"], "null"]}
        if "enum" in schema:
            nullable["enum"] = [*schema["enum"], None]
        return nullable
    return {"anyOf": [schema, {"type": "null"}]}


def _default_of(field: attrs.Attribute[Any]) -> Any:
    """The wire form of a field's default, or ``attrs.NOTHING`` if it has no fixed one."""
    factory = factory_of(field)
    if factory is None:
        return to_builtins(field.default)
    if factory.takes_self:
        return attrs.NOTHING
    return to_builtins(factory.factory())


_ROLE = re.compile(r":[a-z]+:`~?(?:[\w.]*\.)?([^`]+)`")
_LITERAL = re.compile(r"``([^`]+)``")


def _plain(text: str) -> str:
    """Docstring text without reStructuredText roles; literals in Markdown backticks."""
    return _LITERAL.sub(r"`\1`", _ROLE.sub(r"\1", text))


def _summary(cls: type) -> str:
    """The first paragraph of the class docstring, on one line."""
    doc = inspect.getdoc(cls) or ""
    paragraph = doc.split("\n\n", 1)[0]
    return _plain(" ".join(line.strip() for line in paragraph.splitlines()))


def _attribute_docs(cls: type) -> dict[str, str]:
    """Field descriptions from the ``Attributes:`` section of a Google-style docstring."""
    lines = (inspect.getdoc(cls) or "").splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == "Attributes:"), None)
    if start is None:
        return {}
    section_indent = len(lines[start]) - len(lines[start].lstrip())
    entries: dict[str, list[str]] = {}
    entry_indent: int | None = None
    current: list[str] | None = None
    for line in lines[start + 1 :]:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent <= section_indent:
            break
        if entry_indent is None:
            entry_indent = indent
        name, colon, text = line.strip().partition(":")
        if indent == entry_indent and colon and name.isidentifier():
            current = entries.setdefault(name, [])
            current.append(text.strip())
        elif current is not None:
            current.append(line.strip())
    return {name: _plain(" ".join(parts)) for name, parts in entries.items()}
