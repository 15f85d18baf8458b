"""A city's look on the pages of its residents and staff (表示名・色・ロゴ), from
`settings["branding"]`.

The CSP allows no inline styles, so colours reach the page as a small stylesheet of the
city's own (`/cities/<code>/branding.css`) rather than a `style` attribute. Colours are
checked again here, whatever the settings hold (an imported database skips the form), and
a colour too light for white text or links keeps the portal's accent for those.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
WHITE, INK = "#ffffff", "#1a1a1a"
# WCAG 2 AA for normal text.
READABLE = 4.5


@dataclass(frozen=True)
class Branding:
    code: str
    display_name: str
    primary_colour: str | None = None
    accent_colour: str | None = None
    logo: bool = False  # a usable logo file exists

    @property
    def has_colours(self) -> bool:
        return bool(self.primary_colour or self.accent_colour)


def branding_of(municipality, locale: str = "ja", has_logo: bool = False) -> Branding:
    """The city's branding, unusable values dropped; the name falls back to the city's own,
    in `locale` (`Municipality.name_in`)."""
    settings = (municipality.settings or {}).get("branding") or {}
    name = settings.get("display_name") if isinstance(settings.get("display_name"), str) else ""
    if not name.strip():
        name = municipality.name_in(locale)
    return Branding(municipality.code, name.strip(), _colour(settings.get("primary_colour")),
                    _colour(settings.get("accent_colour")), has_logo)


def _colour(value) -> str | None:
    return value.lower() if isinstance(value, str) and _COLOUR.match(value) else None


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours (1 to 21)."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(colour: str) -> float:
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(colour[i:i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def stylesheet(branding: Branding) -> str:
    """The city's stylesheet: the header in its primary colour (text in white or ink,
    whichever reads), links and buttons too when the colour reads on white, and a band in
    its accent colour under the header."""
    lines = [f"/* {branding.code}: generated from the city's branding settings */"]
    primary, accent = branding.primary_colour, branding.accent_colour
    if primary:
        ink = WHITE if contrast(primary, WHITE) >= contrast(primary, INK) else INK
        if contrast(primary, WHITE) >= READABLE:
            lines.append(f"body.city-branded {{ --accent: {primary}; --accent-ink: {WHITE}; }}")
        lines.append(f"body.city-branded .site-header {{ background: {primary}; color: {ink}; }}")
        lines.append(f"body.city-branded .site-header a, body.city-branded .site-header .who "
                     f"{{ color: {ink}; }}")
    if accent:
        lines.append(f"body.city-branded .site-header {{ border-bottom: .4rem solid {accent}; }}")
    return "\n".join(lines) + "\n"
