"""A partner's resources and volunteer shifts in and out of spreadsheets (django-import-export).

Each resource class acts for one partner and one person:
``ResourceTransfer(partner=mall, actor=user)``. The partner is never a column. A row is looked
up among that partner's rows only, by its natural key (a resource's Chinese name; a shift's
volunteer and start), and written through ``partners.services`` (``resource_create`` /
``resource_update``, ``shift_create`` / ``shift_update``). So a row meets exactly the checks a
form meets (the model's ``full_clean``, a shift's times, a funding resource never bookable, the
actor's seat in the partner), and no row can reach another partner's data.

**All or nothing.** Callers import with ``use_transactions=True`` and
``rollback_on_validation_errors=True``: a file with one bad row writes nothing, and a dry run
writes nothing either (it runs the same services and rolls them back). :func:`problems` turns a
result into the per-row list (spreadsheet line, column, message) that the portal and the admin
show.

**Files.** CSV (UTF-8 with or without BOM, or GB18030, the encoding Excel uses for CSV on
Chinese Windows) and XLSX (the first sheet), at most :data:`MAX_BYTES` and :data:`MAX_ROWS` data
rows. Anything else gets a :class:`FileRefused` with a message for the user. The header row names
the columns (codes such as ``name_zh``, listed by :meth:`PartnerRows.columns`). The key columns
are required; the other columns may be left out, so that an update touches only what the file
holds. Unknown columns are refused rather than ignored, so a misspelt column cannot be silently
dropped. Exports write the same columns, and :func:`spreadsheet_safe` neutralises every cell a
spreadsheet would run as a formula (django-import-export's own option only strips a leading
``=``).
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import logging
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import tablib
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    ImproperlyConfigured,
    PermissionDenied,
    ValidationError,
)
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets
from import_export.formats import base_formats
from import_export.instance_loaders import BaseInstanceLoader

from governance.stations.models import Station
from partners import services
from partners.models import Kind, Resource, Unit, Visibility, VolunteerShift

logger = logging.getLogger(__name__)

MAX_BYTES = 2 * 1024 * 1024
# Every row is written by its service (11-16 queries and two savepoints), inside one request:
# a thousand rows import in seconds, well within the web worker's timeout. Larger files are
# split by the user (the message says so).
MAX_ROWS = 1_000
EXTENSIONS = (".csv", ".xlsx")
# What a spreadsheet takes for the start of a formula (the tab and carriage return too, as some
# applications drop them and read on).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
)
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "是"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "否"})


class FileRefused(Exception):
    """The file as a whole cannot be imported; ``str()`` is the message for the user."""

    def __init__(self, message, code: str):
        super().__init__(message)
        self.message, self.code = message, code

    def __str__(self) -> str:
        return str(self.message)


def spreadsheet_safe(value):
    """``value``, with a text a spreadsheet would run as a formula turned into plain text (a
    leading apostrophe, as the feedback CSV export does). Import removes that apostrophe again,
    so an export imports back unchanged."""
    if isinstance(value, str) and value[:1] in FORMULA_START:
        return "'" + value
    return value


def _cell_text(value) -> str:
    """A cell as text: ``None`` is empty, a whole float (XLSX numbers) loses its ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# Files --------------------------------------------------------------------------------------
