import re

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, When
from django.db.models.functions import Coalesce, Least, Lower
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tickets.states import ACTIVE_STATUS_LIST, Priority, Status

MONEY = {"max_digits": 12, "decimal_places": 2}
ACTIVE = Q(status__in=ACTIVE_STATUS_LIST)
_CLOCK_RUNNING = tuple(s for s in ACTIVE_STATUS_LIST if s != Status.PENDING_CUSTOMER.value)
# Made once: a model field made per request writes a class attribute (aftersales.runtime).
_MOMENT = models.DateTimeField()


def earliest_due():
    """The first deadline an active ticket must meet: its SLA due time (`next_due_at`) or the
    marketplace's `platform_deadline_at`, whichever is earlier. While the customer is awaited the SLA
    clock is paused, so only the platform deadline counts; resolved and closed tickets have none.

    The queue sorts and filters by this expression and its partial indexes are built on it, so it is
    computed, never stored: nothing has to keep a copy in step with the due times. (LEAST of the two
    COALESCEs because SQLite's MIN() is NULL when either side is; PostgreSQL's LEAST skips NULLs.)
    """
    return Case(
        When(status=Status.PENDING_CUSTOMER.value, then=F("platform_deadline_at")),
        When(
            status__in=_CLOCK_RUNNING,
            then=Least(
                Coalesce("next_due_at", "platform_deadline_at"),
                Coalesce("platform_deadline_at", "next_due_at"),
            ),
        ),
        default=None,
        output_field=_MOMENT,
    )


def mask_phone(phone: str) -> str:
    """13800000000 -> 138****0000; shorter numbers keep only their last 2 digits."""
    if not phone:
        return ""
    if len(phone) >= 7:
        return f"{phone[:3]}****{phone[-4:]}"
    return "*" * (len(phone) - 2) + phone[-2:]


# db_index=False on a foreign key below: a composite index leading with that column covers it,
# and every insert would otherwise maintain a redundant index.


def phone_digits(phone: str) -> str:
    """A phone number as compared: its digits and a leading +, spaces and dashes dropped."""
    return re.sub(r"[^0-9+]", "", phone)


class Customer(models.Model):
    shop = models.ForeignKey(
        "shops.Shop", on_delete=models.CASCADE, related_name="customers", db_index=False
    )
    external_id = models.CharField(_("external id"), max_length=100)
    name = models.CharField(_("name"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "external_id"], name="customer_unique_shop_external_id"
            )
        ]
        # With the id last, a phone's newest customers are read off the index (risk's linked
        # accounts), however many share it.
        indexes = [models.Index(fields=["shop", "phone", "id"], name="customer_shop_phone_id")]

    def __str__(self):
        return self.name or self.external_id

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class Order(models.Model):
    """The order's facts as the shop reported them when the ticket was created."""

    shop = models.ForeignKey(
        "shops.Shop", on_delete=models.CASCADE, related_name="orders", db_index=False
    )
    order_no = models.CharField(_("order number"), max_length=100)
    amount = models.DecimalField(_("amount"), null=True, blank=True, **MONEY)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    courier = models.CharField(_("courier"), max_length=50, blank=True)
    tracking_no = models.CharField(_("tracking number"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["shop", "order_no"], name="order_shop_order_no")]

    def __str__(self):
        return self.order_no


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    sku = models.CharField(_("SKU"), max_length=100)
    name = models.CharField(_("name"), max_length=300, blank=True)
    batch_no = models.CharField(_("batch number"), max_length=100, blank=True)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    perishable = models.BooleanField(_("perishable"), default=False)
    shelf_life_days = models.PositiveIntegerField(_("shelf life (days)"), null=True, blank=True)

    class Meta:
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        indexes = [models.Index(fields=["sku", "batch_no"], name="order_item_sku_batch")]

    def __str__(self):
        return f"{self.sku} × {self.quantity}"

    @property
    def line_total(self):
        return self.unit_price * self.quantity


class DisputeCategory(models.TextChoices):
    PRODUCT = "product", _("Product")
    LOGISTICS = "logistics", _("Logistics")
    PRICING = "pricing", _("Pricing")
    REFUND = "refund", _("Refund")
    SERVICE = "service", _("Service")
    COMMITMENT = "commitment", _("Commitment")


