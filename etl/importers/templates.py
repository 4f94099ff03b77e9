"""One declaration per import kind: target table, natural key and columns (中文 header, English name).

The same declarations drive header matching, type parsing, report masking, the blank templates
(`onemap import --template KIND`) and the column tables in docs/importing.md.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from onemap.domain import vocab

# How a personal value is masked in reports and on the console (PIPL: reports get emailed).
ID, PHONE, NAME, OTHER = "id", "phone", "name", "other"


@dataclass(frozen=True)
class Column:
    """One column of an import file."""

    name: str  # English name: also accepted as a header, and the staging column's name
    zh: str  # Chinese header written into templates
    type: str  # text, code, int, number, date, bool, vocab, id_number, uscc, phone, lon, lat, wkt
    required: bool = False
    meaning: str = ""
    aliases: tuple[str, ...] = ()  # other headers seen in real exports
    vocab: Mapping[str, tuple] | None = None
    max_len: int | None = None
    lo: float | None = None
    hi: float | None = None
    suffixes: tuple[str, ...] = ()  # stripped before parsing numbers: 2单元 -> 2, 5层 -> 5
    default: object = None  # used for blank cells and, on insert, for a column the file lacks
    personal: str | None = None  # ID, PHONE, NAME or OTHER: masked in reports
    example: str = ""


@dataclass(frozen=True)
class Template:
    """What one kind of file holds and where it goes."""

    kind: str
    table: str
    natural_key: tuple[str, ...]
    geometry: str | None  # "area", "point", "optional_point" or None
    summary: str
    columns: tuple[Column, ...] = field(default=())

    def column(self, name: str) -> Column:
        """The column with this English name."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


def _geometry_columns(kind: str, purpose: str = "") -> tuple[Column, ...]:
    if kind == "area":
        return (Column("wkt", "几何", "wkt", meaning="WKT polygon or multipolygon, for CSV/XLSX "
                       "files (spatial files carry their own geometry)",
                       aliases=("WKT", "geometry", "geom", "空间信息"),
                       example="MULTIPOLYGON(((123.401 41.781, …)))"),)
    return (
        Column("lon", "经度", "lon", meaning=purpose + "longitude in the declared CRS",
               aliases=("longitude", "x", "lng", "东经"), example="123.4312"),
        Column("lat", "纬度", "lat", meaning=purpose + "latitude in the declared CRS",
               aliases=("latitude", "y", "北纬"), example="41.7968"),
        Column("wkt", "几何", "wkt", meaning=purpose + "WKT point, instead of 经度/纬度",
               aliases=("WKT", "geometry", "geom")),
    )


def _grid() -> Column:
    return Column("grid_code", "网格编码", "code", max_len=15, aliases=("所属网格", "网格代码"),
                  meaning="15-digit grid; blank: the grid it lies in",
                  example="210103001001001")


def _building_ref(meaning: str = "code of the building it is in (must exist)") -> Column:
    return Column("building_code", "楼栋编码", "code", max_len=32, aliases=("楼栋代码", "建筑编码"),
                  meaning=meaning, example="B-0001")


BOUNDARIES = Template(
    "boundaries", "district/street/community/grid", ("code",), "area",
    "区 / 街道 / 社区 / 网格 boundaries; the level follows from the code's length (6/9/12/15).",
    (
        Column("code", "编码", "code", True, "6/9/12/15-digit code; the parent is its prefix",
               aliases=("区划代码", "行政区划代码", "区划编码", "网格编码", "代码"), max_len=15,
               example="210103001"),
        Column("name", "名称", "text", True, "name", aliases=("区划名称", "网格名称"), max_len=64,
               example="风雨坛街道"),
        Column("level", "级别", "vocab", meaning="区/街道/社区/网格 (checked against the code)",
               aliases=("层级",), vocab=vocab.ADMIN_LEVELS, example="街道"),
        Column("parent_code", "上级编码", "code", meaning="parent's code (checked: must be the "
               "code's prefix)", aliases=("上级代码", "父级编码"), max_len=12, example="210103"),
        *_geometry_columns("area"),
    ),
)

