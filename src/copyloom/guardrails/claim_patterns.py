"""The wording of claims a draft makes, in English and Chinese: benefits, stacking, tiers, weekdays, discount words,
personal history. One place for the patterns the extractor (the draft) and the facts index (what grants a
benefit) both read, so a fact and a draft are read alike."""

from __future__ import annotations

import re

_I = re.IGNORECASE
_NUM_WORD = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|thirty|sixty|ninety)"

# A benefit a draft may promise only when a brand-owned fact grants it. The qualifier group (when present)
# must be granted too: "lifetime warranty" is not granted by a 2-year warranty.
BENEFITS: dict[str, re.Pattern[str]] = {
    "free_shipping": re.compile(
        r"free (?:standard |(?P<q>express|next[- ]day|same[- ]day|two[- ]day|2-day|overnight) |uk |us )?(?:shipping|delivery|postage)"
        r"|ships? (?:for )?free|(?:shipping|delivery|postage) (?:is |are |will be |'s )?(?:free|on us)"
        r"|no (?:shipping|delivery) (?:fees?|costs?|charges?)|zero shipping"
        r"|免运费|包邮|免邮|免费(?:配送|送货|快递|邮寄|发货)|运费全免|零运费|不收运费",
        _I,
    ),
    "free_returns": re.compile(
        rf"free returns?|returns? (?:are|is) free|free exchanges?|hassle[- ]free returns?"
        rf"|(?P<q>{_NUM_WORD})[- ]day (?:free )?returns?|免费退(?:货|换)|无理由退(?:货|换)|(?P<qz>\d+)天(?:无理由)?退(?:货|换)|退换免费|包退",
        _I,
    ),
    "warranty": re.compile(
        rf"(?P<q>lifetime|{_NUM_WORD}[- ]years?|extended)?[- ]?(?:warrant(?:y|ies)|guarantee)"
        r"|(?P<qz>终身|\d+年)?(?:保修|质保|保用)",
        _I,
    ),
    "bogo": re.compile(
        r"\bbogo(?:f)?\b"
        r"|\bbuy (?:one|1|a|an|two|2|any)\b[^.!?\n]{0,40}?\bget (?:one|1|another|a second|the second|a 2nd|two|2)\b"
        r"[^.!?\n]{0,30}?(?:\bfree\b|\bhalf[- ](?:price|off)\b|\d+\s?% off)"
        r"|\bbuy (?:one|1),? get (?:one|1)\b"
        r"|(?<![\w.$£€¥])(?:two|2|three|3) for (?:one|1|two|2)(?![\w.%])"
        r"|\b(?:second|2nd) (?:one|pair|item|tin|unit|bottle|box|pack|jar)?\s?(?:is |at )?(?:free|half[- ](?:price|off))\b"
        r"|买(?:一|1|二|2|两|三|3)(?:件|双|个|盒|罐|瓶|只|套|包|份)?(?:送|赠)(?:一|1|二|2|两)"
        r"|第(?:二|2|三|3)(?:件|双|个|盒|罐|瓶|只|套|包|份|杯)(?:半价|免费|\d(?:\.\d)?折|[一二三四五六七八九]折|0元)"
        r"|买(?:一|1)得(?:二|2)",
        _I,
    ),
    "gift": re.compile(
        r"free gifts?|gifts? with (?:every |your |any )?(?:purchase|order)|complimentary \w+|bonus gifts?"
        r"|\bget (?:a|an|the|your)\b[^.!?\n]{1,40}?\b(?:free|for free|on us|thrown in)\b"
        r"|赠品|赠送|好礼相送|加赠|(?:再|加|另|还|即|就|并|免费|随单|下单)送(?!货|达|到|给|您|你)",
        _I,
    ),
    "points": re.compile(
        r"(?<![\w.])(?P<q>double|triple|quadruple|\d+x|\d+ x|\d+ times(?: the)?) (?:reward |loyalty |bonus )?points"
        r"|bonus points|points? multiplier|(?P<qz>双倍|三倍|\d+倍)积分|积分(?:翻倍|加倍|双倍|\d+倍)",
        _I,
    ),
    "price_match": re.compile(
        r"price[- ]match(?:ing)?|price (?:protection|guarantee)|lowest[- ]price guarantee"
        r"|match (?:any|a) (?:lower |competitor'?s? )?price|价格保护|保价|差价补偿|退差价|补差价",
        _I,
    ),
    "free_item": re.compile(
        r"\b(?:is|are|it's|they're|comes?|be) (?:completely |totally )?free\b|\bfor free\b|\bfree of charge\b"
        r"|\bon the house\b|\bfree (?:pair|item|sample|product|one)s?\b|\bat no (?:extra )?cost\b"
        r"|\b100\s?% off\b|免费(?:领|赠|获得|拿|得)|白送|不要钱|零元购|0元购|全部免费",
        _I,
    ),
}
BENEFIT_LABELS = {
    "free_shipping": "free shipping",
    "free_returns": "free returns",
    "warranty": "a warranty",
    "gift": "a gift",
    "points": "bonus points",
    "price_match": "price matching",
    "bogo": "buy-one-get-one",
    "free_item": "something free",
}

