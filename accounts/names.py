"""Display names are shown to other residents (leaderboards, a kiosk's screen), so they are plain text.

A name may not carry characters that change how the text around it is drawn: control characters,
format characters (bidirectional overrides and isolates, zero-width spaces and joiners, the byte-order
mark, soft hyphens: Unicode category Cf), line and paragraph separators, surrogates, private-use and
unassigned code points. Without them "Alice\u202egnp.exe" cannot pose as another name and an invisible
name cannot take a rank. Runs of whitespace become one space.
"""

import unicodedata

# Control, format, surrogate, private use, unassigned; line and paragraph separators.
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def clean_display_name(name: str) -> str:
    kept = "".join(" " if char.isspace() else char for char in unicodedata.normalize("NFC", name or ""))
    kept = "".join(char for char in kept if unicodedata.category(char) not in _REMOVED_CATEGORIES)
    return " ".join(kept.split())
