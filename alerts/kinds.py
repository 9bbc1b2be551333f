"""The alert kinds: declared once, read by the rules, the settings, the CLI and the web page.

Plain data so that reading the configuration imports nothing else.
"""

from __future__ import annotations

KINDS = (
    "enter", "first_seen_inside", "landed", "took_off", "exit", "went_silent",
    "approaching", "heard_nearby", "squawk", "identity_anomaly", "landing_retracted",
    "went_dark",
)  # fmt: skip

# Kinds that say the same thing for cooldown purposes: "it is inside the fence". After a
# restart or a reload, an aircraft already reported entering is not reported again as
# first seen inside.
COOLDOWN_FAMILY = {"enter": "inside", "first_seen_inside": "inside"}


def family(kind: str) -> str:
    """The cooldown family of a kind (itself, unless it shares one)."""
    return COOLDOWN_FAMILY.get(kind, kind)


FAMILY_KINDS = {
    name: tuple(k for k in KINDS if family(k) == name) for name in {family(k) for k in KINDS}
}
