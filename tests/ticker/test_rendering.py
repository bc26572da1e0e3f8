"""Rendering helpers: plain text for structured data, frames."""

import json

from ticker.rendering import encode, plain_text, reload_frame


def test_plain_text_keeps_blocks_apart_and_decodes_entities():
    html = "<p>Lava &amp; Asche</p><ul><li>eins</li><li>zwei</li></ul><p>Ende<br>neu</p>"
    assert plain_text(html) == "Lava & Asche eins zwei Ende neu"


def test_frames_start_with_their_number():
    assert reload_frame(7) == '{"seq":7,"type":"reload"}'
    assert encode({"seq": 3, "type": "x", "html": "ü<"}).startswith('{"seq":3,')
    assert json.loads(encode({"seq": 3, "html": "ü"}))["html"] == "ü"
