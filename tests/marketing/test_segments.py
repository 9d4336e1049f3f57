"""Segments: every filter type compiles to one query and selects the right people; nested trees;
bad trees are named by path and rule; health filters need purpose and separate consent; people
who switch personalisation off drop out of profile-based segments (C4)."""

from __future__ import annotations

from typing import Any

import pytest

from pulsecrm.crm import tag_service
from pulsecrm.marketing import segments
from pulsecrm.marketing.errors import SegmentInvalid
from pulsecrm.marketing.filters import load_all
from pulsecrm.marketing.personalisation import personalisation_enabled, set_personalisation
from tests.crm.conftest import Clinic
from tests.helpers import ctx
from tests.marketing.population import event, grant, members, person, publish


@pytest.fixture
def people(clinic: Clinic) -> dict[str, str]:
    k = clinic.kernel
    p = {
        "sh_douyin_f": person(
            k, city="上海", source="douyin", gender="女", birth_date="1990-05-01"
        ),
        "hz_douyin_m": person(
            k, city="杭州", source="douyin", gender="男", birth_date="1960-01-01"
        ),
        "sh_baidu_f": person(k, city="上海", source="baidu", gender="F", birth_date="2001-03-03"),
        "bj_none": person(k, city="北京"),
    }
    event(clinic, "lead", p["sh_douyin_f"], 10, channel="douyin", campaign="spring")
    event(clinic, "lead", p["hz_douyin_m"], 400, channel="baidu", utm_campaign="autumn")
    event(clinic, "visit", p["sh_douyin_f"], 5)
    event(clinic, "visit", p["hz_douyin_m"], 20)
    event(clinic, "deal", p["hz_douyin_m"], 15)
    event(clinic, "visit", p["sh_baidu_f"], 300)
    event(clinic, "appointment", p["sh_baidu_f"], 3, status="no_show")
    event(clinic, "deal", p["sh_baidu_f"], 200, amount_cents=500_000)
    return p


CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({"filter": "source", "in": ["douyin"]}, {"sh_douyin_f", "hz_douyin_m"}),
    ({"filter": "city", "in": ["上海", "杭州"]}, {"sh_douyin_f", "hz_douyin_m", "sh_baidu_f"}),
    ({"filter": "gender", "is": "女"}, {"sh_douyin_f", "sh_baidu_f"}),
    ({"filter": "gender", "is": "M"}, {"hz_douyin_m"}),
    ({"filter": "age", "min": 30, "max": 50}, {"sh_douyin_f"}),
    ({"filter": "age", "min": 60}, {"hz_douyin_m"}),
    ({"filter": "lead_channel", "in": ["douyin", "baidu"]}, {"sh_douyin_f", "hz_douyin_m"}),
    ({"filter": "lead_channel", "in": ["baidu"], "within_days": 90}, set()),
    ({"filter": "lead_campaign", "in": ["spring", "autumn"]}, {"sh_douyin_f", "hz_douyin_m"}),
    ({"filter": "visited", "within_days": 30}, {"sh_douyin_f", "hz_douyin_m"}),
    ({"filter": "visited"}, {"sh_douyin_f", "hz_douyin_m", "sh_baidu_f"}),
    ({"filter": "no_visit_for", "days": 180}, {"sh_baidu_f", "bj_none"}),
    ({"filter": "arrived_no_deal", "within_days": 30}, {"sh_douyin_f"}),
    ({"filter": "appointment", "status": ["no_show"]}, {"sh_baidu_f"}),
    ({"filter": "deal", "min_amount_cents": 200_000}, {"sh_baidu_f"}),
    ({"filter": "deal", "within_days": 30}, {"hz_douyin_m"}),
    ({"filter": "consultation", "intent": ["high"]}, set()),
    ({"filter": "tag", "any_of": ["VIP"]}, {"bj_none"}),
    # nested: (douyin AND 上海) OR (NOT visited in a year AND city 北京)
    (
        {
            "any": [
                {
                    "all": [
                        {"filter": "source", "in": ["douyin"]},
                        {"filter": "city", "in": ["上海"]},
                    ]
                },
                {
                    "all": [
                        {"not": {"filter": "visited", "within_days": 365}},
                        {"filter": "city", "in": ["北京"]},
                    ]
                },
            ]
        },
        {"sh_douyin_f", "bj_none"},
    ),
    ({"all": []}, {"sh_douyin_f", "hz_douyin_m", "sh_baidu_f", "bj_none"}),
]


@pytest.mark.req("B5")
@pytest.mark.parametrize(("definition", "expected"), CASES)
def test_each_filter_and_nested_trees_select_the_right_people(
    clinic: Clinic, people: dict[str, str], definition: dict[str, Any], expected: set[str]
) -> None:
    k = clinic.kernel
    with k.engine.begin() as conn:
        tag_service.tag_person(
            conn=conn, kernel=k, tenant_id=clinic.tenant_id, person_id=people["bj_none"], name="VIP"
        )
    names = {v: n for n, v in people.items()}
    assert {names[p] for p in members(k, definition)} == expected


def test_every_registered_filter_is_covered_by_a_case() -> None:
    used = {d.get("filter") for d, _ in CASES}
    assert set(load_all()) - used <= {"health_tag"}  # health_tag: its own tests below


