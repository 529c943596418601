"""The shop's macros (its own reply templates, with actions) on a settings page, for its admins;
the seeded 话术 are the defaults every shop sees, copied to be changed. Writes: tickets.macros."""

import copy

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from aftersales.auth import login_required
from shops.selectors import admin_shop
from tickets import macros
from tickets.forms import MacroForm
from tickets.models import ReplyTemplate
from tickets.selectors import reply_templates_of_shop
from tickets.states import STAFF_ACTIONS
from tickets.views import ACTION_LABELS, REPLY_TEMPLATE_CATEGORIES


def _form(*args, **kwargs) -> MacroForm:
    return MacroForm(
        *args,
        categories=list(REPLY_TEMPLATE_CATEGORIES.items()),
        status_actions=[
            (action.value, ACTION_LABELS.get(action) or action.label) for action in STAFF_ACTIONS
        ],
        **kwargs,
    )


@login_required
@require_http_methods(["GET"])
def macro_list(request, code):
    shop = admin_shop(user=request.user, code=code)
    rows = [copy.copy(row) for row in reply_templates_of_shop(shop.pk)]
    for row in rows:
        row.action_words = [macros.macro_action_words(action) for action in row.actions or []]
        row.category_label = REPLY_TEMPLATE_CATEGORIES.get(row.category, row.category)
    context = {
        "shop": shop,
        "own": [row for row in rows if row.shop_id],
        "defaults": [row for row in rows if not row.shop_id],
        "variables": VARIABLES,
    }
    return render(request, "tickets/macros.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def macro_edit(request, code, pk=None):
    shop = admin_shop(user=request.user, code=code)
    template = get_object_or_404(ReplyTemplate, pk=pk, shop=shop) if pk else None
    if request.method == "GET":
        form = _form(initial=MacroForm.initial_for(template) if template else {})
        return _render_edit(request, shop, form, template)
    form = _form(request.POST)
    if form.is_valid():
        fields = {k: form.cleaned_data[k] for k in ("category", "title", "body", "language")}
        try:
            macros.macro_save(shop=shop, fields=fields, actions=form.actions(), template=template)
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Macro “%(title)s” saved.") % {"title": fields["title"]})
            return redirect("workspace:macros", code=shop.code)
    return _render_edit(request, shop, form, template, status=400)


def _render_edit(request, shop, form, template, *, status=200):
    context = {"shop": shop, "form": form, "template": template, "variables": VARIABLES}
    return render(request, "tickets/macro_edit.html", context, status=status)


@login_required
@require_POST
def macro_copy(request, code, pk):
    shop = admin_shop(user=request.user, code=code)
    default = get_object_or_404(ReplyTemplate, pk=pk, shop__isnull=True)
    copy = macros.macro_copy(shop=shop, template=default)
    messages.success(request, _("Copied: change it as you like."))
    return redirect("workspace:macro-edit", code=shop.code, pk=copy.pk)


@login_required
@require_POST
def macro_delete(request, code, pk):
    shop = admin_shop(user=request.user, code=code)
    template = get_object_or_404(ReplyTemplate, pk=pk, shop=shop)
    macros.macro_delete(shop=shop, template=template)
    messages.success(request, _("Macro “%(title)s” deleted.") % {"title": template.title})
    return redirect("workspace:macros", code=shop.code)


# The words a reply can use (tickets.reply_templates.reply_template_values), for the page's help.
VARIABLES = [
    ("customer_name", gettext_lazy("the customer's name")),
    ("order_no", gettext_lazy("the order number")),
    ("order_amount", gettext_lazy("the order's amount")),
    ("ticket_number", gettext_lazy("the ticket's number")),
    ("shop_name", gettext_lazy("the shop's name")),
    ("courier", gettext_lazy("the courier")),
    ("tracking_no", gettext_lazy("the tracking number")),
    ("refundable_total", gettext_lazy("what can still be refunded")),
    ("option_1", gettext_lazy("the first of the two offered solutions")),
    ("option_2", gettext_lazy("the second of the two offered solutions")),
]
