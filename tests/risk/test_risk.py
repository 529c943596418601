"""Risk (issue 16, API.md "Risk"): reused evidence by perceptual hash, photos older than the
order, frequent claimants, linked accounts; a flagged ticket's compensation waits for a
supervisor. Pictures are drawn here with Pillow (risk.samples)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from disputes import services as disputes
from disputes.models import Compensation
from risk import photos
from risk.models import PhotoHash
from risk.samples import cropped, exif_taken, jpeg_bytes, reencoded, resized, sample_photo
from risk.selectors import customer_risk, ticket_risk
from tests.factories import make_ticket_for, staff_member, ticket_payload
from tickets import services as ticket_services
from tickets.models import Customer, Order, Ticket

pytestmark = pytest.mark.django_db


def add_photo(ticket, data: bytes, name: str = "photo.jpg"):
    return ticket_services.attachment_add(
        ticket=ticket,
        uploaded_file=SimpleUploadedFile(name, data),
        kind="photo",
        actor=ticket_services.Actor.shop(ticket.shop),
    )


def codes(risk: dict) -> list[str]:
    return [flag["code"] for flag in risk["flags"]]


def flag(risk: dict, code: str) -> dict:
    return next(f for f in risk["flags"] if f["code"] == code)


def customer_of(ticket, external_id: str, phone: str):
    """Give the ticket its own customer (each test customer otherwise shares the default phone)."""
    customer, _ = Customer.objects.update_or_create(
        shop=ticket.shop, external_id=external_id, defaults={"phone": phone}
    )
    type(ticket).objects.filter(pk=ticket.pk).update(customer=customer)
    ticket.refresh_from_db()
    return ticket


def lone_ticket(shop, order_no: str, customer_id: str | None = None, phone: str | None = None):
    customer_id = customer_id or f"c-{order_no}"
    return customer_of(
        make_ticket_for(shop, order_no=order_no, customer_id=customer_id),
        customer_id,
        phone or f"139{abs(hash(order_no)) % 10**8:08d}",
    )


# --- the hash and its threshold ---------------------------------------------------------------


def test_transformed_copies_match_and_different_pictures_do_not():
    originals = [sample_photo(seed) for seed in range(12)]
    hashes = [photos.photo_facts_of_image(image).phash for image in originals]
    for image, phash in zip(originals, hashes, strict=True):
        for copy in (resized(image), reencoded(image, 30), cropped(image)):
            other = photos.photo_facts_of_image(copy).phash
            assert photos.distance(phash, other) <= photos.MATCH_DISTANCE
            assert set(photos.probes(phash)) & set(photos.bands(other))  # found by the index
    for i, a in enumerate(hashes):
        for b in hashes[i + 1 :]:
            assert photos.distance(a, b) > photos.MATCH_DISTANCE


def test_probes_find_every_hash_within_the_threshold():
    base = 0x0123456789ABCDEF
    # The worst spreads for bands of 22/21/21 bits with radii 3/3/2: 4 + 4 + 2, 4 + 3 + 3, ...
    worst = ((0, 1, 2, 3, 22, 23, 24, 25, 43, 44), (0, 5, 9, 21, 22, 30, 42, 43, 50, 63))
    for bits in (*worst, (0, 6, 12, 18, 24, 30, 36, 42, 48, 54), tuple(range(10)), (63, 58, 1, 7)):
        flipped = base
        for bit in bits:
            flipped ^= 1 << bit
        assert photos.distance(base, flipped) == len(bits)
        assert set(photos.probes(base)) & set(photos.bands(photos.to_signed(flipped)))
    # 11 bits spread 4 + 4 + 3 exceed every radius: the index alone does not find it.
    far = base
    for bit in (0, 1, 2, 3, 22, 23, 24, 25, 43, 44, 45):
        far ^= 1 << bit
    assert not set(photos.probes(base)) & set(photos.bands(photos.to_signed(far)))


# --- reused evidence -----------------------------------------------------------------------------


def test_reused_photo_on_another_order_flags_both_tickets(shop, media_root):
    first = lone_ticket(shop, "A-1")
    second = lone_ticket(shop, "A-2")
    unrelated = lone_ticket(shop, "A-3")
    picture = sample_photo(7)
    add_photo(first, jpeg_bytes(picture))
    add_photo(second, jpeg_bytes(cropped(resized(picture, 0.6)), quality=40))
    add_photo(unrelated, jpeg_bytes(sample_photo(8)))

    assert flag(ticket_risk(second), "reused_evidence")["refs"] == [first.number]
    assert flag(ticket_risk(first), "reused_evidence")["refs"] == [second.number]
    assert codes(ticket_risk(unrelated)) == []


def test_same_photo_on_a_ticket_of_the_same_order_is_no_reuse(shop, media_root):
    first = lone_ticket(shop, "B-1", customer_id="c-b")
    again = lone_ticket(shop, "B-1", customer_id="c-b")
    add_photo(first, jpeg_bytes(sample_photo(9)))
    add_photo(again, jpeg_bytes(sample_photo(9)))
    assert "reused_evidence" not in codes(ticket_risk(again))


def test_another_shops_matching_photo_stays_invisible(shop, other_shop, media_root):
    mine = lone_ticket(shop, "C-1")
    theirs = lone_ticket(other_shop, "C-2")
    add_photo(theirs, jpeg_bytes(sample_photo(11)))
    add_photo(mine, jpeg_bytes(sample_photo(11)))
    for ticket in (mine, theirs):
        risk = ticket_risk(ticket)
        assert codes(risk) == []
        assert theirs.number not in str(risk) and mine.number not in str(ticket_risk(theirs))


def test_tiny_and_broken_images_are_stored_without_a_match(shop, media_root):
    from tests.factories import png_bytes

    first, second = lone_ticket(shop, "D-1"), lone_ticket(shop, "D-2")
    add_photo(first, png_bytes(), "a.png")
    add_photo(second, png_bytes(), "b.png")
    assert codes(ticket_risk(second)) == []
    assert PhotoHash.objects.filter(ticket=second, exif_present=False).exists()


# --- a photo older than the order ----------------------------------------------------------------


def test_photo_taken_before_delivery_is_flagged(shop, media_root):
    ticket = lone_ticket(shop, "E-1")  # delivered 2026-11-22 15:00 +08:00
    attachment = add_photo(
        ticket, jpeg_bytes(sample_photo(21), exif=exif_taken("2026:11:20 09:30:00"))
    )
    photo = PhotoHash.objects.get(attachment=attachment)
    assert photo.exif_present
    assert photo.taken_at == dt.datetime(2026, 11, 20, 1, 30, tzinfo=dt.UTC)  # Asia/Shanghai
    found = flag(ticket_risk(ticket), "evidence_predates_order")
    assert found["refs"][0] == f"attachment:{attachment.pk}"
    assert found["refs"][1].startswith("taken_at:2026-11-20T09:30:00")
    assert found["refs"][2].startswith("delivered_at:2026-11-22T15:00:00")


def test_without_delivery_the_payment_time_counts(shop, media_root):
    ticket = lone_ticket(shop, "E-2")
    Order.objects.filter(pk=ticket.order_id).update(delivered_at=None)
    ticket.refresh_from_db()
    add_photo(ticket, jpeg_bytes(sample_photo(22), exif=exif_taken("2026:11:19 23:00:00")))
    assert flag(ticket_risk(ticket), "evidence_predates_order")["refs"][2].startswith("paid_at:")


def test_photo_after_delivery_or_without_exif_is_not_flagged(shop, media_root):
    later = lone_ticket(shop, "E-3")
    add_photo(later, jpeg_bytes(sample_photo(23), exif=exif_taken("2026:11:23 10:00:00")))
    bare = lone_ticket(shop, "E-4")
    attachment = add_photo(bare, jpeg_bytes(sample_photo(24)))
    assert codes(ticket_risk(later)) == [] and codes(ticket_risk(bare)) == []
    assert PhotoHash.objects.get(attachment=attachment).exif_present is False


# --- frequent claimants and linked accounts --------------------------------------------------------


def test_more_tickets_than_the_policy_allows_flag_the_customer(shop):
    tickets = [
        lone_ticket(shop, f"F-{i}", customer_id="c-f", phone="13911110000") for i in range(3)
    ]
    assert "frequent_claimant" not in codes(ticket_risk(tickets[-1]))  # 3 is not more than 3
    fourth = lone_ticket(shop, "F-3", customer_id="c-f", phone="13911110000")
    assert "frequent_claimant" in codes(ticket_risk(fourth))
    assert "frequent_claimant" in codes(customer_risk(fourth.customer))


def test_granted_compensation_above_the_policy_flags_the_customer(shop):
    ticket = lone_ticket(shop, "G-1", customer_id="c-g")
    policy = disputes.policy_current(shop=shop)
    Compensation.objects.create(
        ticket=ticket, type="cash", amount=Decimal("200.00"), status="approved", policy=policy
    )
    Compensation.objects.create(  # pending is not granted
        ticket=ticket,
        type="cash",
        amount=Decimal("50.00"),
        status="pending_approval",
        policy=policy,
    )
    assert "frequent_claimant" not in codes(ticket_risk(ticket))
    Compensation.objects.create(
        ticket=ticket, type="coupon", amount=Decimal("0.01"), status="executed", policy=policy
    )
    assert "frequent_claimant" in codes(ticket_risk(ticket))


def test_same_phone_under_other_ids_links_accounts_in_the_shop_only(shop, other_shop):
    ticket = lone_ticket(shop, "H-1", customer_id="c-h1", phone="13700001111")
    assert codes(ticket_risk(ticket)) == []
    lone_ticket(other_shop, "H-9", customer_id="c-x", phone="13700001111")
    assert codes(ticket_risk(ticket)) == []
    lone_ticket(shop, "H-2", customer_id="c-h2", phone="13700001111")
    lone_ticket(shop, "H-3", customer_id="c-h3", phone="13700001111")
    assert flag(ticket_risk(ticket), "linked_accounts")["refs"] == ["c-h2", "c-h3"]


@translation.override("en")
def test_a_phone_shared_by_many_ids_names_the_newest_and_counts_them_all(shop):
    from risk.selectors import LINKED_SHOWN, ticket_findings

    ticket = lone_ticket(shop, "M-1", customer_id="c-m00", phone="13700002222")
    others = LINKED_SHOWN + 3
    Customer.objects.bulk_create(  # created in this order: c-m13 is the newest
        Customer(shop=shop, external_id=f"c-m{n:02d}", phone="13700002222")
        for n in range(1, others + 1)
    )
    linked = flag(ticket_risk(ticket), "linked_accounts")
    newest = [f"c-m{n:02d}" for n in range(others - LINKED_SHOWN + 1, others + 1)]
    assert linked["refs"] == newest
    assert f"{others} other customer ids" in linked["message"]
    assert "c-m01" not in linked["message"] and "c-m13" in linked["message"]
    # A dismissal covers what the flag named; one more account is named, so the flag is back.
    (finding,) = [f for f in ticket_findings(ticket) if f.code == "linked_accounts"]
    Customer.objects.create(shop=shop, external_id="c-m99", phone="13700002222")
    (again,) = [f for f in ticket_findings(ticket) if f.code == "linked_accounts"]
    assert "c-m99" in again.refs and not set(again.refs) <= set(finding.refs)
    assert f"{others + 1} other customer ids" in again.message


@translation.override("en")
def test_a_page_of_tickets_names_the_same_sharers_as_one_ticket(shop):
    """A page (several phones: one windowed query) and a ticket on its own (one phone: the index
    read) find the same linked accounts."""
    from risk.selectors import LINKED_SHOWN, ticket_findings, tickets_findings

    shared = lone_ticket(shop, "P-1", customer_id="c-p00", phone="13700003333")
    Customer.objects.bulk_create(
        Customer(shop=shop, external_id=f"c-p{n:02d}", phone="13700003333")
        for n in range(1, LINKED_SHOWN + 3)
    )
    pair = lone_ticket(shop, "P-2", customer_id="c-q1", phone="13700004444")
    lone_ticket(shop, "P-3", customer_id="c-q2", phone="13700004444")
    page = tickets_findings([shared, pair])
    for ticket in (shared, pair):
        (alone,) = [f for f in ticket_findings(ticket) if f.code == "linked_accounts"]
        (on_page,) = [f for f in page[ticket.pk] if f.code == "linked_accounts"]
        assert (on_page.refs, on_page.message) == (alone.refs, alone.message)
    (shared_flag,) = [f for f in page[shared.pk] if f.code == "linked_accounts"]
    assert f"{LINKED_SHOWN + 2} other customer ids" in shared_flag.message
    assert [f.refs for f in page[pair.pk] if f.code == "linked_accounts"] == [["c-q2"]]


# --- the consequence: a flagged ticket's compensation waits ----------------------------------------


def test_a_flagged_tickets_one_yuan_goodwill_waits_for_a_supervisor(shop, agent_client, media_root):
    clean = lone_ticket(shop, "K-1")
    add_photo(clean, jpeg_bytes(sample_photo(31)))
    flagged = lone_ticket(shop, "K-2")
    add_photo(flagged, jpeg_bytes(sample_photo(32), exif=exif_taken("2026:01:01 12:00:00")))
    body = {"type": "coupon", "amount": "1.00", "note": "sorry"}
    ok = agent_client.post(f"/api/v1/tickets/{clean.number}/compensations/", body, format="json")
    assert ok.status_code == 201 and ok.json()["status"] == "approved"
    waits = agent_client.post(
        f"/api/v1/tickets/{flagged.number}/compensations/", body, format="json"
    )
    assert waits.status_code == 201 and waits.json()["status"] == "pending_approval"

    page = Client()
    page.force_login(staff_member(shop, "supervisor", username="boss"))
    inbox = page.get("/approvals/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="inbox-review-reasons"' in inbox and "before the order was" in inbox
    assert "Photo older than the order: A photo was taken on" in inbox  # the flag's name, then why


# --- the API and the pages ------------------------------------------------------------------------


@pytest.fixture
def reused(shop, media_root):
    first = lone_ticket(shop, "R-1")
    second = lone_ticket(shop, "R-2")
    add_photo(first, jpeg_bytes(sample_photo(41)))
    attachment = add_photo(second, jpeg_bytes(resized(sample_photo(41), 0.5), quality=50))
    return first, second, attachment


def test_api_shows_risk_on_ticket_list_customer_and_attachment(shop_client, reused):
    first, second, attachment = reused
    body = shop_client.get(f"/api/v1/tickets/{second.number}/").json()
    assert body["risk"]["flags"][0]["code"] == "reused_evidence"
    assert body["risk"]["flags"][0]["refs"] == [first.number]
    assert body["risk"]["flags"][0]["message"]
    listed = {t["number"]: t["risk"] for t in shop_client.get("/api/v1/tickets/").json()["results"]}
    assert codes(listed[first.number]) == ["reused_evidence"]
    customer = shop_client.get(f"/api/v1/customers/{second.customer.external_id}/").json()
    assert flag(customer["risk"], "reused_evidence")["refs"] == [second.number]
    photos_body = shop_client.get(f"/api/v1/tickets/{second.number}/attachments/").json()
    assert codes(photos_body["results"][0]["risk"]) == ["reused_evidence"]
    assert photos_body["results"][0]["id"] == attachment.pk


def test_api_message_follows_the_readers_language(shop_client, reused):
    _, second, _ = reused
    zh = shop_client.get(f"/api/v1/tickets/{second.number}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    en = shop_client.get(f"/api/v1/tickets/{second.number}/", HTTP_ACCEPT_LANGUAGE="en")
    assert zh.json()["risk"]["flags"][0]["message"] != en.json()["risk"]["flags"][0]["message"]
    assert "照片" in zh.json()["risk"]["flags"][0]["message"]


def test_ticket_list_reads_risk_in_a_fixed_number_of_queries(shop_client, shop, media_root):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert shop_client.get("/api/v1/tickets/?page_size=100").status_code == 200
        return len(queries)

    for i in range(2):
        add_photo(lone_ticket(shop, f"Q-{i}"), jpeg_bytes(sample_photo(50)))
    count()  # the shop's policy is made on first use
    count()  # a change of the shop's configuration: this request reads it again and keeps it
    few = count()
    for i in range(2, 8):
        add_photo(lone_ticket(shop, f"Q-{i}"), jpeg_bytes(sample_photo(50 + i % 2)))
    lone_ticket(shop, "Q-x", customer_id="c-q", phone="13600000000")
    lone_ticket(shop, "Q-y", customer_id="c-q2", phone="13600000000")
    assert count() == few


@pytest.mark.parametrize(
    ("language", "heading", "words"),
    [("zh-hans", "风险提示", "拍摄于"), ("en", "Risk", "taken on")],
)
def test_ticket_page_shows_the_risk_section(shop, media_root, language, heading, words):
    first, second = lone_ticket(shop, "P-1"), lone_ticket(shop, "P-2")
    add_photo(first, jpeg_bytes(sample_photo(61)))
    add_photo(second, jpeg_bytes(sample_photo(61), exif=exif_taken("2025:06:01 08:00:00")))
    client = Client()
    client.force_login(staff_member(shop, "agent", username="pager"))
    client.cookies["django_language"] = language
    html = client.get(f"/tickets/{second.number}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert 'data-testid="risk-section"' in html and heading in html and words in html
    assert f"/tickets/{first.number}/" in html  # the other ticket, its photo beside this one
    assert "reused_evidence" not in html and "evidence_predates_order" not in html


# --- a new ticket's flags from what its creation knows ---------------------------------------------


def test_a_new_tickets_flags_from_its_creation_are_those_read_back(shop, shop_client):
    """ticket_create answers with what it wrote: a new customer's only ticket (no compensations,
    no attachments) is counted in memory, not read. The flags must be the same as read back."""
    disputes.policy_update(
        shop=shop,
        changes={"frequent_claimant_tickets": 0},
        actor=ticket_services.Actor.shop(shop),
    )
    lone_ticket(shop, "N-0", customer_id="c-n0", phone="13600002222")
    body = ticket_payload()
    body["order"]["order_no"] = "N-1"
    body["customer"] = {"external_id": "c-n1", "name": "新", "phone": "13600002222"}
    with CaptureQueriesContext(connection) as created_queries:
        response = shop_client.post("/api/v1/tickets/", body, format="json")
    assert response.status_code == 201, response.content
    answered = response.json()["risk"]
    assert sorted(codes(answered)) == ["frequent_claimant", "linked_accounts"]
    assert flag(answered, "linked_accounts")["refs"] == ["c-n0"]
    read_back = ticket_risk(Ticket.objects.get(number=response.json()["number"]))
    assert answered == read_back
    # Neither the customer's tickets nor the ticket's photos were looked up.
    sqls = [q["sql"] for q in created_queries.captured_queries]
    assert not any('FROM "risk_photohash"' in sql for sql in sqls)
    assert not any('"disputes_compensation"' in sql for sql in sqls)
