"""A learner in a real browser: Debian's chromium driven through chromium-driver by selenium
(nothing downloads a browser), against the app under gunicorn (tests/live.py).

Logs in, reads a text, marks a word with the mouse and another with the keyboard, finds them
on the vocabulary page, changes a status there, exports the CSV with the session. Each page
is saved as a screenshot at desktop and phone width in app/screenshots/ (git-ignored), for a
person to look at. Without chromium or chromium-driver these tests fail, naming the package.
"""

import shutil
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
TEXT = "我每天学习中文。今天我们去公园散步，天气很好。\n葡萄很好吃。"
WAIT = 15


def _executable(*names: str) -> str:
    for name in names:
        if path := shutil.which(name):
            return path
    pytest.fail(
        f"{' or '.join(names)} not found: install Debian's chromium and chromium-driver "
        "(apt-get install chromium chromium-driver; `make setup` does it)"
    )


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _executable("chromium", "chromium-browser")
    profile = tempfile.mkdtemp(prefix="onebox-chromium-")
    for flag in (
        "--headless",
        "--no-sandbox",  # the tests may run as root, where Chromium's sandbox cannot start
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    service = Service(executable_path=_executable("chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_window_size(*SIZES["desktop"])
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _screenshots(driver, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    for size, (width, height) in SIZES.items():
        driver.set_window_size(width, height)
        driver.save_screenshot(str(SCREENSHOTS / f"{name}-{size}.png"))
    driver.set_window_size(*SIZES["desktop"])


def _wait(driver, condition):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT).until(condition)


def _word(driver, word: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f'#reading button.w[data-word="{word}"]')


def test_a_learner_reads_marks_finds_and_exports(live_app, live_users, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    user, password, _ = live_users["browser"]
    driver = browser

    # Log in.
    driver.get(live_app.url + "/read/")
    assert "/accounts/login/" in driver.current_url
    _screenshots(driver, "login")
    driver.find_element(By.ID, "id_username").send_keys(user.username)
    driver.find_element(By.ID, "id_password").send_keys(password, Keys.ENTER)
    _wait(driver, lambda d: d.current_url.endswith("/read/"))

    # Read a text: one enrich request; words become buttons coloured by status.
    driver.find_element(By.ID, "text").send_keys(TEXT)
    driver.find_element(By.ID, "read").click()
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#reading button.w"))
    tokens = [b.text for b in driver.find_elements(By.CSS_SELECTOR, "#reading button.w")]
    assert "学习" in tokens and "葡萄" in tokens
    assert driver.find_element(By.ID, "reading").text.replace("\n", "") == TEXT.replace("\n", "")
    assert "s-unknown" in _word(driver, "学习").get_attribute("class")

    # Hover shows pinyin and gloss; a click opens the word; a status button marks it.
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).move_to_element(_word(driver, "学习")).perform()
    tip = driver.find_element(By.ID, "tip")
    _wait(driver, lambda d: tip.is_displayed())
    assert "xué xí" in tip.text and "learn" in tip.text
    _word(driver, "学习").click()
    panel = driver.find_element(By.ID, "panel")
    _wait(driver, lambda d: panel.is_displayed())
    assert driver.find_element(By.ID, "p-word").text == "学习"
    assert "HSK 1" in driver.find_element(By.ID, "p-hsk").text
    panel.find_element(By.CSS_SELECTOR, 'button[data-status="known"]').click()
    _wait(driver, lambda d: "s-known" in _word(d, "学习").get_attribute("class"))
    _screenshots(driver, "read-word")

    # The keyboard: Tab-reachable words; with one focused, "2" marks it learning.
    grape = _word(driver, "葡萄")
    driver.execute_script("arguments[0].focus()", grape)
    grape.send_keys("2")
    _wait(driver, lambda d: "s-learning" in _word(d, "葡萄").get_attribute("class"))
    driver.find_element(By.ID, "p-close").click()
    _screenshots(driver, "read")

    # Find the words on the vocabulary page, with pinyin, gloss and HSK level.
    driver.get(live_app.url + "/vocab/?q=xuexi")
    row = driver.find_element(By.CSS_SELECTOR, 'tr[data-word="学习"]')
    assert "xué xí" in row.text and "learn" in row.text
    assert Select(row.find_element(By.TAG_NAME, "select")).first_selected_option.text == "known"
    driver.get(live_app.url + "/vocab/")
    counts = driver.find_element(By.ID, "counts").text
    assert "known 1" in counts and "learning 1" in counts
    _screenshots(driver, "vocab")

    # Change a status in place (the page's script calls the API; no reload).
    row = driver.find_element(By.CSS_SELECTOR, 'tr[data-word="葡萄"]')
    Select(row.find_element(By.TAG_NAME, "select")).select_by_visible_text("known")
    _wait(driver, lambda d: row.find_element(By.CLASS_NAME, "saved").text == "saved")
    driver.get(live_app.url + "/vocab/?status=known")
    found = {
        r.get_attribute("data-word") for r in driver.find_elements(By.CSS_SELECTOR, "tr[data-word]")
    }
    assert found == {"学习", "葡萄"}

    # Export with the browser session: what the Export link downloads.
    href = driver.find_element(By.ID, "export").get_attribute("href")
    csv_text = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.text()).then(done);",
        href,
    )
    lines = csv_text.splitlines()
    assert lines[0] == "word,status,updated_at"
    assert {line.split(",")[0] for line in lines[1:]} == {"学习", "葡萄"}

    # Tokens page: create one, shown once.
    driver.get(live_app.url + "/tokens/")
    driver.find_element(By.CSS_SELECTOR, 'form input[value="create"] + button').click()
    (new_token,) = _wait(driver, lambda d: d.find_elements(By.ID, "new-token"))
    assert new_token.get_attribute("value").startswith("ob_")
    _screenshots(driver, "tokens")