class DisputeType(models.Model):
    """A kind of dispute (DOMAIN.md §2), what a ticket is classified by. Global types have no shop;
    shops may add their own."""

    code = models.SlugField(_("code"), max_length=50)
    shop = models.ForeignKey(
        "shops.Shop", null=True, blank=True, on_delete=models.CASCADE, related_name="dispute_types"
    )
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    category = models.CharField(_("category"), max_length=20, choices=DisputeCategory.choices)
    default_priority = models.CharField(_("default priority"), max_length=10, default="normal")
    photo_required = models.BooleanField(_("photo required before compensation"), default=False)
    # A shop's own type names the global type whose responsibility and compensation rules it follows.
    rules_as = models.SlugField(_("follows the rules of"), max_length=50, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        db_table = (
            "disputes_disputetype"  # created by the disputes app; the model moved to the core
        )
        verbose_name = _("dispute type")
        verbose_name_plural = _("dispute types")
        ordering = ["category", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(shop__isnull=True),
                name="dispute_type_unique_global_code",
            ),
            models.UniqueConstraint(fields=["shop", "code"], name="dispute_type_unique_shop_code"),
        ]

    def __str__(self):
        return f"{self.code} · {self.name}"

    @property
    def name(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en

    @property
    def rule_code(self) -> str:
        """The code rules.py and standard.py reason about (DOMAIN.md §2's codes)."""
        return self.rules_as or self.code


class TicketQuerySet(models.QuerySet):
    def locked(self, **options):
        """The tickets locked for a change: SELECT … FOR NO KEY UPDATE OF the ticket (the lock
        PostgreSQL's own UPDATE of non-key columns takes). Two services changing one ticket still
        take turns, while rows that only reference it (timeline events, messages, rule firings)
        can be inserted meanwhile; joined rows (shop, customer, order) are not locked."""
        return self.select_for_update(of=("self",), no_key=True, **options)


class Ticket(models.Model):
    # Unique through Meta.constraints, not unique=True: that would add a second index on PostgreSQL
    # (varchar_pattern_ops, for LIKE, which nothing asks) to every ticket's INSERT and non-HOT UPDATE.
    number = models.CharField(_("number"), max_length=20)
    shop = models.ForeignKey(
        "shops.Shop", on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="ticket")
    dispute_type = models.ForeignKey(DisputeType, on_delete=models.PROTECT, related_name="tickets")
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    channel = models.CharField(_("channel"), max_length=20, default="api")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    external_ref = models.CharField(_("external reference"), max_length=100, null=True, blank=True)
    requested_resolution = models.CharField(_("requested resolution"), max_length=50, blank=True)
    description = models.TextField(_("description"), blank=True)
    # [{"sku": ..., "quantity": ...}] — which of the order's items the dispute is about.
    affected_items = models.JSONField(_("affected items"), default=list, blank=True)
    platform_deadline_at = models.DateTimeField(_("platform deadline"), null=True, blank=True)

    # SLA: due times are computed in business time when the ticket is created.
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    # The earliest deadline still to meet; what the queue sorts by. Null once resolved.
    next_due_at = models.DateTimeField(null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    # When a target (first response or resolution) was first missed; null while none was.
    sla_breached_at = models.DateTimeField(null=True, blank=True)
    # Set while the SLA clock is paused (pending_customer); due times shift on resume.
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # A closed ticket is final; what comes after it is a new ticket linked to it.
    follow_up_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_ups",
        verbose_name=_("follow-up of"),
    )
    # A duplicate merged into another ticket of the same customer: closed, its messages and
    # evidence shown on that ticket (tickets.services.ticket_merge).
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
        verbose_name=_("merged into"),
    )

    tags = models.ManyToManyField("Tag", blank=True, related_name="tickets", verbose_name=_("tags"))

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the ticket entered its current status (automation's time rules: N hours in a status);
    # empty on tickets older than the column.
    status_since = models.DateTimeField(null=True, blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        constraints = [
            models.UniqueConstraint(fields=["number"], name="ticket_unique_number"),
            models.UniqueConstraint(
                fields=["shop", "external_ref"],
                condition=Q(external_ref__isnull=False),
                name="ticket_unique_shop_external_ref",
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | Q(status=Status.CLOSED.value),
                name="ticket_merged_is_closed",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=F("id")), name="ticket_not_merged_into_itself"
            ),
        ]
        indexes = [
            # Agent queue: active tickets by their earliest deadline (all / unassigned / mine).
            models.Index(
                F("shop"),
                earliest_due(),
                F("id"),
                condition=ACTIVE,
                name="ticket_queue_shop_earliest",
            ),
            models.Index(
                F("shop"),
                earliest_due(),
                F("id"),
                condition=ACTIVE & Q(assignee__isnull=True),
                name="ticket_queue_unasg_earliest",
            ),
            models.Index(
                F("assignee"),
                earliest_due(),
                F("id"),
                condition=ACTIVE,
                name="ticket_queue_mine_earliest",
            ),
            # List API (cursor on -created_at) and its filters; queue sorts by created/updated.
            models.Index(fields=["shop", "-created_at", "-id"], name="ticket_shop_created"),
            models.Index(
                fields=["shop", "status", "-created_at"], name="ticket_shop_status_created"
            ),
            models.Index(
                fields=["shop", "dispute_type", "-created_at"], name="ticket_shop_type_created"
            ),
            models.Index(
                fields=["shop", "priority", "-created_at"], name="ticket_shop_priority_created"
            ),
            models.Index(fields=["shop", "-updated_at"], name="ticket_shop_updated"),
            models.Index(fields=["shop", "status_since"], name="ticket_shop_status_since"),
        ]

    def __str__(self):
        return self.number

    @property
    def tag_list(self) -> list["Tag"]:
        """The ticket's tags by name: from the row's tag columns when its query read them
        (tickets.selectors.with_tags), otherwise through the relation."""
        names = getattr(self, "tag_names", None)
        if names is None:
            return sorted(self.tags.all(), key=lambda tag: (tag.name, tag.pk))
        return [
            Tag(shop_id=self.shop_id, name=name, colour=colour)
            for name, colour in zip(names, self.tag_colours, strict=True)
        ]


TAG_NAME_MAX_LENGTH = 30
TAGS_PER_TICKET = 20


class TagColour(models.TextChoices):
    """The palette of tag chips (static/css/app.css .tag-<colour>)."""

    GREY = "grey", _("Grey")
    RED = "red", _("Red")
    ORANGE = "orange", _("Orange")
    GREEN = "green", _("Green")
    TEAL = "teal", _("Teal")
    BLUE = "blue", _("Blue")
    PURPLE = "purple", _("Purple")
    PINK = "pink", _("Pink")


class Tag(models.Model):
    """A shop's free label for tickets (食品, 大客户, 加急), created on first use. Names keep the
    case they were first written in; one name (whatever its case) is one tag of the shop."""

    shop = models.ForeignKey(
        "shops.Shop", on_delete=models.CASCADE, related_name="tags", db_index=False
    )
    name = models.CharField(_("name"), max_length=TAG_NAME_MAX_LENGTH)
    colour = models.CharField(
        _("colour"), max_length=10, choices=TagColour.choices, default=TagColour.GREY
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(F("shop"), Lower("name"), name="tag_unique_shop_name"),
        ]

    def __str__(self):
        return self.name


class SavedView(models.Model):
    """A queue filter an agent saved under a name: the queue's query string, opened as it was."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saved_views",
        db_index=False,
    )
    # The shop the agent worked for when saving it (none for staff of several shops).
    shop = models.ForeignKey(
        "shops.Shop", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(_("name"), max_length=50)
    query = models.CharField(_("filter"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_view_unique_user_name"),
        ]

    def __str__(self):
        return self.name


class TicketEvent(models.Model):
    """One entry of a ticket's timeline. Append-only: never updated or deleted."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        STATUS_CHANGED = "status_changed", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        MESSAGE = "message", _("Message")
        ATTACHMENT = "attachment", _("Attachment")
        LOGISTICS = "logistics", _("Logistics")
        SLA = "sla", _("SLA")
        CONTACT = "contact", _("Customer contact")
        SURVEY = "survey", _("Satisfaction survey")
        # Written by disputes.services.
        JUDGMENT = "judgment", _("Responsibility judgment")
        COMPENSATION_PROPOSED = "compensation_proposed", _("Compensation proposed")
        COMPENSATION_APPROVED = "compensation_approved", _("Compensation approved")
        COMPENSATION_REJECTED = "compensation_rejected", _("Compensation rejected")
        COMPENSATION_CANCELLED = "compensation_cancelled", _("Compensation cancelled")
        COMPENSATION_EXECUTED = "compensation_executed", _("Compensation executed")
        COMPENSATION_FAILED = "compensation_failed", _("Compensation failed")
        # Both tickets of a follow-up link (a closed ticket and the new one that continues it).
        FOLLOW_UP = "follow_up", _("Follow-up ticket")
        # Both tickets of a merge: the duplicate (closed) and the ticket it went into.
        MERGED = "merged", _("Merged")
        # Written by risk.services: a supervisor dismissed a risk flag with a note.
        RISK_FLAG_DISMISSED = "risk_flag_dismissed", _("Risk flag dismissed")
        TAGS_CHANGED = "tags_changed", _("Tags changed")
        PRIORITY_CHANGED = "priority_changed", _("Priority changed")
        # Written by automation: a rule (named with its version) acted, and what each action did.
        AUTOMATION = "automation", _("Automation rule")

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=40, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who acted, in words, kept even if the user is later removed: "agent", "shop:demo", "system".
    actor_label = models.CharField(max_length=150)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="event_ticket_created")]

    def __str__(self):
        return f"{self.ticket_id} {self.kind}"