# Discounts stacked on one another: allowed only when an offer says so.
STACKING = re.compile(
    r"\b(?:an? )?(?:extra|additional|another|further)\s+(?:\d+(?:\.\d+)?\s?%|[$£€¥]\s?\d+)"
    r"|\bplus\s+(?:an? )?(?:extra\s+)?\d+(?:\.\d+)?\s?%"
    r"|\bon top of (?:the |your |this |our |any )?(?:\d+(?:\.\d+)?\s?%|sale|discounts?|offers?|codes?|savings|prices?)"
    r"|\bstack(?:s|ed|ing)? (?:it |them |this |codes? |offers? |discounts? )?(?:with|on)\b|\bstackable (?:offer|code|discount)s?"
    r"|\bcombined? (?:it |them |this )?with (?:other |any |your |another |our )?(?:offers?|codes?|discounts?|coupons?|promotions?|sales?)"
    r"|\bdouble (?:the )?discount|\bcodes? together\b"
    r"|叠加|折上折|再享(?!受)|再打|再减|额外(?:再)?(?:享|减|打|优惠)|另享|(?:券|码|折扣|优惠)\S{0,6}同时使用",
    _I,
)
# What an offer's own text says to allow (or refuse) stacking.
STACK_ALLOWED = re.compile(r"stackable|can be combined|combines with|stacks with|可叠加|可与.{0,12}叠加|可同时使用", _I)
STACK_REFUSED = re.compile(
    r"not (?:be )?(?:stackable|combined|combinable)|cannot be combined|can't be combined|no stacking|不可叠加|不与|不能叠加",
    _I,
)

TIERS: dict[str, tuple[str, ...]] = {
    "gold": ("gold", "金卡", "黄金", "金牌"),
    "silver": ("silver", "银卡", "白银", "银牌"),
    "platinum": ("platinum", "白金", "铂金"),
    "diamond": ("diamond", "钻石", "钻卡"),
    "bronze": ("bronze", "铜卡", "青铜"),
    "black": ("black card", "黑卡"),
}
TIER_CLAIM = re.compile(
    r"\b(?P<en>gold|silver|platinum|diamond|bronze)\s+(?:member(?:ship)?s?|tier|status|level|card(?:holder)?|club)\b"
    r"|\b(?:tier|level|status):?\s+(?P<en2>gold|silver|platinum|diamond|bronze)\b|\bblack card\b"
    r"|(?P<zh>金卡|银卡|白金卡?|铂金卡?|钻石卡?|钻卡|铜卡|黑卡|黄金会员|白银会员|青铜会员)(?:会员)?",
    _I,
)

WEEKDAYS: dict[str, int] = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2, "thursday": 3,
    "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
    "一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5,
}  # fmt: skip
WEEKDAY_CLAIM = re.compile(
    r"\b(?P<en>monday|tuesday|wednesday|thursday|friday|saturday|sunday|(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)\.)"
    r"(?=\W|$)|(?:周|星期|礼拜)(?P<zh>[一二三四五六日天])",
    _I,
)
# Words that make a date or weekday the end of something ("ends Friday", "12月31日截止"), or its start.
END_BEFORE = re.compile(
    r"(?:ends?|ending|until|till|til|through|thru|to|by|before|expires?|expiring|runs? (?:through|until|to)|valid (?:until|through|to)"
    r"|last day(?: is)?|deadline|截止(?:到|至|日期)?|至|到|截至)\W{0,3}(?:on\s+|this\s+|next\s+|本|下)?\s*$",
    _I,
)
END_AFTER = re.compile(r"^\s*(?:前|之前|截止|为止|结束|到期|止|last day)", _I)
START_BEFORE = re.compile(
    r"(?:starts?|starting|from|begins?|beginning|opens?|起|从|自)\W{0,3}(?:on\s+|this\s+)?\s*$", _I
)

# Chinese discount words: 八五折 = 85% of the price (15% off), 五折 / 对折 / 半价 = half price.
ZH_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
ZH_ZHE = re.compile(r"(?<![\d一二三四五六七八九])(?P<a>[一二三四五六七八九])(?P<b>[一二三四五六七八九])?折")
HALF_PRICE = re.compile(r"\bhalf[- ](?:price|off)\b|\b50/50 off\b|半价|对折", _I)

# The customer's own history: needs a purchase or event fact, and personalization consent.
HISTORY = re.compile(
    r"\bsince you (?:bought|ordered|purchased|got|picked up|attended|visited|joined|signed up|registered|tried)\b"
    r"|\byou (?:recently |last |already )?(?:bought|ordered|purchased|picked up|attended|visited|tried|browsed|viewed|loved)\b"
    r"|\byour (?:last|recent|previous|latest|past) (?:order|purchase|visit|booking)s?\b|\blast time you\b"
    r"|\bin your (?:cart|basket|bag)\b|\byou left\b"
    r"|\bthanks? (?:you )?for (?:attending|joining|coming|visiting|stopping by)\b|\bgreat to (?:see|chat with|meet) you\b"
    r"|感谢(?:您|你)?\S{0,4}?(?:参加|参与|光临|莅临|到店|来店)"
    r"|(?:您|你)(?:上次|之前|此前|最近|曾经?|已经|都)?(?:在\S{1,6})?(?:购买|买|入手|选购|下单|参加|参与|浏览|收藏|看过|加购|试穿|试用|试过|光顾)(?:了|过|的)"
    r"|(?:您|你)上次|上次在?\S{0,6}?(?:购买|买|试穿|试用|看)(?:了|过|的)|购物车里",
    _I,
)
# "your <product>" / "您的<product>": a possessive right before a product mention.
POSSESSIVE = re.compile(r"(?:\byour\s+(?:(?:trusty|favourite|favorite|beloved|recent|own)\s+)?|(?:您|你)的)$", _I)
# "Have you tried…?", "if you bought…": a question or a condition, not a claim about the customer.
NOT_A_HISTORY = re.compile(r"(?:\b(?:have|did|if|when|ever|never|whether|once)\s+|[?？]\s*)$|(?:如果|是否|有没有)$", _I)
