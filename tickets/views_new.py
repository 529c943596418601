"""A ticket opened in the workspace: a customer called or wrote on chat, and the agent types it in.

The same service as the API's create does the work (tickets.services.ticket_create: rules, SLA,
timers, webhooks), wrapped with the customer found by ID or phone, an earlier order picked from
their tickets, and the evidence — all or nothing.
"""

from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from aftersales.auth import login_required
from aftersales.exceptions import ApplicationError
from shops.models import Shop
from shops.selectors import shop_and_role, shop_ids_for_user
from tickets import services
from tickets.forms import NEW_ORDER, OrderItemFormSet, TicketNewForm
from tickets.models import DisputeType
from tickets.selectors import customer_lookup, customer_order_latest, customer_orders


def _choices(user) -> tuple[list[Shop], list[tuple[str, str]]]:
    shop_ids = shop_ids_for_user(user=user)
    shops = list(Shop.objects.filter(pk__in=shop_ids).order_by("name"))
    types = DisputeType.objects.filter(
        Q(shop__isnull=True) | Q(shop_id__in=shop_ids), active=True
    ).order_by("category", "code")
    seen, dispute_types = set(), []
    for dispute_type in types:  # a shop's own type with a global code replaces it in the list
        if dispute_type.code not in seen:
            seen.add(dispute_type.code)
            dispute_types.append((dispute_type.code, dispute_type.name))
    return shops, dispute_types


def _found_customer(user, shop_code: str, customer_id: str, phone: str):
    """(shop, customer or None) for what the agent typed; another shop's code is a 404."""
    shop, _role = shop_and_role(user=user, code=shop_code)
    if shop is None:
        raise Http404("No such shop.")
    customer = customer_lookup(shop_id=shop.pk, text=customer_id) or customer_lookup(
        shop_id=shop.pk, text=phone
    )
    return shop, customer


@login_required
@require_GET
def ticket_new_customer(request):
    """htmx: who the typed ID or phone is, with their earlier orders to pick from (nothing until
    something is typed)."""
    customer_id = request.GET.get("customer_id", "")
    phone = request.GET.get("customer_phone", "")
    if not (customer_id.strip() or phone.strip()):
        return render(request, "tickets/_ticket_new_customer.html", {})
    shop, customer = _found_customer(request.user, request.GET.get("shop", ""), customer_id, phone)
    context = {"customer": customer, "shop": shop, "picked": request.GET.get("earlier_order", "")}
    if customer is not None:
        context["orders"] = customer_orders(customer=customer, limit=20)
    return render(request, "tickets/_ticket_new_customer.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def ticket_new(request):
    shops, dispute_types = _choices(request.user)
    if not shops:
        raise Http404("No shop to open tickets for.")
    kwargs = {"shops": shops, "dispute_types": dispute_types}
    if request.method == "GET":
        form = TicketNewForm(initial={"shop": shops[0].code, "channel": "phone"}, **kwargs)
        return _render(request, form, OrderItemFormSet(prefix="items"))

    form = TicketNewForm(request.POST, request.FILES, **kwargs)
    items = OrderItemFormSet(request.POST, prefix="items")
    if not form.is_valid():
        return _render(request, form, items, status=400)
    new_order = form.cleaned_data["earlier_order"] == NEW_ORDER
    if new_order and not items.is_valid():  # the lines matter only for a typed order
        return _render(request, form, items, status=400)
    data = form.cleaned_data
    shop, customer = _found_customer(
        request.user, data["shop"], data["customer_id"], data["customer_phone"]
    )
    order = _order(form, items, customer)
    if order is None:
        return _render(request, form, items, status=400)
    try:
        ticket = services.ticket_create_by_staff(
            shop=shop,
            actor=services.Actor.staff(request.user),
            customer=customer,
            customer_fields={
                "external_id": data["customer_id"],
                "name": data["customer_name"],
                "phone": data["customer_phone"],
            },
            order=order,
            dispute_type_code=data["dispute_type"],
            channel=data["channel"],
            description=data["description"],
            evidence=data["evidence"],
        )
    except ApplicationError as exc:
        _form_errors_from(form, exc)
        return _render(request, form, items, status=400)
    messages.success(request, _("Ticket %(number)s created.") % {"number": ticket.number})
    return redirect("workspace:ticket", number=ticket.number)


def _order(form, items, customer) -> dict | None:
    """The order the ticket is about: an earlier one of the customer's, copied with its lines, or
    the one typed in. None (with the error on the form) if the picked one is not theirs."""
    data = form.cleaned_data
    if data["earlier_order"] != NEW_ORDER:
        earlier = customer and customer_order_latest(
            customer=customer, order_no=data["earlier_order"]
        )
        if not earlier:
            form.add_error("earlier_order", _("That order is not among this customer's."))
            return None
        return services.order_as_input(earlier)
    lines = [row for row in items.cleaned_data if row.get("sku")]
    return {
        "order_no": data["order_no"],
        "amount": data["order_amount"],
        "delivered_at": data["delivered_at"],
        "items": [
            {
                "sku": row["sku"],
                "name": row.get("name") or "",
                "unit_price": row["unit_price"],
                "quantity": row.get("quantity") or 1,
            }
            for row in lines
        ],
    }


# The service's field names (API.md's) -> the form's.
FIELD_FOR = {"dispute_type": "dispute_type", "file": "evidence", "kind": "evidence"}


def _form_errors_from(form, exc: ApplicationError) -> None:
    """The service's refusal shown where it belongs: on its field, or above the form."""
    placed = False
    for field, message in (exc.fields or {}).items():
        if field in FIELD_FOR and isinstance(message, str):
            form.add_error(FIELD_FOR[field], message)
            placed = True
    if not placed:
        form.add_error(
            "evidence" if exc.status_code in (413, 415) else None,
            exc.message if not exc.fields else _flatten_first(exc.fields) or exc.message,
        )


def _flatten_first(fields) -> str | None:
    for value in fields.values():
        if isinstance(value, str):
            return value
        if isinstance(value, dict):
            found = _flatten_first(value)
            if found:
                return found
    return None


def _render(request, form, items, *, status: int = 200):
    context = {"form": form, "items": items, "one_shop": len(form.fields["shop"].choices) == 1}
    return render(request, "tickets/ticket_new.html", context, status=status)
