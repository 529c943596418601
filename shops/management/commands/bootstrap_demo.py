import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from shops.services import shop_bootstrap


class Command(BaseCommand):
    help = "Create shop 'demo' (or --shop CODE) with an API key and agent/supervisor/admin users; prints JSON."

    def add_arguments(self, parser):
        parser.add_argument("--shop", default="demo", help="shop code (default: demo)")

    def handle(self, *args, shop, **options):
        if slugify(shop) != shop:
            raise CommandError(f"Shop code '{shop}' must be a slug (letters, digits, - and _).")
        prefix = "" if shop == "demo" else f"{shop}-"
        result = shop_bootstrap(code=shop, user_prefix=prefix)
        self.stdout.write(json.dumps(result, ensure_ascii=False))