def check_upload(upload) -> type[base_formats.Format]:
    """Refuse an upload by its size and name before reading it; return the format to read it
    with."""
    name = (getattr(upload, "name", "") or "").lower()
    extension = name[name.rfind(".") :] if "." in name else ""
    if extension not in EXTENSIONS:
        raise FileRefused(_("只能导入 CSV 或 XLSX 文件。"), "unsupported")
    if upload.size > MAX_BYTES:
        raise FileRefused(
            _("文件太大：最大 %(limit)s MB。") % {"limit": MAX_BYTES // (1024 * 1024)}, "too_large"
        )
    if not upload.size:
        raise FileRefused(_("文件是空的。"), "empty")
    return CSV if extension == ".csv" else XLSX


def read_upload(upload) -> tablib.Dataset:
    """The rows of an uploaded CSV or XLSX file, or :class:`FileRefused`."""
    file_format = check_upload(upload)
    upload.seek(0)
    return file_format().create_dataset(upload.read(MAX_BYTES + 1))


def _too_many_rows() -> FileRefused:
    return FileRefused(
        _("文件的数据行太多：每次最多 %(limit)s 行，请分成几个文件导入。") % {"limit": MAX_ROWS},
        "too_many_rows",
    )


def _dataset(headers, rows) -> tablib.Dataset:
    """A dataset from a header row and the data rows after it: header cells trimmed, trailing
    empty header cells and blank rows dropped, short rows padded (spreadsheets leave trailing
    empty cells out)."""
    headers = [_cell_text(cell) for cell in headers or ()]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise FileRefused(_("文件里没有标题行。"), "empty")
    width = len(headers)
    dataset = tablib.Dataset(headers=headers)
    for line, row in enumerate(rows, start=2):
        row = list(row)
        if all(_cell_text(cell) == "" for cell in row):
            continue
        if any(_cell_text(cell) for cell in row[width:]):
            raise FileRefused(
                _("第 %(line)s 行比标题行多出了内容；请给每一列写上标题。") % {"line": line},
                "unreadable",
            )
        if len(dataset) >= MAX_ROWS:
            raise _too_many_rows()
        dataset.append((row + [None] * width)[:width])
    return dataset


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused(_("无法识别文件的文字编码；请另存为 UTF-8 编码的 CSV。"), "unreadable")


class CSV(base_formats.CSV):
    """CSV read from bytes (the encoding is found here, see :func:`_decode`), written with a
    BOM so that Excel reads it as UTF-8."""

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream):
        if in_stream is None:
            raise FileRefused(_("上传的文件已过期，请重新上传。"), "expired")
        if isinstance(in_stream, bytes):
            if len(in_stream) > MAX_BYTES:
                raise FileRefused(_("文件太大。"), "too_large")
            in_stream = _decode(in_stream)
        try:
            reader = csv.reader(io.StringIO(in_stream, newline=""))
            headers = next(reader, None)
            return _dataset(headers, reader)
        except csv.Error as error:
            raise FileRefused(_("无法读取这个 CSV 文件。"), "unreadable") from error

    def export_data(self, dataset, **kwargs):
        return "\ufeff" + super().export_data(dataset, **kwargs)


class XLSX(base_formats.XLSX):
    """The first sheet of a workbook, read as values (a formula cell gives its last computed
    value), stopping at :data:`MAX_ROWS` rows however large the sheet claims to be."""

    def create_dataset(self, in_stream):
        import openpyxl

        if in_stream is None:
            raise FileRefused(_("上传的文件已过期，请重新上传。"), "expired")
        if len(in_stream) > MAX_BYTES:
            raise FileRefused(_("文件太大。"), "too_large")
        unreadable = FileRefused(_("无法读取这个 XLSX 文件。"), "unreadable")
        # Whatever a parser of an untrusted file raises, the file is unreadable.
        try:
            book = openpyxl.load_workbook(io.BytesIO(in_stream), read_only=True, data_only=True)
        except Exception as error:
            raise unreadable from error
        try:
            rows = book.worksheets[0].iter_rows(values_only=True)
            return _dataset(next(rows, None), rows)
        except FileRefused:
            raise
        except Exception as error:
            raise unreadable from error
        finally:
            book.close()


# Cells --------------------------------------------------------------------------------------
class TextWidget(widgets.CharWidget):
    """Trimmed text; an empty cell is an empty text. The apostrophe an export put before a
    formula-like text is taken off again."""

    def hint(self) -> str:
        return _("文字；留空即清空。")

    def clean(self, value, row=None, **kwargs):
        text = _cell_text(value)
        if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START:
            text = text[1:]
        return text


