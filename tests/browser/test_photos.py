"""In a real browser: photos uploaded from a real file (a camera JPEG with GPS EXIF) on the
listing page and in the web chat and the web inbox. The progress bar moves, the photo appears
on the public page and in the bubble, and the bytes served carry no location or camera tag.
Screenshots of both pages (desktop and phone, English and Indonesian) go to /tmp/shots-media/.
"""

from __future__ import annotations

import base64
import json
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from contacts import services as contacts
from contacts.models import User
from marketplace import photos
from marketplace import services as marketplace
from marketplace.models import Listing
from relay.models import Conversation, MediaFile
from tests.browser.axe import describe, run_axe, serious
from tests.photo_samples import jpeg_with_gps, metadata_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-sari-12345"
SHOTS = Path("/tmp/shots-media")
CLEAN = {"exif": {}, "gps": {}, "info": {}, "camera_named": False}
# The page's script notes what its progress bar and status line went through, in sessionStorage,
# which outlives the navigation the listing upload ends with.
WATCH = """
var root = document.querySelector(arguments[0]);
var seen = {progress: [], status: []};
function keep() { sessionStorage.setItem("seen", JSON.stringify(seen)); }
new MutationObserver(function (changes) {
  changes.forEach(function (change) {
    var node = change.target.nodeType === 1 ? change.target : change.target.parentNode;
    var value = node.getAttribute && node.getAttribute("data-progress");
    if (change.type === "attributes" && value) seen.progress.push(value);
    var status = node.closest && node.closest(".photo-status, [role=status]");
    if (status) seen.status.push(status.textContent);
    change.addedNodes.forEach(function (added) {
      if (added.querySelector && added.querySelector(".photo-status"))
        seen.status.push(added.querySelector(".photo-status").textContent);
    });
  });
  keep();
}).observe(root, {attributes: true, attributeFilter: ["data-progress"], childList: true,
                  characterData: true, subtree: true});
keep();
"""


def seen(browser: Any) -> dict[str, list[str]]:
    return json.loads(browser.execute_script("return sessionStorage.getItem('seen') || '{}'"))


def wait(browser: Any, check: Any, timeout: float = 20) -> Any:
    return WebDriverWait(browser, timeout).until(check)


def log_in(browser: Any, live_server: Any, username: str = "sari") -> None:
    browser.delete_all_cookies()
    browser.get(live_server.url + reverse("contacts:login"))
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
    wait(browser, lambda driver: "/accounts/login/" not in driver.current_url)


def fetched_in_page(browser: Any, url: str) -> bytes:
    """The bytes the browser gets for `url` with its own cookies (the seller's session)."""
    encoded = browser.execute_async_script(
        "var done = arguments[1];"
        "fetch(arguments[0], {credentials: 'same-origin'}).then(function (r) { return r.blob(); })"
        ".then(function (blob) { var reader = new FileReader();"
        "  reader.onload = function () { done(reader.result.split(',')[1]); };"
        "  reader.readAsDataURL(blob); });",
        url,
    )
    return base64.b64decode(encoded)


def image_loaded(browser: Any, selector: str) -> bool:
    return bool(
        browser.execute_script(
            "var i = document.querySelector(arguments[0]);"
            "return !!i && i.complete && i.naturalWidth > 0;",
            selector,
        )
    )


@pytest.fixture
def sari(transactional_db: None) -> User:
    return contacts.register_user(
        username="sari", email="sari@example.com", password=PASSWORD, display_name="Sari"
    )


@pytest.fixture
def listing(sari: User) -> Listing:
    return marketplace.create_listing(seller=sari, title="Sepeda lipat", price=Decimal(900000))


@pytest.fixture
def camera_photo(tmp_path: Path) -> Path:
    path = tmp_path / "IMG_2041.jpg"
    path.write_bytes(jpeg_with_gps(1800, 1200, noise=True))
    assert metadata_of(path.read_bytes())["gps"]  # the file really says where it was taken
    return path


