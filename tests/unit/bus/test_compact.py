"""compact() writes what Jackson's ObjectNode.toString() writes (spec §5), and refuses floats."""

from collections import OrderedDict
from typing import Any

import pytest

from portal.bus.govesb import compact


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            {"a": 1, "b": [True, False, None]}, '{"a":1,"b":[true,false,null]}', id="plain"
        ),
        pytest.param({"z": 1, "a": 2, "m": 3}, '{"z":1,"a":2,"m":3}', id="order-kept"),
        pytest.param(OrderedDict([("b", 1), ("a", 2)]), '{"b":1,"a":2}', id="mapping"),
        pytest.param(("x", 1), '["x",1]', id="tuple"),
        pytest.param({}, "{}", id="empty-object"),
        pytest.param([], "[]", id="empty-array"),
        pytest.param({"a": {"b": {"c": []}}}, '{"a":{"b":{"c":[]}}}', id="nested"),
        pytest.param("Habari, dunia ✓", '"Habari, dunia ✓"', id="non-ascii-raw"),
        pytest.param("𝄞", '"𝄞"', id="astral-raw"),
        pytest.param("a\u2028b\u2029c", '"a\u2028b\u2029c"', id="line-separators-raw"),
        pytest.param("https://x/y", '"https://x/y"', id="slash-unescaped"),
        pytest.param('"\\', r'"\"\\"', id="quote-backslash"),
        pytest.param("\t\n\r\b\f", r'"\t\n\r\b\f"', id="short-escapes"),
        pytest.param("\x00\x01\x0b\x1a\x1f", r'"\u0000\u0001\u000B\u001A\u001F"', id="upper-hex"),
        pytest.param("\x7f\x80\xa0", '"\x7f\x80\xa0"', id="del-and-c1-raw"),
        pytest.param("<>&'", '"<>&\'"', id="html-raw"),
        pytest.param(2**63, "9223372036854775808", id="big-int"),
        pytest.param(-(2**64) - 1, "-18446744073709551617", id="big-negative"),
        pytest.param(10**40, "1" + "0" * 40, id="bigger-int"),
        pytest.param(0, "0", id="zero"),
        pytest.param(True, "true", id="true"),
        pytest.param(None, "null", id="null"),
        pytest.param({"k\n": "v"}, r'{"k\n":"v"}', id="escaped-key"),
    ],
)
def test_compact_follows_jackson(value: Any, expected: str) -> None:
    assert compact(value) == expected


@pytest.mark.parametrize("value", [1.0, 1e10, 0.1, float("nan"), {"a": [1, 2.5]}])
def test_floats_are_refused(value: Any) -> None:
    with pytest.raises(TypeError, match="float"):
        compact(value)


@pytest.mark.parametrize("value", [{1: "a"}, {None: "a"}, {("a",): 1}])
def test_non_string_keys_are_refused(value: Any) -> None:
    with pytest.raises(TypeError, match="keys"):
        compact(value)


@pytest.mark.parametrize("value", [b"bytes", {1, 2}, object(), {"a": bytearray(b"x")}])
def test_values_json_has_no_form_for_are_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        compact(value)


def test_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(ValueError, match="surrogate"):
        compact({"a": "x\ud800"})
