"""Plausible field values for synthetic forms: people, units, numbers and dates.

Every identifier is valid the way real ones are (GB 11643 ID numbers, GB 32100 credit codes), and
everything about one insured person agrees with itself (the ID number encodes the birth date and sex
printed elsewhere on the form). Each value comes as printed text plus its normalised form.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum import numdb
from stdnum.cn import ric, uscc

from schemas.registry_models import FieldKind, FieldSpec

# Six-digit region codes (GB/T 2260) with their place names; only some were in use in every birth
# year (see id_number for the codes an ID number carries).
REGIONS: list[tuple[str, str, str, str]] = [
    ("110105", "北京市", "北京市", "朝阳区"),
    ("110108", "北京市", "北京市", "海淀区"),
    ("110101", "北京市", "北京市", "东城区"),
    ("120101", "天津市", "天津市", "和平区"),
    ("310104", "上海市", "上海市", "徐汇区"),
    ("310110", "上海市", "上海市", "杨浦区"),
    ("440106", "广东省", "广州市", "天河区"),
    ("440104", "广东省", "广州市", "越秀区"),
    ("510107", "四川省", "成都市", "武侯区"),
    ("510104", "四川省", "成都市", "锦江区"),
    ("653001", "新疆维吾尔自治区", "克孜勒苏柯尔克孜自治州", "阿图什市"),
    ("653022", "新疆维吾尔自治区", "克孜勒苏柯尔克孜自治州", "阿克陶县"),
    ("653023", "新疆维吾尔自治区", "克孜勒苏柯尔克孜自治州", "阿合奇县"),
    ("653024", "新疆维吾尔自治区", "克孜勒苏柯尔克孜自治州", "乌恰县"),
    ("650102", "新疆维吾尔自治区", "乌鲁木齐市", "天山区"),
    ("652801", "新疆维吾尔自治区", "巴音郭楞蒙古自治州", "库尔勒市"),
    ("653101", "新疆维吾尔自治区", "喀什地区", "喀什市"),
    ("420102", "湖北省", "武汉市", "江岸区"),
    ("330106", "浙江省", "杭州市", "西湖区"),
    ("320102", "江苏省", "南京市", "玄武区"),
    ("370102", "山东省", "济南市", "历下区"),
    ("610113", "陕西省", "西安市", "雁塔区"),
    ("210102", "辽宁省", "沈阳市", "和平区"),
    ("350102", "福建省", "福州市", "鼓楼区"),
    ("530102", "云南省", "昆明市", "五华区"),
    ("513401", "四川省", "凉山彝族自治州", "西昌市"),
    ("410102", "河南省", "郑州市", "中原区"),
    ("130102", "河北省", "石家庄市", "长安区"),
    ("230102", "黑龙江省", "哈尔滨市", "道里区"),
]
_FALLBACK_REGION = REGIONS[0]  # valid for every year stdnum knows


def _words(text: str) -> list[str]:
    return text.split()


SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫"]
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力永健世广志义兴良海山仁波宁贵福生龙元全"
    "国胜学祥才发武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功"
    "松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时"
    "泰盛雄琛钧冠策腾楠榕风航弘秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱"
)
MINORITY_GIVEN = _words(
    "阿依古丽 古丽娜尔 买买提 艾尔肯 热依拉 迪丽努尔 阿不都拉 努尔兰 巴合提 "
    "帕提古丽 吐尔逊 依明江 阿力木 米热古丽 阿卜杜热依木 苏比努尔"
)
MINORITY_FATHER = _words("买买提 吐尔逊 艾力 阿不都拉 热合曼 依明 卡德尔 托乎提 玉素甫 努尔 沙吾提")
MINORITY_ETHNICITIES = ["维吾尔族", "哈萨克族", "柯尔克孜族", "塔吉克族", "乌孜别克族"]
OTHER_ETHNICITIES = ["回族", "满族", "壮族", "蒙古族", "彝族", "苗族", "土家族", "藏族"]

ROADS = _words(
    "人民路 解放路 中山路 建设路 和平街 新华路 长江路 胜利路 文化路 光明街 "
    "友谊路 团结路 北京路 东风路 朝阳路 育才巷 幸福里"
)
UNIT_CORES = _words(
    "宏达 华信 恒通 新世纪 金鼎 永安 博远 瑞丰 联创 中和 东方 天成 汇源 鑫源 长城 明德 兴业 德隆 安泰 正大"
)
UNIT_TRADES = _words(
    "建筑工程有限公司 科技有限公司 商贸有限责任公司 物业管理有限公司 "
    "机械制造有限公司 餐饮服务有限公司 运输有限公司 纺织厂 食品有限公司 "
    "电子股份有限公司 劳务派遣有限公司"
)
PUBLIC_UNITS = _words(
    "第一人民医院 第三中学 实验小学 人力资源和社会保障局 教育局 卫生健康委员会 "
    "供销合作社 自来水公司 市政工程管理处 图书馆"
)
GENERIC_TEXT = ["在职", "正常", "城镇职工", "灵活就业", "企业职工", "个体工商户", "已办结", "无"]

CN_DIGITS = "〇一二三四五六七八九"
DATE_STYLES = ("cn", "cn0", "dot", "dash", "slash", "cn_upper", "dot_short")
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class Person:
    name: str
    sex: str  # 男 / 女
    birth_date: date
    id_number: str
    ethnicity: str
    address: str
    phone: str
    postcode: str
    personal_no: str
    province: str


@dataclass(frozen=True)
class Unit:
    name: str
    code: str


@dataclass(frozen=True)
class Case:
    """Everything a document says about one person and one unit."""

    person: Person
    unit: Unit
    form_date: date
    work_start_date: date
    retire_date: date
    date_style: str


@dataclass(frozen=True)
class FieldValue:
    printed: str
    normalised: str
    boxed: bool = False  # an ID written one character per printed box


def _cn_number(n: int) -> str:
    """Month/day numbers as written in 二〇一三年五月十二日."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "十" if tens == 1 else CN_DIGITS[tens] + "十"
    return head + (CN_DIGITS[ones] if ones else "")


