"""JCS (RFC 8785) and RDFC-1.0 canonical forms, cross-checked against pyld."""

import enum
import json
import struct
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials import canon
from credentials.canon import es6_number, jcs, rdfc, unsafe_number
from credentials.contexts import context_document
from credentials.errors import CanonicalizationError, UnknownContext
from credentials.jsonld import NotCompacted, Unsupported, to_quads
from credentials.rdfc import canonicalize
from tests.support.paths import VECTORS
from tests.support.pyld_reference import pyld_rdfc
from tests.support.samples import signed_credential

EXAMPLES_URL = "https://www.w3.org/ns/credentials/examples/v2"
EXAMPLES = json.loads((VECTORS / "credentials-examples-v2.jsonld").read_text())


def loader(url: str) -> dict:
    """Bundled contexts plus the W3C examples context used by the spec vectors."""
    return EXAMPLES if url == EXAMPLES_URL else context_document(url)


def test_rfc8785_primitive_example() -> None:
    source = ('{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
              ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
              ' "literals": [null, true, false]}')
    expected = ('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
                '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}')
    assert jcs(json.loads(source)) == expected.encode("utf-8")


def test_rfc8785_sorts_keys_by_utf16_code_units() -> None:
    value = {"€": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
             "1": "One", "😀": "Emoji: Grinning Face", "\u0080": "Control",
             "ö": "Latin Small Letter O With Diaeresis"}
    expected = ('{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
                '"ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign",'
                '"😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}')
    assert jcs(value) == expected.encode("utf-8")


RFC8785_NUMBERS = [
    ("0000000000000000", "0"), ("8000000000000000", "0"), ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"), ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"), ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"), ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"), ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"), ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"), ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"), ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"), ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"), ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"), ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("ieee", "expected"), RFC8785_NUMBERS)
def test_rfc8785_number_serialisation(ieee: str, expected: str) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(ieee))
    assert jcs(value) == expected.encode()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), {1: "x"}, {"s": "\ud800"}, b"x"])
def test_jcs_rejects_what_json_cannot_carry(value: object) -> None:
    with pytest.raises(CanonicalizationError):
        jcs(value)


@pytest.mark.parametrize("integer", [2**53, -(2**53), 2**53 + 1, 2**60,
                                     pytest.param(10**5000, id="5000 digits")])
def test_jcs_refuses_integers_it_cannot_keep_apart(integer: int) -> None:
    with pytest.raises(CanonicalizationError, match="2\\^53"):
        jcs({"credits": integer})


def test_jcs_keeps_every_safe_integer_exact() -> None:
    edges = [2**53 - 1, -(2**53 - 1), 0, -1]
    assert jcs(edges) == b"[9007199254740991,-9007199254740991,0,-1]"


@pytest.mark.parametrize(("value", "where"), [
    ({"a": [1, {"b": 2**53}]}, "a[1].b"), ([float("inf")], "[0]"),
    pytest.param(10**5000, "", id="5000 digits"),
    ({"a": -(2**53), "b": 1}, "a"), ({"nan": float("nan")}, "nan"),
    ({"fine": [2**53 - 1, 1e300, True, None, "9007199254740993"]}, None),
])
def test_unsafe_number_names_where_it_is(value: object, where: str | None) -> None:
    assert unsafe_number(value) == where


def test_rdfc_reproduces_the_spec_proof_configuration() -> None:
    config = json.loads((VECTORS / "eddsa-rdfc-2022" / "proofConfigDataInt.json").read_text())
    expected = (VECTORS / "eddsa-rdfc-2022" / "proofCanonDataInt.txt").read_text()
    assert rdfc(config, loader=loader) == expected


def test_rdfc_matches_pyld_on_the_spec_credential() -> None:
    signed = json.loads((VECTORS / "eddsa-rdfc-2022" / "signedDataInt.json").read_text())
    assert rdfc(signed, loader=loader) == pyld_rdfc(signed, loader)