BUILDINGS = Template(
    "buildings", "building", ("code",), "area",
    "楼栋 footprints with their road address, floors, units and use.",
    (
        Column("code", "楼栋编码", "code", True, "the building's own code (natural key)",
               aliases=("建筑编码", "楼栋代码", "编码"), max_len=32, example="B-0001"),
        Column("name", "楼栋名称", "text", True, "e.g. 3 栋", aliases=("楼栋名", "名称"),
               max_len=128, example="3 栋"),
        _grid(),
        Column("road", "道路", "text", meaning="road (街路巷)", aliases=("街路巷", "路名"),
               max_len=64, example="青年大街"),
        Column("house_number", "门牌号", "text", meaning="house number", aliases=("门牌",),
               max_len=32, example="100"),
        Column("address", "地址", "text", True, "full address", aliases=("楼栋地址", "详细地址"),
               max_len=256, example="青年大街 100 号 3 栋"),
        Column("use", "用途", "vocab", True, "住宅/商业/商住混合/公共建筑/工业",
               aliases=("建筑用途", "房屋用途"), vocab=vocab.BUILDING_USES, example="住宅"),
        Column("floors_above", "地上层数", "int", True, "floors above ground",
               aliases=("层数", "总层数"), lo=1, hi=300, suffixes=("层",), example="18"),
        Column("floors_below", "地下层数", "int", meaning="basement floors (default 0)",
               lo=0, hi=20, suffixes=("层",), default=0, example="1"),
        Column("unit_count", "单元数", "int", True, "number of units (单元)", lo=1, hi=99,
               suffixes=("个",), example="3"),
        Column("built_year", "建成年份", "int", meaning="year built", aliases=("建成年代",),
               lo=1800, hi=date.today().year + 5, suffixes=("年",), example="1998"),
        *_geometry_columns("area"),
    ),
)

HOUSEHOLDS = Template(
    "households", "household", ("building_code", "unit", "room"), None,
    "户 / 房屋: rooms such as 3-2-501; unit and floor rows are created as needed.",
    (
        Column("building_code", "楼栋编码", "code", True, "building (imported before)",
               aliases=("楼栋代码", "建筑编码"), max_len=32, example="B-0001"),
        Column("unit", "单元", "int", True, "unit number (2 or 2单元)", aliases=("单元号",),
               lo=1, hi=99, suffixes=("单元",), example="2"),
        Column("room", "房号", "code", True, "room number", aliases=("房间号", "门牌号", "室号"),
               max_len=16, suffixes=("室",), example="501"),
        Column("floor", "楼层", "int", meaning="floor; blank: from the room number (501 → 5, "
               "1203 → 12); basements negative", aliases=("所在楼层", "层"), lo=-20, hi=300,
               suffixes=("层", "楼"), example="5"),
        Column("area_m2", "面积", "number", meaning="floor area in m²",
               aliases=("建筑面积", "房屋面积", "面积（平方米）", "面积(㎡)"), lo=0.01, hi=99999.99,
               example="89.5"),
        Column("occupancy", "房屋状态", "vocab", True, "自住/出租/空置/经营",
               aliases=("使用情况", "居住情况", "使用状态"), vocab=vocab.OCCUPANCY, example="出租"),
    ),
)

