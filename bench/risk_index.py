#!/usr/bin/env python
"""What the photo index costs: an upload with hashing, and a lookup at 10k and 1M stored hashes.

    .venv/bin/python bench/risk_index.py [--photos 40 --lookups 300 --sizes 10000,1000000]

In a database of its own (`aftersales_risk_bench`, created and migrated here, emptied of photo
hashes at the start), one shop, one ticket:

1. **Upload with hashing**: generated 640×480 JPEG photos (risk.samples) stored through
   `tickets.services.attachment_add` (file saved, the `attachment_added` event: hash, EXIF,
   index lookup, bands and matches written) — ms per photo, and the hash alone
   (`risk.photos.photo_facts`) for comparison.
2. **Lookup**: the shop's photo table is filled with random 64-bit hashes (`INSERT … SELECT
   generate_series`, md5 of the row number; foreign-key triggers skipped, as bench/generate.py
   loads) up to each size, then `VACUUM ANALYZE`; `risk.selectors.photos_within` is timed for
   random hashes (a new photo matching nothing, the common case) and for stored ones (a reused
   photo), printing the index candidates read per lookup, ms per lookup and the ratio of the
   largest size to the smallest, with the plan of one lookup (an index-only scan) and the
   uploads again at that size.
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import database_ready

DB = "aftersales_risk_bench"
# A random signed 64-bit hash from the row number, and its three tagged bands (risk.photos.bands:
# 22, 21 and 21 bits, the band's number << 24); >> is arithmetic in PostgreSQL, the mask keeps
# the band's own bits.
HASH_SQL = "('x' || substr(md5(i::text), 1, 16))::bit(64)::bigint"
FILL_SQL = f"""
WITH new AS (
    INSERT INTO risk_photohash
        (id, attachment_id, shop_id, ticket_id, order_no, phash, exif_present, compared,
         created_at)
    SELECT 1000000000 + i, 1000000000 + i, %(shop)s, %(ticket)s, 'R' || i, {HASH_SQL},
           false, true, now()
    FROM generate_series(%(start)s, %(stop)s) AS i
    RETURNING id, phash
)
INSERT INTO risk_photoband (photo_id, shop_id, band, phash)
SELECT id, %(shop)s, band, phash FROM new,
LATERAL (VALUES (phash & 4194303),
                ((1 << 24) | ((phash >> 22) & 2097151)),
                ((2 << 24) | ((phash >> 43) & 2097151))) AS b(band)