@pytest.fixture
def slow_upload(browser: Any) -> Any:
    """A phone's upload speed, so the bar has time to move (Chrome's network emulation)."""
    browser.set_network_conditions(
        offline=False, latency=20, download_throughput=8 * 1024 * 1024, upload_throughput=600 * 1024
    )
    yield
    browser.delete_network_conditions()


def test_a_listing_photo_uploads_with_progress_and_shows_cleaned_on_the_public_page(
    browser: Any, live_server: Any, listing: Listing, camera_photo: Path, slow_upload: Any
) -> None:
    log_in(browser, live_server)
    browser.get(live_server.url + reverse("marketplace:listing_edit", args=[listing.code]))
    browser.execute_script(WATCH, "form[data-upload-form]")
    browser.find_element(By.CSS_SELECTOR, "input[name=photos]").send_keys(str(camera_photo))
    browser.find_element(By.CSS_SELECTOR, "form[data-upload-form] button[type=submit]").click()
    wait(browser, lambda driver: "1 photo added." in driver.page_source)
    went = seen(browser)
    assert went["progress"] and went["progress"][-1] == "100", went
    assert "Uploading…" in went["status"] and any("Cleaning" in s for s in went["status"]), went
    assert listing.photos.count() == 1

    browser.get(live_server.url + reverse("marketplace:listing_public", args=[listing.code]))
    wait(browser, lambda driver: image_loaded(driver, ".gallery img"))
    image = browser.find_element(By.CSS_SELECTOR, ".gallery img")
    assert image.get_attribute("alt") == "Sepeda lipat, photo 1 of 1"
    served = urllib.request.urlopen(image.get_attribute("src"), timeout=10).read()
    assert metadata_of(served) == CLEAN


def test_a_photo_goes_from_the_web_chat_to_the_inbox_cleaned(
    browser: Any, live_server: Any, listing: Listing, camera_photo: Path, slow_upload: Any
) -> None:
    browser.delete_all_cookies()
    browser.get(live_server.url + reverse("relay:buyer_chat_start", args=[listing.code]))
    browser.find_element(By.NAME, "text").send_keys("Is it still available?")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(
        browser,
        lambda driver: "/chat/" in driver.current_url and "/start/" not in driver.current_url,
    )
    chat_link = browser.current_url
    assert "remove their location and camera details" in browser.page_source

    browser.execute_script(WATCH, "[data-photo-queue]")
    browser.find_element(By.CSS_SELECTOR, "input[name=photo]").send_keys(str(camera_photo))
    item = wait(
        browser, lambda driver: driver.find_element(By.CSS_SELECTOR, ".photo-item[data-uid]")
    )
    assert item.get_attribute("data-progress") == "100"
    went = seen(browser)
    assert "Uploading…" in went["status"] and any("Cleaning" in s for s in went["status"]), went
    assert wait(browser, lambda driver: image_loaded(driver, ".photo-item img"))
    browser.find_element(By.NAME, "text").send_keys("The scratch is here")
    browser.find_element(By.CSS_SELECTOR, "form.composer button[type=submit]").click()
    wait(browser, lambda driver: image_loaded(driver, ".bubble .bubble-photo img"))
    bubble = browser.find_element(By.CSS_SELECTOR, ".bubble.mine:has(.bubble-photo)")
    assert "The scratch is here" in bubble.text
    full = bubble.find_element(By.CSS_SELECTOR, "a.bubble-photo").get_attribute("href")
    assert metadata_of(urllib.request.urlopen(full, timeout=10).read()) == CLEAN

    # The seller sees it in the inbox, served cleaned to their session.
    conversation = Conversation.objects.get(listing=listing)
    log_in(browser, live_server)
    browser.get(live_server.url + reverse("relay:conversation", args=[conversation.code]))
    wait(browser, lambda driver: image_loaded(driver, ".bubble .bubble-photo img"))
    href = browser.find_element(By.CSS_SELECTOR, ".bubble a.bubble-photo").get_attribute("href")
    assert metadata_of(fetched_in_page(browser, href)) == CLEAN
    assert MediaFile.objects.get().message is not None
    assert chat_link  # the buyer's link stays theirs; the seller's page has its own addresses


