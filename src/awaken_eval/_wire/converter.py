"""The wire format: one cattrs converter factory and the JSON / NDJSON helpers.

JSON shapes, tags, key names, defaults and omission rules follow the reference
implementation (spec §1) so its documents load here and ours load there. Deliberate
differences: unknown keys are rejected everywhere, types are checked strictly (``"5"`` is
not an integer, ``1`` is not a string, a string is not a list), and every problem of a
document is reported at once with its JSON path.

Two converters are built by :func:`make_converter` with the same configuration: a fast
one that stops at the first problem, used for every document, and a detailed one that
collects every problem, used only to explain a document the fast one rejected.
"""

from __future__ import annotations

import json
import math
import types
import weakref
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin, overload

import attrs
import cattrs
from cattrs.errors import (
    StructureHandlerNotFoundError,
)
from cattrs.fns import identity
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from awaken_eval._records.comparison import (
    DiffEntry,
    DiffSummary,
    Drift,
    Regression,
    SampledDiffEntry,
    SampledDiffSummary,
    StillFailing,
)
from awaken_eval._records.evaluation import (
    Evaluation,
    EvaluationCriterion,
    EvaluationScope,
    EvaluationSubject,
    ExpectedOutcome,
)
from awaken_eval._records.event_meta import EventMeta
from awaken_eval._records.events import TraceEvent
from awaken_eval._records.failures import Failure, ReplayRuntimeFailure
from awaken_eval._records.fixtures import (
    ChatResponseEvent,
    ErrorEvent,
    Fixture,
    MockResponse,
    MockTextResponse,
    ProviderScriptEvent,
    ToolCallEvent,
)
from awaken_eval._records.ids import EntityRef
from awaken_eval._records.outcomes import InferenceSpan, ReplayReport, ToolSpan
from awaken_eval._records.runs import EvalRun, EvalRunExecutionMode
from awaken_eval._records.types import Unsigned
from awaken_eval._wire.gc import gc_paused
from awaken_eval._wire.json import check_value, encode_compact, parse_strict_json
from awaken_eval._wire.problems import (
    as_invalid_input,
    collect_problems,
    describe_value,
    expected,
    key_path,
    unknown_key,
)
from awaken_eval.errors import InvalidExecutionShape, InvalidInput, Problem

__all__ = [
    "NEVER_WRITTEN",
    "TAGGED_UNIONS",
    "TAGS",
    "factory_of",
    "from_builtins",
    "from_json",
    "make_converter",
    "to_builtins",
    "to_json",
]

T = TypeVar("T")

# -- wire rules that differ from "omit a field equal to its default" -----------------

TAGGED_UNIONS: tuple[tuple[Any, str], ...] = (
    (Failure, "kind"),
    (ReplayRuntimeFailure, "kind"),
    (ProviderScriptEvent, "kind"),
    (MockResponse, "kind"),
    (DiffEntry, "kind"),
    (SampledDiffEntry, "kind"),
    (EvaluationScope, "scope"),
    (TraceEvent, "type"),
)
"""Every tagged union of the wire format and the key holding its tag."""

_ALWAYS_WRITTEN: Mapping[type, tuple[str, ...]] = {
    Fixture: ("mock_response", "expect"),
    ChatResponseEvent: ("tokens", "finish_reason"),
    ToolCallEvent: ("tokens",),
    ErrorEvent: ("message",),
    MockTextResponse: ("text",),
    ReplayReport: ("total_tokens",),
    EvalRun: ("execution_mode", "items"),
    DiffSummary: ("entries",),
    SampledDiffSummary: ("entries",),
    Regression: ("new_failures",),
    StillFailing: ("new_failures",),
    Drift: ("fields",),
    EventMeta: ("visibility", "writer_id", "source"),  # the whole envelope, for event stores
}
"""Fields written even when equal to their default (the reference always writes them)."""

NEVER_WRITTEN: Mapping[type, tuple[str, ...]] = {ReplayReport: ("elapsed_ms",)}
"""Fields accepted on read but never written (host-dependent values)."""

_WRITES_NULLS: frozenset[type] = frozenset(
    {EntityRef, EvaluationCriterion, EvaluationSubject, ExpectedOutcome, Evaluation}
    | set(get_args(EvaluationScope))
)
"""Records written with every key, absent values as ``null`` (as the reference does)."""