def test_undefined_terms_are_refused_not_dropped() -> None:
    document = {"@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiableCredential"], "issuer": "did:example:1",
                "credentialSubject": {"id": "did:example:2", "nickname": "x"}}
    with pytest.raises(CanonicalizationError, match="nickname"):
        rdfc(document)
    document["credentialSubject"] = {"id": "relative/path"}
    with pytest.raises(CanonicalizationError, match="relative"):
        rdfc(document)


def test_unbundled_contexts_are_refused() -> None:
    with pytest.raises(UnknownContext):
        rdfc({"@context": "https://example.com/other", "name": "x"})


def test_features_outside_the_subset_are_refused_not_handed_to_another_processor() -> None:
    document = {"@context": {"@language": "zh", "name": "https://schema.org/name"},
                "@id": "https://example.com/u", "name": "示范大学"}
    with pytest.raises(Unsupported, match="@language"):
        rdfc(document)


def test_blank_node_ties_need_n_degree_hashing() -> None:
    ring = {
        "@context": EXAMPLES_URL,
        "@id": "urn:ex:root",
        "links": [
            {"@id": "_:a", "next": {"@id": "_:b"}, "tag": "x"},
            {"@id": "_:b", "next": {"@id": "_:c"}, "tag": "x"},
            {"@id": "_:c", "next": {"@id": "_:a"}, "tag": "x"},
            {"@id": "_:d", "next": {"@id": "_:e"}, "tag": "x"},
            {"@id": "_:e", "next": {"@id": "_:d"}, "tag": "x"},
            {"tag": "x"},
            {"tag": "x"},
        ],
    }
    expected = pyld_rdfc(ring, loader)
    assert canonicalize(to_quads(ring, loader)) == expected
    assert "_:c14n6" in expected
    with pytest.raises(NotCompacted):
        rdfc(ring, loader=loader)


SAFE_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs")), max_size=12
)
KEYS = st.sampled_from(["alpha", "beta", "gamma", "delta", "score", "items"])
SCALARS = st.one_of(
    SAFE_TEXT,
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
)


def node_objects(depth: int):
    """Generic JSON-LD node objects under the examples @vocab (blank nodes, ids, nesting)."""
    values = SCALARS if depth == 0 else st.one_of(SCALARS, node_objects(depth - 1))
    return st.fixed_dictionaries(
        {},
        optional={
            "id": st.sampled_from(["_:x", "_:y", "urn:ex:1", "urn:ex:2"]),
            "type": st.sampled_from(["Thing", "Other"]),
            "alpha": st.one_of(values, st.lists(values, max_size=3)),
            "beta": st.one_of(values, st.lists(values, max_size=3)),
            "gamma": values,
        },
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(node_objects(2), min_size=1, max_size=4))
def test_rdfc_agrees_with_pyld_on_generated_graphs(nodes: list) -> None:
    document = {"@context": EXAMPLES_URL, "id": "urn:ex:root", "items": nodes}
    assert canonicalize(to_quads(document, loader)) == pyld_rdfc(document, loader)


class Label(str):
    """A str subclass: the fast path of `jcs` leaves it to the full path."""


class Grade(enum.IntEnum):
    """An int subclass, as a caller might pass."""

    PASS = 1


