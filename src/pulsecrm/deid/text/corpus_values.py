"""Realistic slot values (Faker zh_CN / en_US plus valid check digits) for the corpus."""

from __future__ import annotations

import random
import re
import string
from datetime import date, timedelta

from faker import Faker

_FULLWIDTH = str.maketrans("0123456789-+()", "０１２３４５６７８９－＋（）")
_MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "145",
    "147",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "170",
    "171",
    "173",
    "175",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "184",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "193",
    "195",
    "196",
    "198",
    "199",
]
_AREA_CODES = [
    "010",
    "020",
    "021",
    "022",
    "023",
    "024",
    "025",
    "027",
    "028",
    "029",
    "0571",
    "0574",
    "0755",
    "0756",
    "0512",
    "0510",
    "0532",
    "0531",
    "0731",
    "0871",
    "0898",
    "0591",
    "0592",
    "0351",
    "0371",
    "0451",
    "0431",
    "0791",
]
_ID_REGIONS = [
    "110105",
    "110108",
    "310104",
    "310115",
    "330106",
    "330102",
    "440305",
    "440106",
    "320102",
    "510104",
    "420106",
    "370202",
    "350203",
    "610113",
    "120101",
    "500103",
    "210102",
    "230103",
    "430104",
    "530102",
    "999999",
    "710000",
]
# given-name characters that are NOT drawn from Faker's zh_CN list, so that names in
# the corpus are not limited to the characters a Faker-trained recogniser would know
_EXTRA_GIVEN_CHARS = (
    "子涵梓萱雨桐思远一诺浩然欣怡语嫣梦琪若曦天佑俊熙沐宸梓豪嘉怡紫涵诗琪可馨锦程"
    "振宇海峰晓东晓燕婉清佩玲淑芬志远国栋德华永福秀娥凤霞爱华春生秋菊玉洁宏伟"
)
_COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "皇甫",
    "慕容",
    "东方",
    "令狐",
    "夏侯",
    "公孙",
)
_RARE_SURNAMES = ("仉", "禚", "亓官", "第五", "钭", "鄂")
_EN_TITLES = ("Mr", "Mrs", "Ms", "Dr", "Mr.", "Mrs.", "Ms.", "Dr.")


