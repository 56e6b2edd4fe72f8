"""The chat in a real headless Chromium (Debian's /usr/bin/chromium via Playwright) on the bundled sample.

Uses the real default index (MiniLM, built offline on first use) and the real page:
type the Lavrov question, press Enter, see the highlighted quote; ask a follow-up and
see it answered in context. Screenshots and the Enter-to-answer time go to
test-artifacts/screenshots/ (not committed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import serving

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Records, inside the page, when Enter is pressed in the question box and when a new answer's <mark> appears.
TIMER_JS = """() => {
  const box = document.querySelector('#nq-question textarea');
  window.__nq = {enter: null, answered: null, marks: document.querySelectorAll('#nq-chat .nq-answer').length};
  box.addEventListener('keydown', e => { if (e.key === 'Enter' && !e.shiftKey) window.__nq.enter = performance.now(); },
                       {capture: true, once: true});
  const seen = () => {
    const n = document.querySelectorAll('#nq-chat .nq-answer').length;
    if (window.__nq.enter !== null && n > window.__nq.marks && window.__nq.answered === null) {
      window.__nq.answered = performance.now();
    }
  };
  new MutationObserver(seen).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium chromium-driver)"),
]


@pytest.fixture(scope="module")
def chat_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    mp = pytest.MonkeyPatch()
    mp.setenv("NEWSQA_HOME", str(tmp_path_factory.mktemp("browser-home")))
    from qa.assistant import load_assistant
    from ui.web import build_app

    try:
        with serving(build_app(load_assistant())) as url:  # the bundled sample with the real model, built here
            yield url
    finally:
        mp.undo()


def _ask(page, question: str) -> float:  # type: ignore[no-untyped-def]
    """Type ``question``, press Enter, wait for the new answer; the in-page milliseconds from Enter to answer."""
    page.evaluate(TIMER_JS)
    box = page.locator("#nq-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function("window.__nq.answered !== null", timeout=60_000)
    elapsed = float(page.evaluate("window.__nq.answered - window.__nq.enter"))
    # The chat scrolls to the bottom; show the start of the new answer (for the screenshots).
    page.wait_for_timeout(300)
    page.locator("#nq-chat .nq-answer").last.evaluate("e => e.scrollIntoView({block: 'start'})")
    return elapsed


@pytest.mark.timeout(300)
def test_lavrov_question_and_follow_up_in_chromium(chat_url: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (pip) drives the browser")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 1100})
            page.goto(chat_url)
            page.wait_for_selector("#nq-question textarea", timeout=30_000)
            sync_api.expect(page.get_by_text("What did Lavrov call for?").first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "0-empty-chat.png"))

            timings["lavrov_enter_to_answer_ms"] = _ask(page, "What did Lavrov call for?")
            mark = page.locator("#nq-chat .nq-answer mark").filter(has_text="urgent ceasefire").first
            sync_api.expect(mark).to_be_visible()
            assert page.locator("#nq-chat a.nq-cite").first.get_attribute("href") == "#nq-1-src-1"
            page.screenshot(path=str(ARTIFACTS / "1-lavrov-answer.png"))

            timings["follow_up_enter_to_answer_ms"] = _ask(page, "Who did he meet?")
            second = page.locator("#nq-chat .nq-answer").nth(1)
            sync_api.expect(second.locator(".nq-rewrite")).to_have_text("Searched for: “Who did Lavrov meet?”")
            sync_api.expect(second.locator("mark").first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "2-follow-up.png"))
            # In context: "he" is Lavrov, so the answer names whom Lavrov met.
            assert "Arab" in second.locator(".nq-text").inner_text()
        finally:
            browser.close()
    (ARTIFACTS / "timings.json").write_text(json.dumps({k: round(v, 1) for k, v in timings.items()}, indent=2) + "\n")
    assert all(v > 0 for v in timings.values())