PERSONS = Template(
    "persons", "person", ("id_number",), None,
    "人口: one row per person (two rows, one per 居住类型, for 人户分离), keyed by 公民身份号码 "
    "or, for foreigners, 护照号码; optional link to a household.",
    (
        Column("name", "姓名", "text", True, "name", max_len=64, personal=NAME, example="张三"),
        Column("id_number", "公民身份号码", "id_number",
               meaning="18-character citizen ID (GB 11643); required unless 护照号码",
               aliases=("身份证号", "身份证号码", "证件号码", "身份证"), personal=ID,
               example="210103199001012359"),
        Column("passport_number", "护照号码", "code", meaning="passport, for people without an ID",
               aliases=("护照号", "外国人证件号码"), max_len=32, personal=OTHER, example=""),
        Column("gender", "性别", "vocab", meaning="男/女 (blank: from the ID; must match it)",
               vocab=vocab.GENDERS, example="男"),
        Column("birth_date", "出生日期", "date", meaning="YYYY-MM-DD (blank: from the ID; must "
               "match it)", aliases=("出生年月日",), example="1990-01-01"),
        Column("phone", "联系电话", "phone", meaning="phone", aliases=("电话", "手机号", "手机号码",
               "联系方式"), personal=PHONE, example="13812345678"),
        Column("population_type", "人口类型", "vocab", True, "户籍人口/流动人口/境外人员",
               aliases=("人员类型", "人口类别"), vocab=vocab.POPULATION_TYPES, example="户籍人口"),
        Column("ethnicity", "民族", "text", meaning="ethnicity", max_len=16, example="汉族"),
        Column("registered_address", "户籍地址", "text",
               meaning="registered address when registered elsewhere", aliases=("户籍地详址",),
               example=""),
        Column("building_code", "楼栋编码", "code", meaning="household link: building code",
               aliases=("楼栋代码",), max_len=32, example="B-0001"),
        Column("unit", "单元", "int", meaning="household link: unit number", lo=1, hi=99,
               suffixes=("单元",), example="2"),
        Column("room", "房号", "code", meaning="household link: room number",
               aliases=("房间号", "室号"), max_len=16, suffixes=("室",), example="501"),
        Column("relation", "与户主关系", "vocab", meaning="户主/配偶/子女/父母/…/租户/其他 "
               "(required with a household link)", aliases=("关系",), vocab=vocab.RELATIONS,
               example="户主"),
        Column("residence_kind", "居住类型", "vocab", meaning="户籍 (registered) or 居住 (lives "
               "there); default 居住", aliases=("居住性质", "人户关系"),
               vocab=vocab.RESIDENCE_KINDS, example="户籍"),
        Column("since", "起始日期", "date", meaning="since when (the link)",
               aliases=("入住日期", "登记日期"), example="2015-06-01"),
    ),
)

CAMERAS = Template(
    "cameras", "camera", ("code",), "point",
    "视频监控 points: owner, kind, heading, field of view, status, stream.",
    (
        Column("code", "设备编码", "code", True, "device ID (GB/T 28181, up to 20 characters)",
               aliases=("国标编码", "编码", "点位编码"), max_len=20, example="21010300001310000001"),
        Column("name", "名称", "text", True, "name of the spot", aliases=("点位名称", "设备名称"),
               max_len=128, example="青年大街与十一纬路口"),
        Column("owner", "权属", "vocab", True, "公安/交警/学校/医院/商场/住宅小区/政府部门/企业",
               aliases=("所属单位", "建设单位", "权属单位"), vocab=vocab.CAMERA_OWNERS,
               example="公安"),
        Column("kind", "类型", "vocab", True, "高清枪机/高清球机/枪机/球机/全景",
               aliases=("设备类型", "摄像机类型"), vocab=vocab.CAMERA_KINDS, example="高清球机"),
        Column("heading", "朝向", "int", meaning="degrees from north, 0-359; blank: pans",
               aliases=("方位角",), lo=0, hi=359, suffixes=("°", "度"), example="90"),
        Column("fov_deg", "视场角", "int", True, "field of view in degrees, 1-360",
               aliases=("视角",), lo=1, hi=360, suffixes=("°", "度"), example="360"),
        Column("range_m", "可视距离", "int", True, "range in metres",
               aliases=("监控距离", "可视范围"), lo=1, hi=32767, suffixes=("米", "m"),
               example="80"),
        Column("status", "状态", "vocab", True, "在线/离线/故障", aliases=("在线状态", "设备状态"),
               vocab=vocab.DEVICE_STATUSES, example="在线"),
        Column("stream_url", "视频流地址", "text", meaning="stream address",
               aliases=("取流地址", "流地址"), example="rtsp://10.0.0.1/stream1"),
        _grid(),
        *_geometry_columns("point"),
    ),
)

