"""Realistic synthetic people (Faker zh_CN) for the demo, tests and benchmarks."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path

from faker import Faker

from pulsecrm.crm.person_rows import COLUMNS

SOURCES = ("douyin", "baidu", "meituan", "xiaohongshu", "wechat", "referral", "walk_in", "dianping")


def synthetic_people(count: int, *, seed: int = 20261129) -> Iterator[dict[str, str]]:
    """Yield ``count`` people with valid phones, resident ID numbers and consistent birth dates."""
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    for index in range(count):
        id_number = fake.ssn(min_age=6, max_age=85)  # type: ignore[call-arg]
        born = f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}"
        gender = "男" if int(id_number[16]) % 2 else "女"
        yield {
            "name": fake.name_male() if gender == "男" else fake.name_female(),
            "phone": f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
            "email": f"{fake.user_name()}{index}@{fake.free_email_domain()}",
            "id_number": id_number,
            "gender": gender,
            "birth_date": born,
            "city": fake.city_name(),
            "source": rng.choice(SOURCES),
        }


def write_people_csv(path: Path, count: int, *, seed: int = 20261129) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(synthetic_people(count, seed=seed))
    return path
