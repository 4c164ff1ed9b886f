"""Printed footnotes (说明) that quote the form's own labels in running text.

A label inside a sentence, in quotes, is not a label: “公民身份号码”栏须填写18位居民身份证号码 must
not give an ID number. These notes put such sentences on the sheet.
"""

from __future__ import annotations

import random

from synth.html.entries import Entry
from synth.html.hand import esc
from synth.html.style import SheetStyle

_ABOUT: dict[str, tuple[str, ...]] = {
    "id_number": ("{q}栏须填写18位居民身份证号码。", "{q}以居民身份证为准，末位为X的须大写。"),
    "unit_code": ("{q}栏按营业执照上的18位统一社会信用代码填写。", "{q}须与营业执照一致。"),
    "name": ("{q}须与居民身份证上的姓名一致。", "少数民族{q}中间的“·”不得省略。"),
    "unit_name": ("{q}须与单位公章名称完全一致。", "{q}填写全称，不得简写。"),
    "form_date": ("{q}按公历填写。", "{q}填写申报当日。"),
    "phone": ("{q}请填写本人常用手机号码。",),
    "birth_date": ("{q}须与公民身份号码中的出生日期一致。",),
    "contribution_base": ("{q}按上年度月平均工资填写，单位为元。",),
    "address": ("{q}须详细填写到门牌号。",),
    "personal_no": ("{q}由经办机构填写。",),
}
_GENERAL = (
    "本表一式两份，经办机构和参保单位各留存一份。",
    "本表用黑色钢笔或签字笔填写，字迹清楚，不得涂改。",
    "表内所填内容须真实准确，如有虚假，由填报人承担责任。",
    "带*号的项目为必填项。",
    "本表须加盖单位公章方可有效。",
)
_QUOTES = (("“", "”"), ("“", "”"), ("“", "”"), ("「", "」"), ("", ""))


def notes_block(entries: list[Entry], style: SheetStyle, rng: random.Random) -> str:
    if rng.random() < 0.2:
        return ""
    open_q, close_q = rng.choice(_QUOTES)
    quoted = [e for e in entries if e.key in _ABOUT]
    rng.shuffle(quoted)
    lines = [rng.choice(_ABOUT[e.key]).format(q=f"{open_q}{e.label}{close_q}") for e in quoted[: rng.randint(1, 3)]]
    lines += rng.sample(_GENERAL, rng.randint(0, 2))
    rng.shuffle(lines)
    numbered = "".join(f"<div>{i}.{esc(line)}</div>" for i, line in enumerate(lines, 1))
    head = esc(style.note_head)
    return f'<div class="notes" style="font-family:{style.note_font}"><div>{head}</div>{numbered}</div>'