def format_date(d: date, style: str) -> str:
    if style == "cn":
        return f"{d.year}年{d.month}月{d.day}日"
    if style == "cn0":
        return f"{d.year}年{d.month:02d}月{d.day:02d}日"
    if style == "dot":
        return f"{d.year}.{d.month:02d}.{d.day:02d}"
    if style == "dot_short":
        return f"{d.year}.{d.month}.{d.day}"
    if style == "dash":
        return d.isoformat()
    if style == "slash":
        return f"{d.year}/{d.month:02d}/{d.day:02d}"
    if style == "cn_upper":
        year = "".join(CN_DIGITS[int(c)] for c in str(d.year))
        return f"{year}年{_cn_number(d.month)}月{_cn_number(d.day)}日"
    raise ValueError(f"unknown date style {style!r}")


def random_date(rng: random.Random, start: date, end: date) -> date:
    span = max((end - start).days, 0)
    return start + timedelta(days=rng.randint(0, span))


def han_name(rng: random.Random) -> str:
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.03 else rng.choice(SURNAMES)
    given = "".join(rng.choice(GIVEN_CHARS) for _ in range(1 if rng.random() < 0.3 else 2))
    return surname + given


def minority_name(rng: random.Random) -> str:
    return f"{rng.choice(MINORITY_GIVEN)}·{rng.choice(MINORITY_FATHER)}"


# Codes a county got late (formed, or renumbered): a card issued after that carries one whatever its
# holder's birth year, which a validator tying the code to the birth year wrongly refuses.
LATE_CODES = ("110112", "110115", "310115", "440115", "320115", "330110", "420117", "650109", "654004", "610116")
# How a person's number was issued: under a code in use in the birth year, under a code created after
# it, or under a code no table lists any more (a county abolished before the tables begin).
ID_ORIGINS = (("birth_year", 0.5), ("newer", 0.4), ("unknown", 0.1))
_COUNTY_START = re.compile(r"^\[(\d{4})-")


