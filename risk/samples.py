"""Generated photos (Pillow): the demo's evidence, the tests' pictures and the threshold's
measurement (bench/risk_phash.py). A seed gives always the same picture."""

import io
import random

from PIL import Image, ImageDraw, ImageFilter


def sample_photo(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A picture of random shapes over a gradient, with a little noise: different seeds give
    different pictures, as different as two customers' photos of two parcels."""
    rng = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    top = [rng.randrange(256) for _ in range(3)]
    bottom = [rng.randrange(256) for _ in range(3)]
    horizontal = rng.random() < 0.5
    steps = width if horizontal else height
    for i in range(steps):
        colour = tuple(int(a + (b - a) * i / steps) for a, b in zip(top, bottom, strict=True))
        if horizontal:
            draw.line([(i, 0), (i, height)], fill=colour)
        else:
            draw.line([(0, i), (width, i)], fill=colour)
    for _ in range(rng.randint(4, 12)):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1 = min(width, x0 + rng.randint(width // 10, width // 2))
        y1 = min(height, y0 + rng.randint(height // 10, height // 2))
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = rng.choice(("rectangle", "ellipse", "polygon", "line"))
        if shape == "rectangle":
            draw.rectangle([x0, y0, x1, y1], fill=colour)
        elif shape == "ellipse":
            draw.ellipse([x0, y0, x1, y1], fill=colour)
        elif shape == "polygon":
            points = [
                (rng.randrange(width), rng.randrange(height)) for _ in range(rng.randint(3, 6))
            ]
            draw.polygon(points, fill=colour)
        else:
            draw.line([x0, y0, x1, y1], fill=colour, width=rng.randint(3, 20))
    noise = Image.effect_noise(size, rng.randint(8, 40)).convert("RGB")
    image = Image.blend(image, noise, 0.15)
    return image.filter(ImageFilter.GaussianBlur(0.6))


def resized(image: Image.Image, factor: float = 0.5) -> Image.Image:
    return image.resize((int(image.width * factor), int(image.height * factor)), Image.LANCZOS)


def reencoded(image: Image.Image, quality: int = 30) -> Image.Image:
    return Image.open(io.BytesIO(jpeg_bytes(image, quality=quality)))


def cropped(image: Image.Image, area: float = 0.05) -> Image.Image:
    """5 % of the picture's area cut off: an equal strip from each side (1.27 % of each side)."""
    side = (1 - (1 - area) ** 0.5) / 2
    dx, dy = round(image.width * side), round(image.height * side)
    return image.crop((dx, dy, image.width - dx, image.height - dy))


def jpeg_bytes(image: Image.Image, *, quality: int = 90, exif: Image.Exif | None = None) -> bytes:
    buffer = io.BytesIO()
    options = {"quality": quality}
    if exif is not None:
        options["exif"] = exif
    image.convert("RGB").save(buffer, "JPEG", **options)
    return buffer.getvalue()


def exif_taken(moment: str) -> Image.Exif:
    """EXIF saying the picture was taken at `moment` ("2026:10:01 08:30:00", camera local time,
    no offset): DateTimeOriginal in the Exif IFD and DateTime in IFD0."""
    exif = Image.Exif()
    exif[306] = moment
    exif.get_ifd(0x8769)[36867] = moment
    return exif
