#!/usr/bin/env python
"""Create and fill the benchmark database (default `aftersales_bench`, 1,000,000 tickets).

    .venv/bin/python bench/generate.py                 # create if missing, migrate, load 1M tickets
    .venv/bin/python bench/generate.py --reset         # drop the database first
    .venv/bin/python bench/generate.py --tickets 100000 --db aftersales_bench_100k --reset

The rows are generated inside PostgreSQL (INSERT ... SELECT over generate_series) from a
deterministic hash of each row's number, so the tables can be filled independently and in
parallel (two connections on this 2-core machine) and a re-run gives the same data.
Secondary indexes and unique constraints of the six big tables are dropped before the load
and rebuilt after it from their own definitions (so the schema stays exactly the migrations':
checked by comparing the catalog before and after); foreign keys stay, their triggers are
skipped during the load (session_replication_role = replica) and checked afterwards with one
anti-join per foreign key. Ends with VACUUM ANALYZE (autovacuum may be off on the server).

Data (N tickets): shop "demo" (95 %) and shop "other" (5 %), interleaved; 0.3 N customers
(skewed: some customers have many tickets); one Order per ticket with 1-3 OrderItems over
3,000 SKUs with monthly batches; the 24 seeded dispute types (skewed), priority = the type's
default (5 % escalated to urgent); created_at evenly over the past 365 days, ids increasing
with created_at (as in production, so the heap is in time order); ~15 % active tickets
(new/open/pending_customer/pending_internal), most of them recent, the rest resolved/closed
(--all-active: every ticket active);
20 agents in demo (new tickets mostly unassigned, others 97 % assigned); SLA due times
(approximating business time: first response +60 min, +15 min for urgent; resolution
+3 to 5 days) and next_due_at by services.next_due_at's rule; 2-6 TicketEvents and 0-3
Messages (1.5 on average) per ticket.
"""

import argparse
import datetime as dt
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg2

from bench.common import DEFAULT_DB, PG, ROOT, VENV_PY, bench_env, setup_django, timed

BULK_TABLES = [
    "tickets_customer",
    "tickets_order",
    "tickets_orderitem",
    "tickets_ticket",
    "tickets_ticketevent",
    "tickets_message",
]
DEMO_AGENTS = 20
OTHER_AGENTS = 3
SKUS = 3000


def connect(db: str):
    conn = psycopg2.connect(f"{PG}/{db}")
    conn.autocommit = True
    return conn


# --- database -----------------------------------------------------------------------------


def ensure_database(db: str, reset: bool) -> None:
    conn = connect("postgres")
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db])
        exists = cur.fetchone() is not None
        if exists and reset:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [db],
            )
            cur.execute(f'DROP DATABASE "{db}"')
            exists = False
            print(f"  dropped database {db}")
        if not exists:
            cur.execute(f'CREATE DATABASE "{db}"')
            print(f"  created database {db}")
    conn.close()