def _tag_table() -> dict[type, tuple[str, str]]:
    table: dict[type, tuple[str, str]] = {}
    for union, key in TAGGED_UNIONS:
        for member in get_args(union):
            table[member] = (key, member.kind)
    return table


TAGS = _tag_table()
"""Each tagged-union member class and its ``(tag key, tag value)``."""

_RecordParts = tuple[Callable[[Any, Any], Any], Callable[[Any], bool]]

_RECORD_PARTS: weakref.WeakKeyDictionary[Callable[..., Any], _RecordParts] = (
    weakref.WeakKeyDictionary()
)
"""The generated function and key check behind each fast record structure hook.

A list of records or an optional record calls them directly for a valid object,
which saves one call per record; anything else still goes through the record hook.
"""

# -- strict primitive hooks ------------------------------------------------------------


def _structure_str(value: object, _: object) -> str:
    if type(value) is str:
        return value
    raise expected("a string", value)


def _structure_bool(value: object, _: object) -> bool:
    if type(value) is bool:
        return value
    raise expected("a boolean", value)


def _structure_int(value: object, _: object) -> int:
    if type(value) is int:
        return value
    raise expected("an integer", value)


def _structure_float(value: object, _: object) -> float:
    if type(value) is float:
        if math.isfinite(value):
            return value
        raise expected("a finite number", value)
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:
            raise expected("a number in the range of a double", value) from None
    raise expected("a number", value)


def _structure_any(value: object, _: object) -> object:
    return value


def _unsigned_hook(bits: int) -> Callable[[object, object], int]:
    maximum = (1 << bits) - 1

    def structure(value: object, _: object) -> int:
        if type(value) is int and 0 <= value <= maximum:
            return value
        if type(value) is int:
            msg = f"expected an unsigned {bits}-bit integer (0..{maximum}), got {value}"
            raise InvalidInput.single("$", msg)
        raise expected("an integer", value)

    return structure


def _is_annotated(type_: object) -> bool:
    return get_origin(type_) is Annotated


def _annotated_hook(type_: Any, converter: cattrs.Converter) -> Callable[[object, object], Any]:
    base, *metadata = get_args(type_)
    for marker in metadata:
        if isinstance(marker, Unsigned):
            return _unsigned_hook(marker.bits)
    inner = converter.get_structure_hook(base)
    return lambda value, _: inner(value, base)


def _is_enum(type_: object) -> bool:
    return isinstance(type_, type) and issubclass(type_, Enum)


def _enum_hook(type_: type[Enum], _: cattrs.Converter) -> Callable[[object, object], Enum]:
    by_value = {member.value: member for member in type_}
    choices = ", ".join(json.dumps(value) for value in by_value)

    def structure(value: object, _: object) -> Enum:
        if type(value) is str and value in by_value:
            return by_value[value]
        raise expected(f"one of {choices}", value)

    return structure


def _is_sequence(type_: object) -> bool:
    args = get_args(type_)
    return get_origin(type_) is tuple and len(args) == 2 and args[1] is Ellipsis


def _sequence_hook(type_: Any, converter: cattrs.Converter) -> Callable[[object, object], Any]:
    element_type = get_args(type_)[0]
    element = converter.get_structure_hook(element_type)
    detailed = converter.detailed_validation
    parts = _RECORD_PARTS.get(element)
    if parts is not None and not detailed:
        return _record_sequence_hook(element_type, element, parts)

    def structure(value: object, _: object) -> tuple[Any, ...]:
        if type(value) is not list:
            raise expected("an array", value)
        if element_type is str and all(type(v) is str for v in value):
            return tuple(value)
        if not detailed:
            return tuple([element(v, element_type) for v in value])
        items: list[Any] = []
        problems: list[Problem] = []
        kinds: list[type] = []
        for index, item in enumerate(value):
            try:
                items.append(element(item, element_type))
            except Exception as exc:  # noqa: BLE001 - every problem is collected
                collect_problems(exc, f"$[{index}]", problems, kinds)
        if problems:
            raise InvalidInput(problems)
        return tuple(items)

    return structure


