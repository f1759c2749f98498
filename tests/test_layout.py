"""ocr.layout.arrange on made-up line lists and on excerpts of real PP-OCR readings of the dev set."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from ocr.layout import Piece, TextLine, Word, arrange, fit_to_ink

Points = tuple[tuple[float, float], ...]


def rect(x0: float, y0: float, x1: float, y1: float) -> Points:
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def line(x0: float, y0: float, x1: float, y1: float, text: str, conf: float = 90.0) -> TextLine:
    return TextLine(rect(x0, y0, x1, y1), text, conf)


def lines_of(text: str) -> list[str]:
    return [row for row in text.split("\n") if row]


def column(x0: float, x1: float, y0: float, texts: list[str], pitch: float = 34, height: float = 36) -> list[TextLine]:
    """Lines of a justified column: boxes as wide as the column, overlapping their neighbours a little."""
    return [line(x0, y0 + i * pitch, x1, y0 + i * pitch + height, t) for i, t in enumerate(texts)]


LEFT = [f"left column line number {i} of running text" for i in range(1, 9)]
RIGHT = [f"right column line number {i} of running text" for i in range(1, 9)]


def test_empty_and_blank_input() -> None:
    assert arrange([], (100, 100)) == ("", [])
    assert arrange([line(0, 0, 50, 20, "   "), line(0, 30, 50, 50, "")], (100, 100)) == ("", [])


def test_two_columns_read_left_then_right() -> None:
    # Boxes of the two columns touch (the gutter is narrower than the boxes' margins), the right column
    # starts half a line lower, and rapidocr gives them interleaved row by row.
    left, right = column(10, 695, 0, LEFT), column(698, 1390, 17, RIGHT)
    mixed = [x for pair in zip(left, right) for x in pair]
    text, words = arrange(mixed, (1400, 400))
    assert lines_of(text) == LEFT + RIGHT
    assert {w.block for w in words if w.text == "left"} != {w.block for w in words if w.text == "right"}


def test_columns_on_one_baseline_grid_are_still_columns() -> None:
    # Both columns' lines at exactly the same heights: only that both read as running text tells them from a table.
    mixed = [x for pair in zip(column(10, 690, 0, LEFT), column(720, 1390, 0, RIGHT)) for x in pair]
    assert lines_of(arrange(mixed, (1400, 400))[0]) == LEFT + RIGHT


def test_receipt_label_and_price_stay_one_line() -> None:
    rows = [("Bread", "2.50"), ("Chocolate bar", "14.06"), ("Milk", "0.99"), ("Coffee beans", "12.00"),
            ("Tea", "3.10"), ("TOTAL", "32.65")]
    given = [line(250, 10, 450, 50, "CORNER STORE")]
    for i, (label, price) in enumerate(rows):
        y = 100 + 48 * i
        given.append(line(60, y, 60 + 22 * len(label), y + 38, label))
        given.append(line(560, y + 3, 640, y + 41, price))  # printed a little lower, as on a skewed scan
    text, words = arrange(given[::-1], (700, 500))
    assert lines_of(text) == ["CORNER STORE"] + [f"{label} {price}" for label, price in rows]
    bread, cost = next(w for w in words if w.text == "Bread"), next(w for w in words if w.text == "2.50")
    assert (bread.block, bread.par, bread.line) == (cost.block, cost.par, cost.line)
    assert cost.word == 2


def test_heading_over_two_columns() -> None:
    heading = line(300, 0, 1100, 70, "A HEADING ACROSS BOTH COLUMNS")
    left, right = column(10, 690, 120, LEFT), column(720, 1390, 120, RIGHT)
    # A paragraph break at the same height in both columns must not make the page read across.
    for part in (left, right):
        for k in range(4, 8):
            old = part[k]
            part[k] = TextLine(tuple((x, y + 40) for x, y in old.polygon), old.text, old.conf)
    text, _ = arrange([heading, *right, *left], (1400, 600))
    assert lines_of(text) == ["A HEADING ACROSS BOTH COLUMNS", *LEFT, *RIGHT]
    assert text.split("\n\n")[0] == "A HEADING ACROSS BOTH COLUMNS"


def rotate(lines: list[TextLine], degrees: float, centre: tuple[float, float]) -> list[TextLine]:
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    cx, cy = centre
    return [TextLine(tuple((cx + (x - cx) * c - (y - cy) * s, cy + (x - cx) * s + (y - cy) * c) for x, y in tl.polygon),
                     tl.text, tl.conf) for tl in lines]


@pytest.mark.parametrize("degrees", [-4.0, 3.0])
def test_slightly_skewed_lines(degrees: float) -> None:
    # Tilted by a few degrees, a line's box overlaps its neighbours' heights across the page.
    page = column(10, 690, 0, LEFT) + column(720, 1390, 17, RIGHT)
    text, words = arrange(rotate(page, degrees, (700, 150)), (1400, 400))
    assert lines_of(text) == LEFT + RIGHT
    assert all(w.left >= 0 and w.left + w.width <= 1400 and w.top >= 0 and w.top + w.height <= 400 for w in words)


def test_numbering_like_tesseract() -> None:
    given = [line(10, 0, 400, 30, "first paragraph line one"), line(10, 32, 400, 62, "first paragraph line two"),
             line(10, 74, 400, 104, "second paragraph starts"), line(10, 106, 300, 136, "and ends here")]
    text, words = arrange(given, (500, 200))
    assert text == "first paragraph line one\nfirst paragraph line two\nsecond paragraph starts\nand ends here"
    assert Word._fields == ("text", "conf", "left", "top", "width", "height", "block", "par", "line", "word")
    numbers = [(w.block, w.par, w.line, w.word) for w in words]
    assert numbers[:5] == [(1, 1, 1, 1), (1, 1, 1, 2), (1, 1, 1, 3), (1, 1, 1, 4), (1, 1, 2, 1)]
    second = next(w for w in words if w.text == "second")
    assert (second.block, second.par, second.line, second.word) == (1, 2, 1, 1)  # line numbers restart
    assert all(isinstance(w.conf, float) and 0 <= w.conf <= 100 for w in words)


def test_blocks_are_separated_by_a_blank_line() -> None:
    given = [line(10, 0, 400, 30, "a block of one line"), line(10, 200, 400, 230, "another block")]
    assert arrange(given, (500, 300))[0] == "a block of one line\n\nanother block"


def test_word_boxes_from_character_pieces() -> None:
    pieces = tuple(Piece(c, 50.0 + i, (10 + 20 * i, 5, 26 + 20 * i, 35)) for i, c in enumerate("abcde"))
    # "ab cde": the space sits between the second and third character
    text, words = arrange([TextLine(rect(0, 0, 130, 40), "ab cde", 80.0, pieces)], (200, 50))
    assert text == "ab cde"
    boxes = [(w.text, w.left, w.width, w.top, w.height) for w in words]
    assert boxes == [("ab", 10, 36, 5, 30), ("cde", 50, 56, 5, 30)]
    assert [w.conf for w in words] == [50.5, 53.0]


def test_word_boxes_by_character_share_without_pieces() -> None:
    _, words = arrange([line(0, 0, 110, 20, "aaaa bbbbbb")], (200, 50))
    assert [(w.text, w.left, w.width) for w in words] == [("aaaa", 0, 40), ("bbbbbb", 50, 60)]
    assert all(w.conf == 90.0 for w in words)
    # pieces that do not spell the line are ignored
    odd = TextLine(rect(0, 0, 110, 20), "aaaa bbbbbb", 90.0, (Piece("x", 99.0, (0, 0, 5, 5)),))
    assert arrange([odd], (200, 50))[1] == words


def test_boxes_are_clipped_to_the_image() -> None:
    _, words = arrange([line(-20, -5, 130, 30, "off the edge")], (100, 25))
    assert all(w.left >= 0 and w.top >= 0 and w.left + w.width <= 100 and w.top + w.height <= 25 for w in words)


def word(left: int, top: int, width: int, height: int) -> Word:
    return Word("word", 90.0, left, top, width, height, 1, 1, 1, 1)


@pytest.mark.parametrize("paper, ink", [(235, 30), (20, 220)])  # dark on light, and light on dark
def test_fit_to_ink(paper: int, ink: int) -> None:
    page = np.full((100, 200), paper, dtype=np.uint8)
    page[40:60, 50:130] = ink  # the "letters"
    page[45, 55] = paper  # a hole in them changes nothing
    loose = word(45, 25, 90, 45)  # as loose as detected boxes are: a little wider, twice as high
    assert fit_to_ink([loose], page) == [loose._replace(left=50, top=40, width=80, height=20)]
    rgb = np.repeat(page[:, :, None], 3, axis=2)
    assert fit_to_ink([loose], rgb)[0][2:6] == (50, 40, 80, 20)


def test_fit_to_ink_leaves_doubtful_boxes() -> None:
    page = np.full((100, 200), 200, dtype=np.uint8)
    blank = word(10, 10, 50, 30)
    assert fit_to_ink([blank], page) == [blank]  # nothing there
    page[50:54, 100:190] = 190  # too faint to tell from the paper
    faint = word(90, 40, 110, 30)
    assert fit_to_ink([faint], page) == [faint]
    page[10:40, 20:30] = 0  # a stroke at one end only: the word keeps its sides, fits its height
    stroke = word(15, 5, 100, 40)
    assert fit_to_ink([stroke], page) == [stroke._replace(top=10, height=30)]


# Excerpts of PP-OCRv6 readings (rapidocr 3.10.0, defaults) of the dev set, in rapidocr's order.
NEWSPAPER = [  # lept_lighttext: two columns whose boxes touch at x 695/705
    (((10, 0), (693, 3), (693, 39), (10, 36)), 'he also suffered internal injuries has'),
    (((710, 0), (1381, 0), (1381, 20), (710, 20)), 'and the other said to contain $i,oo.'),
    (((709, 20), (1392, 18), (1392, 54), (709, 57)), 'Mr. Foster with a resigning sigh. as'),
    (((11, 33), (371, 33), (371, 67), (11, 67)), 'not been determined'),
    (((43, 63), (692, 65), (692, 101), (43, 99)), "During the night, Mr. Austin's condi-"),
    (((706, 54), (1385, 49), (1385, 84), (706, 88)), 'though about to lose all of his worldly'),
    (((706, 83), (1387, 81), (1387, 121), (706, 123)), 'possessions, tossed the purse with the'),
    (((11, 94), (695, 97), (695, 133), (11, 130)), 'tion was reported as fairly satisfactory,'),
    (((10, 124), (695, 126), (695, 166), (10, 164)), 'and a slight improvement has been'),
    (((705, 116), (1386, 114), (1386, 150), (705, 152)), '$10 over to the bandit, and sorrowfully'),
    (((16, 156), (296, 156), (296, 190), (16, 190)), 'noted today.'),
    (((707, 147), (1386, 147), (1386, 184), (707, 184)), 'dropped back into his seat, while the'),
    (((707, 181), (1386, 180), (1386, 216), (707, 217)), 'gent with the sawed off gun took up'),
    (((705, 212), (1385, 210), (1385, 247), (705, 249)), 'the thread of conversation with the'),
]
RECEIPT = [  # sroie_013: labels, "RM" and amounts detected apart, amounts printed lower to the right
    (((198, 1028), (476, 1033), (476, 1079), (197, 1075)), 'Total Incl.68 GST'),
    (((493, 1041), (540, 1041), (540, 1084), (493, 1084)), 'RM'),
    (((606, 1048), (701, 1056), (697, 1107), (602, 1100)), '15.00'),
    (((199, 1067), (336, 1067), (336, 1109), (199, 1109)), 'Rounding'),
    (((494, 1078), (541, 1078), (541, 1120), (494, 1120)), 'RM'),
    (((620, 1089), (700, 1093), (698, 1143), (618, 1140)), '0.00'),
    (((201, 1136), (275, 1136), (275, 1178), (201, 1178)), 'CASH'),
    (((496, 1148), (543, 1151), (540, 1195), (493, 1191)), 'RM'),
    (((609, 1159), (703, 1165), (700, 1216), (605, 1210)), '15.00'),
    (((202, 1175), (305, 1175), (305, 1214), (202, 1214)), 'CHANGE'),
    (((498, 1188), (541, 1188), (541, 1228), (498, 1228)), 'RM'),
    (((621, 1198), (703, 1203), (700, 1252), (618, 1248)), '0.00'),
    (((222, 1242), (549, 1253), (548, 1304), (220, 1293)), 'Thank You.Come Again'),
    (((249, 1279), (528, 1285), (527, 1337), (248, 1330)), '2017-12-28 22:17PM'),
]
TURNED = [  # tess_phototest_rotR: a page turned 90 degrees clockwise; its lines run top to bottom
    (((115, 30), (154, 30), (155, 566), (116, 566)), 'brown dog jumped over the lazy fox.'),
    (((151, 32), (187, 32), (189, 566), (152, 566)), 'jumped over the lazy fox. The quick'),
    (((186, 30), (223, 30), (221, 600), (184, 600)), 'over the lazy fox. The quick brown dog'),
    (((219, 30), (256, 30), (256, 592), (219, 592)), 'lazy fox. The quick brown dog jumped'),
    (((252, 29), (292, 29), (292, 591), (252, 591)), 'The quick brown dog jumped over the'),
    (((290, 31), (325, 31), (323, 232), (288, 231)), 'of file format.'),
    (((322, 29), (361, 29), (357, 623), (318, 622)), 'ocr code and see if it works on all types'),
    (((355, 28), (396, 28), (396, 589), (355, 589)), 'This is a lot of 12 point text to test the'),
]


def real(excerpt: Sequence[tuple[Points, str]]) -> list[TextLine]:
    return [TextLine(polygon, text, 95.0) for polygon, text in excerpt]


def test_real_newspaper_columns() -> None:
    text, _ = arrange(real(NEWSPAPER), (1404, 840))
    got = lines_of(text)
    assert got[:6] == [t for p, t in NEWSPAPER if p[0][0] < 600]
    assert got[6:] == [t for p, t in NEWSPAPER if p[0][0] >= 600]


def test_real_receipt_fields_join_their_labels() -> None:
    text, words = arrange(real(RECEIPT), (807, 1390))
    assert lines_of(text) == ["Total Incl.68 GST RM 15.00", "Rounding RM 0.00", "CASH RM 15.00", "CHANGE RM 0.00",
                              "Thank You.Come Again", "2017-12-28 22:17PM"]
    assert len({(w.block, w.par, w.line) for w in words if w.text in ("CASH", "15.00")}) == 2  # two 15.00 lines


def test_real_turned_page_reads_right_to_left() -> None:
    text, words = arrange(real(TURNED), (480, 640))
    assert lines_of(text) == [t for _, t in sorted(TURNED, key=lambda pt: -pt[0][0][0])]
    first = words[0]
    assert first.text == "This" and first.top < 100 and first.height > first.width  # a box in the turned image
    assert np.all([0 <= w.left < 480 and 0 <= w.top < 640 for w in words])
