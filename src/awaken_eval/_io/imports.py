"""Import strings: ``module:attribute`` names an object a user hands to a front end.

The command line (``--replayer``, ``--executor``) and the pytest plugin
(``awaken_replayer``, ``awaken_executor``) load user factories through
:func:`load_object`, so a bad string gets the same message everywhere.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from awaken_eval.errors import InvalidRequest

__all__ = ["load_factory", "load_object"]


def load_object(spec: str, *, what: str) -> object:
    """Import the object named by ``spec``: ``module:attribute`` (dotted attributes allowed).

    Args:
        spec: The import string, e.g. ``my_agents:make_replayer``.
        what: What names the string, for the message (a flag or option name).

    Returns:
        The object.

    Raises:
        InvalidRequest: ``<what> '<spec>': <what failed>``, when the string is not of
            the form ``module:attribute``, the module is not found or fails to import,
            or the attribute is missing.
    """
    module_name, _, attribute = spec.partition(":")
    module_name, attribute = module_name.strip(), attribute.strip()
    where = f"{what} {spec!r}"
    if not module_name or not attribute:
        msg = f"{where}: expected MODULE:ATTRIBUTE, e.g. my_models:make_executor"
        raise InvalidRequest(msg)
    try:
        target: object = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            msg = f"{where}: module {module_name!r} not found"
        else:
            msg = f"{where}: importing module {module_name!r} failed: {exc}"
        raise InvalidRequest(msg) from None
    except Exception as exc:  # noqa: BLE001 - any failure of user code is reported, named
        msg = f"{where}: importing module {module_name!r} raised {type(exc).__name__}: {exc}"
        raise InvalidRequest(msg) from None
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            msg = f"{where}: module {module_name!r} has no attribute {attribute!r}"
            raise InvalidRequest(msg) from None
    return target


def load_factory(spec: str, *, what: str) -> Callable[..., object]:
    """:func:`load_object`, checked to be callable.

    Raises:
        InvalidRequest: as :func:`load_object`, or ``<what> '<spec>': <attribute> is
            not callable (got <type>)``.
    """
    target = load_object(spec, what=what)
    if not callable(target):
        attribute = spec.partition(":")[2].strip()
        msg = f"{what} {spec!r}: {attribute!r} is not callable (got {type(target).__name__})"
        raise InvalidRequest(msg)
    return target