def _record_sequence_hook(
    cls: type, element: Callable[[Any, Any], Any], parts: _RecordParts
) -> Callable[[object, object], Any]:
    """A list of records: each valid element goes straight to the generated function."""
    generated, only_allowed_keys = parts

    def structure(value: object, _: object) -> tuple[Any, ...]:
        if type(value) is not list:
            raise expected("an array", value)
        return tuple(
            [
                generated(v, cls) if type(v) is dict and only_allowed_keys(v) else element(v, cls)
                for v in value
            ]
        )

    return structure


def _is_str_mapping(type_: object) -> bool:
    args = get_args(type_)
    return get_origin(type_) in (dict, Mapping) and len(args) == 2 and args[0] is str


def _mapping_hook(type_: Any, converter: cattrs.Converter) -> Callable[[object, object], Any]:
    value_type = get_args(type_)[1]
    value_hook = converter.get_structure_hook(value_type)

    def structure(value: object, _: object) -> dict[str, Any]:
        if type(value) is not dict:
            raise expected("a JSON object", value)
        result: dict[str, Any] = {}
        problems: list[Problem] = []
        for key, item in value.items():
            try:
                result[key] = value_hook(item, value_type)
            except Exception as exc:  # noqa: BLE001 - every problem is collected
                collect_problems(exc, f"$[{json.dumps(key, ensure_ascii=False)}]", problems, [])
        if problems:
            raise InvalidInput(problems)
        return result

    return structure


def _is_union(type_: object) -> bool:
    return get_origin(type_) in (Union, types.UnionType)


def _tagged_union_hook(
    members: Sequence[type], key: str, converter: cattrs.Converter
) -> Callable[[object, object], Any]:
    by_tag: dict[str, tuple[type, Callable[[Any, Any], Any]]] = {
        member.kind: (member, converter.get_structure_hook(member))  # type: ignore[attr-defined]
        for member in members
    }
    choices = ", ".join(json.dumps(tag) for tag in by_tag)

    def structure(value: object, _: object) -> Any:
        if type(value) is not dict:
            raise expected("a JSON object", value)
        tag = value.get(key)
        found = by_tag.get(tag) if type(tag) is str else None
        if found is None:
            what = "missing" if tag is None else f"unknown {key} {describe_value(tag)}"
            raise InvalidInput.single(f"$.{key}", f"{what}; expected one of {choices}")
        member, hook = found
        return hook(value, member)

    return structure


def _union_hook(type_: Any, converter: cattrs.Converter) -> Callable[[object, object], Any]:
    args = get_args(type_)
    present = tuple(arg for arg in args if arg is not types.NoneType)
    optional = len(present) < len(args)
    inner: Callable[[object, object], Any] | None = None
    inner_type: Any = present[0] if len(present) == 1 else None
    for union, key in TAGGED_UNIONS:
        if set(get_args(union)) == set(present):
            inner = _tagged_union_hook(get_args(union), key, converter)
            break
    else:
        if set(present) == {InferenceSpan, ToolSpan}:
            inner = _span_hook(converter)
        elif len(present) != 1:
            msg = f"no wire format for the union {type_!r}"
            raise StructureHandlerNotFoundError(msg, type_)
        else:
            inner = converter.get_structure_hook(inner_type)
    if not optional:
        return inner
    return _optional_structure_hook(inner, inner_type)


def _span_hook(converter: cattrs.Converter) -> Callable[[object, object], Any]:
    """The untagged span of a ``span`` event: a tool span is the one with ``name``.

    ``name`` is required on a tool span and no inference span field, and unknown keys
    are rejected, so the key alone tells the two apart.
    """
    inference = converter.get_structure_hook(InferenceSpan)
    tool = converter.get_structure_hook(ToolSpan)

    def structure(value: object, _: object) -> Any:
        if type(value) is dict and "name" in value:
            return tool(value, ToolSpan)
        return inference(value, InferenceSpan)

    return structure