SENSORS = Template(
    "sensors", "sensor", ("code",), "point",
    "物联网感知 devices: kind, thresholds, status; worn ones name their wearer.",
    (
        Column("code", "设备编码", "code", True, "device code", aliases=("编码", "设备编号"),
               max_len=32, example="GAS-0001"),
        Column("kind", "类型", "vocab", True, "燃气/供水压力/漏水/电力/烟感/井盖/水位/老人手环/一键通",
               aliases=("设备类型", "传感器类型"), vocab=vocab.SENSOR_KINDS, example="燃气"),
        Column("name", "名称", "text", True, "name", aliases=("设备名称",), max_len=128,
               example="1 号楼燃气探测器"),
        Column("unit_of_measure", "计量单位", "text", meaning="unit (blank: the kind's usual one)",
               aliases=("单位",), max_len=16, example="%LEL"),
        Column("low_threshold", "下限", "number", meaning="lower threshold",
               aliases=("阈值下限", "告警下限"), example=""),
        Column("high_threshold", "上限", "number", meaning="upper threshold",
               aliases=("阈值上限", "告警上限"), example="20"),
        Column("status", "状态", "vocab", True, "正常/告警/离线", aliases=("设备状态",),
               vocab=vocab.SENSOR_STATUSES, example="正常"),
        _grid(),
        _building_ref("building it is mounted in (optional, must exist)"),
        Column("person_id_number", "佩戴人身份证号", "id_number",
               meaning="wearer's citizen ID (wristbands and emergency buttons only)",
               aliases=("佩戴人公民身份号码", "使用人身份证号"), personal=ID, example=""),
        *_geometry_columns("point"),
    ),
)

PLACES = Template(
    "places", "key_place", ("code",), "point",
    "重点场所: the 13 kinds patrolled with priority, with a risk level 1 (high) to 4.",
    (
        Column("code", "场所编码", "code", True, "place code", aliases=("编码",), max_len=32,
               example="KP-0001"),
        Column("name", "场所名称", "text", True, "name", aliases=("名称",), max_len=128,
               example="沈河区第一小学"),
        Column("kind", "场所类型", "vocab", True, "油库/危化品存放点/加油加气站/学校/幼儿园/医院/"
               "养老机构/寄递物流/商场市场/旅馆/网吧/歌舞娱乐场所/建筑工地",
               aliases=("类型", "场所类别"), vocab=vocab.KEY_PLACE_KINDS, example="学校"),
        Column("risk_level", "风险等级", "int", True, "1 (high) to 4", aliases=("风险级别",),
               lo=1, hi=4, suffixes=("级",), example="2"),
        Column("address", "地址", "text", meaning="address", max_len=256,
               example="青年大街 1 号"),
        Column("contact_name", "联系人", "text", meaning="contact person", max_len=64,
               personal=NAME, aliases=("负责人",), example="李四"),
        Column("contact_phone", "联系电话", "phone", meaning="contact phone",
               aliases=("电话",), personal=PHONE, example="02423456789"),
        _grid(),
        _building_ref("building it is in (optional, must exist)"),
        *_geometry_columns("point"),
    ),
)

ENTERPRISES = Template(
    "enterprises", "enterprise", ("credit_code",), "point",
    "法人: enterprises keyed by their unified social credit code (GB 32100, checksum checked).",
    (
        Column("credit_code", "统一社会信用代码", "uscc", True, "18-character credit code",
               aliases=("信用代码", "社会信用代码"), example="91210103MA0Y7K2P8H"),
        Column("name", "企业名称", "text", True, "name", aliases=("名称", "单位名称"),
               max_len=128, example="沈阳某某科技有限公司"),
        Column("legal_representative", "法定代表人", "text", meaning="legal representative",
               aliases=("法人代表",), max_len=64, personal=NAME, example="王五"),
        Column("industry", "行业", "text", meaning="industry", aliases=("所属行业", "行业类别"),
               max_len=64, example="软件和信息技术服务业"),
        Column("employees", "从业人数", "int", meaning="employees", aliases=("职工人数", "员工人数"),
               lo=0, hi=10_000_000, suffixes=("人",), example="25"),
        Column("status", "经营状态", "vocab", meaning="存续/停业/注销 (default 存续)",
               aliases=("登记状态", "状态"), vocab=vocab.ENTERPRISE_STATUSES, default="active",
               example="存续"),
        Column("address", "地址", "text", meaning="address", aliases=("注册地址", "经营地址"),
               max_len=256, example="青年大街 100 号"),
        _grid(),
        _building_ref("building it is in (optional, must exist)"),
        *_geometry_columns("point"),
    ),
)

