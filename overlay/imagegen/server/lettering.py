"""The prompt written on a picture: wrapped to its width, white with a dark outline, along the
bottom, pasted together from words rendered once.

FreeType renders and measures text while holding the interpreter lock: drawing a 256x256
picture's outlined caption took about 2 ms of the painter's 7, during which the server's event
loop could not run. Each word is rendered once per font size into two small masks (its outline
and its fill) and kept in a cache bounded in bytes; a caption is then a few pastes. Widths come
from a cache of their own, so wrapping measures each word once. Words are spaced by their
advances and the font's space, without kerning across the space between them.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice

from PIL import Image, ImageDraw, ImageFont

_RGB = tuple[int, int, int]
_ELLIPSIS = "\u2026"
_WORD = re.compile(r"\S+")
_MIN_TEXT_EDGE = 64  # no text on images smaller than this on either side
_MASK_CACHE_BYTES = 16 * 1024 * 1024
_WIDTH_CACHE_ENTRIES = 65_536
_INK, _OUTLINE = (255, 255, 255), (0, 0, 0)


@dataclass(frozen=True)
class _Masks:
    """One word at one size: where its masks go relative to the pen (on the baseline)."""

    outline: Image.Image
    fill: Image.Image
    left: int
    top: int

    @property
    def bytes(self) -> int:
        return 2 * self.outline.width * self.outline.height


class _WordCache:
    """Rendered words by (font size, word), least recently used out first past a byte bound;
    widths by (font size, text), cleared when full. Safe to share between the pool's threads."""

    def __init__(self, max_bytes: int, max_widths: int) -> None:
        self._max_bytes = max_bytes
        self._max_widths = max_widths
        self._masks: OrderedDict[tuple[int, str], _Masks] = OrderedDict()
        self._widths: dict[tuple[int, str], float] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def width(self, size: int, text: str) -> float:
        """The advance of `text` (one word, or a part of one) at `size`."""
        key = (size, text)
        found = self._widths.get(key)
        if found is None:
            found = _font(size).getlength(text)
            with self._lock:
                if len(self._widths) >= self._max_widths:
                    self._widths.clear()
                self._widths[key] = found
        return found

    def masks(self, size: int, word: str) -> _Masks:
        """The word's outline and fill masks at `size`, rendered on first use."""
        key = (size, word)
        with self._lock:
            found = self._masks.get(key)
            if found is not None:
                self._masks.move_to_end(key)
                return found
        made = _rendered(size, word)
        with self._lock:
            if key not in self._masks:
                self._masks[key] = made
                self._bytes += made.bytes
                while self._bytes > self._max_bytes and len(self._masks) > 1:
                    _, dropped = self._masks.popitem(last=False)
                    self._bytes -= dropped.bytes
        return made


_CACHE = _WordCache(_MASK_CACHE_BYTES, _WIDTH_CACHE_ENTRIES)