def _optional_structure_hook(
    hook: Callable[[object, object], Any], inner_type: Any
) -> Callable[[object, object], Any]:
    parts = _RECORD_PARTS.get(hook)
    if parts is not None:
        return _optional_record_hook(hook, inner_type, parts)
    scalar = _json_scalar(inner_type)
    if scalar is None:

        def structure_optional(value: object, _: object) -> Any:
            return None if value is None else hook(value, inner_type)

        return structure_optional
    # An optional JSON scalar (the most common field of a report): values already of
    # the exact type come straight through without a second call; anything else goes
    # to the strict hook, which converts (int -> float) or explains the problem.
    exact, maximum = scalar
    if maximum is None:

        def structure_optional_scalar(value: object, _: object) -> Any:
            if value is None or type(value) is exact:
                return value
            return hook(value, inner_type)

        return structure_optional_scalar

    def structure_optional_unsigned(value: object, _: object) -> Any:
        if value is None or (type(value) is int and 0 <= value <= maximum):
            return value
        return hook(value, inner_type)

    return structure_optional_unsigned


def _optional_record_hook(
    hook: Callable[[object, object], Any], cls: type, parts: _RecordParts
) -> Callable[[object, object], Any]:
    """An optional record: a valid object goes straight to the generated function."""
    generated, only_allowed_keys = parts

    def structure_optional_record(value: object, _: object) -> Any:
        if value is None:
            return None
        if type(value) is dict and only_allowed_keys(value):
            return generated(value, cls)
        return hook(value, cls)

    return structure_optional_record


def _json_scalar(type_: Any) -> tuple[type, int | None] | None:
    """The exact Python type of a JSON scalar field type, and its maximum if unsigned."""
    if type_ in (str, bool, int, float):
        return type_, None
    if _is_annotated(type_):
        base, *metadata = get_args(type_)
        for marker in metadata:
            if isinstance(marker, Unsigned) and base is int:
                return int, marker.maximum
    return None


# -- record hooks -----------------------------------------------------------------------


def _legacy_execution_mode(document: dict[str, Any]) -> dict[str, Any]:
    """Fill in ``execution_mode`` of a legacy EvalRun document from its items' cells."""
    items = document.get("items")
    if type(items) is not list or not all(type(item) is dict for item in items):
        return document  # the generated hook reports the malformed items
    with_cells = sum(item.get("cell") is not None for item in items)
    if with_cells == 0:
        mode = EvalRunExecutionMode.SCRIPTED
    elif with_cells == len(items):
        mode = EvalRunExecutionMode.LIVE
    else:
        msg = (
            "legacy run without execution_mode mixes items with and without cells "
            f"({with_cells} of {len(items)} have a cell)"
        )
        raise InvalidExecutionShape([Problem("$.items", msg)])
    return {**document, "execution_mode": mode.value}


