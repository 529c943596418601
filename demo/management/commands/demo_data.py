from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from demo.tickets import HISTORY_CUSTOMER, demo_tickets_create
from shops.models import Shop
from shops.services import shop_bootstrap


class Command(BaseCommand):
    help = "Set up the demo shop (fresh logins and API key) with sample tickets, and print how to log in."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, url, **options):
        creds = shop_bootstrap(code="demo", user_prefix="")
        shop = Shop.objects.get(code="demo")
        agent = get_user_model().objects.get(username=creds["users"]["agent"]["username"])
        made = demo_tickets_create(shop=shop, agent=agent)
        users = creds["users"]
        lines = [
            "",
            "=" * 64,
            f"  Aftersales is starting at {url}",
            f"  (demo shop: {made} sample tickets created)"
            if made
            else "  (demo shop: sample tickets kept)",
            "",
            f"  agent       {users['agent']['username']} / {users['agent']['password']}",
            f"  supervisor  {users['supervisor']['username']} / {users['supervisor']['password']}",
            f"  admin       {users['admin']['username']} / {users['admin']['password']}   (also {url}admin/)",
            "",
            f"  shop API key (Authorization: Api-Key ...): {creds['api_key']}",
            f"  API docs: {url}api/v1/docs/",
            f"  a customer's history: {url}customers/demo/{HISTORY_CUSTOMER}/"
            f"  (or click the customer's name on a ticket; API: {url}api/v1/customers/{HISTORY_CUSTOMER}/)",
            "  Passwords and key are new on every `make run`. Stop with Ctrl-C.",
            "=" * 64,
            "",
        ]
        text = "\n".join(lines)
        # The process logs that follow scroll the banner away; keep a copy.
        logins_file = settings.VAR_DIR / "demo-logins.txt"
        logins_file.write_text(text)
        logins_file.chmod(0o600)
        self.stdout.write(text + f"  (saved in {logins_file})\n")
