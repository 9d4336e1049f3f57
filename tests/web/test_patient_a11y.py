"""Accessibility pass on the patient pages: labels, keyboard order, visible focus, language."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.xdist_group("browser")

UNLABELLED = """
() => Array.from(document.querySelectorAll('input, select, textarea, button'))
  .filter(el => el.type !== 'hidden')
  .filter(el => {
    const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label')
      || el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.innerText.trim());
    return !named;
  })
  .map(el => el.outerHTML.slice(0, 120))
"""


def _pages(live_server: str, capture_form: str, prefs_token: str) -> list[str]:
    return [
        f"{live_server}/p/",
        f"{live_server}/p/notice",
        f"{live_server}/p/forms/{capture_form}",
        f"{live_server}/p/preferences/{prefs_token}",
        f"{live_server}/p/requests",
    ]


def test_every_input_has_a_label_and_every_page_a_language(
    live_server: str, page: Any, capture_form: str, prefs_token: str
) -> None:
    for url in _pages(live_server, capture_form, prefs_token):
        page.goto(url)
        assert page.locator("html").get_attribute("lang") == "zh-CN", url
        assert page.evaluate(UNLABELLED) == [], url
        assert page.locator("h1").count() == 1, url
        assert page.title(), url
        # Skip link first, main landmark present.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link", url
        assert page.get_by_role("main").count() == 1
    # Nothing on these pages needed an inline script or style the CSP would block.
    assert [m for m in page.console_messages if "Content Security Policy" in m] == []


@pytest.mark.req("B2")
def test_keyboard_reaches_every_box_then_submit_in_order_and_space_toggles(
    live_server: str, page: Any, shot: Any, capture_form: str
) -> None:
    page.goto(f"{live_server}/p/forms/{capture_form}")
    boxes = page.locator("input[type=checkbox]").evaluate_all("els => els.map(e => e.id)")
    reached: list[str] = []
    for _ in range(60):
        page.keyboard.press("Tab")
        active = page.evaluate("[document.activeElement.id, document.activeElement.type]")
        reached.append(active[0] or active[1])
        if active[1] == "submit":
            break
    assert reached[-1] == "submit", reached
    order = [r for r in reached if r in boxes]
    assert order == boxes  # every checkbox, in the order they are read
    # Space toggles the focused box; the focus ring is visible.
    page.focus(f"#{boxes[0]}")
    outline = page.evaluate(
        "getComputedStyle(document.activeElement).outlineStyle + ' ' + "
        "getComputedStyle(document.activeElement).boxShadow"
    )
    assert outline.split()[0] != "none" and "rgb" in outline
    shot(page, "focus")
    page.keyboard.press("Space")
    assert page.locator(f"#{boxes[0]}").is_checked()
    page.keyboard.press("Space")
    assert not page.locator(f"#{boxes[0]}").is_checked()


def test_requests_form_radio_group_works_by_keyboard(live_server: str, page: Any) -> None:
    page.goto(f"{live_server}/p/requests")
    page.focus("#type-access")
    page.keyboard.press("Space")
    assert page.locator("#type-access").is_checked()
    page.keyboard.press("ArrowDown")
    assert page.locator("#type-copy").is_checked()
    # Tab leaves the group and walks the text fields to the submit button.
    order = []
    for _ in range(10):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.type"))
        if order[-1] == "submit":
            break
    assert order == ["field-name", "field-phone", "field-email", "field-details", "submit"]


def test_every_patient_page_fits_a_phone_and_a_desktop(
    live_server: str, new_context: Any, shot: Any, capture_form: str, prefs_token: str
) -> None:
    from tests.web.conftest import DESKTOP, PHONE

    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        pg = new_context(viewport=viewport).new_page()
        pages = zip(
            ("home", "notice", "form", "preferences", "requests"),
            _pages(live_server, capture_form, prefs_token),
            strict=True,
        )
        for page_name, url in pages:
            pg.goto(url)
            overflow = pg.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (name, url, overflow)
            shot(pg, f"{name}-{page_name}")
