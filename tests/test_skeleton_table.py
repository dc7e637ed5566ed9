"""The look-alike skeleton is computed from a committed table, not from ICU at run time: these
tests hold the table to ICU (PyICU, a development dependency), on every code point and on strings
whose marks NFD reorders, so the skeleton, and the digests stored from it, cannot drift."""

import random
import runpy
from pathlib import Path

import icu
import pytest

from authfold.accounts.skeleton import key_skeleton, nfd
from authfold.accounts.skeleton_table import UNICODE_VERSION

CHECKOUT = Path(__file__).resolve().parent.parent
GENERATOR = runpy.run_path(str(CHECKOUT / "scripts" / "generate-skeleton-table"))

SPOOF_CHECKER = icu.SpoofChecker()
ICU_NFD = icu.Normalizer2.getNFDInstance()
DIACRITIC_MARKS = icu.UnicodeSet(GENERATOR["DIACRITIC_MARKS_SET"])


def icu_key_skeleton(key):
    """The skeleton as it was computed with ICU at run time: palochka as l, ICU's skeleton,
    diacritics dropped."""
    skeleton = SPOOF_CHECKER.getSkeleton(0, key.translate({0x04CF: "l"}))
    return "".join(char for char in skeleton if not DIACRITIC_MARKS.contains(char))


def every_character():
    return (chr(cp) for cp in GENERATOR["code_points"]())


def test_the_table_is_generated_from_the_icu_of_the_dev_toolchain():
    assert UNICODE_VERSION == icu.UNICODE_VERSION, (
        "PyICU links another ICU than the table was generated from: regenerating it "
        "(scripts/generate-skeleton-table) changes skeletons, whose stored digests a migration "
        "must then recompute"
    )


@pytest.mark.slow
def test_the_committed_table_is_what_the_generator_writes():
    committed = GENERATOR["TABLE_PATH"].read_text(encoding="utf-8")
    assert committed == GENERATOR["render_skeleton_table"]()


@pytest.mark.slow
def test_the_skeleton_of_every_code_point_is_icus():
    differing = [
        f"U+{ord(char):04X}"
        for char in every_character()
        if key_skeleton(char) != icu_key_skeleton(char)
    ]
    assert differing == []


@pytest.mark.slow
def test_nfd_of_every_code_point_is_icus():
    differing = [
        f"U+{ord(char):04X}" for char in every_character() if nfd(char) != ICU_NFD.normalize(char)
    ]
    assert differing == []


def reordering_strings(count):
    """Random strings of letters, precomposed letters, Hangul, confusables and combining marks in
    any order: the cases where NFD reorders marks and decompositions meet prototypes."""
    table = runpy.run_path(str(GENERATOR["TABLE_PATH"]))
    pool = [chr(cp) for cp in table["COMBINING_CLASSES"]]
    pool += [chr(cp) for cp in table["DECOMPOSITIONS"]]
    pool += [chr(cp) for cp in table["PROTOTYPES"]]
    pool += list("mariapypl\u04cf\uac00\ud7a3\u1100\u1161\u11a8")
    rng = random.Random(39)
    return ["".join(rng.choices(pool, k=rng.randint(2, 8))) for _ in range(count)]


def test_the_skeleton_of_strings_whose_marks_reorder_is_icus():
    differing = [
        text for text in reordering_strings(20000) if key_skeleton(text) != icu_key_skeleton(text)
    ]
    assert differing == []


def test_nfd_of_strings_whose_marks_reorder_is_icus():
    differing = [text for text in reordering_strings(20000) if nfd(text) != ICU_NFD.normalize(text)]
    assert differing == []
