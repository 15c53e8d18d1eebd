"""Scripts and styles: versioned addresses that phones keep for a year, and a new address when a
file changes (contest/web/static_files.py)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from contest.web.static_files import Versions


def _linked(client) -> list[str]:
    page = client.get("/").get_data(as_text=True)
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', page)


def test_a_page_links_its_files_by_version_and_they_are_kept_a_year(app, client):
    linked = _linked(client)
    assert any(url.startswith("/static/css/app.css?v=") for url in linked), linked
    for url in linked:
        path, version = url.split("?v=")
        content = (Path(app.static_folder) / path.removeprefix("/static/")).read_bytes()
        assert version == hashlib.sha256(content).hexdigest()[:12]
        reply = client.get(url)
        assert reply.status_code == 200 and reply.data == content
        assert reply.cache_control.max_age == 365 * 24 * 3600 and reply.cache_control.public
        assert reply.cache_control.immutable


def test_a_file_asked_without_its_current_version_is_checked_each_time(client):
    path = _linked(client)[0].split("?v=")[0]
    for url in (path, f"{path}?v=000000000000"):  # an old page's address: not kept for a year
        reply = client.get(url)
        assert reply.status_code == 200 and reply.cache_control.no_cache and not reply.cache_control.max_age
        again = client.get(url, headers={"If-None-Match": reply.headers["ETag"]})
        assert again.status_code == 304
    assert client.get("/static/js/no-such-file.js").status_code == 404


def test_a_changed_file_gets_a_new_version(tmp_path):
    script = tmp_path / "app.js"
    script.write_text("console.log(1);")
    versions = Versions(str(tmp_path))
    first = versions.of("app.js")
    assert first == versions.of("app.js") == hashlib.sha256(b"console.log(1);").hexdigest()[:12]
    script.write_text("console.log(22);")  # a deploy: another size, another time
    assert versions.of("app.js") == hashlib.sha256(b"console.log(22);").hexdigest()[:12] != first
    assert versions.of("missing.js") is None


def test_names_outside_the_folder_are_neither_read_nor_served(app, client, tmp_path):
    (tmp_path / "inside").mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    versions = Versions(str(tmp_path / "inside"))
    assert versions.of("../secret.txt") is None and versions.of("/dev/zero") is None
    assert Versions("/dev").of("zero") is None  # not a regular file: never read to the end
    for url in ("/static/../../contest/config.py?v=0", "/static/..%2f..%2fcontest%2fconfig.py?v=0"):
        assert client.get(url).status_code == 404


def test_many_spellings_of_one_file_are_kept_once(tmp_path):
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "a.js").write_text("1;")
    versions = Versions(str(tmp_path))
    spellings = ["js/a.js", "js/./a.js", "js//a.js", "./js/a.js", "js/././/a.js"]
    assert len({versions.of(name) for name in spellings}) == 1
    assert len(versions._known) == 1  # a request's spelling does not add an entry
