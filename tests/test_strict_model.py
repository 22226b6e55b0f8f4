"""Validated models refuse a boolean for a number and anything but a boolean for a flag, naming the key."""

from __future__ import annotations

from typing import Literal, Optional

import pytest
from pydantic import ValidationError

from arch.strict_model import StrictModel, accepts_bool, only_bool


class Example(StrictModel):
    count: int = 1
    rate: float = 1.0
    flag: bool = False
    maybe: Optional[bool] = None
    either: int | bool = 0
    mode: Literal["a", "b"] = "a"


@pytest.mark.parametrize("data, words", [
    ({"count": True}, "count: expected a number or a name, got the boolean true"),
    ({"rate": False}, "rate: expected a number or a name, got the boolean false"),
    ({"mode": True}, "mode: expected a number or a name"),
    ({"flag": 0}, "flag: expected true or false, got 0"),
    ({"maybe": "yes"}, "maybe: expected true or false, got 'yes'"),
    ({"count": True, "flag": 1}, "count: expected a number or a name, got the boolean true; flag: expected true"),
])
def test_bool_mixups_are_refused_naming_every_key(data, words):
    with pytest.raises(ValidationError) as err:
        Example(**data)
    assert words in str(err.value)


def test_what_each_field_should_take_is_still_taken():
    got = Example(count=3, rate=2, flag=True, maybe=None, either=True, mode="b")
    assert (got.count, got.rate, got.flag, got.maybe, got.either, got.mode) == (3, 2.0, True, None, True, "b")
    assert accepts_bool(int | bool) and not only_bool(int | bool) and only_bool(Optional[bool])
    assert not accepts_bool(int) and accepts_bool(Literal[True, "x"])
