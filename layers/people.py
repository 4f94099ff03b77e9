"""People by the building they live in (以房找人 as a table): for roles that may look people
up, and masked as the person API masks them (a name as 张*, an ID as 210103********1234, an
age band instead of the birth date)."""

from __future__ import annotations

from .base import Field, ONEMAP_ID, Source

# where people actually live (the register's 'residence' links): one row a person
PERSONS_SOURCE = Source(
    "persons", "实有人口(按楼栋)", "Residents by building", """
    SELECT p.id, p.name, p.gender,
           concat(d.decade, '-', d.decade + 9) AS age_band,
           p.population_type, p.id_number, p.phone, ph.relation, h.room_number,
           b.id AS building_id, b.code AS building_code, b.address, b.grid_code,
           b.grid_code AS unit_code,
           ST_PointOnSurface(b.geom) AS geom
      FROM onemap.person_household ph
      JOIN onemap.person p ON p.id = ph.person_id
      JOIN onemap.household h ON h.id = ph.household_id
      JOIN onemap.building b ON b.id = h.building_id
      CROSS JOIN LATERAL (SELECT CAST(date_part('year', age(p.birth_date)) AS int) / 10 * 10
                            AS decade) d
     WHERE ph.kind = 'residence'""",
    (ONEMAP_ID, Field("name", "姓名", "name", mask="name"),
     Field("gender", "性别", "gender"), Field("age_band", "年龄段", "age band"),
     Field("population_type", "人口类型", "population type"),
     Field("id_number", "证件号码", "ID number", mask="id_number"),
     Field("phone", "电话", "phone", mask="phone"),
     Field("relation", "与户主关系", "relation to householder"),
     Field("room_number", "房号", "room"), Field("building_code", "楼栋编码", "building code"),
     Field("address", "地址", "address"), Field("grid_code", "网格编码", "grid code")),
    "Point", capability="lookup_person", spatial=("building", "building_id"))
