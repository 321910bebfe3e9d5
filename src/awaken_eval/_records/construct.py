"""``fast_constructor``: build a frozen record without its attrs initialiser's overhead.

A frozen slotted attrs class sets each field in ``__init__`` with a bound
``object.__setattr__``, which looks the field's slot up by name on every call. The
constructor made here calls each slot's descriptor directly: the same instance (same
class, same slots, still frozen), about a quarter cheaper for a record of many fields.
Only the hot paths of large runs use it, for records whose ``__init__`` does nothing
but set the fields; any other class is returned unchanged.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

import attrs

__all__ = ["fast_constructor"]

T = TypeVar("T")


def _plain(cls: type[Any]) -> bool:
    """Whether ``cls.__init__`` does nothing but set every field (so it can be bypassed)."""
    if not attrs.has(cls) or "__slots__" not in cls.__dict__:
        return False
    if any(hasattr(cls, hook) for hook in ("__attrs_pre_init__", "__attrs_post_init__")):
        return False
    for field in attrs.fields(cls):
        default = field.default
        if (
            not field.init
            or field.validator is not None
            or field.converter is not None
            or (isinstance(default, attrs.Factory) and default.takes_self)  # type: ignore[arg-type]
            or type(cls.__dict__.get(field.name)).__name__ != "member_descriptor"
        ):
            return False
    return True


_BUILT: dict[type[Any], Any] = {}
"""The constructor of every class asked for so far."""


def fast_constructor(cls: type[T]) -> type[T]:
    """A callable that builds ``cls`` records as ``cls(...)`` does, only faster.

    It takes the same arguments (positional ones in field order, then keyword-only
    ones) with the same defaults (factories called per record) and returns an instance
    of ``cls`` with every slot set, exactly as the attrs initialiser would leave it.
    Built once per class, on first use.

    Args:
        cls: A frozen slotted attrs class.

    Returns:
        The constructor, typed as ``cls`` (it accepts what ``cls`` accepts); ``cls``
        itself when its initialiser does more than set fields (validators, converters,
        hooks) or its fields are not plain slots.
    """
    built = _BUILT.get(cls)
    if built is None:
        built = _BUILT[cls] = _build(cls) if _plain(cls) else cls
    return cast("type[T]", built)


def _build(cls: type[Any]) -> Any:
    """Generate the constructor of a class that :func:`_plain` accepted."""
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_NOTHING": attrs.NOTHING}
    positional: list[str] = []
    keywords: list[str] = []
    lines: list[str] = []
    for index, field in enumerate(attrs.fields(cls)):
        name = field.alias
        params = keywords if field.kw_only else positional
        setter = f"_set{index}"
        namespace[setter] = cls.__dict__[field.name].__set__  # the slot itself (see _plain)
        default = field.default
        if default is attrs.NOTHING:
            params.append(name)
            lines.append(f"    {setter}(self, {name})")
        elif isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            namespace[f"_factory{index}"] = default.factory
            params.append(f"{name}=_NOTHING")
            value = f"_factory{index}() if {name} is _NOTHING else {name}"
            lines.append(f"    {setter}(self, {value})")
        else:
            namespace[f"_default{index}"] = default
            params.append(f"{name}=_default{index}")
            lines.append(f"    {setter}(self, {name})")
    source = "\n".join(
        [
            f"def construct({', '.join([*positional, *(['*', *keywords] if keywords else [])])}):",
            "    self = _new(_cls)",
            *lines,
            "    return self",
        ]
    )
    exec(compile(source, f"<fast constructor of {cls.__qualname__}>", "exec"), namespace)  # noqa: S102 - generated from the class's own field list
    construct = namespace["construct"]
    construct.__qualname__ = f"fast_constructor({cls.__qualname__})"
    return construct
