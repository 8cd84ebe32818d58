"""Demo seed for Open311: extra questions on three catalogue services (so ``services.json``
shows ``metadata=true``) and the demo app "Gongzhi demo app" with its published key.

The key, ``gongzhi-demo-open311-key``, is public like the demo accounts' password, so it is
seeded only when the demo accounts are (``SeedContext.with_demo_users``); re-seeding puts it
back as documented, even after someone revoked it. The app belongs to the Tianfutong
government services office, which runs the district's citizen app.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from governance.cases.models import Open311Client, ServiceAttribute
from governance.cases.open311 import keys
from governance.core.seeding import SeedContext, sync_row
from governance.stakeholders.models import Organisation
from governance.stations.models import Service

# Published on purpose, like the demo accounts' password: demo only.
DEMO_KEY = "gongzhi-demo-open311-key"
DEMO_APP = "Gongzhi demo app"
DEMO_APP_ORGANISATION = "tianfu"

MODELS = ("cases.ServiceAttribute", "cases.Open311Client")

Datatype = ServiceAttribute.Datatype


def _option(key: str, name_zh: str, name_en: str) -> dict:
    return {"key": key, "name_zh": name_zh, "name_en": name_en}


# service code → its attributes (code → values), in order.
ATTRIBUTES: dict[str, dict[str, dict]] = {
    "HK-ID-RENEW": {
        "problem": {
            "datatype": Datatype.SINGLEVALUELIST,
            "required": True,
            "description_zh": "遇到了什么问题？",
            "description_en": "What went wrong?",
            "values": [
                _option("photo", "现场照片不合格", "The photo taken on site was rejected"),
                _option("waiting", "排队等候时间过长", "The wait was too long"),
                _option("documents", "所需材料说明不清", "The required documents were unclear"),
                _option("other", "其他", "Something else"),
            ],
        },
        "visited_at": {
            "datatype": Datatype.DATETIME,
            "description_zh": "办理时间",
            "description_en": "When you were there",
            "datatype_description_zh": "例如 2026-10-20T10:30:00+08:00",
            "datatype_description_en": "For example 2026-10-20T10:30:00+08:00",
        },
    },
    "TR-VIOLATION": {
        "kiosk": {
            "datatype": Datatype.STRING,
            "description_zh": "自助终端编号",
            "description_en": "Kiosk number",
            "datatype_description_zh": "贴在终端右上角，例如 TR-K02",
            "datatype_description_en": "On the kiosk's top right corner, e.g. TR-K02",
        },
        "problem": {
            "datatype": Datatype.SINGLEVALUELIST,
            "required": True,
            "description_zh": "遇到了什么问题？",
            "description_en": "What went wrong?",
            "values": [
                _option("licence", "无法识别驾驶证", "The driving licence was not recognised"),
                _option("payment", "缴款失败", "The payment failed"),
                _option("frozen", "终端死机", "The kiosk froze"),
            ],
        },
    },
    "TF-SOCIAL": {
        "privacy": {
            "variable": False,
            "datatype": Datatype.TEXT,
            "description_zh": "请勿在描述中填写社保卡密码或完整身份证号。",
            "description_en": "Do not write your card PIN or full ID number in the description.",
        },
        "issues": {
            "datatype": Datatype.MULTIVALUELIST,
            "required": True,
            "description_zh": "哪些功能有问题？",
            "description_en": "What did not work?",
            "values": [
                _option("print", "无法打印", "Printing failed"),
                _option("faint", "打印不清晰", "The print was faint"),
                _option("wrong", "查询结果有误", "The record shown was wrong"),
                _option("frozen", "终端死机", "The kiosk froze"),
            ],
        },
        "pages": {
            "datatype": Datatype.NUMBER,
            "description_zh": "打印了几页？",
            "description_en": "How many pages were printed?",
        },
    },
}


def seed_open311(context: SeedContext) -> None:
    seed_attributes()
    if context.with_demo_users:
        client = seed_demo_client()
        if client is not None:
            context.write(
                _("演示 Open311 应用“%(app)s”的 API 密钥为 %(key)s（仅供演示）。")
                % {"app": DEMO_APP, "key": DEMO_KEY}
            )


def seed_attributes() -> list[ServiceAttribute]:
    services = {
        service.service_code: service
        for service in Service.objects.filter(service_code__in=list(ATTRIBUTES))
    }
    rows = []
    for code, attributes in ATTRIBUTES.items():
        service = services.get(code)
        if service is None:
            continue
        for order, (attribute_code, values) in enumerate(attributes.items(), start=1):
            row, _changed = sync_row(
                ServiceAttribute,
                {"service": service, "code": attribute_code},
                {
                    "variable": True,
                    "required": False,
                    "datatype_description_zh": "",
                    "datatype_description_en": "",
                    "values": [],
                    **values,
                    "order": order,
                    "is_active": True,
                },
            )
            rows.append(row)
    return rows


def seed_demo_client() -> Open311Client | None:
    organisation = Organisation.objects.filter(slug=DEMO_APP_ORGANISATION).first()
    if organisation is None:
        return None
    client, _changed = sync_row(
        Open311Client,
        {"organisation": organisation, "name": DEMO_APP},
        {
            "key_hash": keys.hash_key(DEMO_KEY),
            "key_prefix": keys.shown_prefix(DEMO_KEY),
            "contact_email": "open311@demo.gongzhi.local",
            "is_active": True,
            "revoked_at": None,
        },
    )
    return client