class ChoiceWidget(widgets.Widget):
    """A code of ``choices`` (``space``), or its label in Chinese or the page's language
    (``场地/房间``). An empty cell leaves the value as it is (a new row takes the default)."""

    def __init__(self, choices):
        super().__init__()
        self.choices = choices

    def hint(self) -> str:
        options = "、".join(f"{code}（{label}）" for code, label in self.choices.choices)
        return _("可填：%(options)s；留空则不变。") % {"options": options}

    def clean(self, value, row=None, **kwargs):
        text = _cell_text(value)
        if not text:
            return None
        for code, label in self.choices.choices:
            with translation.override("zh-hans"):
                chinese = str(label)
            if text.lower() == code or text in (chinese, str(label)):
                return code
        raise ValueError(
            _("“%(value)s”不是有效的选项；可填：%(codes)s。")
            % {"value": text, "codes": ", ".join(self.choices.values)}
        )

    def render(self, value, obj=None, **kwargs):
        return value or ""


class DecimalWidget(widgets.DecimalWidget):
    def hint(self) -> str:
        return _("数字；留空则不变。")

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            raise ValueError(_("请填写数字。"))
        text = _cell_text(value).replace(",", "")
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation as error:
            raise ValueError(_("请填写数字。")) from error
        if not number.is_finite():
            raise ValueError(_("请填写数字。"))
        return number

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return None if kwargs.get("force_native_type") else ""
        if kwargs.get("force_native_type"):
            return value
        return f"{value.normalize():f}"


class IntegerWidget(widgets.IntegerWidget):
    def hint(self) -> str:
        return _("整数；留空则不变。")

    def clean(self, value, row=None, **kwargs):
        number = DecimalWidget().clean(value)
        if number is None:
            return None
        if number != number.to_integral_value():
            raise ValueError(_("请填写整数。"))
        return int(number)

    def render(self, value, obj=None, **kwargs):
        if kwargs.get("force_native_type"):
            return value
        return "" if value is None else str(value)


class BooleanWidget(widgets.BooleanWidget):
    """1 / 0 (also true / false, yes / no, 是 / 否); an empty cell leaves the value as it is.
    Anything else is an error, never a silent "no"."""

    def hint(self) -> str:
        return _("1（是）或 0（否）；留空则不变。")

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        text = _cell_text(value).lower()
        if not text:
            return None
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise ValueError(_("请填写 1（是）或 0（否）。"))


class StationWidget(widgets.ForeignKeyWidget):
    """A station by its slug (``mall-station``); each slug is read once per import. An empty
    cell is no station, or an error where one is ``required``."""

    def __init__(self, *, required: bool = False):
        super().__init__(Station, field="slug")
        self.required = required
        self._found: dict[str, Station | None] = {}

    def hint(self) -> str:
        if self.required:
            return _("站点的标识（英文短名，如 mall-station）。")
        return _("站点的标识（英文短名，如 mall-station）；留空表示不在站点。")

    def clean(self, value, row=None, **kwargs):
        slug = _cell_text(value)
        if not slug and self.required:
            raise ValueError(_("请填写站点的标识。"))
        if not slug:
            return None
        if slug not in self._found:
            self._found[slug] = Station.objects.filter(slug=slug).first()
        station = self._found[slug]
        if station is None:
            raise ValueError(_("没有标识为“%(slug)s”的站点。") % {"slug": slug})
        return station

    def render(self, value, obj=None, **kwargs):
        return value.slug if value is not None else ""


class LocalDateTimeWidget(widgets.DateTimeWidget):
    """Beijing time (the site's time zone), written ``YYYY-MM-DD HH:MM``; XLSX date cells are
    read as they are."""

    def hint(self) -> str:
        return _("北京时间，格式 YYYY-MM-DD HH:MM。")

    def clean(self, value, row=None, **kwargs):
        zone = timezone.get_default_timezone()
        if isinstance(value, dt.datetime):
            return value if timezone.is_aware(value) else value.replace(tzinfo=zone)
        text = _cell_text(value)
        if not text:
            return None
        for pattern in DATETIME_FORMATS:
            try:
                return dt.datetime.strptime(text, pattern).replace(tzinfo=zone)
            except ValueError:
                continue
        raise ValueError(_("请按“YYYY-MM-DD HH:MM”（北京时间）填写日期和时间。"))

    def render(self, value, obj=None, **kwargs):
        if not isinstance(value, dt.datetime):
            return None if kwargs.get("force_native_type") else ""
        local = timezone.localtime(value, timezone.get_default_timezone())
        if kwargs.get("force_native_type"):
            return local.replace(tzinfo=None)
        return local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")