@pytest.mark.parametrize(
    ("definition", "path", "rule"),
    [
        ([], "definition", "node_shape"),
        ({"all": [{"filter": "nope"}]}, "definition.all[0].filter", "unknown_filter"),
        (
            {"all": [{"filter": "visited", "with_days": 3}]},
            "definition.all[0].with_days",
            "extra_forbidden",
        ),
        ({"any": [{"filter": "city", "in": []}]}, "definition.any[0].in", "too_short"),
        ({"all": [{"any": []}]}, "definition.all[0].any", "empty_group"),
        (
            {"all": [{"filter": "deal", "within_days": 0}]},
            "definition.all[0].within_days",
            "greater_than_equal",
        ),
        ({"all": [], "any": []}, "definition", "node_shape"),
        ({"not": {"filter": "age"}}, "definition.not", "value_error"),
        (
            {
                "not": {
                    "not": {
                        "not": {"not": {"not": {"not": {"not": {"not": {"filter": "visited"}}}}}}
                    }
                }
            },
            "definition.not.not.not.not.not.not.not.not",
            "too_deep",
        ),
    ],
)
def test_bad_trees_name_the_path_and_rule(
    clinic: Clinic, definition: object, path: str, rule: str
) -> None:
    with pytest.raises(SegmentInvalid) as caught, clinic.kernel.engine.connect() as conn:
        segments.compiled(
            conn, clinic.kernel.catalog, clinic.tenant_id, definition, "marketing.sms"
        )
    assert (caught.value.field, caught.value.code) == (path, rule)


@pytest.mark.req("B5")
def test_segments_are_only_for_consent_based_marketing_purposes(clinic: Clinic) -> None:
    k = clinic.kernel
    who = clinic.staff["li.marketing"]
    with pytest.raises(SegmentInvalid) as caught, k.engine.begin() as conn:
        segments.create_segment(
            conn, k, who, name="x", definition={"all": []}, purpose="service.appointment"
        )
    assert (caught.value.field, caught.value.code) == ("purpose", "marketing_purpose_required")


@pytest.mark.req("C4", "B5")
def test_health_filters_need_the_purpose_and_match_only_people_with_separate_consent(
    clinic: Clinic,
) -> None:
    k = clinic.kernel
    notice = publish(k)
    consented, plain = person(k, city="上海"), person(k, city="上海")
    grant(k, notice, consented, ("marketing.personalized_health", "sms"))
    grant(k, notice, plain, ("marketing.sms", "sms"))
    with k.engine.begin() as conn:
        tag_service.tag_person(
            conn=conn,
            kernel=k,
            tenant_id=clinic.tenant_id,
            person_id=consented,
            name="种植意向",
            from_health=True,
        )
        # the same health tag on a person without the separate consent (e.g. derived
        # before a withdrawal): must never be matched
        from sqlalchemy import insert, select

        from pulsecrm.crm.clinic_tables import person_tag, tag

        tag_id = conn.execute(select(tag.c.id).where(tag.c.name == "种植意向")).scalar_one()
        conn.execute(
            insert(person_tag).values(
                tenant_id=clinic.tenant_id,
                person_id=plain,
                tag_id=tag_id,
                derived_from_health=True,
                created_us=1,
            )
        )
    health = {"filter": "health_tag", "any_of": ["种植意向"]}
    with pytest.raises(SegmentInvalid) as caught:
        members(k, {"all": [health]}, "marketing.sms")
    assert caught.value.code == "health_filter_needs_purpose"
    assert caught.value.field == "definition.all[0].filter"
    assert members(k, {"all": [health]}, "marketing.personalized_health") == {consented}
    # negating a health filter still only reaches people with the separate consent
    assert members(k, {"not": health}, "marketing.personalized_health") == set()
    # a plain tag filter may not name a health tag
    with pytest.raises(SegmentInvalid) as plain_tag:
        members(k, {"filter": "tag", "any_of": ["种植意向"]}, "marketing.sms")
    assert plain_tag.value.code == "health_tag_in_plain_filter"


@pytest.mark.req("C4")
def test_switching_personalisation_off_drops_the_person_from_profile_based_segments(
    clinic: Clinic,
) -> None:
    k = clinic.kernel
    a, b = person(k, city="上海"), person(k, city="上海")
    shanghai = {"filter": "city", "in": ["上海"]}
    assert members(k, shanghai) == {a, b}
    who = ctx(k, "consultant", "service.appointment", actor="amy.consultant")
    with k.engine.begin() as conn:
        set_personalisation(conn, k, who, person_id=a, enabled=False, source="portal")
        assert not personalisation_enabled(conn, clinic.tenant_id, a)
    assert members(k, shanghai) == {b}
    # the non-personalised option ("everyone", no profiling) still reaches them
    assert members(k, {"all": []}) == {a, b}
    with k.engine.begin() as conn:
        set_personalisation(conn, k, who, person_id=a, enabled=True, source="portal")
    assert members(k, shanghai) == {a, b}


@pytest.mark.req("C4", "C10")
def test_a_gpc_signal_also_drops_the_person_from_profile_based_segments(clinic: Clinic) -> None:
    from pulsecrm.consent.service import record_gpc

    k = clinic.kernel
    a, b = person(k, city="上海"), person(k, city="上海")
    who = ctx(k, "consultant", "service.appointment", actor="amy.consultant")
    with k.engine.begin() as conn:
        record_gpc(conn, k, who, person_id=a, route="/p/preferences")
        assert not personalisation_enabled(conn, clinic.tenant_id, a)
    assert members(k, {"filter": "city", "in": ["上海"]}) == {b}
    with k.engine.begin() as conn:  # the person later switches personalisation back on
        set_personalisation(conn, k, who, person_id=a, enabled=True, source="portal")
    assert members(k, {"filter": "city", "in": ["上海"]}) == {a, b}