def _area(code: str) -> str | None:
    """The county entry of stdnum's GB/T 2260 table for `code` ("[1986-]阿图什市"), None if unknown."""
    parts = numdb.get("cn/loc").info(code)
    return parts[1][1].get("county") if len(parts) == 2 else None


def code_start(code: str) -> int | None:
    """The year a code came into use (None: before the table begins or unknown)."""
    entry = _area(code)
    m = _COUNTY_START.match(entry or "")
    return int(m.group(1)) if m else None


def _id_origin(rng: random.Random) -> str:
    roll, acc = rng.random(), 0.0
    for origin, share in ID_ORIGINS:
        acc += share
        if roll < acc:
            return origin
    return "birth_year"


def _with_check(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


def id_number(rng: random.Random, birth: date, sex: str) -> str:
    """A GB 11643 number with a right check digit, the birth date and a sequence digit matching sex,
    issued under a code of the county of issue: one in use in the birth year, one created after it
    (653001 for someone born in 1947), or one unknown to every table (its first four digits real)."""
    parity = 1 if sex == "男" else 0
    seq = rng.randint(0, 49) * 2 + parity
    serial = f"{rng.randint(0, 9)}{seq:02d}"
    origin = _id_origin(rng)
    if origin == "newer":
        newer = [c for c in (*(r[0] for r in REGIONS), *LATE_CODES) if (code_start(c) or 0) > birth.year]
        if newer:
            return _with_check(f"{rng.choice(newer)}{birth:%Y%m%d}{serial}")
    if origin == "unknown":
        for _ in range(50):
            code = rng.choice(REGIONS)[0][:4] + f"{rng.randint(21, 89):02d}"
            if _area(code) is None:
                return _with_check(f"{code}{birth:%Y%m%d}{serial}")
    candidates = [r[0] for r in REGIONS]
    rng.shuffle(candidates)
    for region in [*candidates, _FALLBACK_REGION[0]]:
        number = _with_check(f"{region}{birth:%Y%m%d}{serial}")
        if ric.is_valid(number):
            return number
    raise ValueError(f"no region code is valid for birth year {birth.year}")


def _org_code(rng: random.Random) -> str:
    """A GB 11714 organisation code (8 characters + its check character), as embedded in a USCC."""
    body = "".join(
        rng.choice("0123456789") if rng.random() < 0.85 else rng.choice("ABCDEFGHJKLMNPQRTUWXY") for _ in range(8)
    )
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def credit_code(rng: random.Random, region: str) -> str:
    """A GB 32100 统一社会信用代码: authority + category, region, organisation code, check."""
    head = rng.choice(["91", "91", "91", "92", "12", "11", "52"])
    body = head + region + _org_code(rng)
    code = body + uscc.calc_check_digit(body + "0")
    return code


def unit_name(rng: random.Random, city: str, district: str) -> str:
    if rng.random() < 0.3:
        return f"{city}{district if rng.random() < 0.5 else ''}{rng.choice(PUBLIC_UNITS)}"
    prefix = city if rng.random() < 0.7 else city + district
    return f"{prefix}{rng.choice(UNIT_CORES)}{rng.choice(UNIT_TRADES)}"


def phone(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"
    return f"0{rng.randint(10, 999)}{rng.randint(2_000_000, 8_999_999)}"


def _personal_no(rng: random.Random, id_like: str) -> str:
    """个人编号 is a decoy beside the ID number; some regions made it look like one."""
    if rng.random() < 0.1:
        body = id_like[:17]
        wrong = next(c for c in "0123456789X" if c != ric.calc_check_digit(body + "0"))
        return body[:6] + f"{rng.randint(0, 99_999_999_999):011d}" + wrong
    return f"{rng.randint(10**9, 10**12 - 1)}"


def make_case(rng: random.Random) -> Case:
    code, province, city, district = rng.choice(REGIONS)
    xinjiang = province.startswith("新疆")
    minority = (xinjiang and rng.random() < 0.6) or rng.random() < 0.04
    sex = rng.choice(["男", "女"])
    birth = random_date(rng, date(1945, 1, 1), date(1995, 12, 31))
    ident = id_number(rng, birth, sex)
    if minority:
        name = minority_name(rng)
        ethnicity = rng.choice(MINORITY_ETHNICITIES)
    else:
        name = han_name(rng)
        ethnicity = "汉族" if rng.random() < 0.9 else rng.choice(OTHER_ETHNICITIES)
    address = f"{province if province != city else ''}{city}{district}{rng.choice(ROADS)}{rng.randint(1, 399)}号"
    if rng.random() < 0.5:
        address += f"{rng.randint(1, 30)}栋{rng.randint(1, 6)}0{rng.randint(1, 4)}室"
    person = Person(
        name=name,
        sex=sex,
        birth_date=birth,
        id_number=ident,
        ethnicity=ethnicity,
        address=address,
        phone=phone(rng),
        postcode=f"{code[:2]}{rng.randint(0, 9999):04d}",
        personal_no=_personal_no(rng, ident),
        province=province,
    )
    unit = Unit(name=unit_name(rng, city, district), code=credit_code(rng, code))
    work_start = random_date(rng, birth + timedelta(days=365 * 18), birth + timedelta(days=365 * 26))
    retire = date(birth.year + (60 if sex == "男" else 50), birth.month, min(birth.day, 28))
    form_date = random_date(rng, max(work_start, date(1998, 1, 1)), date(2023, 12, 31))
    return Case(person, unit, form_date, work_start, retire, date_style=rng.choice(DATE_STYLES))


def format_amount(rng: random.Random, value: float) -> str:
    style = rng.randrange(4)
    if style == 0:
        return f"{value:,.2f}"
    if style == 1:
        return f"{value:.2f}元"
    if style == 2:
        return f"¥{value:,.2f}"
    return f"{value:.2f}"


def _date_value(rng: random.Random, d: date, case: Case) -> FieldValue:
    style = case.date_style if rng.random() < 0.85 else rng.choice(DATE_STYLES)
    return FieldValue(format_date(d, style), d.isoformat())


_BANKS = ["中国工商银行", "中国农业银行", "中国建设银行", "中国银行", "农村信用合作联社", "邮政储蓄银行"]
_INSURANCES = ["养老", "医疗", "失业", "工伤", "生育"]
_CN_ORDINALS = "一二三四五六七八九十"


def _keyed_text(key: str, case: Case, rng: random.Random) -> str | None:
    """Text fields whose content the registry key pins down (None: not one of them)."""
    p = case.person
    city = p.address[: p.address.find("市") + 1] if "市" in p.address else p.province
    if key == "bank_name":
        return f"{rng.choice(_BANKS)}{city}{rng.choice(['分行', '支行', '营业部'])}"
    if key == "bank_account":
        return "62" + "".join(rng.choice("0123456789") for _ in range(rng.choice([14, 17])))
    if key in ("unit_insurance_no", "injury_determination_no"):
        if key == "injury_determination_no":
            return f"人社工认字〔{case.form_date.year}〕第{rng.randint(1, 300):03d}号"
        return f"{rng.randint(10**7, 10**9 - 1)}"
    if key == "arrears_period":
        y = rng.randint(max(case.work_start_date.year, 1995), case.form_date.year)
        return f"{y}年{rng.randint(1, 6):02d}月至{min(y + rng.randint(0, 3), case.form_date.year)}年12月"
    if key in ("contribution_years", "deemed_years"):
        years = rng.randint(1, 35)
        return f"{years}年" if rng.random() < 0.5 else f"{years}年{rng.randint(1, 11)}个月"
    if key == "benefit_months":
        return f"{rng.choice([139, 170, 195, 24, 12])}个月"
    if key == "leave_days":
        return f"{rng.choice([98, 128, 158, 15])}天"
    if key == "insurance_types":
        picked = [i for i in _INSURANCES if rng.random() < 0.6] or ["养老"]
        return "、".join(picked)
    if key == "disability_grade":
        return f"{_CN_ORDINALS[rng.randint(0, 9)]}级"
    if key == "hospital":
        return f"{city}{rng.choice(['第一人民医院', '人民医院', '妇幼保健院', '中医医院'])}"
    if key in ("household_location", "transfer_in", "transfer_out"):
        region = rng.choice(REGIONS)
        return f"{region[1] if region[1] != region[2] else ''}{region[2]}{region[3]}"
    if key == "claimant_relation":
        return rng.choice(["配偶", "子女", "父母", "儿子", "女儿"])
    if key == "change_item":
        return rng.choice(["单位名称", "单位地址", "联系电话", "法定代表人", "姓名", "开户银行"])
    if key in ("change_before", "change_after"):
        return rng.choice([phone(rng), han_name(rng), unit_name(rng, city, "")])
    return None


def _text_value(spec: FieldSpec, case: Case, rng: random.Random) -> FieldValue:
    keyed = _keyed_text(spec.key, case, rng)
    if keyed is not None:
        return FieldValue(keyed, keyed)
    label = spec.label
    if "险种" in label:
        text = rng.choice(["企业职工基本养老保险", "基本医疗保险", "失业保险", "工伤保险", "生育保险"])
    elif "原因" in label:
        text = rng.choice(["工作调动", "解除劳动合同", "单位欠缴", "疾病", "单位更名", "个人申请", "漏缴"])
    elif "职务" in label or "工种" in label:
        text = rng.choice(["职员", "技术员", "会计", "教师", "工人", "经理", "护士"])
    else:
        text = rng.choice(GENERIC_TEXT)
    return FieldValue(text, text)


def field_value(spec: FieldSpec, case: Case, rng: random.Random) -> FieldValue:
    """The value a clerk would have written into `spec` for this case."""
    p, key = case.person, spec.key
    if key == "sex" or spec.kind is FieldKind.SEX:
        # checked before `choices`: the sex must agree with the ID number, not be drawn at random
        return FieldValue(p.sex, p.sex)
    if spec.choices:
        choice = rng.choice(spec.choices)
        return FieldValue(choice, choice)
    if key == "id_number" or (spec.kind is FieldKind.ID_NUMBER and key.startswith("id")):
        return FieldValue(p.id_number, p.id_number.upper(), boxed=rng.random() < 0.3)
    if spec.kind is FieldKind.ID_NUMBER:
        other = id_number(rng, random_date(rng, date(1950, 1, 1), date(2005, 1, 1)), rng.choice("男女"))
        return FieldValue(other, other)
    if key == "name":
        return FieldValue(p.name, p.name)
    if spec.kind is FieldKind.NAME:
        other = han_name(rng)
        return FieldValue(other, other)
    if key == "unit_name":
        return FieldValue(case.unit.name, case.unit.name)
    if key == "unit_code" or spec.kind is FieldKind.UNIT_CODE:
        return FieldValue(case.unit.code, case.unit.code.upper())
    if key == "personal_no":
        return FieldValue(p.personal_no, p.personal_no)
    if key == "postcode":
        return FieldValue(p.postcode, p.postcode)
    if key == "phone" or spec.kind is FieldKind.PHONE:
        return FieldValue(p.phone, p.phone)
    if key == "address":
        return FieldValue(p.address, p.address)
    if key == "ethnicity":
        return FieldValue(p.ethnicity, p.ethnicity)
    if spec.kind is FieldKind.DATE:
        known = {
            "birth_date": p.birth_date,
            "form_date": case.form_date,
            "work_start_date": case.work_start_date,
            "retire_date": case.retire_date,
        }
        d = known.get(key) or random_date(rng, case.work_start_date, case.form_date)
        return _date_value(rng, d, case)
    if spec.kind is FieldKind.AMOUNT:
        value = round(rng.uniform(50, 60000), 2) if rng.random() < 0.8 else float(rng.randint(1, 500) * 100)
        return FieldValue(format_amount(rng, value), f"{value:.2f}")
    return _text_value(spec, case, rng)
