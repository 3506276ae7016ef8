"""The UI in a real headless Chromium: filter runs, open one, follow the graph, compare.

One server and one browser for the module; screenshots go to
``tests/ui/screenshots/`` (ignored by git, kept by CI as artifacts).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser import INTERNAL, Browser, available
from ui_helpers import here

pytestmark = pytest.mark.skipif(not available(), reason="chromium and chromium-driver missing")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    chrome = Browser(tmp_path_factory.mktemp("chromium-profile"), here() / "screenshots")
    yield chrome
    chrome.quit()


def rows(browser: Browser) -> list[str]:
    return [row.get_attribute("data-uid") for row in browser.all("#runs-table tbody tr[data-uid]")]


def graph_ready(browser: Browser) -> Any:
    return browser.wait(lambda: browser.css("#graph").get_attribute("data-ready") == "1",
                        what="the graph to load")


def test_runs_page_filters(server, ids, browser):
    browser.open(server.url + "/runs")
    assert browser.css("h1").text.startswith("Runs") and len(rows(browser)) == 18
    assert {"lr", "model.depth", "tag", "experiment"} <= {
        th.text.split(" ")[0] for th in browser.all("#runs-table thead th.sortable")}
    where = browser.css("input[name=where]")
    where.send_keys('params.lr > 0.05 and features.experiment = "B"')
    browser.css("#filters button[type=submit]").click()
    browser.wait(lambda: "where=" in browser.driver.current_url, what="the filtered page")
    shown = rows(browser)
    expected = [u for i, u in enumerate(ids["runs"]) if i % 3 == 2 and i % 2 == 1]
    assert sorted(shown) == sorted(expected) and shown
    browser.shot("runs-filtered")
    browser.css("th.sortable a[title='sort by lr']").click()  # sort by a param column
    browser.wait(lambda: "sort=-params.lr" in browser.driver.current_url, what="sorting")
    browser.shot("runs-sorted")


def test_bad_filter_shows_the_message(server, browser):
    browser.open(server.url + "/runs?where=lr")
    assert "NAME OP VALUE" in browser.css("#filter-error").text


def test_open_a_run(server, ids, browser):
    browser.open(server.url + "/runs?transform=train.py&sort=params.tag")
    browser.css(f"tr[data-uid='{ids['runs'][-1]}'] a.uid").click()
    browser.wait(lambda: browser.driver.current_url.endswith(f"/runs/{ids['runs'][-1]}"))
    assert ids["runs"][-1] in browser.css("h1").text
    page = browser.css("main").text
    for text in ("train.py", "lr", "0.1", "model.depth", "data/notes.txt", "models/model.txt",
                 "report.py"):
        assert text in page, text
    browser.shot("run")


def test_graph_to_an_artifact_and_back(server, ids, browser):
    browser.open(server.url + f"/runs/{ids['runs'][-1]}")
    browser.css("#graph-link").click()
    graph_ready(browser)
    browser.shot("graph")
    model = ids["models"][-1]
    before = browser.css("#graph svg").get_dom_attribute("viewBox")
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin

    box = browser.css("#graph")
    ActionChains(browser.driver).scroll_from_origin(ScrollOrigin.from_element(box), 0, -300).perform()
    browser.wait(lambda: browser.css("#graph svg").get_dom_attribute("viewBox") != before, what="zoom")
    ActionChains(browser.driver).move_to_element_with_offset(box, -200, 0).click_and_hold() \
        .move_by_offset(120, 40).release().perform()  # a drag pans and opens nothing
    assert "/graph/" in browser.driver.current_url
    browser.css("#fit").click()
    browser.css(f"g[id='node-artifact:{model}'] a").click()
    browser.wait(lambda: browser.driver.current_url.endswith(f"/artifacts/{model}"),
                 what="the artifact page")
    assert "models/model.txt" in browser.css("h1").text
    assert "weights 11" in browser.css("#preview").text
    browser.shot("artifact")
    browser.driver.back()
    graph_ready(browser)
    assert browser.all(f"g[id='node-artifact:{model}']")


def test_graph_expands_step_by_step(server, ids, browser):
    browser.open(server.url + f"/graph/{ids['models'][-1]}?up=1&down=1")
    graph_ready(browser)

    def count() -> int:
        return len(browser.all("#graph g.node:not(.more)"))

    start = count()
    creator = f"run:{ids['runs'][-1]}"
    browser.css(f"g[id='node-{creator}-more'] text").click()  # show its hidden inputs
    browser.wait(lambda: count() > start, what="the expansion")
    assert browser.all(f"g[id='node-artifact:{ids['text']}']")
    assert "expand=" in browser.driver.current_url  # the state survives back/forward
    browser.css("[data-step='up:1']").click()
    browser.wait(lambda: browser.css("#up-depth").text == "2")
    browser.open(server.url + f"/graph/{ids['text']}?up=0&down=1")
    graph_ready(browser)
    group = browser.css("#graph g.group")
    grouped = count()
    group.click()
    browser.wait(lambda: count() > grouped, what="the group to open")
    browser.shot("graph-expanded")


def test_compare_two_runs(server, ids, browser):
    browser.open(server.url + "/runs?transform=train.py&sort=params.tag")
    button = browser.css("#compare-button")
    assert not button.is_enabled()
    for uid in (ids["runs"][0], ids["runs"][1]):
        browser.css(f"tr[data-uid='{uid}'] input[name=runs]").click()
    assert button.is_enabled() and "2" in button.text
    button.click()
    browser.wait(lambda: "/compare?runs=" in browser.driver.current_url, what="the comparison")
    differing = {row.find_element("css selector", "th").text
                 for row in browser.all("#compare-table tr.differs")}
    assert {"lr", "experiment", "tag", "model.depth"} <= differing
    assert "data/notes.txt" not in differing
    browser.css("#only-differences").click()
    assert not any(r.is_displayed() for r in browser.all("#compare-table tr.same"))
    browser.shot("compare")


def test_transform_page_highlights_and_diffs(server, ids, browser):
    browser.open(server.url + f"/transforms/{ids['train_v2']}")
    assert browser.all(".hl span.k"), "keywords are highlighted"
    added = [e.text for e in browser.all("pre.diff .d-added")]
    assert "+def train(lr, epochs=3):" in added
    browser.shot("transform")


def test_images_and_tables_preview(server, ids, browser):
    browser.open(server.url + f"/artifacts/{ids['image']}")
    image = browser.css("img.preview-image")
    browser.wait(lambda: browser.driver.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth", image) == 4, what="image")
    browser.open(server.url + f"/artifacts/{ids['frame']}")
    assert [th.text for th in browser.all(".preview-table th")] == ["a", "b"]


def test_no_request_leaves_the_machine(server, browser):
    """Runs last in the module: every request of every page above went to the server."""
    browser.open(server.url + "/api")
    browser.collect()
    origin = server.url + "/"
    foreign = [u for u in browser.requests if not u.startswith((origin, *INTERNAL))]
    assert [u for u in browser.requests if u.startswith(origin)] and foreign == []
    assert browser.failures == [], "every asset loads from the server itself"
    assert browser.console == [], "no script errors"
