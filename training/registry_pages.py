"""OCR-like pages synthesised from the registry, so every main form has training text.

The generated batches only draw the main forms that have field specs; the other forms of the
registry exist here as word boxes: a title (registry title, a variant, or a region prefix + title),
the form's labels (or generic ones when the registry lists none), fake values, boilerplate, and
OCR damage (dropped, confused and split characters). Unregistered titles, built from word parts no
registry title uses, make the "unknown" class together with attachment titles.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from rapidfuzz import fuzz

from pipeline.text import normalize_text
from schemas.models import OcrPage, Word
from schemas.registry import Registry
from schemas.registry_models import FormSpec

WIDTH, HEIGHT = 2481, 3508
REGION_PREFIXES = ("克州", "克孜勒苏柯尔克孜自治州", "阿图什市", "新疆维吾尔自治区", "北京市", "乌鲁木齐市", "喀什地区")
HEADER = ("填表单位（盖章）：", "编号：", "单位（盖章）", "经办人（签字）：", "审核人：", "负责人：", "日期：")
FOOTER = (
    "注：请用黑色或蓝色钢笔、签字笔填写，字迹清楚。",
    "本表一式两份，经办机构和单位各留存一份。",
    "经办机构意见",
    "审核意见",
    "备注",
)
GENERIC_LABELS = (
    "姓名", "性别", "公民身份号码", "单位名称", "经办人", "联系电话", "申请日期", "审核日期", "备注",
    "出生日期", "民族", "参加工作时间", "险种", "金额", "合计", "年度", "序号", "社会保障号码", "开户银行",
    "银行账号", "审批意见", "单位编号", "个人编号", "地址", "负责人", "填表日期",
)  # fmt: skip
# OCR confusions seen on these forms (and generic ones): the classifier must not hinge on one stroke.
CONFUSIONS = {
    "册": "删", "表": "衣", "登": "澄", "记": "已", "单": "革", "审": "宙", "核": "该", "险": "脸",
    "保": "堡", "位": "住", "人": "入", "日": "曰", "工": "エ", "金": "全", "待": "侍", "遇": "愚",
    "申": "甲", "请": "清", "批": "北", "变": "交", "更": "吏", "费": "贵", "缴": "繳", "员": "贝",
}  # fmt: skip
VALUE_CHARS = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严覃武"  # noqa: E501
VALUE_WORDS = ("有限公司", "街道", "路", "号", "市", "县", "区", "纺织厂", "劳务派遣", "商贸", "建筑", "医院", "学校", "社区")  # fmt: skip  # noqa: E501

# Unregistered forms: parts that appear in no registry title, so a made-up title is truly unknown.
FAKE_HEADS = ("职工", "个人", "单位", "企业", "城乡居民", "灵活就业人员", "离休干部", "农民工", "被征地农民", "退役士兵")  # fmt: skip  # noqa: E501
# Three disjoint sets of cores: synthesised unknown pages (the n-gram model learns them), variants of
# scanned pages (the calibrator sees them as titles the model never learned, as in production), and
# the benchmark's variants.
FAKE_CORES_TRAIN = ("医疗互助", "住房公积金", "大病救助", "慢性病门诊")
FAKE_CORES_VARIANTS = ("年金", "困难补助", "工会会员", "档案借阅", "独生子女", "见义勇为")
FAKE_CORES_EVAL = ("长期护理", "职业年金", "临时救助", "公益岗位", "技能培训", "再就业优惠", "残疾人就业", "租房补贴")
FAKE_TAILS = ("登记表", "申请表", "审批表", "备案表", "花名册", "汇总表", "核定表", "明细表", "变更表", "申报表")


def _noisy(text: str, rng: random.Random, rate: float) -> str:
    out = []
    for ch in text:
        roll = rng.random()
        if roll < rate * 0.4:
            continue  # dropped
        if roll < rate:
            out.append(CONFUSIONS.get(ch, rng.choice(VALUE_CHARS)))
            continue
        out.append(ch)
    return "".join(out) or text


def _value(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.3:
        return "".join(rng.choice("0123456789") for _ in range(rng.choice((4, 8, 11, 18))))
    if roll < 0.5:
        return f"{rng.randint(1950, 2023)}年{rng.randint(1, 12):02d}月{rng.randint(1, 28):02d}日"
    if roll < 0.7:
        return "".join(rng.choice(VALUE_CHARS) for _ in range(rng.randint(2, 3)))
    return "".join(rng.choice(VALUE_CHARS) + rng.choice(VALUE_WORDS) for _ in range(rng.randint(1, 3)))


def printed_title(form: FormSpec, rng: random.Random) -> str:
    """The title as a form might print it: registry title, a variant, or a region prefix."""
    roll = rng.random()
    if form.variants and roll < 0.4:
        return rng.choice(form.variants)
    if roll > 0.75:
        return rng.choice(REGION_PREFIXES) + form.title
    return form.title


def synth_page(
    title: str, labels: Sequence[str], rng: random.Random, noise: float = 0.03, title_loss: float = 0.03
) -> OcrPage:
    """Word boxes laid out like a scanned form: title on top, label/value rows, boilerplate."""
    words: list[Word] = []

    def add(text: str, x: int, y: int, h: int = 60) -> None:
        text = _noisy(text, rng, noise)
        conf = rng.uniform(0.8, 1.0)
        # OCR sometimes splits a line into two boxes
        if len(text) > 4 and rng.random() < 0.15:
            cut = rng.randint(2, len(text) - 2)
            words.append(Word(text=text[:cut], box=(x, y, x + 50 * cut, y + h), confidence=conf))
            x2 = x + 50 * cut + rng.randint(5, 40)
            words.append(Word(text=text[cut:], box=(x2, y, x2 + 50 * (len(text) - cut), y + h), confidence=conf))
        else:
            words.append(Word(text=text, box=(x, y, x + 50 * len(text), y + h), confidence=conf))

    if rng.random() >= title_loss:  # now and then OCR loses the title altogether
        add(title, 1240 - 35 * len(title), rng.randint(180, 300), 75)
    y = rng.randint(330, 400)
    for text in rng.sample(HEADER[:2], rng.randint(0, 2)):
        add(text, rng.choice((213, 1640)), y)
    y += 110
    for label in labels:
        add(label, rng.randint(220, 330), y)
        if rng.random() < 0.85:
            add(_value(rng), rng.randint(620, 700), y)
        y += rng.randint(110, 150)
        if y > HEIGHT - 500:
            break
    for text in rng.sample(FOOTER, rng.randint(0, 3)) + rng.sample(HEADER[2:], rng.randint(0, 3)):
        add(text, rng.randint(210, 1300), min(y, HEIGHT - 300))
        y += 70
    return OcrPage(engine="synth", engine_version="1", width=WIDTH, height=HEIGHT, words=words)


def form_labels(form: FormSpec, rng: random.Random) -> list[str]:
    if form.fields:
        return [rng.choice([f.label, *f.synonyms]) if rng.random() < 0.3 else f.label for f in form.fields]
    return rng.sample(GENERIC_LABELS, rng.randint(4, 12))


def main_form_pages(registry: Registry, per_form: int, seed: int) -> list[tuple[OcrPage, str]]:
    rng = random.Random(f"{seed}/main")
    return [
        (synth_page(printed_title(form, rng), form_labels(form, rng), rng), form.form_id)
        for form in registry.main_forms()
        for _ in range(per_form)
    ]


def fake_titles(registry: Registry, cores: Sequence[str]) -> list[str]:
    """Made-up form titles that no registry title or variant resembles."""
    known = [normalize_text(t) for _, t in registry.title_variants()]
    titles = []
    for head in FAKE_HEADS:
        for core in cores:
            for tail in FAKE_TAILS:
                title = head + core + tail
                norm = normalize_text(title)
                if all(fuzz.ratio(norm, k) < 70 for k in known):
                    titles.append(title)
    return titles


def unknown_pages(registry: Registry, count: int, seed: int, cores: Sequence[str]) -> list[OcrPage]:
    """Pages that are no main form: attachments' titles and unregistered forms, with form-like bodies."""
    rng = random.Random(f"{seed}/unknown")
    attachment_titles = [t for f in registry.attachment_forms() for t in (f.title, *f.variants)]
    fakes = fake_titles(registry, cores)
    pages = []
    for i in range(count):
        title = rng.choice(attachment_titles) if i % 2 == 0 else rng.choice(fakes)
        if rng.random() < 0.3:
            title = rng.choice(REGION_PREFIXES) + title
        labels = rng.sample(GENERIC_LABELS, rng.randint(3, 12))
        pages.append(synth_page(title, labels, rng))
    return pages