STAFF = Template(
    "staff", "staff", ("code",), "optional_point",
    "Grid workers, inspectors, piece leaders, department responders and volunteers.",
    (
        Column("code", "工号", "code", True, "staff code", aliases=("人员编码", "编号", "员工编号"),
               max_len=32, example="GW-0001"),
        Column("name", "姓名", "text", True, "name", max_len=64, personal=NAME, example="赵六"),
        Column("phone", "联系电话", "phone", meaning="phone", aliases=("电话", "手机号"),
               personal=PHONE, example="13900001111"),
        Column("tier", "岗位类型", "vocab", True, "专职网格员/兼职网格员/监督员/片长/部门处置人员/志愿者",
               aliases=("人员类型", "岗位"), vocab=vocab.STAFF_TIERS, example="专职网格员"),
        Column("grid_code", "网格编码", "code", meaning="home grid (must exist)", max_len=15,
               aliases=("所属网格",), example="210103001001001"),
        Column("department_code", "部门编码", "code", meaning="department (must exist)",
               aliases=("所属部门编码",), max_len=16, example=""),
        Column("on_duty", "是否在岗", "bool", meaning="是/否 (default 否)", aliases=("在岗",),
               default=False, example="是"),
        Column("status", "状态", "vocab", meaning="空闲/处置中/离岗 (default 离岗)",
               vocab=vocab.STAFF_STATUSES, default="off_duty", example="空闲"),
        *_geometry_columns("point", "last known position: "),
    ),
)

TEMPLATES: dict[str, Template] = {
    t.kind: t
    for t in (BOUNDARIES, BUILDINGS, HOUSEHOLDS, PERSONS, CAMERAS, SENSORS, PLACES, ENTERPRISES,
              STAFF)
}
KINDS = tuple(TEMPLATES)


def get_template(kind: str) -> Template:
    """The template of a kind; ValueError naming the kinds when unknown."""
    try:
        return TEMPLATES[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}") from None


def template_csv(kind: str) -> str:
    """A blank template: Chinese headers, then a second header row of the English names."""
    template = get_template(kind)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.zh for c in template.columns])
    writer.writerow([c.name for c in template.columns])
    return out.getvalue()


def write_template(kind: str, path: Path) -> Path:
    """Write the blank template with a UTF-8 BOM (so Excel on zh-CN opens it right)."""
    path.write_text(template_csv(kind), encoding="utf-8-sig", newline="")
    return path


def markdown_table(kind: str) -> str:
    """The template's columns as a Markdown table (docs/importing.md holds these)."""
    lines = [
        "| 中文表头 | English | required | meaning | example | also accepted |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in get_template(kind).columns:
        example = f"`{c.example}`" if c.example else ""
        aliases = ", ".join(c.aliases)
        required = "yes" if c.required else ""
        lines.append(
            f"| {c.zh} | `{c.name}` | {required} | {c.meaning} | {example} | {aliases} |"
        )
    return "\n".join(lines)


def header_key(header: object) -> str:
    """A header as matching sees it: NFKC (full-width to half-width), no spaces or '*', lower."""
    text = unicodedata.normalize("NFKC", str(header))
    return re.sub(r"[\s*]+", "", text).lower()


@dataclass
class HeaderMatch:
    """How a file's headers map onto a template's columns."""

    columns: dict[str, str]  # file header -> English column name
    unknown: list[str]  # headers no column claims (ignored)
    clashes: list[tuple[str, str, str]]  # (header, other header, column) naming one column twice

    def missing(self, template: Template) -> list[Column]:
        """Required columns the file does not have."""
        found = set(self.columns.values())
        return [c for c in template.columns if c.required and c.name not in found]


def match_headers(headers: Sequence[object], template: Template) -> HeaderMatch:
    """Map headers (Chinese, English or a known alias) to the template's columns."""
    lookup: dict[str, str] = {}
    for col in template.columns:
        for key in (col.name, col.zh, *col.aliases):
            lookup.setdefault(header_key(key), col.name)
    columns: dict[str, str] = {}
    unknown: list[str] = []
    clashes: list[tuple[str, str, str]] = []
    seen: dict[str, str] = {}
    for header in headers:
        name = lookup.get(header_key(header))
        if name is None:
            unknown.append(str(header))
        elif name in seen:
            clashes.append((str(header), seen[name], name))
        else:
            seen[name] = str(header)
            columns[str(header)] = name
    return HeaderMatch(columns, unknown, clashes)


def english_names(template: Template) -> dict[str, set[str]]:
    """Per column, the English spellings a second header row may hold."""
    return {
        c.name: {c.name.lower()} | {a.lower() for a in c.aliases if a.isascii()}
        for c in template.columns
    }
