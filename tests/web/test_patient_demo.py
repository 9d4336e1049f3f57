"""``pulsecrm demo`` seeds what the patient pages need; seeding twice changes nothing."""

from __future__ import annotations

from typing import Any

from pulsecrm.kernel.runtime import Kernel
from pulsecrm.web.patient_demo import seed_patient_pages


def test_demo_seed_gives_working_patient_pages(app: Kernel, client: Any) -> None:
    first = seed_patient_pages(app)
    second = seed_patient_pages(app)
    assert first.keys() == second.keys()
    assert first["patient consent form"] == second["patient consent form"]
    for path in (*first.values(), *second.values(), "/p/notice", "/p/notice?lang=en"):
        response = client.get(path)
        assert response.status_code == 200, path
    prefs = client.get(
        first["patient preference centre (demo patient, link valid 30 days)"] + "?lang=zh-CN"
    )
    assert prefs.text.count("已同意") == 2
    english = client.get("/p/notice?lang=en").text
    assert "Example Dental Clinic" in english and "only available" not in english
