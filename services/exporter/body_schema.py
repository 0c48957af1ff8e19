"""Validating ``POST /v1/examples`` bodies into plain dicts, with the contract's own rules.

Validating into the contract's models makes four model instances per example, which the
intake then dumps back into dicts: most of the cost of reading a body. The validator here
checks the same fields with the same constraints but yields dicts directly. Its types are
derived from the models at import (:func:`dict_type_of`), so the contract stays the one
definition of the body; a test checks that both accept and refuse the same bodies, with the
same field paths.
"""

import types
import typing
from typing import Annotated, Any, Literal, NotRequired, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

_DERIVED: dict[type[BaseModel], Any] = {}


def dict_type_of(model: type[BaseModel]) -> Any:
    """A TypedDict of ``model``'s fields, constraints and ``extra`` setting; nested models
    become their own TypedDicts, and fields with a default may be absent."""
    if model in _DERIVED:
        return _DERIVED[model]
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation = _dicts_for_models(info.annotation)
        if info.metadata:
            annotation = Annotated[annotation, *info.metadata]
        fields[name] = annotation if info.is_required() else NotRequired[annotation]
    derived: Any = TypedDict(model.__name__, fields)  # type: ignore[misc]
    config = ConfigDict(extra=model.model_config.get("extra"))
    _DERIVED[model] = with_config(config)(derived)
    return _DERIVED[model]


def _dicts_for_models(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return dict_type_of(annotation)
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is None or origin is Literal or not args:
        return annotation
    rewritten = tuple(_dicts_for_models(arg) for arg in args)
    if origin in (Union, types.UnionType):
        return Union[rewritten]  # noqa: UP007 (a runtime union of computed members)
    if origin is typing.Annotated:
        return annotation
    return origin[rewritten if len(rewritten) > 1 else rewritten[0]]


def defaults_of(model: type[BaseModel]) -> dict[str, Any]:
    """The fields of ``model`` that have a default other than ``None``, with it."""
    defaults = {}
    for name, info in model.model_fields.items():
        if not info.is_required():
            value = info.get_default(call_default_factory=True)
            if value is not None:
                defaults[name] = value
    return defaults


class CommonFirstValidator:
    """The dict validator of a union of ``models`` that tries ``common`` alone first.

    pydantic's smart union validates a body against every member to pick the best match,
    which doubles the cost of a large body. Every member forbids unknown fields and requires
    its own, so a body that is valid for ``common`` is valid for no other member and the
    union would give the same dicts; any other body gets the union's own answer and errors.
    """

    def __init__(self, common: type[BaseModel], *models: type[BaseModel]) -> None:
        self.common = TypeAdapter(dict_type_of(common))
        self.union = dict_validator(*models)

    def validate_json(self, data: bytes) -> Any:
        try:
            return self.common.validate_json(data)
        except ValidationError:
            return self.union.validate_json(data)

    def json_schema(self) -> dict[str, Any]:
        return self.union.json_schema()


def dict_validator(*models: type[BaseModel]) -> TypeAdapter[Any]:
    """A validator of a body that is any one of ``models``, yielding dicts."""
    derived = [dict_type_of(model) for model in models]
    union: Any = Union[tuple(derived)] if len(derived) > 1 else derived[0]  # noqa: UP007
    return TypeAdapter(union)


__all__ = ["CommonFirstValidator", "defaults_of", "dict_type_of", "dict_validator"]
