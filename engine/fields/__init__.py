"""Field types: the registry and the built-in types, which register like any plugin."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from engine.diagnostics import EngineError, did_you_mean

from .address import AddressField
from .base import Cell, Change, FieldType, FieldValueError, OptionContext, UploadLimits
from .boolean import BooleanField, ConsentField
from .choice import ChoiceField
from .computed import ComputedField
from .country import CountryField
from .date import DateField
from .email import EmailField
from .file import FileField
from .grid import GridField
from .info import InfoField
from .memberships import MembershipsField
from .number import IntegerField, NumberField
from .phone import PhoneField
from .repeat import RepeatField
from .text import TextField
from .textarea import TextareaField

#: entry-point group through which installed packages add field types
ENTRY_POINT_GROUP = "dossiersco.field_types"
#: hint of an unknown type with no close name: a campaign written for a plugin not installed here
MISSING_PLUGIN_HINT = ("no installed field type has this name: the plugin providing it may be "
                       "missing; install it where the campaign runs")

BUILTIN_TYPES: tuple[type[FieldType[Any]], ...] = (
    TextField, TextareaField, NumberField, IntegerField, DateField, EmailField, PhoneField,
    AddressField, CountryField, ChoiceField, BooleanField, ConsentField, GridField, FileField,
    RepeatField,
    InfoField, ComputedField, MembershipsField,
)


class DuplicateFieldType(EngineError):
    def __init__(self, name: str, first: type[FieldType[Any]], second: type[FieldType[Any]]) -> None:
        super().__init__(f"field type '{name}' is registered twice: by {first.__module__}."
                         f"{first.__qualname__} and {second.__module__}.{second.__qualname__}")


class UnknownFieldType(EngineError):
    def __init__(self, name: str, hint: str | None) -> None:
        super().__init__(f"unknown field type '{name}'" + (f" ({hint})" if hint else ""))
        self.name = name
        self.hint = hint


class PluginLoadError(EngineError):
    """A field-type plugin declared through the entry point could not be loaded."""


class FieldRegistry:
    """Field types by name; one instance per application or script, never a global mutable."""

    def __init__(self) -> None:
        self._types: dict[str, FieldType[Any]] = {}

    def register(self, cls: type[FieldType[Any]]) -> type[FieldType[Any]]:
        """Register a field type class (usable as a decorator); refuses duplicate names."""
        if not cls.name:
            raise EngineError(f"{cls.__qualname__} has no name")
        if cls.name in self._types:
            raise DuplicateFieldType(cls.name, type(self._types[cls.name]), cls)
        self._types[cls.name] = cls()
        return cls

    def get(self, name: str) -> FieldType[Any]:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownFieldType(name, did_you_mean(name, self._types)
                                   or MISSING_PLUGIN_HINT) from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[FieldType[Any]]:
        return iter(self._types.values())

    def names(self) -> list[str]:
        return sorted(self._types)

    def load_entry_points(self) -> None:
        """Register types from installed plugins: each entry point is a FieldType subclass,
        or a callable taking the registry."""
        for ep in _plugin_entry_points(tuple(sys.path)):
            try:
                target = ep.load()
            except Exception as exc:  # a broken plugin must name itself, not crash obscurely
                raise PluginLoadError(f"plugin '{ep.name}' ({ep.value}) failed to load: "
                                      f"{exc}") from exc
            if isinstance(target, type) and issubclass(target, FieldType):
                self.register(target)
            elif callable(target):
                target(self)
            else:
                raise PluginLoadError(f"plugin '{ep.name}' is neither a FieldType nor a "
                                      "register(registry) function")


@cache
def _plugin_entry_points(path: tuple[str, ...]) -> tuple[EntryPoint, ...]:
    """The plugins' entry points installed on the import ``path``, found once per path:
    scanning the installed distributions costs a quarter of a second per app or command."""
    return tuple(entry_points(group=ENTRY_POINT_GROUP))


def register_builtin(registry: FieldRegistry) -> None:
    for cls in BUILTIN_TYPES:
        registry.register(cls)


def new_registry(*, plugins: bool = True) -> FieldRegistry:
    """The built-in types plus, unless ``plugins`` is false, the installed plugins' types.

    The app builds one in ``create_app`` and the command line one per command; both pass it
    down explicitly. Raises :class:`PluginLoadError` when an installed plugin is broken."""
    registry = FieldRegistry()
    register_builtin(registry)
    if plugins:
        registry.load_entry_points()
    return registry


__all__ = [
    "BUILTIN_TYPES", "Cell", "Change", "DuplicateFieldType", "ENTRY_POINT_GROUP", "FieldRegistry",
    "FieldType", "FieldValueError", "OptionContext", "PluginLoadError", "UnknownFieldType",
    "UploadLimits",
    "MISSING_PLUGIN_HINT", "new_registry", "register_builtin",
]
