"""Every input serializer bounds what it accepts: no integer without a range, no text without a length,
no list without a size. An unbounded field is how a 2**31 or a megabyte string reaches PostgreSQL."""

import importlib
import inspect
import pkgutil

import pytest
from rest_framework import serializers

import api

pytestmark = pytest.mark.django_db


def _input_serializers():
    for module_info in pkgutil.iter_modules(api.__path__):
        module = importlib.import_module(f"api.{module_info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                cls.__module__ == module.__name__
                and issubclass(cls, serializers.Serializer)
                and name.endswith("In")
            ):
                yield pytest.param(cls, id=f"{module_info.name}.{name}")


def _unbounded(field, path):
    if field.read_only:
        return
    if isinstance(field, serializers.ListSerializer | serializers.ListField):
        if getattr(field, "max_length", None) is None:
            yield f"{path}: a list without max_length"
        yield from _unbounded(field.child, f"{path}[]")
    elif isinstance(field, serializers.DictField):
        yield from _unbounded(field.child, f"{path}{{}}")
    elif isinstance(field, serializers.Serializer):
        for name, child in field.fields.items():
            yield from _unbounded(child, f"{path}.{name}")
    elif isinstance(field, serializers.IntegerField):
        if field.min_value is None or field.max_value is None:
            yield f"{path}: an integer without min_value and max_value"
    elif isinstance(field, serializers.CharField):
        if field.max_length is None:
            yield f"{path}: text without max_length"


@pytest.mark.parametrize("serializer_class", list(_input_serializers()))
def test_every_input_field_is_bounded(serializer_class):
    serializer = serializer_class()

    problems = [problem for name, field in serializer.fields.items() for problem in _unbounded(field, name)]

    assert problems == []