class Message(models.Model):
    class Author(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        STAFF = "staff", _("Staff")
        SYSTEM = "system", _("System")

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    author_kind = models.CharField(max_length=20, choices=Author.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    internal = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_created")]


def attachment_path(instance, filename):
    return f"attachments/{instance.ticket.shop_id}/{instance.ticket.number}/{filename}"


class Attachment(models.Model):
    class Kind(models.TextChoices):
        PHOTO = "photo", _("Photo")
        VIDEO = "video", _("Video")
        DOCUMENT = "document", _("Document")
        CHAT_LOG = "chat_log", _("Chat log")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    file = models.FileField(upload_to=attachment_path, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    uploaded_by_label = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class LogisticsEvent(models.Model):
    class Event(models.TextChoices):
        PICKED_UP = "picked_up", _("Picked up")
        IN_TRANSIT = "in_transit", _("In transit")
        DELIVERED = "delivered", _("Delivered")
        SIGNED = "signed", _("Signed")
        RETURNED = "returned", _("Returned")
        REFUSED = "refused", _("Refused by the recipient")
        LOST = "lost", _("Lost")

    class ReturnReason(models.TextChoices):
        """Why a parcel came back (returned / refused); the first three are the customer's doing (R6)."""

        WRONG_ADDRESS = "wrong_address", _("Wrong address")
        UNREACHABLE = "unreachable", _("Customer could not be reached")
        REFUSED_WITHOUT_REASON = "refused_without_reason", _("Refused without a reason")
        OTHER = "other", _("Other reason")

    # The events that may carry a reason.
    RETURN_EVENTS = ("returned", "refused")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="logistics_events")
    event = models.CharField(max_length=20, choices=Event.choices)
    at = models.DateTimeField()
    signed_by = models.CharField(max_length=100, blank=True)
    authorized = models.BooleanField(null=True)
    # Why a parcel came back (returned): the customer's fault cases of rule R6.
    reason = models.CharField(max_length=30, blank=True, choices=ReturnReason.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]


class IdempotencyRecord(models.Model):
    """A shop's Idempotency-Key and the response it produced (kept 24 h)."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "key"], name="idempotency_unique_shop_key")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]


class SatisfactionSurvey(models.Model):
    """The follow-up survey sent after resolution: one answer (1-5 stars) per ticket,
    given on a public page reached by the token, without login."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="survey")
    token = models.CharField(max_length=64, unique=True)
    sent_at = models.DateTimeField()
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                name="survey_score_1_to_5",
            ),
        ]


class ReplyTemplate(models.Model):
    """Canned replies (话术); global when shop is empty."""

    shop = models.ForeignKey(
        "shops.Shop",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reply_templates",
    )
    category = models.CharField(_("category"), max_length=40)
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("body"))
    language = models.CharField(max_length=10, default="zh-hans")
    position = models.PositiveSmallIntegerField(default=0)
    # A macro's actions when its reply is sent (tickets.macros): [{"type": "set_status", ...}].
    actions = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["position", "id"]

    def __str__(self):
        return self.title

    @property
    def title_in_reader_language(self) -> str:
        """The seeded titles are bilingual ("诚恳道歉 · Apology"): the reader's half of it; a shop's
        own one-language title as it is."""
        chinese, separator, english = self.title.partition(" · ")
        if not separator:
            return self.title
        return chinese if (get_language() or "").startswith("zh") else english
