"""Closed vocabularies of the domain, code -> (中文, English); the database CHECKs use the codes.

Changing a list here needs a migration that changes the matching CHECK constraint.
"""

ADMIN_LEVELS = {
    "district": ("区", "district"),
    "street": ("街道", "street"),
    "community": ("社区", "community"),
    "grid": ("网格", "grid"),
}
# Code length per level (GB/T 2260 + statistical division codes + GB/T 30428.1 grid sequence).
ADMIN_CODE_LENGTH = {"district": 6, "street": 9, "community": 12, "grid": 15}

BUILDING_USES = {
    "residential": ("住宅", "residential"),
    "commercial": ("商业", "commercial"),
    "mixed": ("商住混合", "mixed"),
    "public": ("公共建筑", "public"),
    "industrial": ("工业", "industrial"),
}

OCCUPANCY = {
    "self_occupied": ("自住", "self-occupied"),
    "rented": ("出租", "rented"),
    "vacant": ("空置", "vacant"),
    "commercial": ("经营", "commercial"),
}

GENDERS = {"M": ("男", "male"), "F": ("女", "female")}

POPULATION_TYPES = {
    "registered": ("户籍人口", "registered"),
    "floating": ("流动人口", "floating"),
    "foreign": ("境外人员", "foreign"),
}

# kind of a person <-> household link: 户籍地 (registration) or 居住地 (actual residence)
RESIDENCE_KINDS = {
    "registered": ("户籍地", "registered residence"),
    "residence": ("居住地", "actual residence"),
}

RELATIONS = {
    "householder": ("户主", "householder"),
    "spouse": ("配偶", "spouse"),
    "child": ("子女", "child"),
    "parent": ("父母", "parent"),
    "grandchild": ("孙子女", "grandchild"),
    "grandparent": ("祖父母", "grandparent"),
    "sibling": ("兄弟姐妹", "sibling"),
    "other_relative": ("其他亲属", "other relative"),
    "tenant": ("租户", "tenant"),
    "other": ("其他", "other"),
}

# Key groups (重点人群). Elderly 60+ is not a tag: it follows from the birth date.
# Sensitive tags live in their own table so a role (or a database grant) can be kept from them.
PERSON_TAGS = {
    "elderly_alone": ("独居老人", "elderly living alone", False),
    "disabled": ("残疾人", "disabled", False),
    "low_income": ("低保户", "low-income (dibao)", False),
    "chronic_disease": ("慢性病患者", "chronic disease", False),
    "left_behind_child": ("留守儿童", "left-behind child", False),
    "veteran": ("退役军人", "veteran", False),
    "community_correction": ("社区矫正人员", "community correction", True),
    "severe_mental_disorder": ("严重精神障碍患者", "severe mental disorder", True),
}

ENTERPRISE_STATUSES = {
    "active": ("存续", "active"),
    "suspended": ("停业", "suspended"),
    "deregistered": ("注销", "deregistered"),
}

# The 13 kinds of key places one seed names for focused patrols (油库、危化品、学校、医院、寄递物流…).
KEY_PLACE_KINDS = {
    "oil_depot": ("油库", "oil depot"),
    "hazardous_chemicals": ("危化品存放点", "hazardous chemicals store"),
    "gas_station": ("加油加气站", "filling station"),
    "school": ("学校", "school"),
    "kindergarten": ("幼儿园", "kindergarten"),
    "hospital": ("医院", "hospital"),
    "nursing_home": ("养老机构", "nursing home"),
    "parcel_logistics": ("寄递物流", "parcel logistics"),
    "market": ("商场市场", "mall or market"),
    "hotel": ("旅馆", "hotel"),
    "internet_cafe": ("网吧", "internet café"),
    "entertainment": ("歌舞娱乐场所", "entertainment venue"),
    "construction_site": ("建筑工地", "construction site"),
}

CAMERA_OWNERS = {
    "police": ("公安", "police"),
    "traffic_police": ("交警", "traffic police"),
    "school": ("学校", "school"),
    "hospital": ("医院", "hospital"),
    "mall": ("商场", "mall"),
    "residential": ("住宅小区", "residential compound"),
    "government": ("政府部门", "government"),
    "enterprise": ("企业", "enterprise"),
}

