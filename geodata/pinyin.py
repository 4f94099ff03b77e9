"""Names in pinyin, computed when people are loaded, never per search (migration 0021).

`onemap.name_pinyin` holds one row per distinct person name: the name, its pinyin without
spaces ("zhangsan") and its initials ("zs"). A name alone is nobody, so the table has no
row-level security and its indexes serve every search; the search then joins people by
equal name, which row-level security can check through an index (geodata/queries/
lookup_search.py).
"""

from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin
from sqlalchemy import Connection, text

# Surnames read otherwise than the character's common reading: pypinyin 0.55 has no surname
# mode, so the first character (or two, for compound surnames) is read from here, a syllable
# per character (欧阳: ou yang, initials "oy").
SURNAMES = {
    "单": "shan", "曾": "zeng", "解": "xie", "区": "ou", "仇": "qiu", "朴": "piao", "查": "zha",
    "乐": "yue", "覃": "qin", "盖": "ge", "缪": "miao", "召": "shao", "翟": "zhai", "任": "ren",
    "沈": "shen", "种": "chong", "谌": "chen", "句": "gou", "隗": "wei", "员": "yun",
    "秘": "bi", "繁": "po", "宁": "ning", "薄": "bo", "燕": "yan", "纪": "ji", "葛": "ge",
    "折": "she", "黑": "he", "长孙": "zhang sun", "尉迟": "yu chi", "万俟": "mo qi",
    "澹台": "tan tai", "令狐": "ling hu", "欧阳": "ou yang",
}
_LETTERS = re.compile(r"[a-z0-9]+")
BATCH = 20_000


@lru_cache(maxsize=65_536)
def syllables(name: str) -> tuple[str, ...]:
    """The name's syllables in lower-case pinyin without tones; a Latin name's words."""
    name = name.strip()
    head: list[str] = []
    for surname in (name[:2], name[:1]):
        if surname and surname in SURNAMES:
            head, name = SURNAMES[surname].split(), name[len(surname):]
            break
    words = head + lazy_pinyin(name, style=Style.NORMAL, errors="default")
    return tuple(w for word in words for w in _LETTERS.findall(word.lower().replace("ü", "v")))


def name_pinyin(name: str) -> tuple[str, str]:
    """(pinyin, initials): 张三 → ("zhangsan", "zs"); John Smith → ("johnsmith", "js")."""
    parts = syllables(name)
    return "".join(parts), "".join(p[0] for p in parts)


def query_pinyin(query: str) -> str:
    """A typed name in pinyin, to compare with the names' (a wrong character is often a
    homophone or a near one)."""
    return name_pinyin(query)[0]


MISSING = """
SELECT DISTINCT p.name FROM onemap.person p
WHERE NOT EXISTS (SELECT 1 FROM onemap.name_pinyin n WHERE n.name = p.name)
"""
INSERT = """
INSERT INTO onemap.name_pinyin (name, pinyin, initials)
SELECT * FROM unnest(CAST(:names AS text[]), CAST(:pinyin AS text[]), CAST(:initials AS text[]))
ON CONFLICT (name) DO NOTHING
"""


def fill_name_pinyin(conn: Connection) -> int:
    """Add the pinyin of every person's name the dictionary lacks, in the caller's
    transaction (as the owner: importers, the demo, the migration); returns names added."""
    names = conn.execute(text(MISSING)).scalars().all()
    for start in range(0, len(names), BATCH):
        batch = names[start:start + BATCH]
        readings = [name_pinyin(n) for n in batch]
        conn.execute(text(INSERT), {"names": batch, "pinyin": [r[0] for r in readings],
                                    "initials": [r[1] for r in readings]})
    return len(names)
