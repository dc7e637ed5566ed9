"""What a caseless key looks like: UTS #39's skeleton, with two additions the key needs.

The skeleton is ``NFD(prototypes(NFD(text)))``, as ICU's ``SpoofChecker.getSkeleton`` computes it.
Its data, and the NFD it is defined with, come from :mod:`authfold.accounts.skeleton_table`,
generated from ICU by ``scripts/generate-skeleton-table``: the same skeleton on every Python (whose
own Unicode version varies) and nothing to compile at install.
"""

import re

from authfold.accounts.skeleton_table import (
    COMBINING_CLASSES,
    DECOMPOSITIONS,
    DIACRITIC_MARK_RANGES,
    PROTOTYPES,
)

# Two additions to the skeleton, each because the caseless key cannot carry what UTS #39 needs:
# the Cyrillic palochka's capital Ӏ has the prototype l, its small ӏ (which casefolding makes of
# both) has i (by way of ı, which is x-height); the key keeps only the small one, and drawn at
# ascender height like the capital it looks like l, so it maps to l.
_KEY_PROTOTYPES = str.maketrans({"\u04cf": "l"})
# And nonspacing diacritics are dropped after the skeleton's NFD: an accent or a dot over a
# letter is a mark a reader overlooks (maria + U+0301, and İ, whose casefold is i + U+0307), which
# UTS #39 leaves to the mixed-script and restriction-level checks. Only marks with Unicode's
# Diacritic property, and not viramas: the vowel signs of Indic scripts (Mn, not Diacritic) and
# a virama (which joins letters into a conjunct of another shape) keep names apart.
_DROP_DIACRITICS = dict.fromkeys(
    (cp for start, end in DIACRITIC_MARK_RANGES for cp in range(start, end + 1)), None
)

# Hangul syllables decompose by arithmetic (The Unicode Standard, section 3.12).
_S_BASE, _L_BASE, _V_BASE, _T_BASE = 0xAC00, 0x1100, 0x1161, 0x11A7
_V_COUNT, _T_COUNT, _S_COUNT = 21, 28, 11172


def _decompose_hangul(cp):
    index = cp - _S_BASE
    lead, vowel, trail = (
        index // (_V_COUNT * _T_COUNT),
        index % (_V_COUNT * _T_COUNT) // _T_COUNT,
        index % _T_COUNT,
    )
    text = chr(_L_BASE + lead) + chr(_V_BASE + vowel)
    return text + chr(_T_BASE + trail) if trail else text


_DECOMPOSE = {
    **DECOMPOSITIONS,
    **{cp: _decompose_hangul(cp) for cp in range(_S_BASE, _S_BASE + _S_COUNT)},
}


# Two or more combining marks in a row: what canonical ordering may have to reorder.
_MARK_RUN = re.compile("[" + "".join(re.escape(chr(cp)) for cp in COMBINING_CLASSES) + "]{2,}")


def _in_canonical_order(marks):
    return "".join(sorted(marks.group(), key=lambda mark: COMBINING_CLASSES[ord(mark)]))


def nfd(text):
    """Unicode's canonical decomposition (NFD) of ``text``, by the table's Unicode version: each
    character decomposed, then each run of combining marks sorted (stably) by combining class."""
    return _MARK_RUN.sub(_in_canonical_order, text.translate(_DECOMPOSE))


def uts39_skeleton(text):
    """UTS #39's skeleton of ``text``: equal skeletons, confusable texts."""
    return nfd(nfd(text).translate(PROTOTYPES))


def key_skeleton(key):
    """What a caseless key looks like: its UTS #39 skeleton, the palochka read as l and
    diacritics dropped (see the comments above)."""
    if key.isascii():
        # ASCII is its own NFD, and its prototypes are NFD with no marks (most keys are ASCII).
        return key.translate(PROTOTYPES)
    return uts39_skeleton(key.translate(_KEY_PROTOTYPES)).translate(_DROP_DIACRITICS)