def _text(name: str) -> fields.Field:
    return fields.Field(attribute=name, column_name=name, widget=TextWidget())


def _kept(name: str, widget) -> fields.Field:
    """A column whose empty cell leaves the value as it is (a new row takes the default)."""
    return fields.Field(attribute=name, column_name=name, widget=widget, saves_null_values=False)


# Rows of one partner ------------------------------------------------------------------------
class PartnerKeyLoader(BaseInstanceLoader):
    """Finds each row's existing record among the partner's rows by its natural key, with one
    query for the whole file. Two records with the same key (a resource name used twice) make
    the row an error: the file cannot say which one it means."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        keys = []
        for row in dataset.dict if dataset is not None and dataset.headers else ():
            key = resource.row_key(row)
            if key is not None:
                keys.append(key)
        self.found = defaultdict(list)
        for instance in resource.existing(keys):
            self.found[resource.instance_key(instance)].append(instance)

    def get_instance(self, row):
        key = self.resource.row_key(row)
        matches = self.found.get(key, []) if key is not None else []
        if len(matches) > 1:
            raise ValidationError(
                {
                    self.resource.key_columns[0]: ValidationError(
                        _("本单位有 %(count)s 条记录与这一行的标识相同，无法确定要更新哪一条。")
                        % {"count": len(matches)},
                        code="ambiguous",
                    )
                }
            )
        return matches[0] if matches else None


class PartnerRows(resources.ModelResource):
    """The rows of one partner, read and written for one actor (see the module docstring)."""

    #: The columns that identify a row within the partner (required in every file).
    key_columns: tuple[str, ...] = ()

    def __init__(self, *, partner=None, actor=None, diffs: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.partner = partner
        self.actor = actor
        # Options of this import only (import-export writes some of them while importing):
        # the admin's preview shows each row's changes as HTML, the portal does not need them.
        self._meta = copy.copy(type(self)._meta)
        self._meta.skip_html_diff = not diffs
        self._present: tuple[str, ...] = ()
        self._seen: dict[tuple, int] = {}

    # Subclasses ---------------------------------------------------------------------------
    def create(self, data: dict):
        raise NotImplementedError

    def update(self, instance, data: dict):
        raise NotImplementedError

    def instance_key(self, instance) -> tuple:
        return tuple(getattr(instance, name) for name in self.key_columns)

    def existing(self, keys: list[tuple]):
        raise NotImplementedError

    # What the file may hold ---------------------------------------------------------------
    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return tuple(cls._meta.fields)

    @classmethod
    def column_labels(cls) -> dict[str, str]:
        """Each column with its field's name, as the page explains them."""
        model = cls._meta.model
        return {name: str(model._meta.get_field(name).verbose_name) for name in cls.columns()}

    @classmethod
    def column_help(cls) -> list[dict]:
        """The columns as the import page lists them: code, name, required, what to write."""
        labels = cls.column_labels()
        return [
            {
                "name": name,
                "label": labels[name],
                "key": name in cls.key_columns,
                "hint": cls.fields[name].widget.hint(),
            }
            for name in cls.columns()
        ]

    def get_queryset(self):
        model = self._meta.model
        if self.partner is None:
            return model.objects.none()
        return model.objects.filter(partner=self.partner).select_related("station")

    def row_key(self, row) -> tuple | None:
        """The row's natural key, or None when a key cell is missing or unreadable (the row
        then fails on that cell)."""
        key = []
        for name in self.key_columns:
            if name not in row:
                return None
            try:
                value = self.fields[name].clean(row)
            except ValueError:
                return None
            if value in (None, ""):
                return None
            key.append(value)
        return tuple(key)

    # The import ---------------------------------------------------------------------------
    def before_import(self, dataset, **kwargs):
        """Refuse the whole file when it cannot be read as rows of this kind: no partner to
        import for, missing key columns, unknown or repeated columns, no rows, too many."""
        if self.partner is None or self.actor is None:
            del dataset[:]
            raise FileRefused(_("请先选择要导入到哪个企业伙伴。"), "no_partner")
        headers = [_cell_text(header) for header in dataset.headers or ()]
        columns = self.columns()
        problems = []
        missing = [name for name in self.key_columns if name not in headers]
        if missing:
            problems.append(_("缺少必需的列：%(columns)s。") % {"columns": ", ".join(missing)})
        unknown = [header for header in headers if header not in columns]
        if unknown:
            problems.append(
                _("无法识别的列：%(unknown)s（可用的列：%(columns)s）。")
                % {
                    "unknown": ", ".join(header or '""' for header in unknown),
                    "columns": ", ".join(columns),
                }
            )
        repeated = sorted({header for header in headers if headers.count(header) > 1})
        if repeated:
            problems.append(_("列重复：%(columns)s。") % {"columns": ", ".join(repeated)})
        if not problems and not len(dataset):
            problems.append(_("文件里没有数据行。"))
        if len(dataset) > MAX_ROWS:
            problems.append(str(_too_many_rows()))
        if problems:
            # No row is worth reading when the columns are wrong.
            del dataset[:]
            raise FileRefused(" ".join(problems), "headers")
        dataset.headers = headers
        self._present = tuple(name for name in columns if name in headers)
        self._seen = {}

    def before_import_row(self, row, **kwargs):
        """A key used twice in one file is an error on the second row (which one would win?)."""
        key = self.row_key(row)
        if key is None:
            return
        number = kwargs.get("row_number")
        first = self._seen.setdefault(key, number)
        if first != number:
            raise ValidationError(
                {
                    self.key_columns[0]: ValidationError(
                        _("与第 %(line)s 行重复。") % {"line": (first or 0) + 1},
                        code="duplicate",
                    )
                }
            )

    def init_instance(self, row=None):
        return self._meta.model(partner=self.partner)

    def save_instance(self, instance, is_create, row, **kwargs):
        """Write the row through the service. In a dry run too (callers always use
        transactions): the service's checks are the row's validation, and the dry run's
        transaction is rolled back."""
        if kwargs.get("dry_run") and not kwargs.get("using_transactions"):
            raise ImproperlyConfigured("A dry run of partners.transfer needs transactions.")
        # A required relation left empty reads as None here, and the service says it is
        # required.
        data = {name: getattr(instance, name, None) for name in self._present}
        saved = self.create(data) if is_create else self.update(instance, data)
        instance.pk = saved.pk
        for name in self.columns():
            setattr(instance, name, getattr(saved, name))

    # The export ---------------------------------------------------------------------------
    def export_field(self, field, instance, **kwargs):
        return spreadsheet_safe(super().export_field(field, instance, **kwargs))


