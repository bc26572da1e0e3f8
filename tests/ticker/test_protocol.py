"""The close-code table: one definition, shown the same in the README and to live.js."""

from __future__ import annotations

import json
import re

from django.conf import settings

from ticker.protocol import CLOSE_RULES, Close, client_table


def readme_close_codes() -> dict[int, tuple[str, str, str, str]]:
    text = (settings.BASE_DIR / "README.md").read_text()
    table = text.split("<!-- close-codes -->")[1].split("<!-- /close-codes -->")[0]
    rows = re.findall(
        r"^\s*\| (\d{4}) \| ([^|]+) \| (\w+) \| ([^|]+) \| ([^|]+) \|", table, re.MULTILINE
    )
    return {int(c): tuple(cell.strip() for cell in rest) for c, *rest in rows}


def test_the_readme_documents_every_close_code_as_the_table_defines_it():
    documented = readme_close_codes()
    assert set(documented) == {int(code) for code in Close}
    for code, rule in CLOSE_RULES.items():
        reason, action, wait, meanwhile = documented[int(code)]
        assert reason.startswith(rule.reason)
        assert action == rule.action
        assert wait == (f"{rule.retry_after:g} s" if rule.retry_after else "\u2013")
        if rule.action == "retry":
            assert meanwhile == ("poll" if rule.poll_meanwhile else "wait")


def test_every_code_is_one_a_websocket_server_may_send():
    assert all(3000 <= int(code) <= 4999 for code in Close)


def test_live_js_gets_the_same_table():
    table = json.loads(json.dumps(client_table()))
    assert {int(code) for code in table} == {int(code) for code in Close}
    for code, rule in CLOSE_RULES.items():
        assert table[str(int(code))] == {
            "action": rule.action,
            "retry_ms": int(rule.retry_after * 1000),
            "poll": rule.poll_meanwhile,
        }