CAMERA_KINDS = {
    "hd_bullet": ("高清枪机", "HD bullet"),
    "hd_dome": ("高清球机", "HD dome"),
    "bullet": ("枪机", "bullet"),
    "dome": ("球机", "dome"),
    "panoramic": ("全景", "panoramic"),
}

DEVICE_STATUSES = {
    "online": ("在线", "online"),
    "offline": ("离线", "offline"),
    "fault": ("故障", "fault"),
}

SENSOR_KINDS = {
    "gas": ("燃气", "gas", "%LEL"),
    "water_pressure": ("供水压力", "water pressure", "MPa"),
    "water_leak": ("漏水", "water leak", "L/min"),
    "power": ("电力", "power", "A"),
    "smoke": ("烟感", "smoke", "dB/m"),
    "manhole_cover": ("井盖", "manhole cover", "°"),
    "water_level": ("水位", "water level", "m"),
    "wristband": ("老人手环", "elderly wristband", "bpm"),
    "emergency_button": ("一键通", "one-touch emergency call", ""),
}
# Worn or carried by a person rather than mounted on a network.
PERSONAL_SENSOR_KINDS = ("wristband", "emergency_button")

SENSOR_STATUSES = {
    "normal": ("正常", "normal"),
    "alarm": ("告警", "alarm"),
    "offline": ("离线", "offline"),
}

ALARM_DIRECTIONS = {
    "high": ("超上限", "above upper threshold"),
    "low": ("低于下限", "below lower threshold"),
    "trigger": ("触发", "triggered"),
}

STAFF_TIERS = {
    "grid_worker": ("专职网格员", "full-time grid worker"),
    "part_time": ("兼职网格员", "part-time grid worker"),
    "inspector": ("监督员", "inspector"),
    "piece_leader": ("片长", "piece leader"),
    "department": ("部门处置人员", "department responder"),
    "volunteer": ("志愿者", "volunteer"),
}

STAFF_STATUSES = {
    "available": ("空闲", "available"),
    "busy": ("处置中", "busy"),
    "off_duty": ("离岗", "off duty"),
}

CATEGORY_KINDS = {
    "component": ("部件", "component"),
    "event": ("事件", "event"),
    "social": ("社会治理", "social governance"),
}

CHANNELS = {
    "hotline_12345": ("12345热线", "12345 hotline"),
    "hotline_district": ("区热线", "district hotline"),
    "inspector": ("监督员上报", "inspector patrol"),
    "grid_worker": ("网格员上报", "grid worker patrol"),
    "resident_app": ("居民APP", "resident app"),
    "wechat": ("微信", "WeChat"),
    "sensor": ("物联感知", "sensor"),
    "camera": ("视频发现", "camera"),
    "media": ("媒体曝光", "media"),
    "referral": ("上级交办", "referral from above"),
    "police": ("公安联动", "police centre"),
    "open311": ("Open311", "Open311"),
}

# 上报 → 受理/立案 → 派遣 → 处置 → 反馈 → 核查 → 结案; plus rejected (不予立案) and suspended (挂账).
EVENT_STATES = {
    "reported": ("已上报", "reported"),
    "registered": ("已立案", "registered"),
    "dispatched": ("已派遣", "dispatched"),
    "handling": ("处置中", "handling"),
    "handled": ("已反馈", "reported back"),
    "verified": ("已核查", "verified"),
    "closed": ("已结案", "closed"),
    "rejected": ("不予立案", "rejected"),
    "suspended": ("挂账", "shelved"),
    "merged": ("已合并", "merged"),
}

CLOSURE_KINDS = {
    "normal": ("正常结案", "normal"),
    "overdue": ("超期结案", "overdue"),
    "erroneous": ("错误结案", "erroneous"),
    "special": ("特殊结案", "special"),
}

EVENT_LEVELS = {
    1: ("一级", "level 1"),
    2: ("二级", "level 2"),
    3: ("三级", "level 3"),
    4: ("四级", "level 4"),
    5: ("五级", "level 5"),
}

ROLES = {
    "duty_officer": ("值班员", "duty officer"),
    "leader": ("领导", "leader"),
    "analyst": ("分析员", "analyst"),
    "grid_worker": ("网格员", "grid worker"),
    "admin": ("管理员", "administrator"),
}