class ResourceTransfer(PartnerRows):
    """A partner's catalogue, one resource per row, identified by its Chinese name."""

    kind = _kept("kind", ChoiceWidget(Kind))
    name_zh = _text("name_zh")
    name_en = _text("name_en")
    description_zh = _text("description_zh")
    description_en = _text("description_en")
    station = fields.Field(attribute="station", column_name="station", widget=StationWidget())
    place_zh = _text("place_zh")
    place_en = _text("place_en")
    quantity = _kept("quantity", DecimalWidget())
    unit = _kept("unit", ChoiceWidget(Unit))
    visibility = _kept("visibility", ChoiceWidget(Visibility))
    bookable = _kept("bookable", BooleanWidget())
    max_booking_minutes = _kept("max_booking_minutes", IntegerWidget())
    is_active = _kept("is_active", BooleanWidget())

    key_columns = ("name_zh",)

    class Meta:
        model = Resource
        fields = services.RESOURCE_FIELDS
        export_order = services.RESOURCE_FIELDS
        import_id_fields = ("name_zh",)
        instance_loader_class = PartnerKeyLoader
        # The services validate (``full_clean`` included); the resource only parses cells.
        clean_model_instances = False
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def existing(self, keys):
        names = {name for (name,) in keys}
        return self.get_queryset().filter(name_zh__in=names) if names else []

    def create(self, data):
        return services.resource_create(actor=self.actor, partner=self.partner, data=data)

    def update(self, instance, data):
        return services.resource_update(actor=self.actor, resource=instance, data=data)