"""


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=int, default=40, help="uploads timed at each size")
    parser.add_argument("--lookups", type=int, default=300, help="lookups timed at each size")
    parser.add_argument("--sizes", default="10000,1000000", help="stored hashes, comma-separated")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    database_ready(DB)
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection

    from risk import photos
    from risk.models import PhotoHash
    from risk.samples import jpeg_bytes, sample_photo
    from risk.selectors import photo_candidates, photos_within
    from shops.models import Shop
    from tickets import services

    shop, _ = Shop.objects.get_or_create(code="bench-risk", defaults={"name": "Bench risk"})
    PhotoHash.objects.filter(shop=shop).delete()
    actor = services.Actor.shop(shop)
    ticket = services.ticket_create(
        shop=shop,
        actor=actor,
        dispute_type_code="damaged_on_arrival",
        customer={"external_id": "c-bench", "name": "张三", "phone": "13800000000"},
        order={
            "order_no": f"RB{time.time_ns()}",
            "amount": "21.00",
            "items": [{"sku": "GLASS-500", "unit_price": "10.50", "quantity": 2}],
        },
    )
    pictures = [jpeg_bytes(sample_photo(10_000 + i)) for i in range(args.photos * len(sizes))]
    upload_round = iter(range(len(sizes)))

    def uploads() -> tuple[float, float]:
        batch = pictures[next(upload_round) * args.photos :][: args.photos]
        start = time.perf_counter()
        for i, data in enumerate(batch):
            services.attachment_add(
                ticket=ticket,
                uploaded_file=SimpleUploadedFile(f"p{i}.jpg", data),
                kind="photo",
                actor=actor,
            )
        upload_ms = (time.perf_counter() - start) * 1000 / len(batch)
        import io

        start = time.perf_counter()
        for data in batch:
            photos.photo_facts(io.BytesIO(data))
        return upload_ms, (time.perf_counter() - start) * 1000 / len(batch)

    rng = random.Random(16)
    results = {}
    stored = 0
    with connection.cursor() as cur:
        for size in sizes:
            cur.execute("SET session_replication_role = replica")
            start = time.perf_counter()
            cur.execute(
                FILL_SQL, {"shop": shop.pk, "ticket": ticket.pk, "start": stored, "stop": size - 1}
            )
            cur.execute("SET session_replication_role = DEFAULT")
            cur.execute("VACUUM ANALYZE risk_photoband")
            cur.execute("VACUUM ANALYZE risk_photohash")
            fill = time.perf_counter() - start
            stored = size
            cur.execute(
                "SELECT phash FROM risk_photohash WHERE shop_id = %s AND id >= 1000000000 "
                "ORDER BY id LIMIT 1",
                [shop.pk],
            )
            (sample,) = cur.fetchone()
            cur.execute(
                "SELECT band FROM risk_photoband WHERE phash = %s AND shop_id = %s ORDER BY band",
                [sample, shop.pk],
            )
            assert [row[0] for row in cur.fetchall()] == photos.bands(sample), "bands differ"
            cur.execute(
                "SELECT phash FROM risk_photohash WHERE shop_id = %s AND id >= 1000000000 "
                "ORDER BY id LIMIT 50",
                [shop.pk],
            )
            known = [row[0] for row in cur.fetchall()]
            queries = [photos.to_signed(rng.getrandbits(64)) for _ in range(args.lookups)]
            for phash in queries[:20]:  # warm-up
                photos_within(shop_id=shop.pk, phash=phash)
            times, candidates, found = [], [], 0
            for phash in queries:
                start = time.perf_counter()
                found += len(photos_within(shop_id=shop.pk, phash=phash))
                times.append((time.perf_counter() - start) * 1000)
                candidates.append(photo_candidates(shop_id=shop.pk, phash=phash).count())
            known_times, known_found = [], 0
            for phash in known:
                start = time.perf_counter()
                known_found += len(photos_within(shop_id=shop.pk, phash=phash)) > 0
                known_times.append((time.perf_counter() - start) * 1000)
            query, params = photo_candidates(
                shop_id=shop.pk, phash=queries[0]
            ).query.sql_with_params()
            cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query}", params)
            plan = [row[0] for row in cur.fetchall()]
            upload_ms, hash_ms = uploads()
            results[size] = statistics.median(times)
            print(f"{size:,} stored hashes (filled and vacuumed in {fill:.1f} s):")
            print(
                f"  lookup, new photo: median {statistics.median(times):.2f} ms, "
                f"p95 {sorted(times)[int(0.95 * len(times))]:.2f} ms over {len(times)}; "
                f"candidates read median {statistics.median(candidates):g}, "
                f"max {max(candidates)}; matches {found}"
            )
            print(
                f"  lookup, stored photo again: median {statistics.median(known_times):.2f} ms, "
                f"found {known_found}/{len(known)}"
            )
            print(f"  plan: {plan[0].strip()}")
            for line in plan[1:]:
                if "Heap Fetches" in line or "Execution Time" in line or "Buffers" in line:
                    print(f"        {line.strip()}")
            print(
                f"  upload with hashing (attachment_add, 640×480 JPEG): {upload_ms:.1f} ms/photo;"
                f" hash and EXIF alone {hash_ms:.1f} ms"
            )
    if len(sizes) > 1:
        print(
            f"lookup ratio {sizes[-1]:,} / {sizes[0]:,}: {results[sizes[-1]] / results[sizes[0]]:.2f}"
        )


if __name__ == "__main__":
    main()
