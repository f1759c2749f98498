"""Draw the glyphless TrueType font that carries the invisible text layer of our searchable PDFs, and print
it as the base64 text kept in ``ocr/pdf.py`` (``GLYPHLESS_TTF``).

The font has two glyphs, both empty: ``.notdef`` and one glyph 500 units wide (of 1000 per em), to which
the PDF maps every character. Invisible text (render mode 3) draws nothing, so no outline is needed, but a
PDF should embed the font it names. Ascent 800 and descent -200 make a glyph's cell exactly one font size
tall, so a word drawn at the size of its line's height fills its box. Needs ``pip install fonttools``.

    python scripts/make_glyphless_font.py > /tmp/font.b64
"""

from __future__ import annotations

import base64
import io
import textwrap

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen


def glyphless_font() -> bytes:
    """The font's bytes: two empty glyphs, 1000 units per em, advance 500."""
    names = [".notdef", "glyph1"]
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({})
    empty = TTGlyphPen(None).glyph()
    builder.setupGlyf({name: empty for name in names})
    builder.setupHorizontalMetrics({name: (500, 0) for name in names})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": "GlyphLess", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=800, sTypoDescender=-200, usWinAscent=800, usWinDescent=200)
    builder.setupPost()
    out = io.BytesIO()
    builder.save(out)
    return out.getvalue()


if __name__ == "__main__":
    print("\n".join(textwrap.wrap(base64.b64encode(glyphless_font()).decode("ascii"), 100)))
