import time

from django.core.management.base import BaseCommand, CommandError

from analytics import rollup
from shops.models import Shop


class Command(BaseCommand):
    help = "Recompute the analytics rollup (analytics_dailystat) of every shop, or of one, from the tickets."

    def add_arguments(self, parser):
        parser.add_argument("--shop", help="shop code (default: every shop)")

    def handle(self, *args, shop=None, **options):
        shops = Shop.objects.order_by("code")
        if shop:
            shops = shops.filter(code=shop)
            if not shops.exists():
                raise CommandError(f"Unknown shop '{shop}'.")
        for one in shops:
            start = time.perf_counter()

            def progress(*, shop, first, last, run, runs):
                self.stdout.write(f"  {shop.code}: {first} … {last} ({run}/{runs})")

            days = rollup.stats_rebuild(shop=one, progress=progress)
            self.stdout.write(
                f"{one.code}: {days} days recomputed in {time.perf_counter() - start:.1f} s"
            )