def _luhn_complete(partial: str) -> str:
    """Append the Luhn check digit to ``partial``."""
    total = 0
    for index, char in enumerate(reversed(partial)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return partial + str((10 - total % 10) % 10)


def _id_checksum(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(first17, weights, strict=True))
    return "10X98765432"[total % 11]


class _Values:
    """Draws realistic slot values; one instance per corpus, seeded."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.zh = Faker("zh_CN")
        self.en = Faker("en_US")
        self.zh.seed_instance(seed)
        self.en.seed_instance(seed + 1)
        from faker.providers.person.zh_CN import Provider as ZhPerson

        self._zh_given = list(ZhPerson.first_names)
        surnames = ZhPerson.last_names
        self._zh_surnames = list(surnames.keys()) if isinstance(surnames, dict) else list(surnames)
        weights = surnames.values() if isinstance(surnames, dict) else [1.0] * len(surnames)
        self._zh_surname_weights = [max(w, 0.05) for w in weights]

    # ---- people ------------------------------------------------------------------
    def surname(self) -> str:
        roll = self.rng.random()
        if roll < 0.06:
            return self.rng.choice(_COMPOUND_SURNAMES)
        if roll < 0.08:
            return self.rng.choice(_RARE_SURNAMES)
        return self.rng.choices(self._zh_surnames, self._zh_surname_weights)[0]

    def given(self) -> str:
        if self.rng.random() < 0.3:
            length = self.rng.choice((1, 2, 2))
            return "".join(self.rng.choice(_EXTRA_GIVEN_CHARS) for _ in range(length))
        return self.rng.choice(self._zh_given)

    def person(self) -> str:
        return self.surname() + self.given()

    def en_person(self) -> str:
        return f"{self.en.first_name()} {self.en.last_name()}"

    # ---- phones ------------------------------------------------------------------
    def mobile(self) -> str:
        digits = self.rng.choice(_MOBILE_PREFIXES) + "".join(
            self.rng.choice(string.digits) for _ in range(8)
        )
        a, b, c = digits[:3], digits[3:7], digits[7:]
        spellings = (
            digits,
            digits,
            digits,
            f"{a} {b} {c}",
            f"{a}-{b}-{c}",
            f"+86 {a} {b} {c}",
            f"+86-{digits}",
            f"+86{digits}",
            f"0086 {digits}",
            f"0086{digits}",
            f"(+86){digits}",
            f"（+86）{a}-{b}-{c}",
            digits.translate(_FULLWIDTH),
            f"{a} {b}{c}",
        )
        return self.rng.choice(spellings)

    def landline(self) -> str:
        area = self.rng.choice(_AREA_CODES)
        length = 8 if len(area) == 3 else self.rng.choice((7, 8))
        local = str(self.rng.randint(2, 8)) + "".join(
            self.rng.choice(string.digits) for _ in range(length - 1)
        )
        half = len(local) // 2
        forms = [
            f"{area}-{local}",
            f"({area}){local}",
            f"（{area}）{local}",
            f"{area}-{local[:half]} {local[half:]}",
            f"{area} {local}",
        ]
        number = self.rng.choice(forms)
        if self.rng.random() < 0.2:
            number += self.rng.choice(("转", "-", " 转 ")) + str(self.rng.randint(100, 9999))
        return number

    def intl_phone(self) -> str:
        forms = (
            lambda: (
                f"+1 {self.rng.randint(201, 989)}-{self.rng.randint(200, 999)}-"
                f"{self.rng.randint(1000, 9999)}"
            ),
            lambda: (
                f"+1 ({self.rng.randint(201, 989)}) {self.rng.randint(200, 999)}-"
                f"{self.rng.randint(1000, 9999)}"
            ),
            lambda: f"+44 20 {self.rng.randint(7000, 8999)} {self.rng.randint(1000, 9999)}",
            lambda: (
                f"+852 {self.rng.choice('5679')}{self.rng.randint(100, 999)} "
                f"{self.rng.randint(1000, 9999)}"
            ),
            lambda: f"+61 2 {self.rng.randint(8000, 9999)} {self.rng.randint(1000, 9999)}",
            lambda: (
                f"+65 {self.rng.choice('689')}{self.rng.randint(100, 999)} "
                f"{self.rng.randint(1000, 9999)}"
            ),
            lambda: (
                f"+1{self.rng.randint(201, 989)}{self.rng.randint(200, 999)}"
                f"{self.rng.randint(1000, 9999)}"
            ),
            lambda: (
                f"({self.rng.randint(201, 989)}) {self.rng.randint(200, 999)}-"
                f"{self.rng.randint(1000, 9999)}"
            ),
            lambda: self.mobile(),
        )
        return self.rng.choice(forms)()

    def hk_mobile(self) -> str:
        first = f"{self.rng.choice('569')}{self.rng.randint(100, 999)}"
        return f"+852 {first} {self.rng.randint(1000, 9999)}"

    # ---- identity documents ------------------------------------------------------
    def resident_id(self) -> str:
        birth = date(1940, 1, 1) + timedelta(days=self.rng.randint(0, 365 * 80))
        if self.rng.random() < 0.05:
            body = (
                self.rng.choice(_ID_REGIONS)
                + birth.strftime("%y%m%d")
                + (f"{self.rng.randint(0, 999):03d}")
            )
            return body  # 15-digit first-generation ID
        first17 = (
            self.rng.choice(_ID_REGIONS)
            + birth.strftime("%Y%m%d")
            + f"{self.rng.randint(0, 999):03d}"
        )
        check = _id_checksum(first17)
        if check == "X" and self.rng.random() < 0.3:
            check = "x"
        return first17 + check

    def passport(self) -> str:
        kind = self.rng.random()
        if kind < 0.5:
            return "E" + "".join(self.rng.choice(string.digits) for _ in range(8))
        if kind < 0.75:
            return (
                "E"
                + self.rng.choice("ABCDFGHJKLMNPQRSTUVWXYZ")
                + "".join(self.rng.choice(string.digits) for _ in range(7))
            )
        if kind < 0.9:
            return "G" + "".join(self.rng.choice(string.digits) for _ in range(8))
        return self.rng.choice("PSD") + "".join(self.rng.choice(string.digits) for _ in range(7))

    def hk_permit(self) -> str:
        return "C" + "".join(self.rng.choice(string.digits) for _ in range(8))

    def tw_permit(self) -> str:
        return "".join(self.rng.choice(string.digits) for _ in range(8))

    def home_return(self) -> str:
        digits = "".join(self.rng.choice(string.digits) for _ in range(8))
        return (
            self.rng.choice("HM")
            + digits
            + ("" if self.rng.random() < 0.7 else f"{self.rng.randint(0, 99):02d}")
        )

    # ---- finance -----------------------------------------------------------------
    def bank_card(self) -> str:
        prefix = self.rng.choice(("622202", "621700", "622848", "623668", "4367", "5187", "6217"))
        length = self.rng.choice((16, 16, 19))
        body = prefix + "".join(
            self.rng.choice(string.digits) for _ in range(length - 1 - len(prefix))
        )
        number = _luhn_complete(body)
        if self.rng.random() < 0.35:
            number = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        return number

    # ---- network / messaging -----------------------------------------------------
    def email(self) -> str:
        faker = self.en if self.rng.random() < 0.5 else self.zh
        if self.rng.random() < 0.3:
            local = self.zh.user_name() + str(self.rng.randint(1, 99))
            return f"{local}@{self.rng.choice(('qq.com', '163.com', '126.com', 'foxmail.com'))}"
        return faker.email()

    def url(self) -> str:
        base = self.en.url().rstrip("/")
        if self.rng.random() < 0.5:
            base += "/" + self.en.uri_path() + f"?id={self.rng.randint(1, 99999)}"
        return base

    def ip(self) -> str:
        return self.en.ipv4() if self.rng.random() < 0.75 else self.en.ipv6()

    def wechat(self) -> str:
        if self.rng.random() < 0.5:
            name = self.en.user_name()
        else:
            name = self.rng.choice(string.ascii_letters) + "".join(
                self.rng.choice(string.ascii_lowercase + string.digits + "_-")
                for _ in range(self.rng.randint(5, 14))
            )
        name = re.sub(r"[^A-Za-z0-9_-]", "", name)
        if not name[:1].isalpha():
            name = "wx" + name
        return name[:20] if len(name) >= 6 else name + "2024"

    # ---- dates -------------------------------------------------------------------
    def _birth(self) -> date:
        return date(1950, 1, 1) + timedelta(days=self.rng.randint(0, 365 * 55))

    def dob(self) -> str:
        d = self._birth()
        return self.rng.choice(
            (
                f"{d.year}年{d.month}月{d.day}日",
                f"{d.year}-{d.month:02d}-{d.day:02d}",
                f"{d.year}/{d.month}/{d.day}",
                f"{d.year}.{d.month:02d}.{d.day:02d}",
                f"{d.year}年{d.month:02d}月{d.day:02d}日",
            )
        )

    def en_dob(self) -> str:
        d = self._birth()
        return self.rng.choice(
            (
                d.strftime("%B ") + f"{d.day}, {d.year}",
                f"{d.day} " + d.strftime("%B %Y"),
                f"{d.year}-{d.month:02d}-{d.day:02d}",
                f"{d.month:02d}/{d.day:02d}/{d.year}",
            )
        )

    def visit_date(self) -> str:
        d = date(2023, 1, 1) + timedelta(days=self.rng.randint(0, 700))
        return self.rng.choice(
            (
                f"{d.year}年{d.month}月{d.day}日",
                f"{d.month}月{d.day}日",
                f"{d.year}-{d.month:02d}-{d.day:02d}",
                f"{d.month}.{d.day}",
                f"{d.year}/{d.month}/{d.day}",
            )
        )

    def en_visit_date(self) -> str:
        d = date(2023, 1, 1) + timedelta(days=self.rng.randint(0, 700))
        return self.rng.choice((d.strftime("%B ") + f"{d.day}, {d.year}", d.isoformat()))

    # ---- records -----------------------------------------------------------------
    def mrn(self) -> str:
        year = self.rng.randint(2018, 2024)
        return self.rng.choice(
            (
                f"MZ{year}{self.rng.randint(0, 999999):06d}",
                f"ZY{year}-{self.rng.randint(0, 99999):05d}",
                f"{self.rng.randint(0, 99999999):08d}",
                f"{self.rng.randint(10**9, 10**10 - 1)}",
                f"BL{self.rng.randint(10000, 999999)}",
                f"{year}{self.rng.randint(0, 999999):06d}",
            )
        )

    # ---- addresses ---------------------------------------------------------------
    def address(self) -> str:
        from faker.providers.address.zh_CN import Provider as ZhAddress

        rng = self.rng
        province = rng.choice(ZhAddress.provinces)
        city = rng.choice(ZhAddress.cities) + "市"
        district = rng.choice(ZhAddress.districts) + rng.choice(("区", "区", "县"))
        road_core = rng.choice(
            (
                "文三",
                "建国",
                "人民",
                "中山北",
                "解放",
                "天目山",
                "南京西",
                "延安东",
                "长江",
                "学院",
                self.zh.last_name() + rng.choice(("家", "庄", "塘", "湖", "山")),
                rng.choice(ZhAddress.cities),
            )
        )
        road = road_core + rng.choice(("路", "路", "路", "街", "大道", "巷", "大街"))
        if rng.random() < 0.15:
            road += f"{rng.randint(1, 400)}弄"
        number = f"{rng.randint(1, 999)}号"
        estate = rng.choice(
            ("东部软件园", "阳光花园", "翠苑", "金色家园", "SOHO现代城", "世纪大厦", "锦绣公寓", "")
        )
        building = rng.choice(
            (
                f"{rng.randint(1, 30)}号楼",
                f"{rng.randint(1, 30)}栋",
                f"{rng.choice('ABCD')}座",
                f"{rng.randint(1, 20)}幢",
            )
        )
        unit = f"{rng.randint(1, 6)}单元" if rng.random() < 0.5 else ""
        room = f"{rng.randint(1, 32)}{rng.randint(1, 9):02d}室"
        shape = rng.random()
        # municipalities (北京市…) have no separate city level
        head = province + district if province.endswith("市") else province + city + district
        if shape < 0.35:
            return head + road + number + estate + building + unit + room
        if shape < 0.55:
            return city + district + road + number
        if shape < 0.7:
            return district + road + number + estate + building + room
        if shape < 0.8:
            return head + road + number
        if shape < 0.9:
            town = rng.choice(("城关", "新塘", "临平", "长安", "虎门")) + rng.choice(("镇", "乡"))
            village = self.zh.last_name() + rng.choice(("家村", "庄村", "湾村"))
            return (
                city + district + town + village + f"{rng.randint(1, 12)}组{rng.randint(1, 99)}号"
            )
        return road + number + estate + building + unit + room

    def en_address(self) -> str:
        street = self.en.street_address()
        if self.rng.random() < 0.6:
            street += f", {self.en.city()}, {self.en.state_abbr()} {self.en.zipcode()}"
        elif self.rng.random() < 0.5:
            street += f", {self.en.city()}"
        return street


#: public name for the seeded value generator, reused by the held-out corpus
ValueFactory = _Values


# ---- filler vocabularies (non-PII, some deliberately confusable) ---------------------
