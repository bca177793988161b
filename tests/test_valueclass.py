"""runlab's value classes behave as the dataclasses they replace (repr, ==, hash, frozen, replace, pickle)."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import field

import pytest

from runlab._valueclass import value_class


@value_class(frozen=True)
class Point:
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()
    note: str = field(default="", compare=False, repr=False)


@value_class
class Box:
    items: list[int] = field(default_factory=list)
    label: str = "box"


@value_class(eq=False)
class Handle:
    name: str


@value_class(frozen=True)
class Checked:
    value: int

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError(f"Invalid value {self.value}: expected >= 0.")
        object.__setattr__(self, "value", int(self.value))

    def __repr__(self) -> str:
        return f"<checked {self.value}>"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Point(1), "Point(x=1, y=0, tags=())"),
        (Point(1, 2, ("a",), note="hidden"), "Point(x=1, y=2, tags=('a',))"),
        (Box(), "Box(items=[], label='box')"),
        (Handle("h"), "Handle(name='h')"),
        (Checked(3), "<checked 3>"),
    ],
)
def test_repr_shows_the_fields_as_a_dataclass_does(value: object, expected: str) -> None:
    assert repr(value) == expected


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (Point(1, 2), Point(1, 2), True),
        (Point(1, 2, note="a"), Point(1, 2, note="b"), True),  # compare=False field
        (Point(1, 2), Point(1, 3), False),
        (Point(1), (1, 0, ()), False),  # another class never equals
        (Box([1]), Box([1]), True),
        (Box([1]), Box([2]), False),
        (Handle("h"), Handle("h"), False),  # eq=False: identity
    ],
)
def test_equality_follows_the_compared_fields(a: object, b: object, equal: bool) -> None:
    assert (a == b) is equal
    assert (a != b) is not equal


def test_frozen_classes_hash_by_their_fields_and_mutable_ones_do_not_hash() -> None:
    assert hash(Point(1, 2)) == hash(Point(1, 2, note="other"))
    assert len({Point(1), Point(1), Point(2)}) == 2
    with pytest.raises(TypeError, match="unhashable"):
        hash(Box())
    assert len({Handle("h"), Handle("h")}) == 2  # eq=False: hashed by identity, as a dataclass


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda p: setattr(p, "x", 5), id="assign a field"),
        pytest.param(lambda p: setattr(p, "other", 5), id="assign a new attribute"),
        pytest.param(lambda p: delattr(p, "x"), id="delete a field"),
    ],
)
def test_a_frozen_value_refuses_changes(change) -> None:  # type: ignore[no-untyped-def]
    point = Point(1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        change(point)
    assert point == Point(1, 2)


def test_post_init_validates_and_normalises_as_for_a_dataclass() -> None:
    assert Checked(True).value == 1 and type(Checked(True).value) is int
    with pytest.raises(ValueError, match="Invalid value -1"):
        Checked(-1)


def test_mutable_values_can_change_and_defaults_are_not_shared() -> None:
    a, b = Box(), Box()
    a.items.append(1)
    a.label = "mine"
    assert b.items == [] and (a.items, a.label) == ([1], "mine")


@pytest.mark.parametrize(
    "value",
    [Point(1, 2, ("t",), note="n"), Box([1, 2], "b"), Checked(4)],
    ids=["frozen", "mutable", "post_init"],
)
def test_replace_fields_pickle_and_copy_work_as_for_dataclasses(value: object) -> None:
    assert dataclasses.is_dataclass(value)
    names = [f.name for f in dataclasses.fields(value)]  # type: ignore[arg-type]
    assert dataclasses.replace(value) == value  # type: ignore[type-var]
    assert pickle.loads(pickle.dumps(value)) == value
    assert copy.copy(value) == value and copy.deepcopy(value) == value
    assert list(dataclasses.asdict(value)) == names  # type: ignore[call-overload]


def test_replace_gives_a_new_validated_value() -> None:
    moved = dataclasses.replace(Point(1, 2), y=5)
    assert moved == Point(1, 5)
    with pytest.raises(ValueError, match="Invalid value -2"):
        dataclasses.replace(Checked(1), value=-2)


def test_constructor_errors_name_the_argument() -> None:
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'x'"):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        Point(1, z=2)  # type: ignore[call-arg]
