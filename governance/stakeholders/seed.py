"""Demo seed: the organisations around the Chenghua Mixc station, and the demo accounts.

Every demo account signs in with the password ``gongzhi-demo``. Every account that can enter the
admin (the superuser and every department or partner admin/staff account) is enrolled in TOTP
with the one published secret :data:`DEMO_TOTP_SECRET`; add it to any authenticator app, or
compute the code with ``oathtool --totp -b GONGZHIDEMOSECRETTOTPKEY234567AB``. Both are public,
which is why ``seed_demo`` refuses to create these accounts when ``DEBUG`` is off unless told to.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import check_password, make_password
from django.utils.translation import gettext as _

from governance.core.seeding import SeedContext, sync_row
from governance.stakeholders.models import Membership, Organisation, User
from governance.stakeholders.services import membership_grant

DEMO_PASSWORD = "gongzhi-demo"  # noqa: S105  (published on purpose: demo accounts only)
DEMO_TOTP_SECRET = "GONGZHIDEMOSECRETTOTPKEY234567AB"  # noqa: S105  (base32, 20 bytes)
DEMO_EMAIL_DOMAIN = "demo.gongzhi.local"

MODELS = (
    "stakeholders.Organisation",
    "stakeholders.User",
    "stakeholders.Membership",
    "account.EmailAddress",
    "mfa.Authenticator",
)

DEPARTMENT = Organisation.Kind.DEPARTMENT
PARTNER = Organisation.Kind.PARTNER
COMMUNITY = Organisation.Kind.COMMUNITY

# Contact numbers and addresses are made up for the demo (the 12345 hotline is the city's real
# government service line); e-mail addresses use a domain that cannot receive mail.
ORGANISATIONS: dict[str, dict] = {
    "hukou": {
        "kind": DEPARTMENT,
        "name_zh": "成都市公安局成华区分局户政管理大队",
        "name_en": (
            "Household Administration Brigade, Chenghua Branch of Chengdu Public Security Bureau"
        ),
        "short_name_zh": "户政管理",
        "short_name_en": "Household Administration",
        "description_zh": "负责居民身份证、户口登记与迁移、居住证和户籍证明等户政业务。",
        "description_en": (
            "Resident ID cards, household registration and transfers, residence permits and "
            "household registration certificates."
        ),
        "contact_email": "hukou@demo.gongzhi.local",
        "contact_phone": "028-84312110",
    },
    "traffic": {
        "kind": DEPARTMENT,
        "name_zh": "成都市公安局交通管理局成华区分局",
        "name_en": "Chenghua Division, Traffic Administration of Chengdu Public Security Bureau",
        "short_name_zh": "交通管理",
        "short_name_en": "Traffic Police",
        "description_zh": "办理驾驶证换补、机动车检验标志、临时号牌和交通违法处理等交管业务。",
        "description_en": (
            "Driving licence renewals and replacements, vehicle inspection labels, temporary "
            "number plates and traffic violations."
        ),
        "contact_email": "traffic@demo.gongzhi.local",
        "contact_phone": "028-84312122",
    },
    "exit-entry": {
        "kind": DEPARTMENT,
        "name_zh": "成都市公安局出入境管理局成华分局",
        "name_en": "Chenghua Office, Exit-Entry Administration of Chengdu Public Security Bureau",
        "short_name_zh": "出入境管理",
        "short_name_en": "Exit-Entry Administration",
        "description_zh": "受理普通护照、往来港澳台通行证及签注，办理外国人住宿登记。",
        "description_en": (
            "Ordinary passports, permits and endorsements for Hong Kong, Macao and Taiwan, and "
            "accommodation registration for foreign nationals."
        ),
        "contact_email": "exit-entry@demo.gongzhi.local",
        "contact_phone": "028-84312133",
    },
    "tianfu": {
        "kind": DEPARTMENT,
        "name_zh": "成华区政务服务管理和网络理政办公室（天府通办）",
        "name_en": (
            "Chenghua District Government Services and Online Governance Office (Tianfutong)"
        ),
        "short_name_zh": "天府通办政务服务",
        "short_name_en": "Tianfutong Government Services",
        "description_zh": "“天府通办”线上线下政务服务：社保、公积金、不动产查询和电子证照等。",
        "description_en": (
            "Tianfutong government services online and at the counter: social insurance, "
            "housing provident fund, real estate records and electronic certificates."
        ),
        "contact_email": "tianfu@demo.gongzhi.local",
        "contact_phone": "028-12345",
    },
    "mall": {
        "kind": PARTNER,
        "name_zh": "成都万象城（成华区）",
        "name_en": "The Mixc Chengdu, Chenghua District",
        "short_name_zh": "万象城",
        "short_name_en": "The Mixc",
        "description_zh": "购物中心运营方，为智慧警务服务站提供场地、水电、引导人员和宣传位。",
        "description_en": (
            "The mall operator: provides the police service station's space, utilities, floor "
            "guides and promotion spots."
        ),
        "contact_email": "mall@demo.gongzhi.local",
        "contact_phone": "028-84336666",
    },
    "bank": {
        "kind": PARTNER,
        "name_zh": "中国工商银行成都万象城支行",
        "name_en": "ICBC Chengdu Mixc Sub-branch",
        "short_name_zh": "工行万象城支行",
        "short_name_en": "ICBC Mixc",
        "description_zh": "商场内的银行网点，提供交通罚款缴纳、社保卡金融功能激活等配套服务。",
        "description_en": (
            "The bank branch in the mall: payment of traffic fines and activation of the "
            "financial functions of social security cards."
        ),
        "contact_email": "bank@demo.gongzhi.local",
        "contact_phone": "028-84337788",
    },
    "telecom": {
        "kind": PARTNER,
        "name_zh": "中国移动成华万象城营业厅",
        "name_en": "China Mobile Chenghua Mixc Store",
        "short_name_zh": "中国移动营业厅",
        "short_name_en": "China Mobile",
        "description_zh": "协助群众完成手机号实名认证和“天府通办”账号注册，提供站内网络保障。",
        "description_en": (
            "Helps residents with mobile number real-name checks and Tianfutong sign-up, and "
            "keeps the station's network running."
        ),
        "contact_email": "telecom@demo.gongzhi.local",
        "contact_phone": "028-84339900",
    },
    "shuangqing-community": {
        "kind": COMMUNITY,
        "name_zh": "成华区双桥子街道双庆社区居民委员会",
        "name_en": "Shuangqing Community Residents' Committee, Shuangqiaozi Subdistrict",
        "short_name_zh": "双庆社区居委会",
        "short_name_en": "Shuangqing Residents' Committee",
        "description_zh": "组织社区志愿者在服务站引导群众，收集居民对站点服务的意见和建议。",
        "description_en": (
            "Organises community volunteers who guide visitors at the station, and gathers "
            "residents' views on its services."
        ),
        "contact_email": "shuangqing@demo.gongzhi.local",
        "contact_phone": "028-84318520",
    },
}


@dataclass(frozen=True)
class DemoAccount:
    email: str
    display_name: str
    superuser: bool = False
    organisation: str | None = None
    role: str | None = None

    @property
    def enters_admin(self) -> bool:
        return self.superuser or self.role in {Membership.Role.ADMIN, Membership.Role.STAFF}


ADMIN = Membership.Role.ADMIN
STAFF = Membership.Role.STAFF

DEMO_ACCOUNTS = (
    DemoAccount("admin@demo.gongzhi.local", "陈静（平台管理员）", superuser=True),
    DemoAccount("citizen@demo.gongzhi.local", "王小明"),
    DemoAccount("hukou.staff@demo.gongzhi.local", "李娜（户政）", organisation="hukou", role=STAFF),
    DemoAccount(
        "hukou.admin@demo.gongzhi.local", "刘建国（户政）", organisation="hukou", role=ADMIN
    ),
    DemoAccount(
        "traffic.staff@demo.gongzhi.local", "张伟（交管）", organisation="traffic", role=STAFF
    ),
    DemoAccount("mall.admin@demo.gongzhi.local", "周敏（万象城）", organisation="mall", role=ADMIN),
    DemoAccount("mall.staff@demo.gongzhi.local", "吴磊（万象城）", organisation="mall", role=STAFF),
    DemoAccount(
        "bank.admin@demo.gongzhi.local", "孙丽（工商银行）", organisation="bank", role=ADMIN
    ),
)
DEMO_EMAILS = frozenset(account.email for account in DEMO_ACCOUNTS)


def seed_stakeholders(context: SeedContext) -> None:
    organisations = seed_organisations()
    if context.with_demo_users:
        seed_demo_accounts(organisations)
        context.write(
            _(
                "演示账号（如 admin@demo.gongzhi.local）的密码均为 %(password)s；"
                "可进入管理后台的账号已绑定 TOTP 密钥 %(secret)s。"
            )
            % {"password": DEMO_PASSWORD, "secret": DEMO_TOTP_SECRET}
        )


def seed_organisations() -> dict[str, Organisation]:
    organisations = {}
    for slug, values in ORGANISATIONS.items():
        organisations[slug], _unused = sync_row(
            Organisation, {"slug": slug}, {**values, "is_active": True}
        )
    return organisations


def seed_demo_accounts(organisations: dict[str, Organisation]) -> dict[str, User]:
    """Create the demo accounts, or put them back as documented (password, roles, TOTP)."""
    passwords = _DemoPasswords()
    existing = {user.email: user for user in User.objects.filter(email__in=DEMO_EMAILS)}
    users = {}
    for account in DEMO_ACCOUNTS:
        current = existing.get(account.email)
        user, _unused = sync_row(
            User,
            {"email": account.email},
            {
                "display_name": account.display_name,
                "is_active": True,
                "is_superuser": account.superuser,
                # What membership_grant will settle on, so a re-run writes nothing.
                "is_staff": account.enters_admin,
                "password": passwords.hash_for(current.password if current else ""),
            },
        )
        _verify_email(user)
        if account.organisation:
            membership_grant(
                actor=None,
                user=user,
                organisation=organisations[account.organisation],
                role=account.role,
            )
        if account.enters_admin:
            _enrol_totp(user)
        users[account.email] = user
    return users


class _DemoPasswords:
    """Hashes the demo password once per run and checks each distinct stored hash once.

    All demo accounts share one hash of the same published password, so a re-run costs one
    slow hash check instead of one per account, and leaves the rows unchanged.
    """

    def __init__(self):
        self._checked: dict[str, bool] = {}
        self._fresh: str | None = None

    def hash_for(self, encoded: str) -> str:
        if encoded:
            if encoded not in self._checked:
                self._checked[encoded] = check_password(DEMO_PASSWORD, encoded)
            if self._checked[encoded]:
                return encoded
        if self._fresh is None:
            self._fresh = make_password(DEMO_PASSWORD)
            self._checked[self._fresh] = True
        return self._fresh


def _verify_email(user: User) -> None:
    """allauth lets an account sign in only with a verified primary address."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=user, primary=True).exclude(email=user.email).update(
        primary=False
    )
    sync_row(EmailAddress, {"user": user, "email": user.email}, {"verified": True, "primary": True})


def _enrol_totp(user: User) -> None:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP

    # An account that re-enrolled with its own secret keeps it.
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, DEMO_TOTP_SECRET)
    RecoveryCodes.activate(user)