def _record_structure_hook(cls: type, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    generated: Callable[[Any, Any], Any] = make_dict_structure_fn(
        cls, converter, _cattrs_forbid_extra_keys=False
    )
    allowed = {field.name for field in attrs.fields(cls)}
    tag = TAGS.get(cls)
    if tag is not None:
        allowed.add(tag[0])
    only_allowed_keys = allowed.issuperset  # no set is built for a valid object
    detailed = converter.detailed_validation

    def reject(value: Any) -> Any:
        if type(value) is not dict:
            raise expected("a JSON object", value)
        unknown = sorted(value.keys() - allowed)
        problems = [Problem(key_path(key), unknown_key(key, allowed)) for key in unknown]
        if detailed:
            try:
                generated({k: v for k, v in value.items() if k in allowed}, cls)
            except Exception as exc:  # noqa: BLE001 - merged with the unknown keys above
                collect_problems(exc, "$", problems, [])
        raise InvalidInput(problems)

    def structure(value: Any, _: Any) -> Any:
        if type(value) is dict and only_allowed_keys(value):
            return generated(value, cls)
        return reject(value)

    if cls is EvalRun:
        return _with_legacy_execution_mode(structure)
    if not detailed:
        _RECORD_PARTS[structure] = (generated, only_allowed_keys)
    return structure


def _with_legacy_execution_mode(structure: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def structure_run(value: Any, type_: Any) -> Any:
        if type(value) is dict and "execution_mode" not in value:
            value = _legacy_execution_mode(value)
        return structure(value, type_)

    return structure_run


def _record_unstructure_hook(cls: type, converter: cattrs.Converter) -> Callable[[Any], Any]:
    generated = _untagged_unstructure_fn(cls, converter)
    tag = TAGS.get(cls)
    if tag is None:
        return generated
    key, value = tag

    def unstructure(record: Any) -> dict[str, Any]:
        return {key: value, **generated(record)}

    return unstructure


def _untagged_unstructure_fn(cls: type, converter: cattrs.Converter) -> Callable[[Any], Any]:
    """The generated unstructure function of ``cls``, writing keys in field order.

    cattrs writes the fields it never omits first and the omittable ones after them, so
    an omittable field followed by an always-written one (``EvalRunItem.cell`` before
    ``report``) would come out late. Such fields are written unconditionally by the
    generated function, which keeps the field order, and deleted afterwards when equal
    to their default: one attribute check per record instead of rebuilding the dict.
    """
    omit_defaults = cls not in _WRITES_NULLS
    overrides = {name: override(omit=True) for name in NEVER_WRITTEN.get(cls, ())}
    always = set(_ALWAYS_WRITTEN.get(cls, ()))
    written = [field for field in attrs.fields(cls) if field.name not in overrides]
    omittable = [
        omit_defaults and field.default is not attrs.NOTHING and field.name not in always
        for field in written
    ]
    last_kept = max((i for i, omit in enumerate(omittable) if not omit), default=-1)
    late = [field for field, omit in zip(written[:last_kept], omittable, strict=False) if omit]
    # A default computed from the record itself cannot be checked that cheaply: such a
    # class keeps cattrs' order and has its dict rebuilt in field order instead.
    rebuild = any(factory_of(field) is not None and factory_of(field).takes_self for field in late)
    if rebuild:
        late = []
    for name in always | {field.name for field in late}:
        overrides[name] = override(omit_if_default=False)
    generated: Callable[[Any], dict[str, Any]] = make_dict_unstructure_fn(
        cls,
        converter,
        _cattrs_omit_if_default=omit_defaults,
        **overrides,  # type: ignore[arg-type]
    )
    if late:
        defaults = tuple((field.name, _default_value(field)) for field in late)
        in_order = generated

        def generated(record: Any) -> dict[str, Any]:
            data = in_order(record)
            for name, default in defaults:
                value = getattr(record, name)
                if value is default or (default is not None and value == default):
                    del data[name]
            return data

    elif rebuild:
        order = [field.name for field in written]
        unordered = generated

        def generated(record: Any) -> dict[str, Any]:
            data = unordered(record)
            return {name: data[name] for name in order if name in data}

    return generated


_FACTORY: type = type(attrs.Factory(dict))
"""The class of ``attrs.Factory`` defaults."""


def factory_of(field: attrs.Attribute[Any]) -> Any:
    """The field's ``attrs.Factory`` default, or ``None``."""
    return field.default if type(field.default) is _FACTORY else None


def _default_value(field: attrs.Attribute[Any]) -> Any:
    factory = factory_of(field)
    return field.default if factory is None else factory.factory()


def _unstructure_sequence_hook(type_: Any, converter: cattrs.Converter) -> Callable[[Any], Any]:
    element = converter.get_unstructure_hook(get_args(type_)[0])
    if element == identity:
        return list

    def unstructure(value: Any) -> list[Any]:
        return list(map(element, value))  # no comprehension frame per list

    return unstructure


def _unstructure_union_hook(type_: Any, converter: cattrs.Converter) -> Callable[[Any], Any]:
    args = get_args(type_)
    present = tuple(arg for arg in args if arg is not types.NoneType)
    inner: Callable[[Any], Any]
    for union, _ in TAGGED_UNIONS:
        if set(get_args(union)) == set(present):
            inner = _unstructure_tagged_hook(get_args(union), converter)
            break
    else:
        if len(present) != 1:
            return converter.unstructure  # dispatched on the value's class
        inner = converter.get_unstructure_hook(present[0])
    if len(present) == len(args):
        return inner
    if inner == identity:
        return identity  # inlined by cattrs' generated functions

    def unstructure_optional(value: Any) -> Any:
        return None if value is None else inner(value)

    return unstructure_optional


def _unstructure_tagged_hook(
    members: Sequence[type], converter: cattrs.Converter
) -> Callable[[Any], Any]:
    by_class = {member: converter.get_unstructure_hook(member) for member in members}

    def unstructure(value: Any) -> Any:
        hook = by_class.get(value.__class__)
        return converter.unstructure(value) if hook is None else hook(value)

    return unstructure


def make_converter(*, detailed_validation: bool = False) -> cattrs.Converter:
    """Build the converter of the wire format.

    Args:
        detailed_validation: Collect every problem of a document (slower) instead of
            stopping at the first one.

    Returns:
        A converter whose ``structure``/``unstructure`` speak the reference's JSON
        shapes with strict types, rejected unknown keys and omitted defaults.
    """
    converter = cattrs.Converter(
        omit_if_default=True,
        forbid_extra_keys=False,  # checked by the record hooks, with paths
        detailed_validation=detailed_validation,
    )
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook(Any, _structure_any)
    converter.register_structure_hook_factory(_is_annotated, _annotated_hook)
    converter.register_structure_hook_factory(_is_enum, _enum_hook)
    converter.register_structure_hook_factory(_is_sequence, _sequence_hook)
    converter.register_structure_hook_factory(_is_str_mapping, _mapping_hook)
    converter.register_structure_hook_factory(_is_union, _union_hook)
    converter.register_structure_hook_factory(attrs.has, _record_structure_hook)
    converter.register_unstructure_hook_factory(_is_sequence, _unstructure_sequence_hook)
    converter.register_unstructure_hook_factory(_is_union, _unstructure_union_hook)
    converter.register_unstructure_hook_factory(attrs.has, _record_unstructure_hook)
    return converter


_FAST = make_converter()
_DETAILED = make_converter(detailed_validation=True)


# -- public helpers --------------------------------------------------------------------


def to_builtins(record: Any) -> Any:
    """Turn a record (or a tuple/list of records) into JSON-ready builtins."""
    return _FAST.unstructure(record)


@overload
def from_builtins(cls: type[T], data: Any) -> T: ...
@overload
def from_builtins(cls: Any, data: Any) -> Any: ...
def from_builtins(cls: Any, data: Any) -> Any:
    """Build a ``cls`` record from JSON-like builtins (e.g. the result of ``json.loads``).

    ``cls`` may be a record class, a tagged union such as ``Failure`` or ``tuple[X, ...]``.

    Raises:
        InvalidInput: listing every problem with its JSON path.
    """
    with gc_paused():
        try:
            return _FAST.structure(data, cls)
        except Exception:  # noqa: BLE001 - explained by the detailed converter below
            pass
        try:
            return _DETAILED.structure(data, cls)
        except Exception as exc:  # noqa: BLE001 - never let a cattrs traceback escape
            raise as_invalid_input(exc) from None


@overload
def from_json(cls: type[T], data: str | bytes) -> T: ...
@overload
def from_json(cls: Any, data: str | bytes) -> Any: ...
def from_json(cls: Any, data: str | bytes) -> Any:
    """Parse one JSON document into a ``cls`` record.

    Raises:
        InvalidInput: for invalid JSON or any problem of the document, every problem
            with its JSON path, e.g. ``$.expect.max_tokens_total: expected an integer,
            got "ten"``.
    """
    with gc_paused():
        return from_builtins(cls, parse_strict_json(data))


def to_json(record: Any, *, pretty: bool = False) -> str:
    """Serialize a record to JSON in the reference's wire format.

    Args:
        record: A record, or a tuple/list of records.
        pretty: Indent with two spaces (as the reference's pretty printer) instead of
            the compact one-line form.

    Raises:
        InvalidInput: when the record holds what JSON cannot carry (a non-finite
            number, a lone surrogate, nesting deeper than ``MAX_DEPTH``), naming its
            path.
    """
    # The builtins are a temporary: released inside the paused step, they leave
    # nothing for the collector (and nothing to promote).
    with gc_paused():
        document = _FAST.unstructure(record)
        try:
            if pretty:
                text = json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False)
            else:
                text = encode_compact(document)
            if not text.isascii():
                text.encode()  # a lone surrogate cannot be written as UTF-8
        except (ValueError, RecursionError):
            check_value(document)
            raise  # pragma: no cover - check_value names every problem the encoder has
        return text
