"""How well the photo hash tells copies from different pictures (README "Risk").

    .venv/bin/python bench/risk_phash.py [N]        # N generated pictures, 300 by default

Draws N different pictures (risk.samples: random shapes over gradients, with noise), hashes
them and a resized (50 %), re-encoded (JPEG quality 30), cropped (5 % of the area) and
combined copy of each, and prints per transformation the share of copies within
risk.photos.MATCH_DISTANCE, the false-match rate over all pairs of different pictures, the
closest different pair, and how many stored hashes a lookup reads as index candidates (a band
of the stored hash among the new hash's probes, risk.photos.probes).
"""

import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from risk import photos
from risk.samples import cropped, reencoded, resized, sample_photo


def main(n: int) -> None:
    originals = [sample_photo(seed) for seed in range(n)]
    hashes = [photos.photo_facts_of_image(image).phash for image in originals]
    transforms = {
        "resized 50 %": lambda image: resized(image, 0.5),
        "JPEG quality 30": lambda image: reencoded(image, 30),
        "cropped 5 % (area)": cropped,
        "cropped 5 % of each side": lambda image: cropped(image, 1 - 0.95**2),
        "resized + cropped + JPEG 40": lambda image: reencoded(cropped(resized(image, 0.6)), 40),
    }
    print(
        f"{n} pictures, match distance <= {photos.MATCH_DISTANCE}, {photos.BANDS} bands of "
        f"{photos.BAND_WIDTHS} bits, radii {photos.BAND_RADII}"
    )
    for name, transform in transforms.items():
        distances = [
            photos.distance(h, photos.photo_facts_of_image(transform(image)).phash)
            for image, h in zip(originals, hashes, strict=True)
        ]
        matched = sum(d <= photos.MATCH_DISTANCE for d in distances)
        print(
            f"  {name:30} matched {matched}/{n} ({100 * matched / n:.1f} %), "
            f"median distance {statistics.median(distances)}, max {max(distances)}"
        )
    pairs = [(a, b) for i, a in enumerate(hashes) for b in hashes[i + 1 :]]
    distances = [photos.distance(a, b) for a, b in pairs]
    false = sum(d <= photos.MATCH_DISTANCE for d in distances)
    probes = {h: set(photos.probes(h)) for h in hashes}
    candidates = sum(bool(probes[a] & set(photos.bands(b))) for a, b in pairs)
    print(
        f"  different pictures: {false}/{len(pairs)} pairs matched "
        f"({100 * false / len(pairs):.3f} %), closest {min(distances)} bits; "
        f"index candidates {candidates}/{len(pairs)} ({100 * candidates / len(pairs):.2f} %)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