JCS_CHARACTERS = st.one_of(
    st.characters(),
    st.characters(exclude_categories=()),
    st.sampled_from(["\x00", "\x08", "\t", "\n", "\x0b", "\x0c", "\r", "\x1f", "\x7f", '"',
                     "\\", "/", "\u2028", "\ud800", "\udfff", "\ue000", "\uffff", "\U00010000",
                     "😀", "\U0010ffff", "€", "学"]),
)
JCS_TEXT = st.text(JCS_CHARACTERS, max_size=8)
JCS_NUMBERS = st.one_of(
    st.integers(min_value=-(2**53 + 2), max_value=2**53 + 2),
    st.integers(),
    st.sampled_from([0, -1, 2**53 - 1, -(2**53 - 1), 2**53, 10**400]),
    st.floats(),
    st.integers(min_value=-(2**53 + 2), max_value=2**53 + 2).map(float),
    st.sampled_from([0.0, -0.0, 4.0, 48.0, 2.5, 1e-4, 9.999999999999999e-05, 1e16, 1e16 - 2,
                     2.0**53, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, float("inf")]),
)
JCS_ODD = st.one_of(st.builds(Label, JCS_TEXT), st.just(Grade.PASS), st.just(b"x"),
                    st.builds(lambda text: OrderedDict([(text, 1)]), JCS_TEXT))
JCS_KEYS = st.one_of(JCS_TEXT, st.sampled_from(["\ue000", "\U00010000", "\uffff", "😀a", "a"]))
JCS_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), JCS_NUMBERS, JCS_TEXT),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(JCS_KEYS, children, max_size=5),
    ),
    max_leaves=20,
)


def jcs_outcome(serialise: Any, value: Any) -> tuple[str, Any]:
    """What a JCS path gives: its bytes, or its error's type and message."""
    try:
        return "written", serialise(value)
    except Exception as error:
        return "refused", (type(error), str(error))


def fast(value: Any) -> bytes | None:
    """The fast path's bytes, or None where it does not vouch for the value."""
    parts: list[str] = []
    try:
        canon._write(value, parts)
        return "".join(parts).encode("utf-8")
    except (canon._Unvouched, UnicodeEncodeError):
        return None


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JCS_VALUES)
def test_jcs_fast_path_writes_the_full_paths_bytes(value: Any) -> None:
    written = fast(value)
    if written is not None:
        assert written == canon._jcs(value)
    assert jcs_outcome(jcs, value) == jcs_outcome(canon._jcs, value)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.one_of(JCS_KEYS, st.integers(), st.none(), JCS_ODD.filter(
    lambda odd: isinstance(odd, str | int))), st.one_of(JCS_VALUES, JCS_ODD), max_size=5))
def test_jcs_fast_path_refuses_or_defers_as_the_full_path(value: dict) -> None:
    assert jcs_outcome(jcs, value) == jcs_outcome(canon._jcs, value)
    assert jcs_outcome(jcs, [value, value]) == jcs_outcome(canon._jcs, [value, value])


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                 st.integers(min_value=-(2**60), max_value=2**60).map(float)))
def test_jcs_fast_numbers_are_es6_numbers(number: float) -> None:
    assert canon._float(number) == es6_number(number)


def test_jcs_fast_path_vouches_for_issued_credentials() -> None:
    for cryptosuite in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
        credential = signed_credential(cryptosuite)
        assert fast(credential) is not None
        assert jcs(credential) == canon._jcs(credential)


def test_jcs_key_orders_are_kept_per_key_tuple_and_bounded() -> None:
    assert jcs({"b": 1, "a": 2}) == jcs({"a": 2, "b": 1}) == b'{"a":2,"b":1}'
    assert jcs({"b": [], "a": {}}) == b'{"a":{},"b":[]}'
    keys = ["\ufb33", "😀", "€"]
    assert jcs(dict.fromkeys(keys, 0)) == jcs(dict.fromkeys(reversed(keys), 0))
    for number in range(canon._ORDERS_KEPT + 10):
        jcs({f"k{number}": number})
    assert len(canon._ORDERS) <= canon._ORDERS_KEPT


def test_jcs_of_circular_or_deep_values_is_the_full_paths() -> None:
    circular: list = []
    circular.append(circular)
    with pytest.raises(RecursionError):
        jcs(circular)
    deep: Any = []
    for depth in range(200):
        deep = [deep, depth] if depth % 2 else {"x": deep, "y": 1.5}
    assert jcs(deep) == canon._jcs(deep)
    assert fast(deep) is not None
