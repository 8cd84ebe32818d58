"""``python manage.py seed_demo``: fill the database with the demo (idempotent).

Every app contributes its own rows through :mod:`governance.core.seeding`; this command runs
them in order inside one transaction and prints how many rows each model holds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.core.seeding import run_seeders, seeded_models

TZ = ZoneInfo("Asia/Shanghai")


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            _("日期格式应为 YYYY-MM-DD：%(value)s") % {"value": value}
        ) from exc


# An arbitrary, fixed key for PostgreSQL's advisory lock ("gongzhi seed" as a number).
SEED_LOCK_KEY = 0x676F6E677A6869


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return _(
            "写入演示数据：组织、演示账号、服务站点、服务事项和近 90 天的办件记录。"
            "可重复运行，已有的数据不会重复写入。"
        )

    def add_arguments(self, parser):
        accounts = parser.add_mutually_exclusive_group()
        accounts.add_argument(
            "--with-demo-users",
            action="store_true",
            help=_("即使 DEBUG 已关闭也创建演示账号（公开密码 gongzhi-demo，公开 TOTP 密钥）。"),
        )
        accounts.add_argument(
            "--without-demo-users",
            action="store_true",
            help=_("不创建演示账号，只写入组织、站点、事项和办件等数据。"),
        )
        parser.add_argument(
            "--today",
            type=_date,
            default=None,
            help=_("以该日期（YYYY-MM-DD，北京时间）作为演示数据的最后一天；默认为今天。"),
        )

    def handle(self, *args, **options):
        if options["without_demo_users"]:
            with_demo_users = False
        elif options["with_demo_users"] or settings.DEBUG:
            with_demo_users = True
        else:
            raise CommandError(
                _(
                    "DEBUG 已关闭，seed_demo 拒绝创建演示账号：这些账号使用公开的密码"
                    "（gongzhi-demo）和 TOTP 密钥。确需创建请加 --with-demo-users；"
                    "只写入演示数据而不创建账号请加 --without-demo-users。未写入任何数据。"
                )
            )

        now = timezone.now()
        today = timezone.localdate(now, TZ)
        if options["today"] is not None and options["today"] != today:
            today = options["today"]
            # A day in the past is seeded whole; nothing is seeded after the real now.
            now = min(now, dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0), TZ))

        started = time.monotonic()
        models = seeded_models()
        before = {model: model._default_manager.count() for model in models}
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Two runs at once (two deploy hooks, say) would race on the same natural keys;
                # the second waits here for the first and then finds everything in place.
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEED_LOCK_KEY])
            run_seeders(stdout=self.stdout, with_demo_users=with_demo_users, today=today, now=now)
        elapsed = time.monotonic() - started

        self.stdout.write(
            self.style.SUCCESS(
                _("演示数据已就绪（截至 %(today)s，用时 %(seconds).1f 秒）：")
                % {"today": today.isoformat(), "seconds": elapsed}
            )
        )
        width = max((len(model._meta.label) for model in models), default=0)
        for model in models:
            count = model._default_manager.count()
            self.stdout.write(
                f"  {model._meta.label:<{width}}  {count:>7,}  ({count - before[model]:+,})"
            )
