"""What a photo tells by itself: its perceptual hash, the hash's bands, and its capture time.

Matching (README "Risk"): two photos match when the Hamming distance of their 64-bit pHashes is
at most MATCH_DISTANCE. The index is multi-index hashing (Norouzi, Punjani & Fleet 2012): the hash
is cut into 3 wide bands (22, 21 and 21 bits) and each band may differ by at most its radius
(3, 3, 2). Two hashes within MATCH_DISTANCE bits cannot exceed every radius — that would take
(3+1) + (3+1) + (2+1) = 11 bits — so every match has a band within its radius. A lookup
therefore asks the index for the stored bands equal to one of the *probes*: every value within
the radius of each of the new hash's bands (3,588 values). Wide bands are what makes it
selective: a random stored hash is a candidate with probability ~1.3e-3 (1,794/2^22 + 1,562/2^21
+ 232/2^21), against ~19 % for 11 bands of 6 bits (every band value is shared by 1/64 of all
hashes). The exact distance is then computed here, in Python.
"""

import datetime as dt
import re
from itertools import combinations
from zoneinfo import ZoneInfo

import imagehash
from PIL import Image, UnidentifiedImageError

# Tuned on generated pictures (bench/risk_phash.py, README "Risk"): resized, re-encoded and
# 5 %-cropped copies stay within 10 bits, different pictures were never closer than 14.
MATCH_DISTANCE = 10
HASH_BITS = 64
# Band widths and how many bits each may differ by; radii + 1 must add up to more than
# MATCH_DISTANCE for the guarantee (checked below).
BAND_WIDTHS = (22, 21, 21)
BAND_RADII = (3, 3, 2)
BANDS = len(BAND_WIDTHS)
_BAND_SHIFT = 24  # a band is stored as (its number << 24) | its bits: one indexed integer column
assert sum(BAND_WIDTHS) == HASH_BITS and max(BAND_WIDTHS) <= _BAND_SHIFT
assert sum(radius + 1 for radius in BAND_RADII) > MATCH_DISTANCE

# EXIF: the Exif IFD, DateTimeOriginal and its offset; IFD0's DateTime and its offset.
EXIF_IFD = 0x8769
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 36867, 36881
DATETIME, OFFSET_TIME = 306, 36880
# A camera's clock without an offset is read as China's time (the shops' customers).
CAMERA_ZONE = ZoneInfo("Asia/Shanghai")
_EXIF_MOMENT = re.compile(r"^\s*(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
# Smaller pictures (icons, 1×1 test pixels) and plain ones (a hash of all equal bits) carry no
# picture to compare: they are stored with their capture time but never matched.
MIN_SIDE = 32
_OFFSET = re.compile(r"^\s*([+-])(\d{2}):(\d{2})\s*$")


class PhotoFacts:
    """The hash (as a signed 64-bit integer, what a PostgreSQL bigint holds) and capture time."""

    __slots__ = ("comparable", "exif_present", "phash", "taken_at")

    def __init__(
        self, *, phash: int, taken_at: dt.datetime | None, exif_present: bool, comparable: bool
    ):
        self.phash, self.taken_at, self.exif_present = phash, taken_at, exif_present
        self.comparable = comparable


def photo_facts(file) -> PhotoFacts | None:
    """The facts of an image file (an open binary file), or None when Pillow cannot read it
    (a HEIC without a plugin, a truncated file, a decompression bomb): it is then not hashed."""
    try:
        with Image.open(file) as image:
            image.load()
            return photo_facts_of_image(image)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def photo_facts_of_image(image: Image.Image) -> PhotoFacts:
    taken_at = capture_time(image.getexif())
    phash = to_signed(int(str(imagehash.phash(image)), 16))
    big_enough = min(image.size) >= MIN_SIDE
    return PhotoFacts(
        phash=phash,
        taken_at=taken_at,
        exif_present=taken_at is not None,
        comparable=big_enough and phash not in (0, -1),
    )


def capture_time(exif: Image.Exif) -> dt.datetime | None:
    """DateTimeOriginal (Exif IFD), else IFD0's DateTime; with its offset tag if any, else in
    Asia/Shanghai. None when absent or unreadable."""
    try:
        exif_ifd = exif.get_ifd(EXIF_IFD)
    except (KeyError, ValueError, TypeError, OSError):
        exif_ifd = {}
    for moment_tag, offset_tag, ifd in (
        (DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL, exif_ifd),
        (DATETIME, OFFSET_TIME, exif),
    ):
        moment = _moment(ifd.get(moment_tag), ifd.get(offset_tag) or exif_ifd.get(offset_tag))
        if moment is not None:
            return moment
    return None


def _moment(raw, offset) -> dt.datetime | None:
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "replace")
    if not isinstance(raw, str):
        return None
    match = _EXIF_MOMENT.match(raw)
    if not match:
        return None
    try:
        naive = dt.datetime(*(int(part) for part in match.groups()))
    except ValueError:  # "0000:00:00 00:00:00", the cameras' "unknown"
        return None
    zone: dt.tzinfo = CAMERA_ZONE
    if isinstance(offset, bytes):
        offset = offset.decode("ascii", "replace")
    offset_match = _OFFSET.match(offset) if isinstance(offset, str) else None
    if offset_match:
        sign, hours, minutes = offset_match.groups()
        delta = dt.timedelta(hours=int(hours), minutes=int(minutes))
        zone = dt.timezone(-delta if sign == "-" else delta)
    return naive.replace(tzinfo=zone)


def to_signed(value: int) -> int:
    return value - (1 << HASH_BITS) if value >= 1 << (HASH_BITS - 1) else value


def distance(a: int, b: int) -> int:
    """Hamming distance of two hashes (signed or not: the low 64 bits count)."""
    return ((a ^ b) & ((1 << HASH_BITS) - 1)).bit_count()


def bands(phash: int) -> list[int]:
    """The hash's BANDS bands, each tagged with its number so equal bits in different bands
    never compare equal: what is stored in the index."""
    value = phash & ((1 << HASH_BITS) - 1)
    result, shift = [], 0
    for number, width in enumerate(BAND_WIDTHS):
        result.append((number << _BAND_SHIFT) | ((value >> shift) & ((1 << width) - 1)))
        shift += width
    return result


def _within(width: int, radius: int) -> list[int]:
    """Every XOR mask of `width` bits with at most `radius` bits set."""
    masks = [0]
    for count in range(1, radius + 1):
        masks += [sum(1 << bit for bit in bits) for bits in combinations(range(width), count)]
    return masks


_MASKS = [_within(width, radius) for width, radius in zip(BAND_WIDTHS, BAND_RADII, strict=True)]


def probes(phash: int) -> list[int]:
    """The band values a lookup asks the index for: each band of the hash with up to its radius
    of bits flipped. A stored hash within MATCH_DISTANCE has at least one band among them."""
    result = []
    for number, (band, masks) in enumerate(zip(bands(phash), _MASKS, strict=True)):
        tag = number << _BAND_SHIFT
        bits = band ^ tag
        result += [tag | (bits ^ mask) for mask in masks]
    return result