@functools.lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _stroke(size: int) -> int:
    return max(1, size // 10)


def _rendered(size: int, word: str) -> _Masks:
    font, stroke = _font(size), _stroke(size)
    left, top, right, bottom = (int(v) for v in font.getbbox(word, anchor="ls", stroke_width=stroke))
    canvas = (max(1, right - left), max(1, bottom - top))
    outline, fill = Image.new("L", canvas, 0), Image.new("L", canvas, 0)
    origin = (-left, -top)
    ImageDraw.Draw(outline).text(
        origin, word, font=font, anchor="ls", fill=255, stroke_width=stroke, stroke_fill=255
    )
    ImageDraw.Draw(fill).text(origin, word, font=font, anchor="ls", fill=255)
    return _Masks(outline, fill, left, top)


def has_room_for_text(size: tuple[int, int], prompt: str) -> bool:
    """Whether a picture of `size` gets its prompt written on it."""
    return min(size) >= _MIN_TEXT_EDGE and bool(prompt.strip())


def draw_caption(rgb: Image.Image, coverage: Image.Image | None, prompt: str) -> None:
    """The prompt in white with a dark outline along the bottom of `rgb`, and drawn opaque into
    `coverage` (the alpha channel to be), which may be None when it is opaque everywhere anyway."""
    width, height = rgb.size
    size = max(10, round(min(width, height) * 0.065))
    margin = max(4, round(min(width, height) * 0.05))
    line_height = round(size * 1.25)
    max_lines = max(1, min(4, int(height * 0.4) // line_height))
    lines = wrapped(prompt, size, width - 2 * margin, max_lines)
    space = _CACHE.width(size, " ")
    for number, line in enumerate(lines):
        baseline = height - margin - (len(lines) - 1 - number) * line_height
        pen = float(margin)
        for word in line.split(" "):
            if word:
                masks = _CACHE.masks(size, word)
                place = (round(pen) + masks.left, baseline + masks.top)
                rgb.paste(_OUTLINE, place, masks.outline)
                rgb.paste(_INK, place, masks.fill)
                if coverage is not None:
                    coverage.paste(255, place, masks.outline)
            pen += _CACHE.width(size, word) + space


def line_width(size: int, line: str) -> float:
    """The advance of a line of words at `size`, as draw_caption spaces them."""
    words = line.split(" ")
    spaces = _CACHE.width(size, " ") * (len(words) - 1)
    return sum(_CACHE.width(size, word) for word in words if word) + spaces


def wrapped(text: str, size: int, max_width: int, max_lines: int) -> list[str]:
    """At most `max_lines` lines of `text` fitting `max_width`; the last ends in … if text is left."""
    lines = list(islice(_lines(text, size, max_width), max_lines + 1))
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and line_width(size, last + _ELLIPSIS) > max_width:
            last = last[:-1]
        lines[-1] = last.rstrip() + _ELLIPSIS
    return lines


def _lines(text: str, size: int, max_width: int) -> Iterator[str]:
    """Greedy word wrap, lazily: a 32,000-character prompt costs only the lines shown.

    Unprintable characters are dropped; a word wider than a line is cut where it must be. No line
    holds more characters than glyphs 0.15 em (and at least 2 px) wide would fill (the default
    font's narrowest is about 0.2 em), and each line is found by bisection over the words that
    could fill it, so measuring stays cheap even for very wide images and very long words.
    """
    most = max(1, int(max_width / max(2.0, 0.15 * size)))

    def fits(line: str) -> bool:
        return len(line) <= most and line_width(size, line) <= max_width

    cleaned = ("".join(c for c in match.group() if c.isprintable()) for match in _WORD.finditer(text))
    words = (word for word in cleaned if word)
    pending: list[str] = []
    pending_chars = 0  # the characters of the pending words, with a space after each
    while True:
        while pending_chars <= most and (word := next(words, None)) is not None:
            pending.append(word)
            pending_chars += len(word) + 1
        if not pending:
            return
        count = _largest(len(pending), lambda k: fits(" ".join(pending[:k])))
        if count:
            yield " ".join(pending[:count])
            pending_chars -= sum(len(word) + 1 for word in pending[:count])
            del pending[:count]
        else:  # the first word alone is too wide
            cut = _longest_fitting_prefix(pending[0], most, fits)
            yield pending[0][:cut]
            pending[0] = pending[0][cut:]
            pending_chars -= cut


def _longest_fitting_prefix(word: str, most: int, fits: Callable[[str], bool]) -> int:
    """The length of the longest prefix of `word` that `fits`, at most `most` and at least 1."""
    return max(1, _largest(min(len(word), most), lambda k: fits(word[:k])))


def _largest(limit: int, holds: Callable[[int], bool]) -> int:
    """The largest k in 0..limit for which `holds(k)`, given that it holds up to some k and not beyond.

    `holds(0)` is taken as true without asking.
    """
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if holds(middle):
            low = middle
        else:
            high = middle - 1
    return low