def migrate(db: str) -> None:
    import os

    env = {**os.environ, **bench_env(db)}
    subprocess.run(
        [str(VENV_PY), "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )


def schema_snapshot(conn) -> list:
    """Every index and constraint of the public schema, by name and definition."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        )
        indexes = cur.fetchall()
        cur.execute(
            "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace"
        )
        constraints = cur.fetchall()
    return sorted(indexes) + sorted(constraints)


def secondary_indexes(conn) -> list[dict]:
    """The big tables' indexes other than primary keys, with the unique constraint each backs (if any)."""
    with conn.cursor() as cur:
        cur.execute(
            """
            SELECT t.relname, i.relname, pg_get_indexdef(i.oid), c.conname, c.contype
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            LEFT JOIN pg_constraint c ON c.conindid = i.oid AND c.conrelid = t.oid
            WHERE t.relname = ANY(%s) AND NOT x.indisprimary
            """,
            [BULK_TABLES],
        )
        rows = cur.fetchall()
    declared = declared_index_sql()
    return [
        # The SQL Django itself ran for Meta.indexes: pg_get_indexdef() does not round-trip a partial
        # index's predicate textually (ARRAY[...]::text[] comes back as ARRAY[(...)::text, ...]).
        {
            "table": r[0],
            "index": r[1],
            "indexdef": declared.get(r[1], r[2]),
            "constraint": r[3] if r[4] == "u" else None,
        }
        for r in rows
    ]


def declared_index_sql() -> dict[str, str]:
    """index name -> CREATE INDEX statement, as Django's schema editor writes it, for every Meta.indexes entry."""
    from django.apps import apps
    from django.db import connection

    sql = {}
    with connection.schema_editor(collect_sql=True) as editor:
        for model in apps.get_models():
            for index in model._meta.indexes:
                sql[index.name] = str(index.create_sql(model, editor))
            for constraint in model._meta.constraints:
                if getattr(constraint, "condition", None) is not None and hasattr(
                    constraint, "fields"
                ):
                    sql[constraint.name] = str(
                        constraint.create_sql(model, editor)
                    )  # a partial unique index
    return sql


def drop_secondary_indexes(conn, indexes: list[dict]) -> None:
    with conn.cursor() as cur:
        for ix in indexes:
            if ix["constraint"]:
                cur.execute(f'ALTER TABLE {ix["table"]} DROP CONSTRAINT "{ix["constraint"]}"')
            else:
                cur.execute(f'DROP INDEX "{ix["index"]}"')


# --- reference rows through the ORM -----------------------------------------------------------


def bootstrap_reference_rows() -> dict:
    """Shops, staff (20 agents in demo, 3 in other) and the seeded dispute types' ids."""
    from django.contrib.auth import get_user_model

    from shops.models import Membership, Role, Shop
    from shops.services import shop_bootstrap
    from tickets.models import DisputeType

    User = get_user_model()
    refs = {}
    for code, prefix, count in (("demo", "", DEMO_AGENTS), ("other", "other-", OTHER_AGENTS)):
        shop_bootstrap(code=code, user_prefix=prefix)
        shop = Shop.objects.get(code=code)
        agents = [User.objects.get(username=f"{prefix}agent")]
        for n in range(2, count + 1):
            user, created = User.objects.get_or_create(username=f"{prefix}agent{n:02d}")
            if created:
                user.set_unusable_password()  # bench logs in with force_login
                user.save()
            Membership.objects.update_or_create(user=user, shop=shop, defaults={"role": Role.AGENT})
            agents.append(user)
        refs[code] = {"shop_id": shop.id, "agent_ids": [u.id for u in agents]}
    types = list(
        DisputeType.objects.filter(shop__isnull=True, active=True)
        .order_by("id")
        .values_list("id", "default_priority")
    )
    refs["dispute_type_ids"] = [t[0] for t in types]
    refs["dispute_type_priorities"] = [t[1] for t in types]
    return refs


# --- the generating SQL ------------------------------------------------------------------------


def session_sql(p: dict) -> list[str]:
    """Per-connection settings and pg_temp helper functions (gone when the session ends)."""
    return [
        "SET synchronous_commit = off",
        "SET session_replication_role = replica",  # skip FK triggers during the load; checked after
        "SET work_mem = '256MB'",
        "SET maintenance_work_mem = '1GB'",
        "SET max_parallel_maintenance_workers = 0",  # two builds at a time already use both cores
        "SET jit = off",
        # uniform [0, 1) from (row number, salt): deterministic, so tables agree without joins
        """CREATE FUNCTION pg_temp.u(i bigint, salt bigint) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
           $$ SELECT (hashint8extended(i, salt) & 140737488355327)::float8 / 140737488355328.0 $$""",
        f"""CREATE FUNCTION pg_temp.created(i bigint) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS
           $$ SELECT '{p["t0"]}'::timestamptz - interval '365 days'
                     + ((i - 1 + pg_temp.u(i, 3)) / {p["n"]}::float8) * interval '365 days' $$""",
        f"""CREATE FUNCTION pg_temp.other(i bigint) RETURNS boolean LANGUAGE sql IMMUTABLE AS
           $$ SELECT pg_temp.u(i, 1) < {p["other_share"]} $$""",
        # number of order items of order i: 1-3
        """CREATE FUNCTION pg_temp.nitems(i bigint) RETURNS int LANGUAGE sql IMMUTABLE AS
           $$ SELECT 1 + floor(pg_temp.u(i, 40) * 3)::int $$""",
        # SKU number of item k of order i: skewed over SKUS
        f"""CREATE FUNCTION pg_temp.skun(i bigint, k int) RETURNS int LANGUAGE sql IMMUTABLE AS
           $$ SELECT floor({SKUS} * power(pg_temp.u(i, 40 + k), 1.5))::int $$""",
    ]


def customers_sql(p: dict) -> str:
    return f"""
    INSERT INTO tickets_customer (id, shop_id, external_id, name, phone, created_at, updated_at)
    SELECT c,
           CASE WHEN c % 20 = 0 THEN {p["other_shop"]} ELSE {p["demo_shop"]} END,
           'c-' || c,
           (ARRAY['张','王','李','赵','刘','陈','杨','黄','周','吴','徐','孙','马','朱','胡','郭'])[1 + c % 16]
             || (ARRAY['伟','芳','娜','敏','静','磊','洋','艳','勇','军','杰','娟','涛','明','超','秀英','晨','婷'])[1 + (c / 16) % 18],
           CASE WHEN pg_temp.u(c, 101) < 0.9
                THEN '1' || (ARRAY['3','5','7','8','9'])[1 + c % 5] || lpad(((c * 7919) % 1000000000)::text, 9, '0')
                ELSE '' END,
           ts, ts
    FROM generate_series(1::bigint, {p["customers"]}) AS c,
         LATERAL (SELECT '{p["t0"]}'::timestamptz - interval '400 days'
                         + (c::float8 / {p["customers"]}) * interval '395 days' AS ts) x
    """


def orders_sql(p: dict) -> str:
    return f"""
    INSERT INTO tickets_order (id, shop_id, order_no, amount, paid_at, shipped_at, delivered_at, courier, tracking_no)
    SELECT i,
           CASE WHEN pg_temp.other(i) THEN {p["other_shop"]} ELSE {p["demo_shop"]} END,
           'T' || to_char(paid, 'YYYYMMDD') || lpad(i::text, 8, '0'),
           round((9.9 + pg_temp.u(i, 50) * 490)::numeric, 2),
           paid,
           paid + interval '1 hour' * (4 + pg_temp.u(i, 51) * 60),
           CASE WHEN pg_temp.u(i, 52) < 0.85 THEN paid + interval '1 hour' * (30 + pg_temp.u(i, 53) * 100) END,
           (ARRAY['SF','ZTO','YTO','JD','EMS','STO','YUNDA'])[1 + floor(pg_temp.u(i, 54) * 7)::int],
           'YT' || lpad(((i * 1000003) % 10000000000)::text, 12, '0')
    FROM generate_series(1::bigint, {p["n"]}) AS i,
         LATERAL (SELECT pg_temp.created(i) - interval '1 hour' * (24 + pg_temp.u(i, 55) * 24 * 14) AS paid) x
    """


def order_items_sql(p: dict) -> str:
    return f"""
    INSERT INTO tickets_orderitem (order_id, sku, name, batch_no, unit_price, quantity, perishable, shelf_life_days)
    SELECT i,
           'SKU-' || lpad(s::text, 5, '0'),
           (ARRAY['玻璃瓶 500ml','火腿肠 12支装','纯棉T恤','陶瓷马克杯','精华液 30ml','每日坚果 500g',
                  '蓝牙耳机','保温杯','洗发水 750ml','运动鞋'])[1 + s % 10] || ' #' || s,
           'B' || to_char(pg_temp.created(i) - interval '1 day' * (s % 90), 'YYMM') || lpad((s % 7)::text, 2, '0'),
           round((3 + (s * 37) % 500 + 0.9)::numeric, 2),
           1 + floor(pg_temp.u(i, 60 + k) * 3)::int,
           s % 7 = 0,
           CASE WHEN s % 7 = 0 THEN 30 + (s % 12) * 30 END
    FROM generate_series(1::bigint, {p["n"]}) AS i,
         generate_series(1, 3) AS k,
         LATERAL (SELECT pg_temp.skun(i, k) AS s) x
    WHERE k <= pg_temp.nitems(i)
    """


def tickets_sql(p: dict) -> str:
    dt_ids = "ARRAY[" + ",".join(map(str, p["dispute_type_ids"])) + "]::bigint[]"
    dt_prios = "ARRAY[" + ",".join(f"'{x}'" for x in p["dispute_type_priorities"]) + "]::text[]"
    demo_agents = "ARRAY[" + ",".join(map(str, p["demo_agents"])) + "]::int[]"
    other_agents = "ARRAY[" + ",".join(map(str, p["other_agents"])) + "]::int[]"
    n_types = len(p["dispute_type_ids"])
    c20 = p["customers"] // 20
    return f"""
    INSERT INTO tickets_ticket (
        id, number, shop_id, customer_id, order_id, dispute_type_id, status, priority, channel, assignee_id,
        external_ref, requested_resolution, description, affected_items, platform_deadline_at,
        first_response_due_at, resolution_due_at, next_due_at, first_responded_at, resolved_at, closed_at,
        created_at, updated_at)
    SELECT i,
           'AS' || to_char(created AT TIME ZONE 'Asia/Shanghai', 'YYMMDD') || num,
           CASE WHEN other THEN {p["other_shop"]} ELSE {p["demo_shop"]} END,
           CASE WHEN other THEN 20 * (1 + floor({c20} * pg_temp.u(i, 6))::bigint)
                ELSE (SELECT CASE WHEN c % 20 = 0 THEN c - 1 ELSE c END
                      FROM (SELECT least({p["customers"]}, 1 + floor({p["customers"]} * power(pg_temp.u(i, 6), 1.3))::bigint) AS c) cc)
           END,
           i,
           ({dt_ids})[dti],
           status, priority,
           (ARRAY['api','api','api','api','web','phone','chat','im','email'])[1 + floor(pg_temp.u(i, 8) * 9)::int],
           assignee,
           CASE WHEN pg_temp.u(i, 10) < 0.6 THEN 'RMA-' || i END,
           (ARRAY['refund','return_refund','reship','exchange','compensation',''])[1 + floor(pg_temp.u(i, 11) * 6)::int],
           (ARRAY['收到的时候瓶子碎了,外箱也压扁了,有照片。','买了两件只收到一件。','我买的是L码,收到的是M码。',
                  '下单三天了还没发货,说好的48小时发货呢?','物流一直停在中转站,已经5天没有更新了。',
                  '显示已签收,但我没有收到,也没人通知我。','不喜欢颜色,想七天无理由退货。',
                  '刚买完就降价30元,能不能退差价?','需要开具增值税普通发票,抬头是公司。',
                  '商品有问题,请尽快处理。'])[1 + floor(pg_temp.u(i, 12) * 10)::int],
           jsonb_build_array(jsonb_build_object('sku', 'SKU-' || lpad(pg_temp.skun(i, 1)::text, 5, '0'), 'quantity', 1)),
           CASE WHEN pg_temp.u(i, 13) < 0.3 THEN created + interval '48 hours' END,
           first_due, resolution_due,
           CASE WHEN status IN ('new', 'open', 'pending_internal')
                THEN CASE WHEN responded IS NULL THEN first_due ELSE resolution_due END END,
           responded, resolved, closed,
           created,
           greatest(created, responded, resolved, closed, touched)
    FROM (
        SELECT i, other, created, age, status, dti, num,
               CASE WHEN pg_temp.u(i, 7) < 0.05 THEN 'urgent' ELSE ({dt_prios})[dti] END AS priority,
               CASE WHEN status = 'new' AND pg_temp.u(i, 9) < 0.7 THEN NULL
                    WHEN status <> 'new' AND pg_temp.u(i, 9) < 0.03 THEN NULL
                    WHEN other THEN ({other_agents})[1 + floor(pg_temp.u(i, 14) * {len(p["other_agents"])})::int]
                    ELSE ({demo_agents})[1 + floor(power(pg_temp.u(i, 14), 1.2) * {len(p["demo_agents"])})::int]
               END AS assignee,
               created + CASE WHEN pg_temp.u(i, 7) < 0.05 OR ({dt_prios})[dti] = 'urgent'
                              THEN interval '15 minutes' ELSE interval '60 minutes' END AS first_due,
               created + interval '3 days' + CASE WHEN pg_temp.u(i, 15) < 0.4 THEN interval '2 days' ELSE interval '0' END
                   AS resolution_due,
               responded,
               resolved,
               CASE WHEN status = 'closed' THEN least(resolved + interval '7 days', t0 - interval '1 minute') END AS closed,
               CASE WHEN active THEN created + (t0 - created) * pg_temp.u(i, 16) END AS touched
        FROM (
            SELECT i, other, created, age, active, status, dti, num, t0,
                   CASE WHEN status <> 'new'
                        THEN least(created + interval '1 minute' * (5 + pg_temp.u(i, 17) * 360), t0) END AS responded,
                   CASE WHEN status IN ('resolved', 'closed')
                        THEN least(created + interval '1 minute' * (370 + pg_temp.u(i, 18) * 7200), t0 - interval '1 minute')
                   END AS resolved
            FROM (
                SELECT i, other, created, age, active, dti, num, t0,
                       CASE WHEN active THEN (ARRAY['new','open','open','pending_customer','pending_internal'])[1 + floor(pg_temp.u(i, 4) * 5)::int]
                            WHEN age < 7 OR pg_temp.u(i, 4) < 0.15 THEN 'resolved'
                            ELSE 'closed' END AS status
                FROM (
                    SELECT i, other, created, age, t0, dti, num,
                           {"true" if p.get("all_active") else "pg_temp.u(i, 2) < 0.09 + 0.9 * exp(-age / 25)"} AS active
                    FROM (
                        SELECT i, pg_temp.other(i) AS other, pg_temp.created(i) AS created,
                               extract(epoch FROM '{p["t0"]}'::timestamptz - pg_temp.created(i)) / 86400 AS age,
                               '{p["t0"]}'::timestamptz AS t0,
                               1 + floor({n_types} * power(pg_temp.u(i, 5), 1.6))::int AS dti,
                               -- 6 characters of the number alphabet from a bijection of i (unique, not sequential)
                               substr('23456789ABCDEFGHJKMNPQRSTUVWXYZ', 1 + ((i * 104729) % 887503681 / 28629151 % 31)::int, 1)
                                   || substr('23456789ABCDEFGHJKMNPQRSTUVWXYZ', 1 + ((i * 104729) % 887503681 / 923521 % 31)::int, 1)
                                   || substr('23456789ABCDEFGHJKMNPQRSTUVWXYZ', 1 + ((i * 104729) % 887503681 / 29791 % 31)::int, 1)
                                   || substr('23456789ABCDEFGHJKMNPQRSTUVWXYZ', 1 + ((i * 104729) % 887503681 / 961 % 31)::int, 1)
                                   || substr('23456789ABCDEFGHJKMNPQRSTUVWXYZ', 1 + ((i * 104729) % 887503681 / 31 % 31)::int, 1)
                                   || substr('23456789ABCDEFGHJKMNPQRSTUVWXYZ', 1 + ((i * 104729) % 887503681 / 1 % 31)::int, 1) AS num
                        FROM generate_series(1::bigint, {p["n"]}) AS i
                        OFFSET 0  -- keep each level's values computed once per row
                    ) a
                    OFFSET 0  -- keep each level's values computed once per row
                ) b
                OFFSET 0  -- keep each level's values computed once per row
            ) c
            OFFSET 0  -- keep each level's values computed once per row
        ) d
        OFFSET 0  -- keep each level's values computed once per row
    ) e
    """


def events_sql(p: dict) -> str:
    return """
    INSERT INTO tickets_ticketevent (ticket_id, kind, actor_id, actor_label, data, created_at)
    SELECT t.id,
           kind,
           CASE WHEN kind = 'created' THEN NULL ELSE t.assignee_id END,
           CASE WHEN kind = 'created' OR t.assignee_id IS NULL THEN 'shop:' || s.code ELSE u.username END,
           CASE kind
             WHEN 'created' THEN jsonb_build_object('dispute_type', dt.code, 'priority', t.priority, 'channel', t.channel)
             WHEN 'assigned' THEN jsonb_build_object('from', NULL, 'to', u.username)
             WHEN 'message' THEN jsonb_build_object('author_kind', CASE WHEN t.assignee_id IS NULL THEN 'customer' ELSE 'staff' END,
                                                    'internal', false, 'body', '亲,这边马上为您核实处理。')
             ELSE jsonb_build_object('from', CASE WHEN j = ne - 1 AND t.status = 'closed' THEN 'resolved' ELSE 'open' END,
                                     'to', CASE WHEN j = ne - 1 AND t.status IN ('resolved', 'closed') THEN t.status
                                                ELSE 'pending_customer' END,
                                     'action', CASE WHEN j = ne - 1 AND t.status = 'closed' THEN 'close'
                                                    WHEN j = ne - 1 AND t.status = 'resolved' THEN 'resolve'
                                                    ELSE 'wait_customer' END)
           END,
           t.created_at + (t.updated_at - t.created_at) * (j::float8 / (ne - 1))
    FROM tickets_ticket t
    JOIN shops_shop s ON s.id = t.shop_id
    JOIN disputes_disputetype dt ON dt.id = t.dispute_type_id
    LEFT JOIN auth_user u ON u.id = t.assignee_id
    CROSS JOIN LATERAL (SELECT 2 + floor(pg_temp.u(t.id, 20) * 5)::int AS ne) n
    CROSS JOIN LATERAL generate_series(0, n.ne - 1) AS j
    CROSS JOIN LATERAL (
        SELECT CASE WHEN j = 0 THEN 'created'
                    WHEN j = 1 AND t.assignee_id IS NOT NULL THEN 'assigned'
                    WHEN j = ne - 1 AND t.status IN ('resolved', 'closed') THEN 'status_changed'
                    WHEN j % 2 = 0 THEN 'status_changed'
                    ELSE 'message' END AS kind) k
    """


def messages_sql(p: dict) -> str:
    return """
    INSERT INTO tickets_message (ticket_id, author_kind, author_id, body, internal, created_at)
    SELECT t.id,
           CASE WHEN m % 2 = 0 OR t.assignee_id IS NULL THEN 'customer' ELSE 'staff' END,
           CASE WHEN m % 2 = 1 THEN t.assignee_id END,
           CASE WHEN m % 2 = 0
                THEN (ARRAY['收到的时候瓶子碎了,有照片。','什么时候能处理好?','我已经等了三天了。','好的,谢谢。'])[1 + (t.id + m) % 4]
                ELSE (ARRAY['亲,非常抱歉给您带来这个困扰,这边马上为您核实处理,请您放心。','已为您申请退款,请注意查收。',
                            '麻烦您提供一下商品破损的照片。'])[1 + (t.id + m) % 3] END,
           m % 2 = 1 AND t.assignee_id IS NOT NULL AND pg_temp.u(t.id * 4 + m, 31) < 0.1,
           t.created_at + (t.updated_at - t.created_at) * ((m + 0.5) / nm)
    FROM tickets_ticket t
    CROSS JOIN LATERAL (SELECT floor(pg_temp.u(t.id, 30) * 4)::int AS nm) n
    CROSS JOIN LATERAL generate_series(0, n.nm - 1) AS m
    """


# --- running ------------------------------------------------------------------------------------


def run_parallel(
    db: str, p: dict, jobs: list[tuple[str, str]], workers: int, timings: list
) -> None:
    """Run (label, sql) jobs on `workers` connections, biggest first as listed."""

    def one(job):
        label, sql = job
        conn = connect(db)
        try:
            with conn.cursor() as cur:
                for statement in session_sql(p):
                    cur.execute(statement)
                start = time.perf_counter()
                cur.execute(sql)
                rows = cur.rowcount
            elapsed = time.perf_counter() - start
            print(
                f"    {label}: {elapsed:.1f} s"
                + (f" ({rows:,} rows)" if rows and rows > 0 else ""),
                flush=True,
            )
            timings.append((label, elapsed))
        finally:
            conn.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(one, job) for job in jobs]:
            future.result()


def check_foreign_keys(conn) -> None:
    """One anti-join per foreign key of the big tables: what the skipped triggers would have checked."""
    with conn.cursor() as cur:
        cur.execute(
            """
            SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, af.attname
            FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]
            WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)
            """,
            [BULK_TABLES],
        )
        for table, column, ref_table, ref_column in cur.fetchall():
            cur.execute(
                f"SELECT count(*) FROM {table} x WHERE x.{column} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {ref_table} r WHERE r.{ref_column} = x.{column})"
            )
            missing = cur.fetchone()[0]
            if missing:
                raise SystemExit(
                    f"foreign key broken: {missing} rows of {table}.{column} not in {ref_table}"
                )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--reset", action="store_true", help="drop and recreate the database first")
    parser.add_argument(
        "--other-share", type=float, default=0.05, help="share of tickets in shop 'other'"
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="parallel connections for loading and index builds"
    )
    parser.add_argument(
        "--all-active",
        action="store_true",
        help="every ticket active (new/open/pending_*), none resolved: the SLA sweep's worst case",
    )
    parser.add_argument(
        "--keep-indexes",
        action="store_true",
        help="load with all indexes in place (slower; for comparison)",
    )
    args = parser.parse_args()
    timings: list = []
    t_start = time.perf_counter()

    print(f"Benchmark database {args.db}: {args.tickets:,} tickets")
    with timed("create database + migrate", timings):
        ensure_database(args.db, args.reset)
        migrate(args.db)

    conn = connect(args.db)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM tickets_ticket")
        existing = cur.fetchone()[0]
    if existing:
        print(
            f"  {args.db} already has {existing:,} tickets: migrated only (use --reset to rebuild it)."
        )
        return

    setup_django(args.db)
    with timed("shops, staff, API keys", timings):
        refs = bootstrap_reference_rows()

    # Round to midnight-ish so the data set is the same for the same day; whole minutes.
    t0 = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    customers = max(20, (int(args.tickets * 0.3) // 20) * 20)
    p = {
        "n": args.tickets,
        "customers": customers,
        "t0": t0.isoformat(),
        "other_share": args.other_share,
        "all_active": args.all_active,
        "demo_shop": refs["demo"]["shop_id"],
        "other_shop": refs["other"]["shop_id"],
        "demo_agents": refs["demo"]["agent_ids"],
        "other_agents": refs["other"]["agent_ids"],
        "dispute_type_ids": refs["dispute_type_ids"],
        "dispute_type_priorities": refs["dispute_type_priorities"],
    }

    before = schema_snapshot(conn)
    indexes = secondary_indexes(conn)
    if not args.keep_indexes:
        with timed(f"drop {len(indexes)} secondary indexes / unique constraints", timings):
            drop_secondary_indexes(conn, indexes)

    with timed("load tickets, customers, orders, order items", timings):
        run_parallel(
            args.db,
            p,
            [
                ("tickets", tickets_sql(p)),
                ("order items", order_items_sql(p)),
                ("orders", orders_sql(p)),
                ("customers", customers_sql(p)),
            ],
            args.jobs,
            timings,
        )
    with timed("load events, messages", timings):
        run_parallel(
            args.db,
            p,
            [("events", events_sql(p)), ("messages", messages_sql(p))],
            args.jobs,
            timings,
        )

    with conn.cursor() as cur:
        for table in BULK_TABLES:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )

    if not args.keep_indexes:
        with timed(f"rebuild {len(indexes)} indexes", timings):
            # Unique constraints: build their index, then attach it (ADD CONSTRAINT ... USING INDEX).
            sizes = {}
            with conn.cursor() as cur:
                for table in BULK_TABLES:
                    cur.execute("SELECT pg_relation_size(%s)", [table])
                    sizes[table] = cur.fetchone()[0]
            ordered = sorted(indexes, key=lambda ix: -sizes[ix["table"]])
            run_parallel(
                args.db,
                p,
                [(f"{ix['table']}.{ix['index']}", ix["indexdef"]) for ix in ordered],
                args.jobs,
                [],
            )
            with conn.cursor() as cur:
                for ix in indexes:
                    if ix["constraint"]:
                        cur.execute(
                            f'ALTER TABLE {ix["table"]} ADD CONSTRAINT "{ix["constraint"]}" UNIQUE USING INDEX "{ix["index"]}"'
                        )
        after = schema_snapshot(conn)
        if after != before:
            diff = set(before) ^ set(after)
            raise SystemExit(
                f"schema differs from the migrations' after the rebuild: {sorted(diff)}"
            )
        print("  schema check: indexes and constraints identical to the migrations'")

    with timed("check foreign keys", timings):
        check_foreign_keys(conn)
    with timed("VACUUM ANALYZE", timings), conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("VACUUM ANALYZE")

    with conn.cursor() as cur:
        print("\nRows:")
        for table in BULK_TABLES:
            cur.execute(f"SELECT count(*) FROM {table}")
            print(f"  {table:<22} {cur.fetchone()[0]:>12,}")
        cur.execute(
            "SELECT s.code, count(*), count(*) FILTER (WHERE t.status IN ('new','open','pending_customer','pending_internal')) "
            "FROM tickets_ticket t JOIN shops_shop s ON s.id = t.shop_id GROUP BY s.code ORDER BY s.code"
        )
        for code, total, active in cur.fetchall():
            print(
                f"  shop {code:<6} {total:>12,} tickets, {active:,} active ({100 * active / total:.1f} %)"
            )
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(f"  database size {cur.fetchone()[0]}")
    conn.close()
    total = time.perf_counter() - t_start
    print("\nTimings:")
    for label, seconds in timings:
        print(f"  {label:<50} {seconds:7.1f} s")
    print(f"  {'total':<50} {total:7.1f} s")


if __name__ == "__main__":
    main()
