"""Finding an allocation's SP2D references in the bank's free text, however the bank wrote them."""

import pytest

from grants.services import reference_key
from treasury.references import ReferenceIndex, canonical, compact, names_village, sp2d_token, village_codes

REFERENCES = {
    1: "SP2D NO.0012/BL/2024",
    2: "SP2D-00001/LS/2026",
    3: "SP2D-7",
    4: "10012/BL/2024",
    5: "903/SP2D/LS/BPKAD/2024",
}


@pytest.fixture(scope="module")
def index():
    return ReferenceIndex(REFERENCES.items())


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("TRF SP2D NO.0012/BL/2024 DESA HAJIMENA", [1]),
        ("sp2d 0012 / bl / 2024", [1]),  # "NO." dropped, spaces around the separators
        ("SP2D0012BL2024", [1]),  # separators dropped
        ("Sp2d  Nomor 0012-BL-2024", [1]),
        ("PEMBAYARAN 0012/BL/2024", [1]),  # the word SP2D dropped
        ("SP2D NO.00 12/BL/2024", [1]),  # a space inside the number
        ("sp2d\u00a0no.0012/bl/2024\u200b", [1]),  # no-break and zero-width spaces
        ("\uff33\uff30\uff12\uff24\u3000\uff2e\uff2f.0012/BL/2024", [1]),  # full-width
        ("TRF 10012/BL/2024", [4]),  # not 0012/BL/2024 inside another number
        ("0012/BL/20245", []),
        ("SP2D-00001/LS/2026", [2]),
        ("sp2d 00001 ls 2026", [2]),
        ("TRF SP2D NO 7 DESA SIDOSARI", [3]),
        ("TRF 7 DESA SIDOSARI", []),  # a short number is only found with its SP2D
        ("SP2D-71", []),
        ("903 / SP2D / LS / BPKAD / 2024", [5]),
        ("BIAYA ADM", []),
        ("SP2D NO.0012/BL/2024 DAN SP2D-00001/LS/2026", [1, 2]),
    ],
)
def test_it_finds_a_reference_however_the_bank_wrote_it(index, text, found):
    assert sorted(index.keys_in(text)) == found


def test_the_compact_form_keeps_letters_and_digits_and_where_they_change():
    form = compact("SP2D NO.0012/BL/2024")

    assert form.text == "sp2d0012bl2024"
    assert sorted(form.boundaries) == [0, 2, 3, 4, 8, 10, 14]


def test_the_compact_form_agrees_with_the_canonical_reference_of_the_grants():
    # Two references the grants hold for one transfer have one compact form.
    assert reference_key("sp2d-0001/ls") == reference_key("SP2D-0001/LS\u200b")
    assert compact("sp2d-0001/ls").text == compact("SP2D-0001/LS\u200b").text


def test_the_longest_reference_wins_where_two_overlap():
    index = ReferenceIndex([(1, "0012/BL/2024"), (2, "SP2D-0012/BL/2024/A")])

    assert index.keys_in("SP2D-0012/BL/2024/A") == [2]
    assert index.keys_in("SP2D-0012/BL/2024") == [1]


def test_references_with_one_compact_form_are_both_found():
    index = ReferenceIndex([(1, "SP2D-0012/BL/2024"), (2, "SP2D NO. 0012/BL/2024")])

    assert sorted(index.keys_in("sp2d 0012 bl 2024")) == [1, 2]


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("TRF SP2D NO.0099/BL/2024 DESA X", "0099/BL/2024"),
        ("sp2d 0099 / bl / 2024", "0099 / bl / 2024"),
        ("SP2D-9", "9"),
        ("BIAYA ADM", ""),
        ("SP2D TAHAP II", ""),
    ],
)
def test_it_quotes_an_sp2d_number_as_the_bank_wrote_it(text, token):
    assert sp2d_token(text) == token


def test_it_picks_up_village_codes_dotted_or_plain_when_known():
    text = "TRF KE DESA 18.01.04.2001 REK 1801042002 ATAS 1234567890"

    assert village_codes(text) == ["18.01.04.2001"]
    assert village_codes(text, {"18.01.04.2002": "Sidosari"}) == ["18.01.04.2001", "18.01.04.2002"]


@pytest.mark.parametrize(
    ("text", "name", "named"),
    [
        ("TRF DESA MUARA PUTIH", "Muara Putih", True),
        ("TRF DESA MUARA  PUTIH", "Muara Putih", True),
        ("TRF DESA NATARAN", "Natar", False),
        ("TRF DESA UJI 12", "Desa Uji 1", False),
    ],
)
def test_it_tells_whether_a_text_names_a_village(text, name, named):
    assert names_village(text, name) is named


def test_the_ascii_shortcut_agrees_with_the_grants_canonical_form():
    every_ascii = "".join(map(chr, range(128)))
    samples = [
        every_ascii,
        every_ascii[::-1],
        "  TRF\tSP2D  No.0012/BL/2024\r\nDESA X  ",
        "sp2d\u200bno",
        "\uff33\uff30\uff12\uff24 \u00a0x",
    ]

    for sample in samples:
        assert canonical(sample) == reference_key(sample)