def _accessible(browser: Any, found: list[str], page: str) -> None:
    failing = serious(run_axe(browser))
    if failing:
        found.append(describe(page, failing))


def _shoot(browser: Any, name: str, down_to: str = "") -> None:
    """Desktop and phone shots of the page's top and, if `down_to`, of that part scrolled in."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, (width, height) in {"desktop": (1280, 900), "phone": (390, 844)}.items():
        browser.set_window_size(width, height)
        browser.execute_script("window.scrollTo(0, 0)")
        browser.save_screenshot(str(SHOTS / f"{name}-{label}.png"))
        if down_to:
            browser.execute_script(
                "document.querySelector(arguments[0]).scrollIntoView({block: 'end'})", down_to
            )
            browser.save_screenshot(str(SHOTS / f"{name}-{label}-lower.png"))
    browser.set_window_size(412, 915)


def test_screenshots_of_a_listing_with_photos_and_a_conversation_with_a_photo(
    browser: Any, live_server: Any, listing: Listing, sari: User
) -> None:
    for colour, size in (
        ((180, 60, 40), (1200, 900)),
        ((40, 110, 170), (900, 1200)),
        ((60, 150, 80), (1000, 1000)),
    ):
        photos.add_photo(listing=listing, data=jpeg_with_gps(*size, colour=colour, noise=True))
    browser.delete_all_cookies()
    browser.get(live_server.url + reverse("relay:buyer_chat_start", args=[listing.code]))
    browser.find_element(By.NAME, "text").send_keys("Boleh lihat goresannya?")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(
        browser,
        lambda driver: "/chat/" in driver.current_url and "/start/" not in driver.current_url,
    )
    chat_link = browser.current_url
    conversation = Conversation.objects.get(listing=listing)
    from relay.pipeline import roads
    from relay.services import media

    photo = media.store_upload(
        conversation=conversation, sender_side="seller", data=jpeg_with_gps(1200, 900, noise=True)
    )
    roads.seller_reply(seller=sari, conversation=conversation, text="Ini fotonya", media=[photo])

    found: list[str] = []  # axe's serious or critical findings on the pages with photos
    for language in ("en", "id"):
        browser.delete_all_cookies()
        browser.get(live_server.url + "/")
        browser.add_cookie({"name": "django_language", "value": language, "path": "/"})
        browser.get(live_server.url + reverse("marketplace:listing_public", args=[listing.code]))
        wait(browser, lambda driver: image_loaded(driver, ".gallery img"))
        _shoot(browser, f"listing-{language}", ".contact")
        _accessible(browser, found, f"listing ({language})")
        browser.get(chat_link)
        wait(browser, lambda driver: image_loaded(driver, ".bubble-photo img"))
        _shoot(browser, f"chat-{language}", ".composer")
        _accessible(browser, found, f"chat ({language})")
        log_in(browser, live_server)
        browser.add_cookie({"name": "django_language", "value": language, "path": "/"})
        browser.get(live_server.url + reverse("relay:conversation", args=[conversation.code]))
        wait(browser, lambda driver: image_loaded(driver, ".bubble-photo img"))
        _shoot(browser, f"inbox-{language}", ".composer")
        _accessible(browser, found, f"inbox ({language})")
        browser.get(live_server.url + reverse("marketplace:listing_edit", args=[listing.code]))
        _shoot(browser, f"listing-edit-{language}", ".photo-upload")
        _accessible(browser, found, f"listing-edit ({language})")
    # The browser is shared by the session: the next test expects no language or session.
    browser.delete_all_cookies()
    assert len(list(SHOTS.glob("*.png"))) >= 16
    assert not found, "\n".join(found)