class ShiftTransfer(PartnerRows):
    """A partner's volunteer shifts, one per row, identified by the volunteer and the start
    (Beijing time)."""

    station = fields.Field(
        attribute="station", column_name="station", widget=StationWidget(required=True)
    )
    volunteer = _text("volunteer")
    role = _text("role")
    starts_at = fields.Field(
        attribute="starts_at", column_name="starts_at", widget=LocalDateTimeWidget()
    )
    ends_at = fields.Field(attribute="ends_at", column_name="ends_at", widget=LocalDateTimeWidget())
    status = _kept("status", ChoiceWidget(VolunteerShift.Status))

    key_columns = ("volunteer", "starts_at")

    class Meta:
        model = VolunteerShift
        fields = services.SHIFT_FIELDS
        export_order = services.SHIFT_FIELDS
        import_id_fields = ("volunteer", "starts_at")
        instance_loader_class = PartnerKeyLoader
        clean_model_instances = False
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def existing(self, keys):
        starts = {start for (_volunteer, start) in keys}
        return self.get_queryset().filter(starts_at__in=starts) if starts else []

    def create(self, data):
        return services.shift_create(actor=self.actor, partner=self.partner, data=data)

    def update(self, instance, data):
        return services.shift_update(actor=self.actor, shift=instance, data=data)


TRANSFERS: dict[str, type[PartnerRows]] = {
    "resources": ResourceTransfer,
    "shifts": ShiftTransfer,
}


# What went wrong ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One thing to fix: ``line`` is the spreadsheet's line number (the header is line 1; None
    for the file as a whole), ``column`` the column's code ("" for the row as a whole)."""

    line: int | None
    column: str
    label: str
    message: str


def _message(error: Exception) -> str:
    if isinstance(error, FileRefused | PermissionDenied) and str(error):
        return str(error)
    if isinstance(error, PermissionDenied):
        return str(gettext_lazy("您无权写入这一行。"))
    if isinstance(error, ValidationError):
        return "；".join(error.messages)
    logger.warning("import row failed", exc_info=error)
    return str(gettext_lazy("这一行无法保存；请检查内容后重试。"))


def problems(result, transfer: type[PartnerRows]) -> list[Problem]:
    """Everything wrong with an import, file first, then row by row in file order."""
    labels = transfer.column_labels()
    found = [Problem(None, "", "", _message(error.error)) for error in result.base_errors]
    rows = []
    for row in result.error_rows:
        for error in row.errors:
            rows.append(Problem(row.number + 1, "", "", _message(error.error)))
    for row in result.invalid_rows:
        for field, messages in row.error_dict.items():
            column = field if field in labels else ""
            label = labels.get(field, "") if field != NON_FIELD_ERRORS else ""
            for message in messages:
                rows.append(Problem(row.number + 1, column, label, str(message)))
    rows.sort(key=lambda problem: (problem.line, problem.column))
    return found + rows


def describe(problem: Problem) -> str:
    """One problem in a sentence: "第 3 行 quantity：请填写数字。"."""
    where = _("第 %(line)s 行") % {"line": problem.line} if problem.line else _("整个文件")
    if problem.column:
        where = f"{where} {problem.column}"
    return f"{where}：{problem.message}"


def failed(result) -> bool:
    return result.has_errors() or result.has_validation_errors()


def summary(result) -> dict[str, int]:
    return {
        "new": result.totals["new"],
        "update": result.totals["update"],
        "skip": result.totals["skip"],
    }
