"""The plugin contract's hooks: prepare, and with_params moving prepared arguments."""

import numpy as np
import pytest

from gradrace import Implementation
from gradrace.bench.implementation import params_at
from gradrace.implementations import numpy_dot


def _recording(calls):
    def prepare(X, Y, W, b, lam):
        calls.append("prepare")
        return ("data", W, b, lam)

    def with_params(args, W, b):
        calls.append("with_params")
        return (args[0], W, b, args[3])

    return prepare, with_params


def test_with_params_must_be_callable_and_come_with_a_prepare():
    with pytest.raises(TypeError, match="with_params must be callable"):
        Implementation(name="x", gradient=numpy_dot.gradient, with_params=1)
    with pytest.raises(TypeError, match="with_params moves what prepare made"):
        Implementation(name="x", gradient=numpy_dot.gradient, with_params=lambda a, W, b: a)


def test_args_at_moves_prepared_arguments_with_with_params():
    calls = []
    prepare, with_params = _recording(calls)
    impl = Implementation("x", numpy_dot.gradient, prepare, with_params=with_params)
    args = impl.prepare_args("X", "Y", "W0", "b0", 1.0)
    assert impl.args_at(args, "X", "Y", "W1", "b1", 1.0) == ("data", "W1", "b1", 1.0)
    assert calls == ["prepare", "with_params"]


def test_args_at_prepares_again_without_with_params():
    calls = []
    prepare, _ = _recording(calls)
    impl = Implementation("x", numpy_dot.gradient, prepare)
    args = impl.prepare_args("X", "Y", "W0", "b0", 1.0)
    assert impl.args_at(args, "X", "Y", "W1", "b1", 1.0) == ("data", "W1", "b1", 1.0)
    assert calls == ["prepare", "prepare"]


def test_args_at_without_prepare_is_the_plain_arguments():
    impl = Implementation("x", numpy_dot.gradient)
    assert impl.args_at(None, "X", "Y", "W1", "b1", 2.0) == ("X", "Y", "W1", "b1", 2.0)


def test_hooks_must_return_tuples():
    impl = Implementation(
        "x", numpy_dot.gradient, lambda *a: list(a), with_params=lambda args, W, b: [W, b]
    )
    with pytest.raises(TypeError, match=r"prepare must return a tuple.*got list"):
        impl.prepare_args(1, 2, 3, 4, 5)
    with pytest.raises(TypeError, match=r"with_params must return a tuple.*got list"):
        impl.args_at((1,), 1, 2, 3, 4, 5)


def test_params_at_replaces_w_and_b_where_they_are_held():
    args = ("G", "s", "W0", "b0", 1.0)
    assert params_at(2, 3)(args, "W1", "b1") == ("G", "s", "W1", "b1", 1.0)
    W = np.asfortranarray(np.ones((3, 2)))
    moved = params_at(2, 3, np.ascontiguousarray)(args, W, np.ones(2))
    assert moved[2].flags.c_contiguous and moved[:2] == args[:2] and moved[4] == 1.0
    assert args == ("G", "s", "W0", "b0", 1.0)  # a new tuple: the first one is unchanged
